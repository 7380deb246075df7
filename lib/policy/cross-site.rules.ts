import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { wireBodyOf } from '../platform/wire-body.stash.js';

/**
 * Headers a browser adds to a request by itself, whoever wrote the page that sent it: the
 * session cookie and HTTP authentication it has cached (Basic, Digest, Negotiate). Operations
 * of a batch request that a browser could have sent cross-site without a CORS preflight (a form,
 * `text/plain`, no Content-Type) never inherit these, whatever `inheritHeaders` says.
 * @publicApi
 */
export const AMBIENT_CREDENTIAL_HEADERS: readonly string[] = Object.freeze([
  'cookie',
  'authorization',
  'proxy-authorization',
  // What authenticating proxies derive from the browser's cookie or client certificate and pass
  // on (oauth2-proxy, Envoy, AWS ALB, Azure App Service, Google IAP, nginx mTLS): as ambient as
  // the credential they came from.
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-preferred-username',
  'x-forwarded-groups',
  'x-forwarded-access-token',
  'x-forwarded-client-cert',
  'x-auth-request-user',
  'x-auth-request-email',
  'x-auth-request-preferred-username',
  'x-auth-request-groups',
  'x-auth-request-access-token',
  'x-amzn-oidc-data',
  'x-amzn-oidc-identity',
  'x-amzn-oidc-accesstoken',
  'x-ms-client-principal',
  'x-ms-client-principal-id',
  'x-ms-client-principal-name',
  'x-goog-iap-jwt-assertion',
  'x-goog-authenticated-user-email',
  'x-goog-authenticated-user-id',
  'x-ssl-client-cert',
  'ssl-client-cert',
  'x-client-cert',
]);

/**
 * The batch Content-Types a browser sends cross-site only after a CORS preflight the app's CORS
 * policy answers: JSON (`application/json`, `+json`) and `multipart/mixed`. A form
 * (`application/x-www-form-urlencoded`, `multipart/form-data`), `text/plain` and no Content-Type
 * at all need none, so a hostile page can make a victim's browser post them with the victim's
 * cookie attached. An allowlist rather than the Fetch standard's three safelisted types, so that
 * anything unforeseen (a new format, an odd spelling) falls on the safe side.
 */
const PREFLIGHTED_MEDIA_TYPE = /^(?:application\/(?:[\w.+-]+\+)?json|multipart\/mixed)$/;

const WITHHELD: ReadonlySet<string> = new Set(AMBIENT_CREDENTIAL_HEADERS);
const NONE: ReadonlySet<string> = new Set();

/**
 * Fetch metadata a browser sets on a request that no other origin started: `same-origin` (the
 * app's own pages) and `none` (the user typed the address or opened a bookmark). A page of
 * another site cannot make the browser send these, and sibling subdomains get `same-site`.
 */
const OWN_ORIGIN_FETCH = /^(?:same-origin|none)$/;

/**
 * True when the request shows that no other site can have made a browser send it, so its
 * operations may carry the credentials the browser attached: its Content-Type is one that needs
 * a CORS preflight cross-site, or the browser marks it as started by the app's own origin
 * (`Sec-Fetch-Site`). Judged by the Content-Type the request came with, not by the format that
 * decoded the body, so every way a body reaches the decoder (the library's reader, the app's
 * body parser, user code calling the executor with its request) is judged alike.
 * @param contentType As it came off the wire (the body reader removes it from Fastify's request).
 */
export function inheritsAmbientCredentials(
  headers: IncomingHttpHeaders,
  contentType: string | undefined = headers['content-type'],
): boolean {
  const [essence = ''] = (contentType ?? '').split(';');
  if (PREFLIGHTED_MEDIA_TYPE.test(essence.trim().toLowerCase())) return true;
  const site = headers['sec-fetch-site'];
  return typeof site === 'string' && OWN_ORIGIN_FETCH.test(site.trim().toLowerCase());
}

/** The inherited headers the operations of this batch request must not get. */
export function withheldHeaders(request: IncomingMessage): ReadonlySet<string> {
  const wire = wireBodyOf(request);
  const contentType = wire ? wire.contentType : request.headers['content-type'];
  return inheritsAmbientCredentials(request.headers, contentType) ? NONE : WITHHELD;
}

/** Fetch metadata of a request another site's page made the browser send. */
const OTHER_SITE_FETCH = /^(?:cross-site|same-site)$/;

/**
 * Why the endpoint refuses this batch request outright, or undefined: a browser says (with
 * `Sec-Fetch-Site`, which pages cannot set) that another site's page made it send a batch that
 * needed no CORS preflight. Withholding credentials cannot cover everything a proxy in front of
 * the app may derive from the victim's cookie or certificate, so such a request runs nothing.
 * Clients that are not browsers send no `Sec-Fetch-Site` and are judged by
 * {@link withheldHeaders} alone.
 */
export function crossSiteRefusal(request: IncomingMessage): string | undefined {
  const wire = wireBodyOf(request);
  const contentType = wire ? wire.contentType : request.headers['content-type'];
  if (inheritsAmbientCredentials(request.headers, contentType)) return undefined;
  const site = request.headers['sec-fetch-site'];
  if (typeof site !== 'string' || !OTHER_SITE_FETCH.test(site.trim().toLowerCase())) {
    return undefined;
  }
  return `A batch sent by another site's page as ${contentType?.split(';')[0]?.trim() || 'a body without Content-Type'} (Sec-Fetch-Site: ${site.trim()}) is refused: it needed no CORS preflight. Send batches as application/json.`;
}
