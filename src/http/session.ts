/**
 * Sessions: koa-session holding only a random key in an httpOnly, signed, SameSite=Lax cookie; the data
 * lives in the database (so every instance sees it, and revocation is a DELETE).
 */
import { randomBytes } from 'node:crypto';
import type Koa from 'koa';
import session from 'koa-session';
import type { Config } from '../configuration/types.js';
import type { Services } from './services.js';

export const SESSION_COOKIE = 'rolegate.sid';

/** The last session row written by each request (see the store's `set`). */
const writtenInRequest = new WeakMap<Koa.Context, string>();

export interface SessionData {
  readonly userId: number;
  readonly organizationId: number;
  readonly authenticatedAt: string;
  /** The assertion's NameID, its Format and AuthnStatement@SessionIndex: what Single Logout names. */
  readonly nameId?: string;
  readonly nameIdFormat?: string | null;
  readonly sessionIndex?: string | null;
  /** The ID of the LogoutRequest sent to the IdP, until its LogoutResponse arrives. */
  readonly logoutRequestId?: string;
}

/**
 * `skip(path)`: paths served without koa-session (they read the session with readSessionDirect and never
 * change it): the forward-auth checks, asked on every request to every protected application.
 */
export function sessionMiddleware(
  app: Koa,
  services: Pick<Services, 'loadSession' | 'storeSession' | 'destroySession'>,
  config: Config,
  skip: (path: string) => boolean = () => false,
): Koa.Middleware {
  const maxAgeMs = config.server.sessionMaxAgeSeconds * 1000;
  const middleware = session(
    {
      key: SESSION_COOKIE,
      maxAge: maxAgeMs,
      httpOnly: true,
      signed: true,
      sameSite: 'lax',
      secure: config.server.publicUrl.startsWith('https:'),
      // forward_auth.cookie_domain: the applications' hosts get the cookie too, so their proxies can ask.
      ...(config.forwardAuth?.cookieDomain == null ? {} : { domain: config.forwardAuth.cookieDomain }),
      rolling: false,
      renew: false,
      genid: () => randomBytes(32).toString('base64url'),
      store: {
        get: async (key: string) => services.loadSession(key, new Date()),
        set: async (key: string, data: Record<string, unknown>, maxAge: number | 'session', opts?: { ctx?: Koa.Context }) => {
          // koa-session saves a regenerated session at once and again when the request ends (its change
          // detection has no "before" for a new key), each time with a fresh `_expire`. The second write of the
          // same key and data in one request is skipped: the row already holds it.
          const { _expire: _e, _maxAge: _m, ...content } = data;
          const written = `${key}\n${JSON.stringify(content)}`;
          if (opts?.ctx !== undefined && writtenInRequest.get(opts.ctx) === written) return;
          const ttl = typeof maxAge === 'number' ? maxAge : maxAgeMs;
          await services.storeSession(key, data, new Date(Date.now() + ttl));
          if (opts?.ctx !== undefined) writtenInRequest.set(opts.ctx, written);
        },
        destroy: async (key: string) => services.destroySession(key),
      },
    },
    app,
  );
  return async (ctx, next) => (skip(ctx.path) ? next() : middleware(ctx, next));
}

export function readSession(ctx: Koa.Context): SessionData | undefined {
  const s = ctx.session;
  return s === null || s === undefined ? undefined : sessionData(s);
}

/**
 * The session of a request on a path the session middleware skips (the forward-auth checks, see
 * `sessionMiddleware`'s `skip`): the signed cookie, its row, and koa-session's own expiry check, read
 * without koa-session (which would also load, track and commit a session the check never changes).
 */
export async function readSessionDirect<T extends { readonly data: Readonly<Record<string, unknown>> }>(
  ctx: Koa.Context,
  load: (key: string, now: Date) => Promise<T | undefined>,
): Promise<{ readonly session: SessionData; readonly loaded: T } | undefined> {
  const key = ctx.cookies.get(SESSION_COOKIE, { signed: true });
  if (key === undefined || key === '') return undefined;
  const loaded = await load(key, new Date());
  if (loaded === undefined) return undefined;
  const expire = loaded.data['_expire'];
  if (typeof expire === 'number' && expire < Date.now()) return undefined;
  const session = sessionData(loaded.data);
  return session === undefined ? undefined : { session, loaded };
}

function sessionData(s: Readonly<Record<string, unknown>>): SessionData | undefined {
  const userId = s['userId'];
  const organizationId = s['organizationId'];
  const authenticatedAt = s['authenticatedAt'];
  if (typeof userId !== 'number' || typeof organizationId !== 'number' || typeof authenticatedAt !== 'string') return undefined;
  const nameId = s['nameId'];
  const nameIdFormat = s['nameIdFormat'];
  const sessionIndex = s['sessionIndex'];
  const logoutRequestId = s['logoutRequestId'];
  return {
    userId,
    organizationId,
    authenticatedAt,
    ...(typeof nameId === 'string' ? { nameId } : {}),
    ...(typeof nameIdFormat === 'string' ? { nameIdFormat } : {}),
    ...(typeof sessionIndex === 'string' ? { sessionIndex } : {}),
    ...(typeof logoutRequestId === 'string' ? { logoutRequestId } : {}),
  };
}

/**
 * Start a fresh session for a login: a new key (no fixation), the old one destroyed.
 *
 * Without a (validly signed) session cookie on the request, koa-session's key was generated during this
 * request and has never been sent to anyone: it is already fresh, there is no old row, and the session is
 * written once when the request ends. With one, the browser's key may be known to someone else (a planted
 * cookie), so koa-session regenerates: the old row is deleted and the data saved under a new key.
 */
export async function startSession(ctx: Koa.Context, data: SessionData): Promise<void> {
  const hadKey = ctx.cookies.get(SESSION_COOKIE, { signed: true }) !== undefined;
  ctx.session = { ...data };
  const s = ctx.session;
  if (s !== null && hadKey) await s.regenerate();
}

export function endSession(ctx: Koa.Context): void {
  ctx.session = null;
}
