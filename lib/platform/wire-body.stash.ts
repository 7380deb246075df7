import type { IncomingMessage } from 'node:http';
import secureJson from 'secure-json-parse';

/*
 * The batch body as the library's body reader took it off the wire, kept on the request. Here,
 * below every other layer, because more than one reads it: the decoder, and the cross-site rule,
 * which must judge the Content-Type the request came with (Fastify's hook removes it from the
 * request, so that Fastify parses nothing).
 */

/** The batch request's body as it came off the wire, before any format looks at it. */
export interface WireBody {
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly bytes: Buffer;
}

const WIRE_BODY = Symbol('nestjs-batch.wire-body');
type Stashed = IncomingMessage & { [WIRE_BODY]?: StashedBody };

/** The wire body, and what the app's parsers would have made of it, parsed once, when first read. */
class StashedBody implements WireBody {
  #parsed = false;
  #forApp: unknown;

  constructor(
    readonly contentType: string | undefined,
    readonly contentEncoding: string | undefined,
    readonly bytes: Buffer,
  ) {}

  get forApp(): unknown {
    if (!this.#parsed) {
      this.#parsed = true;
      this.#forApp = parseWireBody(this);
    }
    return this.#forApp;
  }
}

/** Keeps the body on the request for the batch controller. */
export function stashWireBody(request: IncomingMessage, bytes: Buffer): void {
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  (request as Stashed)[WIRE_BODY] = new StashedBody(
    header('content-type'),
    header('content-encoding'),
    bytes,
  );
}

/** The body {@link stashWireBody} kept, or undefined when the framework's parsers read it. */
export function wireBodyOf(request: IncomingMessage): WireBody | undefined {
  return (request as Stashed)[WIRE_BODY];
}

/**
 * Gives `target.body` what the app's own parsers would have made of the batch body: the JSON
 * value for `application/json`, the fields for `application/x-www-form-urlencoded` (a Facebook
 * form batch). The library read the body first, so without this the app's middleware, guards
 * and interceptors would see no body on `POST /batch` where every other POST has one. Parsed
 * when first read: most apps never look. Other types (multipart/mixed) stay `undefined`, as the
 * app's parsers leave them; so does a body that does not parse, which the endpoint refuses (400).
 * `target` is the object the framework hands the app as the request: `request` itself on
 * Express, Fastify's request wrapper (which holds `request` as `raw`) on Fastify; the accessor
 * finds the body through either.
 */
export function exposeWireBody(target: object, request: IncomingMessage): void {
  if (!wireBodyOf(request)) return;
  Object.defineProperty(target, 'body', LAZY_BODY);
}

/**
 * One accessor pair for every request, which finds the body from the request it is read on:
 * Express's request is the Node request, Fastify's holds it as `raw`. Accessors made per
 * request (closures over the body) gave each batch request a hidden class of its own: V8 made
 * Express's requests dictionaries from the second on, and the batch request's own pipeline
 * (hooks, guards, the handler) took 15% longer on Fastify (bench/machinery.mjs --against).
 */
const LAZY_BODY: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: { raw?: IncomingMessage }): unknown {
    const request: object | undefined = WIRE_BODY in this ? this : this.raw;
    return request && (request as Stashed)[WIRE_BODY]?.forApp;
  },
  // The app replacing the body (a sanitiser, a decryption middleware) sets a plain value.
  set(this: object, next: unknown): void {
    Object.defineProperty(this, 'body', {
      configurable: true,
      enumerable: true,
      writable: true,
      value: next,
    });
  },
};

/** Prototype keys fail the parse, as Fastify's JSON parser and the batch decoder refuse them. */
const SECURE = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * Most form fields parsed: body-parser's default `parameterLimit` (Express answers 413 past it).
 * Past it the body stays `undefined`, so a 1 MiB body of `a=&a=&...` costs the app nothing more.
 */
const MAX_FORM_FIELDS = 1000;

function parseWireBody(wire: WireBody): unknown {
  const mediaType = (wire.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  const text = (): string => wire.bytes.toString('utf8');
  try {
    if (mediaType === 'application/json') return secureJson.parse(text(), null, SECURE) as unknown;
  } catch {
    return undefined;
  }
  if (mediaType === 'application/x-www-form-urlencoded') return formFields(text());
  return undefined;
}

/**
 * Form fields as both adapters' form parsers give flat keys: a string each, an array for a key
 * sent more than once. Own properties even for `__proto__`, so no field reaches a prototype.
 */
function formFields(text: string): Record<string, string | string[]> | undefined {
  const fields: Record<string, string | string[]> = {};
  let count = 0;
  for (const [name, value] of new URLSearchParams(text)) {
    if (++count > MAX_FORM_FIELDS) return undefined;
    const before = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (Array.isArray(before)) {
      before.push(value);
      continue;
    }
    Object.defineProperty(fields, name, {
      configurable: true,
      enumerable: true,
      writable: true,
      value: before === undefined ? value : [before, value],
    });
  }
  return fields;
}
