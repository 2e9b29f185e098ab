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

export function securityHeaders(): Koa.Middleware {
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    // SAMLRequest and RelayState travel in URLs: never leak them to another site. (Not no-referrer:
    // with it, Chromium sends `Origin: null` on same-origin form posts and the logout origin check fails.)
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    await next();
    if (!ctx.path.startsWith('/assets/')) ctx.set('Cache-Control', 'no-store');
  };
}
