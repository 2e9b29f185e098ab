/** Security headers on every response. The pages use no inline script or style, so the CSP can be strict. */
import type Koa from 'koa';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * The headers every answer carries, as name/value pairs (the forward-auth fast path writes them itself).
 * `hstsMaxAgeSeconds`: set when public_url is https (also behind a TLS-terminating proxy: the browser's
 * origin is https whatever the last hop is), so browsers never try the http origin again and a network
 * attacker cannot strip TLS from a later visit. No includeSubDomains: other hosts under the domain are not ours.
 */
export function securityHeaderPairs(opts: { hstsMaxAgeSeconds?: number } = {}): ReadonlyArray<readonly [string, string]> {
  return [
    ...(opts.hstsMaxAgeSeconds === undefined ? [] : [['Strict-Transport-Security', `max-age=${opts.hstsMaxAgeSeconds}`] as const]),
    ['Content-Security-Policy', CSP],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    // SAMLRequest and RelayState travel in URLs: never leak them to another site. (Not no-referrer:
    // with it, Chromium sends `Origin: null` on same-origin form posts and the logout origin check fails.)
    ['Referrer-Policy', 'same-origin'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
  ];
}

export function securityHeaders(opts: { hstsMaxAgeSeconds?: number } = {}): Koa.Middleware {
  const pairs = securityHeaderPairs(opts);
  return async (ctx, next) => {
    for (const [name, value] of pairs) ctx.set(name, value);
    await next();
    // no-store unless the route itself declared the answer public (static assets, SAML metadata, the favicon):
    // error answers always end up no-store (the error middleware sets it).
    if (!ctx.path.startsWith('/assets/') && !String(ctx.response.get('Cache-Control') ?? '').startsWith('public')) ctx.set('Cache-Control', 'no-store');
  };
}
