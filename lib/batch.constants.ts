/**
 * The HTTP methods an operation may use.
 * @publicApi
 */
export const BATCH_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * The path the batch endpoint is served on when none is given (under the app's global prefix).
 * @publicApi
 */
export const DEFAULT_BATCH_PATH = 'batch';

/**
 * Headers of the batch request that every operation receives unless it sets its own.
 * These carry who the caller is (auth, cookies, client address) and the trace it belongs to;
 * anything describing the batch request's own body or connection is left out on purpose.
 * @publicApi
 */
export const DEFAULT_INHERITED_HEADERS: readonly string[] = [
  'authorization',
  'cookie',
  'accept-language',
  'user-agent',
  'host',
  'x-forwarded-proto',
  'x-forwarded-host',
  'traceparent',
  'tracestate',
  'baggage',
];

/**
 * What an operation name may be: it cannot hold the characters that delimit a reference
 * `{result=NAME:PATH}`.
 * @publicApi
 */
export const OPERATION_NAME_PATTERN = /^[A-Za-z0-9_.~-]{1,128}$/;

/**
 * Headers an operation may not set (a batch carrying one is refused with 400): they describe the
 * batch request's connection or framing, which the library owns for every operation. `host` is
 * inherited, so no operation can name another host.
 * @publicApi
 */
export const FORBIDDEN_OPERATION_HEADERS: readonly string[] = [
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'http2-settings',
];

/**
 * Media type of the streamed reply: one JSON line per operation.
 * @publicApi
 */
export const NDJSON_MEDIA_TYPE = 'application/x-ndjson';

/** JSON media types: `application/json` and the `+json` suffix (RFC 6839). */
export const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/** Media types whose bodies are text: carried as text, not base64, wherever a format has to choose. */
export const TEXT_MEDIA_TYPE =
  /^(?:text\/|application\/(?:[\w.+-]+\+)?(?:xml|javascript|x-www-form-urlencoded)\b)/i;

/**
 * The batch formats the endpoint speaks, chosen per request by Content-Type and body shape:
 * the native `{ data }` envelope, Facebook Graph's `batch`, Microsoft Graph's `requests`
 * (OData JSON batch) and multipart/mixed (Google, OData multipart, Flask-Batch).
 * @publicApi
 */
export const BATCH_FORMATS = ['native', 'facebook', 'graph', 'multipart'] as const;

/**
 * The content codings an entry's body is decoded from, with node:zlib. Any other coding (or
 * several, or a body that does not decode) is carried as it came: base64 bytes, its
 * `content-encoding` header kept, so the client can still decode it itself.
 * @publicApi
 */
export const DECODED_CONTENT_ENCODINGS = ['gzip', 'deflate', 'br'] as const;
