import {
  BATCH_FORMATS,
  type BatchFormat,
  DEFAULT_BATCH_PATH,
  DEFAULT_INHERITED_HEADERS,
  ENTRY_HEADER_POLICIES,
  type EntryHeaderPolicy,
  METHOD_OVERRIDE_HEADERS,
} from './batch.constants.js';
import { BatchException } from './batch.exceptions.js';
import type { BatchExcludedRoute } from './interfaces/batch-excluded-route.interface.js';
import type { BatchOperation } from './interfaces/batch-operation.interface.js';
import { decodeOperations } from './validation/operation.rules.js';
import type { BatchTransactionHook } from './interfaces/batch-transaction.interface.js';
import { closestName } from './validation/field.suggestion.js';

/**
 * Options of {@link BatchModule}. Every field is optional. Each option's default and bootstrap
 * check are declared once, beside it in this file's `OPTIONS` table, in the same order; the
 * defaults are exported as {@link BATCH_OPTION_DEFAULTS}.
 * @publicApi
 */
export interface BatchModuleOptions {
  /** Most operations one batch may hold; a larger batch is refused with 413 and nothing runs. Default `50`. */
  limit?: number;
  /** Most operations of one batch in flight at once. Default `10`. */
  concurrency?: number;
  /**
   * Most operations in flight at once across every batch the app is running (its own
   * `concurrency` still applies to each batch). Past it, operations wait for a slot, and the
   * slots go to the waiting batches in turn (round-robin), so one big batch cannot starve a small
   * one. Requests of their own never wait for it. Default `0`: no cap across batches.
   */
  globalConcurrency?: number;
  /**
   * Headers of the batch request copied to every operation (an operation's own header wins).
   * Default {@link DEFAULT_INHERITED_HEADERS}. The forwarding headers (`FORWARDING_HEADERS`,
   * `x-forwarded-*`) are not chosen here: every operation carries the batch request's own.
   * A method-override header ({@link METHOD_OVERRIDE_HEADERS}) is refused at bootstrap.
   */
  inheritHeaders?: readonly string[];
  /**
   * What each entry carries of its response's headers. `'essential'` leaves out
   * {@link ENTRY_HEADERS_DROPPED} (`content-length` of a body the entry re-encodes, `date`,
   * `x-powered-by`, hop-by-hop headers) and keeps the rest; `'all'` keeps every header (what
   * entries carried before this option). A batch request may ask for either with `?entryHeaders=` on its URL. Under
   * either, the endpoint's entries carry no `set-cookie`: the reply does. Default `'essential'`.
   */
  entryHeaders?: EntryHeaderPolicy;
  /**
   * CORS per operation, for a batch that a page of another origin made a browser send (an
   * `Origin` other than the app's own: see docs/security.md). `'browser'` gives each operation
   * what the browser would give the same request sent directly from that page: one that needs a
   * CORS preflight first gets it (OPTIONS, through the app) and runs only if the app's answer
   * allows it; an answer the app's CORS policy does not let the page read is a 403 entry
   * (reason `cors`); a readable one keeps only the CORS-safelisted and exposed headers. `'off'`
   * runs and shows every operation, as for a client that is not a browser. Default `'browser'`.
   */
  operationCors?: 'browser' | 'off';
  /**
   * Milliseconds the whole batch may take. At the deadline the reply is sent with finished entries
   * filled and the others `null`; operations not yet started never start. Default `30000`; `0` disables it.
   */
  timeout?: number;
  /**
   * Milliseconds one operation may take; past it the operation's entry is a 504 and its dependents
   * get 424. Default `0`: no per-operation limit, only {@link BatchModuleOptions.timeout} applies.
   */
  operationTimeout?: number;
  /**
   * Most bytes of one operation's response body kept in memory; a larger response is replaced by a
   * 502 entry. Default `5 MiB`.
   */
  maxResponseBytes?: number;
  /**
   * Most bytes of all of one batch's responses together (bodies and headers, counted as each
   * operation answers, before the reply is encoded). An operation whose response would pass it is
   * answered with a 502 entry instead (it ran; its response is left out), and its dependents get
   * 424. Applies to the streamed (NDJSON) reply too. Each response counts as the app sent it
   * (decoded) or as its entry writes it (JSON escapes, base64), whichever is more. Default `16 MiB`.
   */
  maxReplyBytes?: number;
  /**
   * Milliseconds a write of the reply may stay pending (the client not reading it) before the
   * connection is destroyed and the reply freed; a streamed reply's operations not yet started
   * then never start. A JSON reply is written at once, so this is the time the client has to take
   * the whole reply. Default `30000`; `0` disables it.
   */
  replyWriteTimeout?: number;
  /**
   * Most bytes of the batch request's body. A larger one is answered 413 as soon as its
   * Content-Length (or, streamed, its byte count) passes the limit; the rest is never read.
   * Default `1 MiB`. The library reads the batch body itself on Express and Fastify, so this
   * applies instead of the app's body parser limit for the batch route.
   */
  maxBodyBytes?: number;
  /**
   * Routes no operation may reach, whatever the route's own decorators say: an operation
   * matching one is answered 403 before any of the app's middleware runs. Checked three times:
   * on the operation's url before it is dispatched; inside the app before its middleware (on
   * Fastify on the route the router matched, so `ignoreDuplicateSlashes`, `useSemicolonDelimiter`,
   * `ignoreTrailingSlash`, `caseSensitive: false` and percent-decoding cannot get past it); and
   * after routing, by the library's guard, on the method and url the app finally routed (so
   * middleware that rewrites them cannot either). An exclusion of GET covers
   * HEAD; under URI versioning one without the version covers every version. For routes you do
   * not own; on your own controllers, `@SkipBatch()` reads better. Default `[]`.
   */
  exclude?: readonly BatchExcludedRoute[];
  /**
   * The batch formats the endpoint accepts (see {@link BATCH_FORMATS}); a request in another is
   * refused with a message listing these. Default: all of them.
   */
  formats?: readonly BatchFormat[];
  /**
   * Makes `getBatchOperation()` without an argument work in code running for an operation (it
   * reads an AsyncLocalStorage the dispatcher enters). Off by default: on Node 20 and 22, the
   * first entry into any AsyncLocalStorage turns on promise hooks for the whole process, which
   * cost about a quarter of the dispatch throughput in the benchmark. `getBatchOperation(req)`
   * and `isBatchOperation(req)` work either way. Default `false`.
   */
  operationContext?: boolean;
  /**
   * Most references (`{result=NAME:PATH}`) one batch may hold, every occurrence counted. A batch
   * with more is refused with 400 before anything runs. Default `500`.
   */
  maxReferences?: number;
  /**
   * Most values one reference may match; an operation holding a reference that matches more is
   * answered with a 400 entry. Default `1000`.
   */
  maxReferenceMatches?: number;
  /**
   * Most nodes of referenced response bodies that evaluating the references of one batch may
   * visit, all references together. Each distinct reference is evaluated once per batch; a
   * descendant path (`$..id`) visits every node below where it starts. An operation whose
   * reference would pass it is answered with a 400 entry. Bounds the CPU a batch can spend
   * walking responses: on a loaded 2-core machine a walk took 70-280 ns a node. Default `100000`.
   */
  maxReferenceNodes?: number;
  /**
   * Most bytes the references of one operation may substitute into its url, headers and body,
   * each insertion counted (as JSON text in a body, as text in a string). Checked while
   * rendering, before anything is built; an operation over it is answered with a 400 entry.
   * Default `1 MiB`.
   */
  maxRenderedBytes?: number;
  /**
   * Most bytes the references of all operations of one batch may substitute together, counted
   * as for {@link BatchModuleOptions.maxRenderedBytes}; an operation that would pass it is
   * answered with a 400 entry. Default `4 MiB`.
   */
  maxBatchRenderedBytes?: number;
  /**
   * Longest JSONPath one reference may have, in characters. Compiling a path costs in proportion
   * to its length, before any other cap can apply: a batch holding a longer one is refused with
   * 400 and nothing runs. Default `256`.
   */
  maxReferencePathLength?: number;
  /**
   * Runs each atomic group (an OData change set, operations sharing an `atomicityGroup`) inside
   * one transaction of the app's database: its operations run in order, and if one answers
   * non-2xx, throws, times out, or the batch is cut off (timeout, client gone), `work` rejects
   * and the hook must roll back. See {@link BatchTransactionHook}; with
   * @nestjs-cls/transactional, `(work) => txHost.withTransaction(work)` (`forRootAsync`,
   * `inject: [TransactionHost]`). Default `null`: a batch holding a group is refused with 400
   * (reason `atomic-groups-unavailable`); a group never runs without a transaction.
   */
  transaction?: BatchTransactionHook | null;
  /**
   * Most atomic groups of one batch open at once (each holds a transaction, so a database
   * connection and the locks its writes took); the batch's other groups wait their turn, in
   * request order. Default `1`.
   */
  groupConcurrency?: number;
  /**
   * Most atomic groups open at once across every batch the app is running: the share of the
   * app's database connections batches may hold together. Past it, groups wait, and the slots go
   * to the waiting batches in turn (round-robin). Requests of their own never wait for it. Keep it
   * below the size of the app's connection pool. Default `2`; `0`: no cap across batches.
   */
  globalGroupConcurrency?: number;
  /**
   * Milliseconds one atomic group's transaction may stay open, from the hook calling `work` to the
   * last member's answer. Past it the group is rolled back at once, even while a member still
   * runs in the app: that member's entry is a 504 (reason `group-timeout`), the others' 424. The
   * batch timeout and an operation's timeout end the transaction at once too. Default `5000`.
   */
  groupTimeout?: number;
  /**
   * Runs the parts of a multipart/mixed batch in parallel (within `concurrency`), as Google's
   * batch allows. By default they run one after another in request order, each once the one
   * before it has finished, whether it succeeded or not: what OData 4.01 requires outside change
   * sets and what Flask-Batch does, so a GET after a PATCH of the same entity sees the PATCH.
   * A change set runs as one, in its place. Other formats order operations by `dependsOn` and
   * references alone. Default `false`.
   */
  multipartParallel?: boolean;

