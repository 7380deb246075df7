import { ENTRY_HEADER_POLICIES, type EntryHeaderPolicy } from '../batch.constants.js';
import { InvalidBatchException } from '../batch.exceptions.js';

/**
 * The entry-header policy a batch request asks for with `?entryHeaders=` on its URL (any
 * format), as Facebook's `include_headers` does for its own; undefined when it asks for none.
 * @throws InvalidBatchException for a value that is not a policy, or given twice.
 */
export function requestedEntryHeaders(url: string | undefined): EntryHeaderPolicy | undefined {
  const query = url?.split('?', 2)[1];
  if (!query?.includes('entryHeaders')) return undefined;
  const values = new URLSearchParams(query).getAll('entryHeaders');
  if (values.length === 0) return undefined;
  const [value] = values;
  if (values.length > 1 || !(ENTRY_HEADER_POLICIES as readonly unknown[]).includes(value)) {
    throw new InvalidBatchException([
      `the query parameter entryHeaders must be given once, as ${ENTRY_HEADER_POLICIES.map((p) => `"${p}"`).join(' or ')}`,
    ]);
  }
  return value as EntryHeaderPolicy;
}
