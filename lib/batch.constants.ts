/**
 * Token of the module's options with every default applied and checked
 * ({@link ResolvedBatchOptions}): inject it to read what the module runs with. Configure
 * through `forRoot`/`forRootAsync`, never by providing it.
 * @publicApi
 */
export const BATCH_OPTIONS = Symbol('nestjs-batch:options');

/**
 * The HTTP methods an operation may use.
 * @publicApi
 */
export const BATCH_METHODS = Object.freeze([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
] as const);

/**
 * The path the batch endpoint is served on when none is given (under the app's global prefix).
 * @publicApi
 */
export const DEFAULT_BATCH_PATH = 'batch';

/**
 * Headers of the batch request that every operation receives unless it sets its own.
 * These carry who the caller is (auth, cookies) and the trace it belongs to; anything describing
 * the batch request's own body or connection is left out on purpose. The forwarding headers
 * ({@link FORWARDING_HEADERS}) are not listed: every operation gets the batch request's own,
 * whatever this list says.
 * @publicApi
 */
export const DEFAULT_INHERITED_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'cookie',
  'accept-language',
  'user-agent',
  // The page a browser sent the batch from, as it sends it on each request of its own (a
  // Referer check against cross-site writes, a log).
  'referer',
  // What a browser says of itself and of its user's choices on each request it sends: the
  // low-entropy client hints (Chromium's mobile and platform, which device detection reads since
  // the User-Agent was frozen), Do Not Track, Global Privacy Control (an opt-out of sale some
  // laws oblige the app to honour on every request) and Save-Data.
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
  'dnt',
  'sec-gpc',
  'save-data',
  'host',
  'traceparent',
  'tracestate',
  'baggage',
]);

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
export const FORBIDDEN_OPERATION_HEADERS: readonly string[] = Object.freeze([
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
]);

/**
 * Headers by which a proxy tells the app who the client is and by which scheme and host it came
 * (`req.ip`, `req.protocol`, `req.hostname` under Express `trust proxy` or Fastify `trustProxy`,
 * and what rate limiters count: every header `request-ip` reads, and those of common CDNs and
 * gateways), together with every header whose name starts with `x-forwarded-`. They describe the connection of the batch request: each operation carries
 * exactly the batch request's own, whatever `inheritHeaders` says, and an operation that sets
 * one is refused with 400, so no operation can claim another client address.
 * @publicApi
 */
export const FORWARDING_HEADERS: readonly string[] = Object.freeze([
  'forwarded',
  'forwarded-for',
  'x-forwarded',
  'x-real-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'x-original-forwarded-for',
  'x-envoy-external-address',
  'x-appengine-user-ip',
  'cf-connecting-ip',
  'cf-pseudo-ipv4',
  'fastly-client-ip',
  'true-client-ip',
]);

/**
 * Headers by which a browser tells the app which origin made it send a request: `origin` and the
 * fetch metadata (`sec-fetch-site`, `sec-fetch-mode`, `sec-fetch-dest`, `sec-fetch-user`, and
 * every header whose name starts with `sec-fetch-`). No script can set them, so every operation
 * carries exactly the batch request's own, whatever `inheritHeaders` says (an Origin check sees
 * what it would see on the request sent directly), and an operation that sets one is refused
 * with 400.
 * @publicApi
 */
export const BROWSER_ORIGIN_HEADERS: readonly string[] = Object.freeze([
  'origin',
  'sec-fetch-site',
  'sec-fetch-mode',
  'sec-fetch-dest',
  'sec-fetch-user',
  'sec-fetch-storage-access',
]);

/**
 * Headers by which common middleware (the `method-override` package, many gateways) turns a POST
 * into another method after the request arrived: past the `exclude` check, which saw the POST.
 * An operation that sets one is refused with 400; send the method itself instead.
 * @publicApi
 */
export const METHOD_OVERRIDE_HEADERS: readonly string[] = Object.freeze([
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]);

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
export const BATCH_FORMATS = Object.freeze(['native', 'facebook', 'graph', 'multipart'] as const);

/**
 * A batch format the endpoint speaks.
 * @publicApi
 */
export type BatchFormat = (typeof BATCH_FORMATS)[number];

/**
 * The content codings an entry's body is decoded from, with node:zlib. Any other coding (or
 * several, or a body that does not decode) is carried as it came: base64 bytes, its
 * `content-encoding` header kept, so the client can still decode it itself.
 * @publicApi
 */
export const DECODED_CONTENT_ENCODINGS = Object.freeze(['gzip', 'deflate', 'br'] as const);

/**
 * What an entry carries of its response's headers (`entryHeaders`, and `?entryHeaders=` on the
 * batch request): `essential` drops {@link ENTRY_HEADERS_DROPPED}, `all` keeps every header the
 * app set. Under either, an entry of the batch endpoint never carries `set-cookie`: the reply
 * delivers the cookies, and script, which reads the entries, never sees them (as `fetch()` hides
 * a response's Set-Cookie); `BatchExecutor`'s results keep it.
 * @publicApi
 */
export const ENTRY_HEADER_POLICIES = Object.freeze(['essential', 'all'] as const);

/**
 * A policy of {@link ENTRY_HEADER_POLICIES}.
 * @publicApi
 */
export type EntryHeaderPolicy = (typeof ENTRY_HEADER_POLICIES)[number];

/**
 * Response headers an entry leaves out under the `essential` policy, the default: they describe
 * the response's own connection or framing, not the answer, and mean nothing inside an entry.
 * `content-length` is the length of the bytes the app sent, while the entry re-encodes the body
 * (parsed JSON, text, base64); it is kept when the entry has no body (a HEAD answer says there
 * how long the body would be). `date` is the time the batch reply has too; `x-powered-by`
 * names the framework on every entry; the rest are hop-by-hop (RFC 9110 §7.6.1). Every other
 * header is kept: `content-type`, `etag`, `location`, `cache-control`, `vary`, rate-limit
 * headers and the app's own (`set-cookie` never reaches an entry: see {@link ENTRY_HEADER_POLICIES}).
 * @publicApi
 */
export const ENTRY_HEADERS_DROPPED: readonly string[] = Object.freeze([
  'content-length',
  'date',
  'x-powered-by',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);