  /**
   * How the endpoint is described in the app's OpenAPI document, when the app uses
   * `@nestjs/swagger` (an optional peer: without it this option does nothing). `false` leaves the
   * endpoint undescribed. Default `{ example: [{ method: 'GET', url: '/' }] }`.
   */
  openApi?: BatchOpenApiOptions | false;
}

/** Options after defaults are applied; what the rest of the library reads. */
export type ResolvedBatchOptions = Readonly<Required<BatchModuleOptions>>;

/**
 * The longest delay `setTimeout` keeps: Node fires a longer one after 1 ms (with a
 * TimeoutOverflowWarning), so a deadline of 30 days would cut every batch off at once.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

const MiB = 1024 * 1024;

/** One option: its default, and the check a value given for it passes at bootstrap. */
interface OptionDeclaration<T> {
  readonly default: T;
  /**
   * The value the library runs with, from one given (never undefined): checked, lists copied
   * and frozen. Throws a TypeError naming the option and what it takes. `resolved` holds the
   * options declared before this one.
   */
  readonly resolve: (value: unknown, name: string, resolved: Partial<ResolvedBatchOptions>) => T;
}

/**
 * Every option of {@link BatchModuleOptions}, in its order: its default and its check, the one
 * place either is written. The type holds the table to the interface: an option missing here, or
 * here and not there, does not compile. {@link BATCH_OPTION_DEFAULTS}, {@link resolveBatchOptions}
 * and the unknown-option suggestions are derived from it; test/docs holds docs/options.md and
 * README to it.
 */
