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
  Object.defineProperty(target, 'rawBody', LAZY_RAW_BODY);
}

/** The request the accessors are read on holds the stash itself (Express), or as `raw` (Fastify). */
function stashOn(holder: { raw?: IncomingMessage }): StashedBody | undefined {
  const request: object | undefined = WIRE_BODY in holder ? holder : holder.raw;
  return request && (request as Stashed)[WIRE_BODY];
}

/** Replaces an accessor with the plain value the app set (a sanitiser, a decryption middleware). */
function settable(name: string): (this: object, next: unknown) => void {
  return function set(this: object, next: unknown): void {
    Object.defineProperty(this, name, {
      configurable: true,
      enumerable: true,
      writable: true,
      value: next,
    });
  };
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
    return stashOn(this)?.forApp;
  },
  set: settable('body'),
};

/**
 * `rawBody`, as Nest sets it with `NestFactory.create(module, { rawBody: true })` on a request
 * whose JSON or form body its parsers read: the bytes as they came, which a request-signing
 * guard or a webhook verifier hashes. Without it, a batch signed as any other POST was refused
 * whole. Nest does not tell a module whether the app turned the option on, so the batch request
 * has it either way; for other types (multipart/mixed), which Nest's parsers leave alone, it is
 * undefined.
 */
const LAZY_RAW_BODY: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: { raw?: IncomingMessage }): Buffer | undefined {
    const stash = stashOn(this);
    return stash && PARSED_TYPES.has(mediaTypeOf(stash)) ? stash.bytes : undefined;
  },
  set: settable('rawBody'),
};

/** The types Nest's own parsers read, and give a `rawBody` with the option on. */
const PARSED_TYPES = new Set(['application/json', 'application/x-www-form-urlencoded']);

function mediaTypeOf(wire: WireBody): string {
  return (wire.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Prototype keys fail the parse, as Fastify's JSON parser and the batch decoder refuse them. */
const SECURE = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * Most form fields parsed: body-parser's default `parameterLimit` (Express answers 413 past it).
 * Past it the body stays `undefined`, so a 1 MiB body of `a=&a=&...` costs the app nothing more.
 */
const MAX_FORM_FIELDS = 1000;

function parseWireBody(wire: WireBody): unknown {
  const mediaType = mediaTypeOf(wire);
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
