/**
 * Sessions: koa-session holding only a random key in an httpOnly, signed, SameSite=Lax cookie; the data
 * lives in the database (so every instance sees it, and revocation is a DELETE).
 */
import { randomBytes } from 'node:crypto';
import type Koa from 'koa';
import session from 'koa-session';
import type { Config } from '../configuration/types.js';
import type { LoginSessionRow } from '../members/login.js';
import type { Services } from './services.js';

export const SESSION_COOKIE = 'rolegate.sid';

/** The last session row written by each request (see the store's `set`). */
const writtenInRequest = new WeakMap<Koa.Context, string>();
/** The key koa-session's next `genid` returns in this request: the one a login wrote its session row under. */
const reservedKey = new WeakMap<Koa.Context, string>();
/** Requests whose login already ended the browser's previous session in its own transaction. */
const endedByLogin = new WeakSet<Koa.Context>();

const newKey = (): string => randomBytes(32).toString('base64url');
const writtenMarker = (key: string, content: Readonly<Record<string, unknown>>): string => `${key}\n${JSON.stringify(content)}`;

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
      genid: (ctx: Koa.Context) => {
        const reserved = reservedKey.get(ctx);
        if (reserved === undefined) return newKey();
        reservedKey.delete(ctx);
        return reserved;
      },
      store: {
        get: async (key: string) => services.loadSession(key, new Date()),
        set: async (key: string, data: Record<string, unknown>, maxAge: number | 'session', opts?: { ctx?: Koa.Context }) => {
          // koa-session saves a regenerated session at once and again when the request ends (its change
          // detection has no "before" for a new key), each time with a fresh `_expire`. The second write of the
          // same key and data in one request is skipped: the row already holds it.
          const { _expire: _e, _maxAge: _m, ...content } = data;
          const written = writtenMarker(key, content);
          if (opts?.ctx !== undefined && writtenInRequest.get(opts.ctx) === written) return;
          const ttl = typeof maxAge === 'number' ? maxAge : maxAgeMs;
          await services.storeSession(key, data, new Date(Date.now() + ttl));
          if (opts?.ctx !== undefined) writtenInRequest.set(opts.ctx, written);
        },
        destroy: async (key: string, opts?: { ctx?: Koa.Context }) => {
          // The login's transaction already deleted the browser's previous session row (startSession).
          if (opts?.ctx !== undefined && endedByLogin.has(opts.ctx)) return;
          await services.destroySession(key);
        },
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
 * A login's session, planned before the login's transaction so that the transaction writes its row (see
 * members/login.ts `LoginContext.session`): one commit for the member, the audit and the session.
 *
 * The key is always fresh (no fixation). Without a (validly signed) session cookie on the request, it is the
 * key koa-session generated during this request, never sent to anyone. With one, the browser's key may be
 * known to someone else (a planted cookie): the login gets a new key, which koa-session is made to take
 * (`rotate`), and its transaction deletes the old row. `startSession` then hands the same key and data to koa-session, which sets the cookie and skips
 * writing the row again.
 */
export interface SessionPlan extends LoginSessionRow {
  /** The key is not the one koa-session holds for this request: `startSession` makes it take it (regenerate). */
  readonly rotate: boolean;
  /** The session's data (what `readSession` returns) once the member's user id is known. */
  content(userId: number): Record<string, unknown>;
}

export function planSession(ctx: Koa.Context, fields: Omit<SessionData, 'userId'>, maxAgeMs: number): SessionPlan {
  const cookieKey = ctx.cookies.get(SESSION_COOKIE, { signed: true });
  const replaces = cookieKey === undefined || cookieKey === '' ? null : cookieKey;
  const generated = replaces === null ? (ctx.session as { externalKey?: unknown } | null | undefined)?.externalKey : undefined;
  const own = typeof generated === 'string' && generated !== '' ? generated : undefined;
  const content = (userId: number): Record<string, unknown> => ({ userId, ...fields });
  return {
    key: own ?? newKey(),
    replaces,
    rotate: own === undefined,
    content,
    // As koa-session stores it: the data, `_expire` and `_maxAge`; the row outlives the cookie by 10 s.
    row: (userId) => ({
      data: { ...content(userId), _expire: Date.now() + maxAgeMs, _maxAge: maxAgeMs },
      expiresAt: new Date(Date.now() + maxAgeMs + 10_000),
    }),
  };
}

/**
 * Give the browser the session its login wrote (`planSession`): koa-session sets the cookie under the
 * planned key; its own saves of the same data are skipped (the row is there), and so is its delete of the
 * previous session (the login's transaction did it).
 */
export async function startSession(ctx: Koa.Context, plan: SessionPlan, userId: number): Promise<void> {
  const content = plan.content(userId);
  writtenInRequest.set(ctx, writtenMarker(plan.key, content));
  ctx.session = content;
  const s = ctx.session;
  if (s === null || !plan.rotate) return;
  reservedKey.set(ctx, plan.key);
  endedByLogin.add(ctx);
  try {
    await s.regenerate();
  } finally {
    endedByLogin.delete(ctx);
    reservedKey.delete(ctx);
  }
}

export function endSession(ctx: Koa.Context): void {
  ctx.session = null;
}