const OPTIONS: {
  readonly [K in keyof ResolvedBatchOptions]: OptionDeclaration<ResolvedBatchOptions[K]>;
} = {
  limit: integer(50, 1),
  concurrency: integer(10, 1),
  globalConcurrency: integer(0, 0),
  inheritHeaders: { default: DEFAULT_INHERITED_HEADERS, resolve: inheritedHeaders },
  entryHeaders: oneOf<EntryHeaderPolicy>('essential', ENTRY_HEADER_POLICIES),
  operationCors: oneOf<'browser' | 'off'>('browser', ['browser', 'off']),
  timeout: integer(30_000, 0, MAX_TIMER_MS),
  operationTimeout: integer(0, 0, MAX_TIMER_MS),
  maxResponseBytes: integer(5 * MiB, 1),
  maxReplyBytes: integer(16 * MiB, 0),
  replyWriteTimeout: integer(30_000, 0, MAX_TIMER_MS),
  maxBodyBytes: integer(1 * MiB, 1),
  // Its patterns are compiled, and checked, once: by RouteExclusions, also at bootstrap.
  exclude: {
    default: Object.freeze([]),
    resolve: (value) => {
      if (!Array.isArray(value))
        throw new TypeError('BatchModule: exclude must be an array of routes');
      return Object.freeze([...(value as BatchExcludedRoute[])]);
    },
  },
  formats: { default: BATCH_FORMATS, resolve: batchFormats },
  operationContext: flag(false),
  maxReferences: integer(500, 0),
  maxReferenceMatches: integer(1000, 1),
  maxReferenceNodes: integer(100_000, 1),
  maxRenderedBytes: integer(1 * MiB, 0),
  maxBatchRenderedBytes: integer(4 * MiB, 0),
  maxReferencePathLength: integer(256, 1),
  transaction: {
    default: null,
    resolve: (value) => {
      if (value !== null && typeof value !== 'function') {
        throw new TypeError(
          'BatchModule: transaction must be a function (work) => Promise that runs work in a transaction, or null',
        );
      }
      return value as BatchTransactionHook | null;
    },
  },
  groupConcurrency: integer(1, 1),
  globalGroupConcurrency: integer(2, 0),
  groupTimeout: integer(5000, 1, MAX_TIMER_MS),
  multipartParallel: flag(false),
  // After `limit`: the example is checked against it.
  openApi: {
    default: Object.freeze({
      example: Object.freeze([Object.freeze({ method: 'GET', url: '/' } as const)]),
    }),
    resolve: (value, _name, resolved) =>
      resolveOpenApi(value, resolved.limit ?? OPTIONS.limit.default),
  },
};

