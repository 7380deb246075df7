/**
 * `operation 3 ("create")`: how every message of the library names an operation, in every
 * format. The index is 0-based, in request order (a multipart batch's first part is operation 0).
 */
export function operationLabel(index: number, name?: string): string {
  return name === undefined ? `operation ${index}` : `operation ${index} ("${name}")`;
}
