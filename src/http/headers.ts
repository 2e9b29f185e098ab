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
 * `hstsMaxAgeSeconds`: set when public_url is https (also behind a TLS-terminating proxy: the browser's
 * origin is https whatever the last hop is), so browsers never try the http origin again and a network
 * attacker cannot strip TLS from a later visit. No includeSubDomains: other hosts under the domain are not ours.
 */
export function securityHeaders(opts: { hstsMaxAgeSeconds?: number } = {}): Koa.Middleware {
  const hsts = opts.hstsMaxAgeSeconds === undefined ? undefined : `max-age=${opts.hstsMaxAgeSeconds}`;
  return async (ctx, next) => {
    if (hsts !== undefined) ctx.set('Strict-Transport-Security', hsts);
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    // SAMLRequest and RelayState travel in URLs: never leak them to another site. (Not no-referrer:
    // with it, Chromium sends `Origin: null` on same-origin form posts and the logout origin check fails.)
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    await next();
    // no-store unless the route itself declared the answer public (static assets, SAML metadata, the favicon):
    // error answers always end up no-store (the error middleware sets it).
    if (!ctx.path.startsWith('/assets/') && !String(ctx.response.get('Cache-Control') ?? '').startsWith('public')) ctx.set('Cache-Control', 'no-store');
  };
}
