import { ValidateBy, type ValidationOptions } from 'class-validator';

/** Longest operation url accepted: what common HTTP servers take on a request line. */
export const MAX_URL_LENGTH = 8192;

/** What an HTTP/1.1 parser accepts in a request target: printable ASCII, no space. */
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Why `url` cannot be an operation's target, or undefined when it can. An operation only ever
 * names a path of this app (an origin-form target, RFC 9112 §3.2.1): never a host, a scheme, or
 * a path that a static file server could resolve outside its root.
 */
export function urlProblem(url: string): string | undefined {
  return isPlainPath(url) ? undefined : urlProblemByRule(url);
}

/**
 * One pass over the url for what almost every operation's url is: a path of printable ASCII
 * with no backslash, fragment, dot or percent sign before its query. Such a url passes every
 * check of {@link urlProblemByRule}; anything else goes through them, one by one, for its message.
 */
function isPlainPath(url: string): boolean {
  const length = url.length;
  if (length > MAX_URL_LENGTH || url.charCodeAt(0) !== SLASH || url.charCodeAt(1) === SLASH) {
    return false;
  }
  let inPath = true;
  for (let i = 1; i < length; i++) {
    const code = url.charCodeAt(i);
    if (code < 0x21 || code > 0x7e || code === BACKSLASH || code === HASH) return false;
    if (code === QUESTION) inPath = false;
    else if (inPath && (code === DOT || code === PERCENT)) return false;
  }
  return true;
}

const [SLASH, BACKSLASH, HASH, QUESTION, DOT, PERCENT] = ['/', '\\', '#', '?', '.', '%'].map((c) =>
  c.charCodeAt(0),
) as [number, number, number, number, number, number];

/** Every check, one by one: what {@link urlProblem} says of a url its fast path does not pass. */
export function urlProblemByRule(url: string): string | undefined {
  if (url.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  if (!url.startsWith('/')) {
    return 'must be a path of this app starting with "/" (absolute URLs and other schemes are refused: an operation never leaves the app)';
  }
  if (url.startsWith('//'))
    return 'must not start with "//" (a protocol-relative URL names a host)';
  if (url.includes('\\')) return 'must not hold a backslash (some parsers read it as "/")';
  if (!PRINTABLE_ASCII.test(url)) {
    return 'must be printable ASCII without spaces or control characters (percent-encode the rest)';
  }
  if (url.includes('#')) return 'must not hold a fragment ("#")';
  const path = url.split('?', 1)[0] ?? '';
  // Only a "." or a percent-encoding can make a segment unsafe once the checks above passed:
  // most paths are decided here, without decoding each segment.
  if (!path.includes('.') && !path.includes('%')) return undefined;
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return `holds a malformed percent-encoding in "${segment}"`;
    }
    if (CONTROL.test(decoded)) return 'encodes a control character in its path';
    if (decoded.split(/[/\\]/).some((part) => part === '.' || part === '..')) {
      return 'must not hold "." or ".." path segments, plain or percent-encoded';
    }
  }
  return undefined;
}

/** class-validator rule: the value is a string {@link urlProblem} has nothing to say about. */
export function IsOperationUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isOperationUrl',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && urlProblem(value) === undefined,
        defaultMessage: (args) => {
          const value: unknown = args?.value;
          const problem = typeof value === 'string' ? urlProblem(value) : 'must be a string';
          return `$property ${problem ?? ''}`;
        },
      },
    },
    options,
  );
}
