import { Logger } from '@nestjs/common';
import type { ResolvedBatchOptions } from '../batch.options.js';
import type { BatchRun } from './batch.run.js';
import { decodeContentEncoding, type DecodedResponse } from './content-encoding.decoder.js';
import type {
  AbandonDispatch,
  DispatchResponse,
  SentHeaders,
} from '../dispatch/operation.dispatcher.js';
import {
  doneAtOnce,
  NOTHING_TO_ABANDON,
  type Abandon,
  type StartWork,
} from '../dispatch/operation.task.js';
import { ResponseAbortedError } from '../dispatch/response.aborted.js';
import { decodeResponseBody, JsonTextResult, setEntryBody } from './response-body.decoder.js';
import { libraryRefusalOf } from '../dispatch/sub-request.marker.js';
import type { BatchOperation, BatchResult } from '../interfaces/batch-operation.interface.js';
import type { PlannedOperation } from '../plan/batch.planner.js';
import { UnmatchedReferenceError } from './reference.resolver.js';
import { RenderLimitError, type RenderBudget } from '../plan/render.limits.js';
import type { RouteExclusions } from '../policy/route-exclusions.provider.js';
import {
  corsRefused,
  dependencyFailed,
  dispatchFailed,
  excluded,
  failedFor,
  failureReasonOf,
  renderFailed,
  replyTooLarge,
  responseAborted,
  responseTooLarge,
  shuttingDown,
  timedOut,
  type SentBeforeAbort,
} from './operation.failures.js';
import { buildRequest, InvalidRenderedRequestError } from './operation.request.js';
import { entryHeaders, withoutCookieHeaders } from './entry.headers.js';
import { OperationCorsError } from './operation.cors.js';
import { sentBytesOf, writtenBytesOf } from './reply.budget.js';
import { cookieHeadersOf, type CookieHeaders } from './cookie.rules.js';

/** Where a developer finds what the entries may not tell a page (why CORS refused). */
const logger = new Logger('BatchModule');

/**
 * One operation's whole life, once the executor has scheduled it: not run when a dependency
 * failed (424), references rendered (400 when they cannot be), the exclusions checked (403),
 * dispatched into the app, and its answer read (500 when it cannot be, 502 past a size cap or
 * when the response closed before it ended, 504 past `operationTimeout`). Every way it can end without the app's answer has a named failure
 * (operation.failures.ts).
 */
export class OperationRunner {
  constructor(
    private readonly options: ResolvedBatchOptions,
    private readonly exclusions: RouteExclusions,
  ) {}

  /** The operation's life, started when the returned work is (once it has its slot). */
  run(
    batch: BatchRun,
    index: number,
    failedDependency: number | undefined,
  ): StartWork<BatchResult> {
    return (done, fail) => this.start(batch, index, failedDependency, done, fail);
  }