/**
 * The default of every option.
 * @publicApi
 */
export const BATCH_OPTION_DEFAULTS: ResolvedBatchOptions = Object.freeze(
  Object.fromEntries(
    Object.entries(OPTIONS).map(([name, option]) => [name, option.default]),
  ) as unknown as ResolvedBatchOptions,
);

/**
 * Applies defaults and rejects values that cannot work, at bootstrap rather than on the first batch.
 */
export function resolveBatchOptions(given: BatchModuleOptions = {}): ResolvedBatchOptions {
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined && !Object.hasOwn(OPTIONS, key)) throw unknownOption(key);
  }
  const resolved: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(OPTIONS) as [string, OptionDeclaration<unknown>][]) {
    const value: unknown = Object.hasOwn(given, name)
      ? (given as Record<string, unknown>)[name]
      : undefined;
    resolved[name] = value === undefined ? option.default : option.resolve(value, name, resolved);
  }
  return Object.freeze(resolved as unknown as ResolvedBatchOptions);
}

/**
 * The `openApi` option.
 * @publicApi
 */
export interface BatchOpenApiOptions {
  /**
   * The example batch (native format) the document carries, which "Try it out" sends: name
   * routes of your app. Checked at bootstrap like a batch (and against `limit`). Default
   * `[{ method: 'GET', url: '/' }]`, which runs on any app.
   */
  example?: readonly BatchOperation[];
}

/**
 * Options fixed when the module is imported, because Nest registers routes before any async
 * factory has run.
 * @publicApi
 */
export interface BatchModuleExtras {
  /** Path of the batch endpoint, under the app's global prefix. Default `'batch'`. */
  path?: string;
  /** Makes {@link BatchExecutor} injectable in every module without importing BatchModule again. Default `false`. */
  isGlobal?: boolean;
}

