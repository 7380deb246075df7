import type { IncomingMessage } from 'node:http';
import type { EntryHeaderPolicy } from '../batch.constants.js';
import type { ResolvedBatchOptions } from '../batch.options.js';
import type { OperationDispatcher } from '../dispatch/operation.dispatcher.js';
import { createParentContext, type ParentContext } from '../dispatch/parent.context.js';
import type { TraceParent } from '../dispatch/otel.api.js';
import type { BatchResult } from '../interfaces/batch-operation.interface.js';
import type { BatchPlan } from '../plan/batch.planner.js';
import { withheldHeaders } from '../policy/cross-site.rules.js';
import { BatchReferences } from './batch.references.js';
import { BatchCookieJar } from './cookie.jar.js';
import { OperationCors } from './operation.cors.js';
import { ReplyBudget } from './reply.budget.js';

/** What every operation of one batch shares; made once per batch by the executor. */
export interface BatchRun {
  readonly plan: BatchPlan;
  /** Results so far, by operation index. */
  readonly results: readonly (BatchResult | undefined)[];
  /** The batch's references, each evaluated once, and its rendering budget. */
  readonly references: BatchReferences;
  readonly dispatcher: OperationDispatcher;
  readonly parent: ParentContext;
  /** What the batch's responses may still add to its reply. */
  readonly reply: ReplyBudget;
  /** The cookies operations set, for the operations after them. */
  readonly cookies: BatchCookieJar;
  /** What each entry carries of its response's headers. */
  readonly entryHeaders: EntryHeaderPolicy;
  /**
   * CORS per operation, for a batch a page of another origin sent (`operationCors`); its
   * preflights and checks wrap `dispatcher` already.
   */
  readonly cors?: OperationCors;
  /**
   * Takes the cookies of the headers an operation had sent when the batch's end (its timeout)
   * cut it off: its entry is null, but the browser that sent the batch would have them. Set
   * when the batch request's reply carries cookies ({@link relayCutOffCookies}).
   */
  readonly cutOffCookies?: CutOffCookies;
}

/** Given an operation's url and the `Set-Cookie` of the headers it had sent. */
export type CutOffCookies = (url: string, setCookie: string | string[]) => void;

/**
 * Where the cookies of operations cut off go, by batch request: the executor's outcomes have
 * no place for an operation that never finished.
 */
const cutOffSinks = new WeakMap<IncomingMessage, CutOffCookies>();

/** Relays to `take` the cookies of the operations of `request`'s batch it cuts off. */
export function relayCutOffCookies(request: IncomingMessage, take: CutOffCookies): void {
  cutOffSinks.set(request, take);
}

/** Batch requests a page sent without credentials: their operations keep no cookie. */
const withoutCredentials = new WeakSet<IncomingMessage>();

/**
 * Marks `request`'s batch as sent without credentials (a page of another origin's fetch with
 * `credentials: 'omit'` or `'same-origin'`): its jar then keeps no cookie the operations set,
 * as the browser would neither store nor send them.
 */
export function keepNoCookies(request: IncomingMessage): void {
  withoutCredentials.add(request);
}

/**
 * What the operations of a batch that starts now share, for the runner; `results` is filled in
 * by the executor as operations finish.
 */
export function createBatchRun(
  plan: BatchPlan,
  results: readonly (BatchResult | undefined)[],
  options: ResolvedBatchOptions,
  dispatcher: OperationDispatcher,
  request: IncomingMessage | undefined,
  trace: TraceParent | undefined,
  entryHeaders: EntryHeaderPolicy | undefined,
): BatchRun {
  const parent = createParentContext(
    request,
    options.inheritHeaders,
    // A form a hostile page made the browser post must not lend its operations the victim's
    // cookie.
    request && withheldHeaders(request),
    trace,
  );
  // A page of another origin gets through the batch no more than its own requests would.
  const cors = options.operationCors === 'browser' ? OperationCors.of(request) : undefined;
  return {
    plan,
    results,
    references: new BatchReferences(plan.names, results, options),
    dispatcher: cors ? cors.dispatcher(dispatcher) : dispatcher,
    cors,
    parent,
    reply: new ReplyBudget(options.maxReplyBytes),
    cookies: new BatchCookieJar(
      parent,
      pathOf(request?.url),
      request !== undefined && withoutCredentials.has(request),
    ),
    entryHeaders: entryHeaders ?? options.entryHeaders,
    cutOffCookies: request && cutOffSinks.get(request),
  };
}

/** A request url's path, without its query (an absolute-form url's too): `/` without one. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  try {
    return new URL(url, 'http://localhost').pathname;
  } catch {
    return '/';
  }
}
