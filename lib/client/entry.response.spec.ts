import { STATUS_CODES } from 'node:http';
import { toResponse } from './entry.response.js';

describe('toResponse', () => {
  it("gives each status the reason phrase Node's server sends with it", () => {
    const codes = Object.keys(STATUS_CODES)
      .map(Number)
      .filter((code) => code >= 200 && code <= 599);
    const given = codes.map((code) => [
      code,
      toResponse({ method: 'GET', url: '/', code, headers: {} }, 'http://api.test/').statusText,
    ]);
    // Before the fix, 208, 226, 305, 407 and 506-511 had none.
    expect(given).toEqual(codes.map((code) => [code, STATUS_CODES[code]]));
  });
});
