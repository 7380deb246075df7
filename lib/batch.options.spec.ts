import { BATCH_OPTION_DEFAULTS, resolveBatchOptions } from './batch.options.js';

describe('resolveBatchOptions', () => {
  it('gives every default when nothing is given, from one frozen object', () => {
    expect(resolveBatchOptions()).toEqual(BATCH_OPTION_DEFAULTS);
    expect(Object.isFrozen(BATCH_OPTION_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(BATCH_OPTION_DEFAULTS.inheritHeaders)).toBe(true);
    expect(() => {
      (BATCH_OPTION_DEFAULTS as { limit: number }).limit = 1;
    }).toThrow(TypeError);
  });

  it('returns frozen options: nothing can change them after bootstrap', () => {
    const options = resolveBatchOptions({ limit: 5, exclude: ['/admin'] });
    expect(options.limit).toBe(5);
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.exclude)).toBe(true);
  });

  it('refuses an unknown option, and names the one it resembles', () => {
    expect(() => resolveBatchOptions({ limt: 10 } as never)).toThrow(
      /unknown option "limt"; did you mean "limit"\?/,
    );
    expect(() => resolveBatchOptions({ retries: 3 } as never)).toThrow(/unknown option "retries"/);
  });

  it("takes entryHeaders 'essential' or 'all', and refuses anything else", () => {
    expect(resolveBatchOptions({}).entryHeaders).toBe('essential');
    expect(resolveBatchOptions({ entryHeaders: 'all' }).entryHeaders).toBe('all');
    expect(() => resolveBatchOptions({ entryHeaders: 'none' as 'all' })).toThrow(
      'BatchModule: entryHeaders must be "essential" or "all"',
    );
  });

  it('refuses maxResponseBytes 0: no response could be kept', () => {
    expect(() => resolveBatchOptions({ maxResponseBytes: 0 })).toThrow(
      /maxResponseBytes must be an integer >= 1, got 0/,
    );
  });

  it('takes the deprecated maxBodySize as maxBodyBytes', () => {
    expect(resolveBatchOptions({ maxBodySize: 10 }).maxBodyBytes).toBe(10);
    expect(resolveBatchOptions({ maxBodyBytes: 10, maxBodySize: 10 }).maxBodyBytes).toBe(10);
    expect(() => resolveBatchOptions({ maxBodyBytes: 10, maxBodySize: 20 })).toThrow(
      /maxBodySize is the old name of maxBodyBytes; give one of them/,
    );
  });

  it.each([
    [{ limit: 0 }, /limit must be an integer >= 1, got 0/],
    [{ concurrency: 2.5 }, /concurrency must be an integer >= 1, got 2.5/],
    [{ timeout: '10' }, /timeout must be an integer >= 0, got "10"/],
    [{ exclude: '/admin' }, /exclude must be an array of routes/],
    [{ inheritHeaders: [1] }, /inheritHeaders must be an array of header names/],
    [{ formats: [] }, /formats must be a non-empty array/],
    [{ formats: ['xml'] }, /formats must be a non-empty array/],
    [{ operationContext: 'yes' }, /operationContext must be true or false/],
  ])('refuses %j', (given, message) => {
    expect(() => resolveBatchOptions(given as never)).toThrow(message);
  });

  it('keeps header names in lower case, as Node gives them', () => {
    expect(resolveBatchOptions({ inheritHeaders: ['X-Tenant'] }).inheritHeaders).toEqual([
      'x-tenant',
    ]);
  });
});
