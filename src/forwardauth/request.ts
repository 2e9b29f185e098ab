/**
 * The request a proxy asks about, read from the headers the proxy sets: `X-Original-URL` +
 * `X-Original-Method` (nginx auth_request) or `X-Forwarded-Proto/-Host/-Uri/-Method` (Traefik ForwardAuth,
 * Caddy forward_auth). Pure: the caller has already checked that the TCP peer is a trusted proxy, since these
 * headers are only as true as whoever wrote them.
 */
export type ProxyMode = 'nginx' | 'forward';

export interface OriginalRequest {
  readonly method: string;
  /** The absolute URL as the browser asked for it (normalised by WHATWG URL). */
  readonly url: string;
  /** scheme://host[:port]: what selects an upstream. */
  readonly origin: string;
  /** Percent-decoded path segments joined by `/`: what the rules match. */
  readonly path: string;
}

export type ParsedRequest = { readonly ok: true; readonly request: OriginalRequest } | { readonly ok: false; readonly reason: string };

/** RFC 9110 method token. */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const MAX_URL = 8192;

type HeaderGetter = (name: string) => string;

export function readOriginalRequest(mode: ProxyMode, get: HeaderGetter): ParsedRequest {
  const method = get(mode === 'nginx' ? 'X-Original-Method' : 'X-Forwarded-Method');
  if (!METHOD.test(method)) return { ok: false, reason: `${mode === 'nginx' ? 'X-Original-Method' : 'X-Forwarded-Method'} missing or not a method` };
  let raw: string;
  if (mode === 'nginx') {
    raw = get('X-Original-URL');
    if (raw === '') return { ok: false, reason: 'X-Original-URL missing' };
  } else {
    const proto = get('X-Forwarded-Proto');
    const host = get('X-Forwarded-Host');
    const uri = get('X-Forwarded-Uri');
    if (proto !== 'http' && proto !== 'https') return { ok: false, reason: 'X-Forwarded-Proto missing or not http/https' };
    // One host, as the browser sent it: a list (`a, b`) means a proxy appended to a client's value.
    if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) return { ok: false, reason: 'X-Forwarded-Host missing or not one host[:port]' };
    if (!uri.startsWith('/')) return { ok: false, reason: 'X-Forwarded-Uri missing or not a path' };
    raw = `${proto}://${host}${uri}`;
  }
  return parseUrl(method.toUpperCase(), raw);
}

function parseUrl(method: string, raw: string): ParsedRequest {
  // eslint-disable-next-line no-control-regex
  if (raw.length > MAX_URL || /[\u0000-\u0020\u007f]/.test(raw)) return { ok: false, reason: 'original URL too long or has spaces or control characters' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'original URL is not a URL' };
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'original URL is not a plain http(s) URL' };
  }
  const path = decodePath(url.pathname);
  if (path === undefined) return { ok: false, reason: 'original path has an encoded "/", "\\", dot segment or control character' };
  return { ok: true, request: { method, url: url.href, origin: url.origin, path } };
}

/**
 * WHATWG URL has resolved `.`/`..` (also `%2e%2e`) and turned `\` into `/`. What an upstream may still read
 * differently is refused: an encoded `/` or `\` (`/public%2F..%2Fadmin`), a segment that decodes to a dot
 * segment, bad UTF-8, control characters.
 */
function decodePath(pathname: string): string | undefined {
  const out: string[] = [];
  for (const segment of pathname.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    // eslint-disable-next-line no-control-regex
    if (/[/\\\u0000-\u001f\u007f]/.test(decoded) || decoded === '.' || decoded === '..') return undefined;
    // `..;` is `..` to Tomcat-style servers that strip path parameters.
    const param = decoded.indexOf(';');
    const bare = param >= 0 ? decoded.slice(0, param) : decoded;
    if (bare === '.' || bare === '..') return undefined;
    out.push(decoded);
  }
  return out.join('/');
}
