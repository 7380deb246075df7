import { JSON_MEDIA_TYPE } from '../batch.constants.js';
import type { BatchResult } from '../interfaces/batch-operation.interface.js';

/** Statuses whose responses have no body (a Response with one cannot be made). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a Teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Entity',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/**
 * A standard `Response` for one entry, as if the operation had been fetched on its own: JSON
 * bodies re-serialised, base64 bodies decoded to bytes, `set-cookie` arrays as separate headers.
 * `content-length` is dropped, as the body was re-encoded.
 */
export function toResponse(entry: BatchResult, url: string): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(entry.headers)) {
    if (name === 'content-length' || name === 'transfer-encoding') continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const response = new Response(bodyOf(entry, headers.get('content-type')), {
    status: entry.code,
    statusText: REASONS[entry.code] ?? '',
    headers,
  });
  Object.defineProperty(response, 'url', { value: url });
  return response;
}

function bodyOf(
  entry: BatchResult,
  contentType: string | null,
): ConstructorParameters<typeof Response>[0] {
  if (entry.body === undefined || NULL_BODY.has(entry.code)) return null;
  if (entry.bodyEncoding === 'base64' && typeof entry.body === 'string') {
    return Uint8Array.from(atob(entry.body), (char) => char.charCodeAt(0));
  }
  const json = JSON_MEDIA_TYPE.test(contentType ?? '');
  return typeof entry.body === 'string' && !json ? entry.body : JSON.stringify(entry.body);
}
