/**
 * Who may call which route. DENY BY DEFAULT: every route is looked up here by its name, and a route
 * without an entry (or without a name) is refused, so a new route is closed until someone opens it on purpose.
 * test/admin/authz.test.ts walks every route of the router × every kind of caller against this table.
 * Each route carries its own guard with its own rule (protectRoutes), so where two routes match one path the
 * rule checked is that of the route whose handler runs.
 *
 * Order of checks for an `admin` route, on one screen:
 *   1. identify: `Authorization: Token <key>` or `Bearer <access token>` (nothing else is tried when the header
 *      is present) or the session;
 *      the member is re-read from the database on every request (a demotion or deletion takes effect at once);
 *   2. none → 401 ERR_UNAUTHENTICATED;
 *   3. cookie-authenticated and state-changing → same origin (Origin/Referer) or X-CSRF-Token, else 403 ERR_CSRF;
 *   4. not Owner/Administrator (nor a Manager reading an `admin-read` route) → 403 ERR_FORBIDDEN; a token on an
 *      `admin-browser` route → 403 ERR_FORBIDDEN.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import type { Caller } from '../../admin/caller.js';
import { isOrgAdmin } from '../../admin/caller.js';
import type { Config, OrganizationConfig } from '../../configuration/types.js';
import { RolegateError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { MemberWriter } from '../../members/write.js';
import type { Services } from '../services.js';
import { isSameOrigin } from '../safety.js';
import { endSession, readSession } from '../session.js';

/**
 * `public`: anyone; the handler checks what it needs itself (the ACS verifies signatures, whoami its session,
 * logout its origin). `admin`: an Owner or Administrator of the organization, by session or token.
 * `admin-read`: the same plus Managers, for reading the member list (as in Label Studio, where Managers see
 * the organization's members but cannot change them); only safe methods are ever given this rule.
 * `admin-browser`: the same, by browser session only (the pages, and minting tokens: a leaked token must not
 * be able to create successors that outlive its revocation).
 */
export type AccessRule = 'public' | 'admin' | 'admin-read' | 'admin-browser';

export const ACCESS: Readonly<Record<string, AccessRule>> = {
  // foundation
  'asset-css': 'public',
  'asset-autopost': 'public',
  favicon: 'public',
  'asset-favicon': 'public',
  healthz: 'public',
  // checks the metrics bearer token itself (off when none is configured), as /metrics
  'healthz-details': 'public',
  // /metrics checks its own bearer token (off when none is configured)
  metrics: 'public',
  home: 'public',
  'sign-in-org': 'public',
  logout: 'public',
  whoami: 'public',
  'saml-metadata': 'public',
  'saml-login': 'public',
  'saml-acs': 'public',
  // Single Logout: starting one needs no authority (it ends the caller's own session); /slo messages are
  // signature-checked against the IdP certificate.
  'saml-logout': 'public',
  'saml-slo': 'public',
  'dev-idp-sso': 'public',
  'dev-idp-sso-post': 'public',
  // admin surface
  'asset-admin-css': 'public',
  'asset-admin-js': 'public',
  openapi: 'public',
  'api-organizations': 'admin',
  'api-organization': 'admin',
  'api-memberships': 'admin-read',
  'api-memberships-patch': 'admin',
  'api-memberships-post': 'admin',
  'api-membership': 'admin-read',
  'api-ownership-transfer': 'admin',
  // Label Studio's users and invite endpoints, and the personal-access-token exchange (it authenticates the
  // refresh token in its body itself).
  'api-users': 'admin-read',
  'api-user': 'admin-read',
  'api-invite-link': 'admin',
  'api-invite-reset': 'admin',
  'api-invite-send': 'admin',
  'api-invite-revoke': 'admin',
  'api-token-refresh': 'public',
  'api-membership-explain': 'admin',
  'api-membership-delete': 'admin',
  'api-invites': 'admin',
  'api-audit': 'admin',
  'api-project-roles': 'admin',
  'api-project-roles-all': 'admin',
  'api-project-roles-create': 'admin',
  'api-project-roles-delete': 'admin',
  'api-tokens': 'admin',
  'api-tokens-create': 'admin-browser',
  'api-tokens-delete': 'admin',
  'page-organization': 'admin-browser',
  'page-member': 'admin-browser',
  'page-audit': 'admin-browser',
  'page-tokens': 'admin-browser',
  'page-member-role': 'admin-browser',
  'page-member-delete': 'admin-browser',
  'page-invite': 'admin-browser',
  'page-token-create': 'admin-browser',
  'page-token-revoke': 'admin-browser',
  'page-scim-token-create': 'admin-browser',
  'page-scim-token-revoke': 'admin-browser',
  // SCIM 2.0 (src/http/scim.ts): each checks its own SCIM bearer token (an IdP, not a member) and answers
  // with SCIM error bodies; a session or an API token opens nothing there.
  'scim-service-provider-config': 'public',
  'scim-resource-types': 'public',
  'scim-resource-type': 'public',
  'scim-schemas': 'public',
  'scim-schema': 'public',
  'scim-users': 'public',
  'scim-users-create': 'public',
  'scim-user': 'public',
  'scim-user-replace': 'public',
  'scim-user-patch': 'public',
  'scim-user-delete': 'public',
  'scim-groups': 'public',
  'scim-groups-create': 'public',
  'scim-group': 'public',
  'scim-group-replace': 'public',
  'scim-group-patch': 'public',
  'scim-group-delete': 'public',
  'scim-unsupported': 'public',
  // signed change events: endpoints, deliveries, resend and re-enable (Owner/Administrator, browser, CSRF)
  'page-webhooks': 'admin-browser',
  'page-webhook-resend': 'admin-browser',
  'page-webhook-enable': 'admin-browser',
  // forward-auth: the proxy checks answer only trusted proxies and decide from the session themselves;
  // sign-in validates its return URL; the JWKS is public by nature.
  'forward-auth-nginx': 'public',
  'forward-auth-forward': 'public',
  'forward-auth-signin': 'public',
  'forward-auth-jwks': 'public',
  'page-bulk': 'admin-browser',
  'page-mapping': 'admin-browser',
  'page-mapping-preview': 'admin-browser',
};

