/**
 * The part of `@opentelemetry/api` the library uses, typed here: the package is an optional
 * peer, so neither its types nor its code may be required by the library's own.
 */
export interface OtelContext {
  getValue(key: symbol): unknown;
  setValue(key: symbol, value: unknown): OtelContext;
  deleteValue(key: symbol): OtelContext;
}

export interface OtelSpan {
  setAttribute(key: string, value: string | number): OtelSpan;
  setStatus(status: { code: number; message?: string }): OtelSpan;
  updateName(name: string): OtelSpan;
  end(): void;
}

export interface OtelApi {
  context: {
    active(): OtelContext;
    with<R>(context: OtelContext, fn: () => R): R;
  };
  trace: {
    /** A ProxyTracerProvider, whose `getDelegateTracer` is undefined until an SDK registers. */
    getTracerProvider(): { getDelegateTracer?(name: string): unknown };
    getSpan(context: OtelContext): OtelSpan | undefined;
    setSpan(context: OtelContext, span: OtelSpan): OtelContext;
    getTracer(name: string): {
      startSpan(
        name: string,
        options: { kind: number; attributes: Record<string, string | number> },
        context: OtelContext,
      ): OtelSpan;
    };
  };
  propagation: {
    inject(context: OtelContext, carrier: Record<string, string>): void;
    extract(context: OtelContext, carrier: Record<string, string>): OtelContext;
    deleteBaggage(context: OtelContext): OtelContext;
  };
  createContextKey(description: string): symbol;
  SpanKind: { SERVER: number };
  SpanStatusCode: { ERROR: number };
}

/** Where the operations of one traced batch hang: the batch request's span, in its context. */
export interface TraceParent {
  readonly context: OtelContext;
}

/**
 * `@opentelemetry/api`, or undefined when the app does not have it. Imported once, at bootstrap:
 * the library is ESM, so it cannot `require()` an optional package where it is needed, and an
 * `import()` per batch would cost a promise each time.
 */
export async function loadOtelApi(): Promise<OtelApi | undefined> {
  try {
    // A variable specifier: TypeScript then neither resolves the optional peer nor needs its types.
    const specifier = '@opentelemetry/api';
    return (await import(specifier)) as OtelApi;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}
