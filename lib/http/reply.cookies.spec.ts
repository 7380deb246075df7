import type { StartStream } from '../dispatch/operation.task.js';
import type { BatchOutcome, BatchResult } from '../interfaces/batch-operation.interface.js';
import { failedFor, responseAborted } from '../operation/operation.failures.js';
import { ReplyCookies, withoutEntryCookies } from './reply.cookies.js';

/** The entries `withoutEntryCookies` makes of these results, and what the reply took of them. */
function entriesOf(results: BatchResult[]): { entries: BatchResult[]; cookies: ReplyCookies } {
  const cookies = new ReplyCookies(false);
  const start: StartStream<BatchOutcome> = (sink) => {
    results.forEach((result, index) => sink.next({ index, result }));
    sink.complete();
    return () => undefined;
  };
  const entries: BatchResult[] = [];
  withoutEntryCookies(start, (result) => cookies.take(result))({
    next: (outcome) => entries.push(outcome.result),
    error: (error) => {
      throw error;
    },
    complete: () => undefined,
  });
  return { entries, cookies };
}

describe('withoutEntryCookies', () => {
  const operation = { method: 'GET' as const, url: '/logout', headers: {} };

  it("takes out of a failure the Clear-Site-Data its broken answer had sent (the reply's now)", () => {
    const aborted = responseAborted(operation, '/logout', 'operation 0', 'closed', {
      'clear-site-data': '"cookies"',
    });
    const { entries, cookies } = entriesOf([aborted]);
    expect(entries[0]?.headers).not.toHaveProperty('clear-site-data');
    expect(cookies.cleared).toBe(true);
  });

  // The library's guard refuses inside the app: the answer, and its headers, are the app's, as
  // a page reading the response directly would see them.
  it("keeps the app's own Clear-Site-Data on an answer the library's guard refused", () => {
    const refused: BatchResult = {
      method: 'GET',
      url: '/logout',
      code: 403,
      headers: { 'content-type': 'application/json', 'clear-site-data': '"cookies"' },
      body: { statusCode: 403, message: 'Forbidden' },
    };
    failedFor(refused, 'skip-batch');
    const { entries, cookies } = entriesOf([refused]);
    expect(entries[0]?.headers).toEqual({
      'content-type': 'application/json',
      'clear-site-data': '"cookies"',
    });
    expect(cookies.cleared).toBe(true);
  });
});