  private start(
    batch: BatchRun,
    index: number,
    failedDependency: number | undefined,
    done: (result: BatchResult) => void,
    fail: (error: unknown) => void,
  ): Abandon {
    const { plan, results, references, dispatcher, parent, reply, cookies } = batch;
    const planned = plan.operations[index] as PlannedOperation;
    const { operation, label } = planned;
    if (failedDependency !== undefined) {
      const describe = (at: number) => ({
        index: at,
        label: plan.operations[at]?.label ?? String(at),
        code: results[at]?.code ?? 0,
      });
      const dependency = results[failedDependency];
      const rolledBack =
        dependency && failureReasonOf(dependency) === 'rolled-back'
          ? (dependency.body as { atomicityGroup: string; failedOperation: number })
          : undefined;
      return doneAtOnce(
        dependencyFailed(
          operation,
          label,
          describe(failedDependency),
          rolledBack && {
            name: rolledBack.atomicityGroup,
            failed: describe(rolledBack.failedOperation),
          },
        ),
      )(done, fail);
    }
    // A failed dependency answers first: that is definite, whenever the shutdown began.
    if (planned.dependencies.length > 0 && batch.shuttingDown?.() === true) {
      return doneAtOnce(shuttingDown(operation, label))(done, fail);
    }

    let request;
    // Most operations hold no reference: nothing is rendered, so no budget is made for them.
    const rendered =
      planned.url !== undefined || planned.headers.length > 0 || planned.body !== undefined;
    const budget = rendered ? references.rendered.forOperation() : undefined;
    try {
      request = buildRequest(planned, references.lookup, budget ?? NOTHING_RENDERED, parent);
      budget?.commit();
      cookies.attach(request, operation);
    } catch (error) {
      if (
        error instanceof UnmatchedReferenceError ||
        error instanceof InvalidRenderedRequestError ||
        error instanceof RenderLimitError
      ) {
        return doneAtOnce(renderFailed(operation, label, error.message))(done, fail);
      }
      throw error;
    }

    const { url } = request;
    if (this.exclusions.excludes(request.method, url)) {
      return doneAtOnce(excluded(operation, url, label, request.method))(done, fail);
    }
    // Whether the operation has ended (its first end counts, once): a flag in the callbacks'
    // scope, not one more object. A boolean, not narrowed to `false`: it changes inside the
    // callbacks, perhaps before dispatch returns.
    let ended = false as boolean;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = (result: BatchResult): void => {
      if (ended) return;
      ended = true;
      if (timer) clearTimeout(timer);
      done(result);
    };
    let abandon: AbandonDispatch;
    try {
      abandon = dispatcher.dispatch(
        request,
        parent,
        (response) => {
          if (ended) return;
          // Past what the reply has left, the decoded body could not be kept anyway.
          const limit = Math.min(this.options.maxResponseBytes, reply.left);
          const settle = (decoded: DecodedResponse | undefined): void => {
            if (ended) return;
            let result: BatchResult;
            try {
              const { cors } = batch;
              const credentialed = cors ? cors.credentialed(request, parent) : false;
              result = this.toResult(
                operation,
                url,
                response,
                decoded,
                limit,
                label,
                batch,
                credentialed,
              );
              // Only what the page that sent the batch may read of the response.
              if (cors) cors.expose(result, response.headers, credentialed);
              const refusal = libraryRefusalOf(request.info);
              if (refusal !== undefined) failedFor(result, refusal);
              cookies.store(result);
            } catch (error) {
              result = dispatchFailed(operation, url, label, error, false);
            }
            answer(result);
          };
          if (response.truncated) settle(undefined);
          else decodeContentEncoding(response, limit, settle);
        },
        (error) => {
          if (ended) return;
          if (error instanceof OperationCorsError) {
            logger.debug(`${label} refused by CORS: ${error.detail}`);
            const refused = corsRefused(
              operation,
              url,
              label,
              error.message,
              error.detail,
              error.cookies,
            );
            cookies.store(refused);
            return answer(refused);
          }
          if (error instanceof ResponseAbortedError) {
            const aborted = responseAborted(
              operation,
              url,
              label,
              error.message,
              cookieHeadersOf(error.sentHeaders),
              sentBeforeAbort(
                error.sentStatus,
                error.sentHeaders,
                batch,
                batch.cors?.credentialed(request, parent) ?? false,
              ),
            );
            cookies.store(aborted);
            return answer(aborted);
          }
          answer(dispatchFailed(operation, url, label, error, true));
        },
      );
    } catch (error) {
      // Thrown as the request was made (a tracer's span or propagator, a wrapping dispatcher):
      // this operation's failure, as a throw inside the app is, not the batch's.
      if (!ended) answer(dispatchFailed(operation, url, label, error, true));
      return NOTHING_TO_ABANDON;
    }
    if (ended) return NOTHING_TO_ABANDON;
    const limit = this.options.operationTimeout;
    if (limit > 0) {
      timer = setTimeout(() => {
        if (ended) return;
        ended = true;
        const sent = abandon();
        const result = timedOut(
          operation,
          url,
          label,
          limit,
          sent?.statusCode,
          sentCookies(operation, sent),
          // Nothing of a group member is seen: its timeout rolls its group back.
          operation.atomicityGroup === undefined
            ? sentBeforeAbort(
                sent?.statusCode,
                sent?.headers,
                batch,
                batch.cors?.credentialed(request, parent) ?? false,
              )
            : undefined,
        );
        cookies.store(result);
        done(result);
      }, limit);
    }
    return () => {
      if (ended) return;
      ended = true;
      if (timer) clearTimeout(timer);
      const sent = abandon();
      // Cut off by the batch's end: its entry is null, but the browser has its cookies.
      const { cutOffCookies } = batch;
      if (cutOffCookies === undefined) return;
      const cookies = sentCookies(operation, sent);
      if (cookies !== undefined) cutOffCookies(url, cookies);
    };
  }