/** The extras' defaults, applied by the module definition. */
export const BATCH_MODULE_EXTRAS_DEFAULTS: Readonly<Required<BatchModuleExtras>> = Object.freeze({
  path: DEFAULT_BATCH_PATH,
  isGlobal: false,
});

/** A whole number from `min` (to `max`). */
function integer(defaultValue: number, min: number, max?: number): OptionDeclaration<number> {
  return {
    default: defaultValue,
    resolve: (value, name) => {
      requireInteger(name, value, min, max);
      return value as number;
    },
  };
}

/** `true` or `false`. */
function flag(defaultValue: boolean): OptionDeclaration<boolean> {
  return {
    default: defaultValue,
    resolve: (value, name) => {
      if (typeof value !== 'boolean')
        throw new TypeError(`BatchModule: ${name} must be true or false`);
      return value;
    },
  };
}

/** One of a few strings. */
function oneOf<T extends string>(defaultValue: T, values: readonly T[]): OptionDeclaration<T> {
  return {
    default: defaultValue,
    resolve: (value, name) => {
      if (!(values as readonly unknown[]).includes(value)) {
        throw new TypeError(
          `BatchModule: ${name} must be ${values.map((each) => `"${each}"`).join(' or ')}`,
        );
      }
      return value as T;
    },
  };
}

/** Header names, kept in lower case as Node gives them; never a method-override header. */
function inheritedHeaders(value: unknown): readonly string[] {
  if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) {
    throw new TypeError('BatchModule: inheritHeaders must be an array of header names');
  }
  const override = value.find((name: string) =>
    METHOD_OVERRIDE_HEADERS.includes(name.toLowerCase()),
  );
  if (override !== undefined) {
    throw new TypeError(
      `BatchModule: inheritHeaders may not hold "${override}": it would change the method of every operation after the exclusions were checked`,
    );
  }
  return Object.freeze(value.map((name: string) => name.toLowerCase()));
}

/** A non-empty list of {@link BATCH_FORMATS}. */
function batchFormats(value: unknown): readonly BatchFormat[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((format) => (BATCH_FORMATS as readonly unknown[]).includes(format))
  ) {
    throw new TypeError(
      `BatchModule: formats must be a non-empty array of ${BATCH_FORMATS.map((f) => `"${f}"`).join(', ')}`,
    );
  }
  return Object.freeze([...(value as BatchFormat[])]);
}

/** `false`, or the options with the example checked as a batch would be, and kept as JSON. */
function resolveOpenApi(given: unknown, limit: number): BatchOpenApiOptions | false {
  if (given === false) return false;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new TypeError('BatchModule: openApi must be false or an object { example }');
  }
  const unknown = Object.keys(given).find((key) => key !== 'example');
  if (unknown !== undefined) {
    throw new TypeError(`BatchModule: unknown openApi option "${unknown}"; the option is example`);
  }
  const example: unknown = (given as BatchOpenApiOptions).example;
  if (example === undefined) return OPTIONS.openApi.default;
  try {
    decodeOperations(example, limit, 'openApi.example');
  } catch (error) {
    if (!(error instanceof BatchException)) throw error;
    const { message } = error.getResponse() as { message: string | string[] };
    throw new TypeError(
      `BatchModule: openApi.example is not a batch that can run: ${[message].flat().join('; ')}`,
      { cause: error },
    );
  }
  // A copy as JSON: what the document shows is what a client would send.
  return Object.freeze({ example: JSON.parse(JSON.stringify(example)) as BatchOperation[] });
}

function requireInteger(name: string, value: unknown, min: number, max?: number): void {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < min ||
    (max !== undefined && value > max)
  ) {
    const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
    throw new TypeError(
      `BatchModule: ${name} must be an integer ${range}, got ${JSON.stringify(value)}`,
    );
  }
}

/** An unknown key is a typo more often than not: name the option it is closest to. */
function unknownOption(key: string): TypeError {
  const names = Object.keys(OPTIONS);
  const closest = closestName(key, names);
  const hint =
    closest !== undefined
      ? `; did you mean "${closest}"?`
      : `; the options are ${names.join(', ')}`;
  return new TypeError(`BatchModule: unknown option "${key}"${hint}`);
}
