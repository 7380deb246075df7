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
import type { CookieHeaders } from './cookie.rules.js';
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
   * cut it off: its entry is null, but the browser that sent the batch would have them. Given
   * by the batch endpoint when its reply carries cookies.
   */
  readonly cutOffCookies?: CutOffCookies;
  /**
   * Whether the app is shutting down and the batch's connection closes after its reply: an
   * operation that waits for others is not started (see `BatchExecutor.onModuleDestroy`).
   * Absent for a batch run from code.
   */
  readonly shuttingDown?: () => boolean;
}

/** Given an operation's url and the `Set-Cookie` and `Clear-Site-Data` of the headers it had sent. */
export type CutOffCookies = (url: string, cookies: CookieHeaders) => void;

/** What the batch endpoint tells a run about its operations' cookies. */
export interface BatchCookieRules {
  /** Where the cookies of operations the batch's end cuts off go (see {@link BatchRun}). */
  readonly cutOff?: CutOffCookies;
  /**
   * The batch was sent without credentials (a page of another origin's fetch with `credentials:
   * 'omit'` or `'same-origin'`): its jar keeps no cookie the operations set, as the browser would
   * neither store nor send them.
   */
  readonly keepNone?: boolean;
  /**
   * The host the browser sent the batch to, as the app reads it (`req.hostname`: under a trusted
   * proxy, its `X-Forwarded-Host`): the site whose cookies the jar keeps. Asked only once an
   * operation sets a cookie. The batch request's Host when undefined.
   */
  readonly siteHost?: () => string | undefined;
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
  cookieRules: BatchCookieRules | undefined,
  shuttingDown?: () => boolean,
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
      request?.url,
      cookieRules?.keepNone === true,
      cookieRules?.siteHost,
    ),
    entryHeaders: entryHeaders ?? options.entryHeaders,
    cutOffCookies: cookieRules?.cutOff,
    shuttingDown,
  };
}