  /**
   * The app's answer as the entry carries it: decoded (`decoded`, undefined when the capture
   * stopped at `maxResponseBytes`; decoding stops at `decodeLimit`), measured against the caps
   * as the app sent it and as the entry will write it. `credentialed`: whether the page that
   * sent the batch sent credentials, for what a cut response shows it of its headers.
   */
  private toResult(
    operation: BatchOperation,
    url: string,
    response: DispatchResponse,
    decoded: DecodedResponse | undefined,
    decodeLimit: number,
    label: string,
    batch: BatchRun,
    credentialed: boolean,
  ): BatchResult {
    const { maxResponseBytes } = this.options;
    const { reply } = batch;
    if (!decoded || (decoded.kind === 'too-large' && decodeLimit === maxResponseBytes)) {
      return responseTooLarge(
        operation,
        url,
        label,
        maxResponseBytes,
        decoded !== undefined,
        cookieHeadersOf(response.headers),
        // What a client behind a gateway with such a cap reads before it cuts the connection;
        // nothing of a group member, whose failure rolls its group back (as at a timeout).
        operation.atomicityGroup === undefined
          ? sentBeforeAbort(response.statusCode, response.headers, batch, credentialed)
          : undefined,
      );
    }
    const tooLarge = (): BatchResult =>
      replyTooLarge(
        operation,
        url,
        label,
        response.statusCode,
        reply.limit,
        cookieHeadersOf(response.headers),
      );
    // Decoding stopped at what the reply had left.
    if (decoded.kind === 'too-large') return tooLarge();
    // Charged as the entry will carry it: decoded, when the app content-encoded it. Checked
    // before the body is parsed, which a response that cannot fit is spared.
    const sent = sentBytesOf(decoded.response);
    if (sent > reply.left) return tooLarge();
    const { headers, body, statusCode } = decoded.response;
    const contentType = headers['content-type'];
    const headerBytes = sent - body.length;
    const entryBody = decodeResponseBody(
      body,
      typeof contentType === 'string' ? contentType : undefined,
      decoded.kind === 'encoded',
      // Only the app's own body: a decoded content coding made new bytes.
      decoded.kind === 'plain' ? decoded.response.text : undefined,
      reply.left - headerBytes,
    );
    if (!entryBody) return tooLarge();
    // The more of the two: the bytes held until the reply is written, and the bytes it writes.
    const written = headerBytes + writtenBytesOf(entryBody, reply.left - headerBytes, body.length);
    if (!reply.charge(Math.max(sent, written))) return tooLarge();
    const { json } = entryBody;
    const hasBody =
      json !== undefined || entryBody.body !== undefined || entryBody.base64Of !== undefined;
    const headersOut = entryHeaders(headers, batch.entryHeaders, hasBody);
    if (json !== undefined) {
      // Fields in the order a plain result has them; the body parsed if something reads it.
      const result = new JsonTextResult(operation.method, url, statusCode, headersOut, json);
      if (decoded.kind === 'decoded') result.decodedContentEncoding = decoded.from;
      return result;
    }
    const result: BatchResult = {
      method: operation.method,
      url,
      code: statusCode,
      headers: headersOut,
    };
    setEntryBody(result, entryBody);
    if (entryBody.bodyEncoding) result.bodyEncoding = entryBody.bodyEncoding;
    if (decoded.kind === 'decoded') result.decodedContentEncoding = decoded.from;
    return result;
  }
}

/** The budget of an operation without references, which renders nothing. */
const NOTHING_RENDERED: RenderBudget = {
  left: Infinity,
  spend: () => undefined,
};

/**
 * The status and headers a response had sent before it closed or was cut off, as an entry would keep them
 * (its header policy, what a page of another origin may read), without `Set-Cookie`, which no
 * entry shows a script; undefined when it had sent none.
 */
function sentBeforeAbort(
  sentStatus: number | undefined,
  sentHeaders: Readonly<Record<string, string | string[]>> | undefined,
  batch: BatchRun,
  credentialed: boolean,
): SentBeforeAbort | undefined {
  if (sentStatus === undefined || sentHeaders === undefined) return undefined;
  const shown = withoutCookieHeaders(sentHeaders) ?? { ...sentHeaders };
  const sent = { code: sentStatus, headers: entryHeaders(shown, batch.entryHeaders, true) };
  if (batch.cors) {
    const readable: BatchResult = {
      method: 'GET',
      url: '',
      code: sentStatus,
      headers: sent.headers,
    };
    batch.cors.expose(readable, sentHeaders, credentialed);
    sent.headers = readable.headers;
  }
  return sent;
}

/**
 * The cookies and `Clear-Site-Data` of the headers an operation's response had sent when a
 * timeout cut it off (a stream), which a browser applies as they arrive. None of a group member: a timeout rolls its
 * group back, and nothing of a rolled-back group is seen afterwards.
 */
function sentCookies(
  operation: BatchOperation,
  sent: SentHeaders | undefined,
): CookieHeaders | undefined {
  if (operation.atomicityGroup !== undefined) return undefined;
  return cookieHeadersOf(sent?.headers);
}
