import type { ODataBatchRequest } from 'odata-batch-request';

/** What an odata-batch-request reply gives back to the client's `parseResponse`. */
export interface ODataReply {
  readonly status: number;
  readonly type: string;
  readonly text: string;
}

/** Sends the client's request as its README does: its url, headers and body, with fetch. */
export async function sendODataBatch(
  request: Pick<ODataBatchRequest<[]>, 'url' | 'headers' | 'body'>,
): Promise<ODataReply> {
  const response = await fetch(request.url, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}