export function accessRule(name: string | undefined): AccessRule | undefined {
  return name !== undefined && Object.hasOwn(ACCESS, name) ? ACCESS[name] : undefined;
}

export interface AccessDeps {
  /** The configuration in force (a function: a reload may replace it). */
  readonly config: () => Config;
  readonly services: Services;
  readonly log: Logger;
  readonly writer: MemberWriter;
}

const STATE_KEY = 'rolegateCaller';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'X-CSRF-Token';

/** The caller an `admin` route was opened for (set by the guard). */
export function callerOf(ctx: Koa.Context): { caller: Caller; org: OrganizationConfig } {
  const value = (ctx.state as Record<string, unknown>)[STATE_KEY] as { caller: Caller; org: OrganizationConfig } | undefined;
  if (value === undefined) throw new RolegateError('ERR_FORBIDDEN', 'no access rule opened this route');
  return value;
}

/** This session's CSRF token, created on first use (pages embed it; forms and scripts send it back). */
export function csrfToken(ctx: Koa.Context): string {
  const s = ctx.session;
  if (s === null || s === undefined) throw new RolegateError('ERR_UNAUTHENTICATED', 'not signed in');
  const existing = s['csrf'];
  if (typeof existing === 'string' && existing.length === 43) return existing;
  const token = randomBytes(32).toString('base64url');
  s['csrf'] = token;
  return token;
}

export function csrfMatches(ctx: Koa.Context, presented: unknown): boolean {
  const expected = ctx.session?.['csrf'];
  if (typeof expected !== 'string' || typeof presented !== 'string' || presented.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(presented), Buffer.from(expected));
}

/** The member behind this request, re-read now; undefined when signed out. Throws 401 for a bad token. */
export async function identify(ctx: Koa.Context, deps: AccessDeps): Promise<{ caller: Caller; org: OrganizationConfig } | undefined> {
  const config = deps.config();
  const auth = ctx.get('Authorization');
  if (auth !== '') {
    // A token request never falls back to the cookie: what it asks for is what it gets. The scheme is
    // case-insensitive (RFC 9110 §11.1): `Token <API token key>`, or `Bearer <access token>` from
    // POST /api/token/refresh (Label Studio's personal-access-token flow).
    const m = /^(\S+)\s+(\S+)$/.exec(auth.trim());
    const scheme = m?.[1]?.toLowerCase();
    if (m?.[2] === undefined || (scheme !== 'token' && scheme !== 'bearer')) {
      throw new RolegateError('ERR_UNAUTHENTICATED', 'Authorization header: expected "Token <key>" or "Bearer <access token>"');
    }
    const now = new Date();
    const found = scheme === 'token' ? await deps.services.authenticateKey(m[2], now) : await deps.services.authenticateAccess(config.server.sessionSecret, m[2], now);
    const org = found === undefined ? undefined : config.organizations.find((o) => o.id === found.token.organizationId);
    if (found === undefined || org === undefined) throw new RolegateError('ERR_UNAUTHENTICATED', "unknown or revoked token, or its member's access has ended");
    return {
      caller: { kind: 'token', userId: found.member.userId, organizationId: org.id, role: found.member.role, email: found.member.email, tokenId: found.token.id },
      org,
    };
  }
  const s = readSession(ctx);
  if (s === undefined) return undefined;
  const org = config.organizations.find((o) => o.id === s.organizationId);
  const member = org === undefined ? undefined : await deps.services.findMember(org.id, s.userId);
  if (org === undefined || member === undefined || member.isDeleted || member.role === 'DI') {
    endSession(ctx);
    return undefined;
  }
  return { caller: { kind: 'session', userId: member.userId, organizationId: org.id, role: member.role, email: member.email }, org };
}

