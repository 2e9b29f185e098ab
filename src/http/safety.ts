/** Small, security-relevant request helpers: redirect targets, origins, client addresses. */
import type Koa from 'koa';

/**
 * Only same-origin relative paths may be a redirect target (RelayState, `next`); anything else is `/`.
 * Rejects `//host`, `/\host` (browsers treat `\` as `/`), schemes, control characters and very long values
 * (line/centraldogma#1312, cloudfoundry/uaa#4014).
 */
export function safeNextPath(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return '/';
  try {
    const base = new URL('http://rolegate.invalid');
    const url = new URL(value, base);
    if (url.origin !== base.origin) return '/';
    const path = url.pathname + url.search + url.hash;
    // Dot segments are resolved above: `/.//evil.example` and `/a/..//evil.example` become `//evil.example`,
    // which a browser reads as another host. Check the result, not only the input.
    if (path.startsWith('//')) return '/';
    return path;
  } catch {
    return '/';
  }
}

/**
 * The client address: the socket's; with `trust_proxy` (koa's `proxy`), the last X-Forwarded-For entry, the
 * one the trusted proxy appended (app.ts sets `maxIpsCount: 1`). Earlier entries are written by the client
 * and are never used, so a forged header cannot steer audit rows or per-address rate limits.
 */
export function clientIp(ctx: Koa.Context): string {
  return ctx.ip;
}

/**
 * State-changing cookie-authenticated requests must come from our own origin. A browser's Sec-Fetch-Site (a
 * header no page can set) saying `cross-site` or `same-site` refuses at once; otherwise Origin, which browsers
 * send on every cross-site POST; a request without Origin (curl, old clients) falls back to Referer, else is
 * refused.
 */
export function isSameOrigin(ctx: Koa.Context, publicOrigin: string): boolean {
  const site = ctx.get('Sec-Fetch-Site');
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = ctx.get('Origin');
  if (origin) return origin === publicOrigin;
  const referer = ctx.get('Referer');
  if (referer) {
    try {
      return new URL(referer).origin === publicOrigin;
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * For a GET that changes state (starting a sign-out): a navigation from our own pages (`same-origin`) or one
 * the person started themselves (`none`: typed, bookmarked). A link or redirect from another site, even a
 * sibling subdomain (`same-site`), is refused: it could sign anyone out, or out of the IdP too. Browsers
 * without Sec-Fetch-Site fall back to Origin/Referer (isSameOrigin), so no evidence is a refusal.
 */
export function isSameOriginNavigation(ctx: Koa.Context, publicOrigin: string): boolean {
  const site = ctx.get('Sec-Fetch-Site');
  if (site === 'same-origin' || site === 'none') return true;
  if (site !== '') return false;
  return isSameOrigin(ctx, publicOrigin);
}
