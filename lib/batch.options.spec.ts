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

  it('takes every default as a given value: each default passes its own check', () => {
    expect(resolveBatchOptions({ ...BATCH_OPTION_DEFAULTS })).toEqual(BATCH_OPTION_DEFAULTS);
  });

  it.each([
    [{ limit: 0 }, /limit must be an integer >= 1, got 0/],
    [{ concurrency: 2.5 }, /concurrency must be an integer >= 1, got 2.5/],
    [{ timeout: '10' }, /timeout must be an integer from 0 to 2147483647, got "10"/],
    // Past setTimeout's limit Node fires after 1 ms: every batch would be cut off at once.
    [{ timeout: 2 ** 31 }, /timeout must be an integer from 0 to 2147483647, got 2147483648/],
    [{ operationTimeout: 30 * 86_400_000 }, /operationTimeout must be an integer from 0 to/],
    [{ replyWriteTimeout: 2 ** 31 }, /replyWriteTimeout must be an integer from 0 to/],
    [{ exclude: '/admin' }, /exclude must be an array of routes/],
    [{ inheritHeaders: [1] }, /inheritHeaders must be an array of header names/],
    [{ formats: [] }, /formats must be a non-empty array/],
    [{ formats: ['xml'] }, /formats must be a non-empty array/],
    [{ operationContext: 'yes' }, /operationContext must be true or false/],
    // A group must hold a bounded share of the database: no "unbounded" value of either.
    [{ groupConcurrency: 0 }, /groupConcurrency must be an integer >= 1, got 0/],
    [{ globalGroupConcurrency: -1 }, /globalGroupConcurrency must be an integer >= 0, got -1/],
    [{ groupTimeout: 0 }, /groupTimeout must be an integer from 1 to 2147483647, got 0/],
    [{ multipartParallel: 'yes' }, /multipartParallel must be true or false/],
  ])('refuses %j', (given, message) => {
    expect(() => resolveBatchOptions(given as never)).toThrow(message);
  });

  it('takes a transaction hook, null by default, and refuses anything else at bootstrap', () => {
    expect(resolveBatchOptions().transaction).toBeNull();
    const hook = (work: () => Promise<void>): Promise<void> => work();
    expect(resolveBatchOptions({ transaction: hook }).transaction).toBe(hook);
    expect(() => resolveBatchOptions({ transaction: 'txHost' } as never)).toThrow(
      /transaction must be a function/,
    );
  });

  it('keeps header names in lower case, as Node gives them', () => {
    expect(resolveBatchOptions({ inheritHeaders: ['X-Tenant'] }).inheritHeaders).toEqual([
      'x-tenant',
    ]);
  });

  describe('openApi', () => {
    it('takes false, or an example that is a batch that could run, kept as JSON', () => {
      expect(resolveBatchOptions({ openApi: false }).openApi).toBe(false);
      const example = [{ method: 'GET' as const, url: '/items', name: 'all' }];
      const resolved = resolveBatchOptions({ openApi: { example } }).openApi;
      expect(resolved).toEqual({ example });
      expect(resolved && resolved.example).not.toBe(example);
      expect(resolveBatchOptions({ openApi: {} }).openApi).toEqual(BATCH_OPTION_DEFAULTS.openApi);
    });

    it('refuses, at bootstrap, an example the endpoint would refuse, naming the problem', () => {
      expect(() =>
        resolveBatchOptions({ openApi: { example: [{ method: 'GET', url: 'items' }] } }),
      ).toThrow(/openApi\.example is not a batch that can run: openApi\.example\.0\.url/);
      expect(() => resolveBatchOptions({ openApi: { example: [] } })).toThrow(
        /at least one operation/,
      );
      const three = Array.from({ length: 3 }, () => ({ method: 'GET' as const, url: '/' }));
      expect(() => resolveBatchOptions({ limit: 2, openApi: { example: three } })).toThrow(
        /at most 2 operations/,
      );
    });

    it('refuses what is neither false nor { example }', () => {
      expect(() => resolveBatchOptions({ openApi: true as never })).toThrow(
        /openApi must be false or an object/,
      );
      expect(() => resolveBatchOptions({ openApi: { exmaple: [] } as never })).toThrow(
        /unknown openApi option "exmaple"/,
      );
    });
  });
});