/**
 * The guard for one route, with that route's rule. protectRoutes puts it at the head of the route's own
 * middleware, so the rule checked is always the rule of the route whose handler runs next, even when several
 * routes match a path (the router runs the first match's handlers; a router-level guard only sees the list).
 */
function guardFor(deps: AccessDeps, name: string | undefined): Koa.Middleware {
  const rule = accessRule(name);
  return async (ctx, next) => {
    if (rule === undefined) {
      deps.log('error', 'route without an access rule refused', { route: name ?? null, path: ctx.path });
      throw new RolegateError('ERR_FORBIDDEN', 'this route has no access rule');
    }
    if (rule === 'public') return next();
    const who = await identify(ctx, deps);
    if (who === undefined) throw new RolegateError('ERR_UNAUTHENTICATED', 'sign in, or send "Authorization: Token <key>"');
    if (who.caller.kind === 'session' && !SAFE_METHODS.has(ctx.method)) {
      const publicOrigin = new URL(deps.config().server.publicUrl).origin;
      if (!isSameOrigin(ctx, publicOrigin) && !csrfMatches(ctx, ctx.get(CSRF_HEADER))) {
        throw new RolegateError('ERR_CSRF', `cross-origin request refused: send it from ${publicOrigin} or with the ${CSRF_HEADER} header`);
      }
    }
    const allowed = isOrgAdmin(who.caller.role) || (rule === 'admin-read' && who.caller.role === 'MA' && SAFE_METHODS.has(ctx.method));
    if (!allowed) throw new RolegateError('ERR_FORBIDDEN', rule === 'admin-read' ? 'only an Owner, Administrator or Manager of the organization may read this' : 'only an Owner or Administrator of the organization may do this');
    if (rule === 'admin-browser' && who.caller.kind !== 'session') throw new RolegateError('ERR_FORBIDDEN', 'this is for a signed-in browser session, not an API token');
    (ctx.state as Record<string, unknown>)[STATE_KEY] = who;
    return next();
  };
}

/** A route layer as far as the guard needs it (@koa/router's Layer). */
interface RouteLayer {
  readonly name?: string | null | undefined;
  readonly methods: readonly string[];
  stack: unknown[];
}

/** Route layers that carry their own guard (protectRoutes). */
const PROTECTED = new WeakSet<object>();

/**
 * Put each route's guard in front of its handlers. Call once every route is registered; a route registered
 * later has no guard and is refused by accessGuard.
 */
export function protectRoutes(router: { stack: readonly RouteLayer[] }, deps: AccessDeps): void {
  for (const layer of router.stack) {
    if (layer.methods.length === 0 || PROTECTED.has(layer)) continue;
    layer.stack.unshift(guardFor(deps, layer.name ?? undefined));
    PROTECTED.add(layer);
  }
}

/**
 * Mounted first on the router (router.use), so it runs for every matched route: deny by default for a route
 * that protectRoutes never saw (registered after it ran). The rule itself is checked per route (guardFor).
 */
export function accessGuard(deps: AccessDeps): Koa.Middleware {
  return async (ctx, next) => {
    const matched = ((ctx as unknown as { matched?: readonly RouteLayer[] }).matched ?? []).filter((l) => l.methods.includes(ctx.method));
    const open = matched.find((l) => !PROTECTED.has(l));
    if (open !== undefined) {
      deps.log('error', 'route without an access guard refused', { route: open.name ?? null, path: ctx.path });
      throw new RolegateError('ERR_FORBIDDEN', 'this route has no access rule');
    }
    return next();
  };
}
