/** A JSONPath a pipelined reference may use: singular, from the root (`$.id`, `$.items[0].id`). */
export type PipelinedPath = `$${string}`;

/**
 * A header name a pipelined reference may read: any but `set-cookie`, which no reference reads
 * (cookies travel through the batch's cookie jar and the browser's own).
 */
export type PipelinedHeaderName<Name extends string> =
  Lowercase<Name> extends 'set-cookie' | 'set-cookie2' ? never : Name;

/**
 * What `client.fetch` returns: the `Response` promise, whose result can be used before it
 * resolves. Each method gives a string to put in a later call's url, a header value or a string
 * of its JSON body; a call made in the same batch window then goes out in the same batch request
 * as this one, with the reference written for the server, and a call made later waits for this
 * one and gets the value substituted. The later call runs only if this one answered 2xx (a 424
 * Response otherwise, as in a batch).
 * @publicApi
 */
export interface PipelinedResponse extends Promise<Response> {
  /** The value at a singular JSONPath of the JSON body: `created.ref('$.id')`. */
  ref(path: PipelinedPath): string;
  /** A response header's value, e.g. `created.header('etag')` for a later `If-Match`. */
  header<Name extends string>(name: PipelinedHeaderName<Name>): string;
  /** The status code (in a body string that is exactly this, a number). */
  status(): string;
  /** The path of the `Location` header, for a url: `` `/${created.location()}` ``. */
  location(): string;
}

/** What a referenced call answered, as the references read it. */
export interface CallOutcome {
  readonly status: number;
  /** Header names lower case. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** The JSON body parsed, a text body as a string, or undefined. */
  readonly body: unknown;
  /**
   * For a call the underlying fetch sent: its body, read from a copy only when a reference
   * needs it (`body` is then undefined), so that the caller's own reading is not held up.
   */
  readonly readBody?: () => Promise<unknown>;
}

/** One `client.fetch` call other calls may reference. */
export class CallTarget {
  constructor(
    /** The order of `client.fetch` calls: a call can reference only calls made before it. */
    readonly seq: number,
  ) {}

  /** The operation name references use; given on the first reference, so unnamed otherwise. */
  name: string | undefined;
  private outcome: CallOutcome | Error | undefined;
  private readonly waiting: ((outcome: CallOutcome | Error) => void)[] = [];

  /** Settles once; wakes every call waiting for this one. */
  settle(outcome: CallOutcome | Error): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    for (const wake of this.waiting.splice(0)) wake(outcome);
  }

  /** Whether the call has settled. */
  get done(): boolean {
    return this.outcome !== undefined;
  }

  /** Resolves when the call has settled (at once when it has). */
  settled(): Promise<CallOutcome | Error> {
    const { outcome } = this;
    if (outcome !== undefined) return Promise.resolve(outcome);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
