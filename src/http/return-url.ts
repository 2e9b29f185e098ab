/**
 * Where to send a person after sign-in for a proxied application (`rd`), validated as the SAML `next` is:
 * a relative path on rolegate's own origin (safeNextPath), or an absolute http(s) URL whose exact origin is
 * a configured upstream. Anything else is `/`. Defends against open redirects through the return URL
 * (oauth2-proxy CVE-2020-5233 and CVE-2021-21291, `//host`, `/\host`, look-alike suffix domains).
 */
import { safeNextPath } from './safety.js';

const MAX_LENGTH = 2048;

export function safeReturnUrl(value: unknown, upstreamOrigins: readonly string[]): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f\\]/.test(value)) return '/';
  if (value.startsWith('/')) {
    // `/%2f%2fevil.example` and `/%5cevil.example` are paths to a browser, but not to every server that
    // decodes before redirecting: refused rather than trusted to stay paths.
    if (/^\/(%2f|%5c)/i.test(value)) return '/';
    return safeNextPath(value);
  }
  // Absolute: only an explicit http(s) scheme followed by `//` (no `https:host`, no other scheme).
  if (!/^https?:\/\/[^/]/i.test(value)) return '/';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '/';
  }
  if (url.username !== '' || url.password !== '') return '/';
  // Exact origin (scheme, host, port): no suffix or prefix matching of host names.
  if (!upstreamOrigins.includes(url.origin)) return '/';
  return url.href;
}
