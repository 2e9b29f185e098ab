/**
 * Forward-auth routes: a reverse proxy asks, for every request to an upstream application, whether to let it
 * through and with which identity headers.
 *
 *   GET /auth/nginx    nginx `auth_request`: 200 (allow), 401 (sign in; `Location` names the sign-in URL for
 *                      the `error_page 401` snippet) or 403. Never any other status: nginx turns those into 500.
 *   GET /auth/forward  Traefik ForwardAuth, Caddy forward_auth: 200, 302 to sign in (browsers: Accept has
 *                      text/html), 401 (API clients) or 403. The proxy hands a non-2xx answer to the client.
 *   GET /auth/signin   ?rd=<return URL>: starts sign-in for the upstream's organization, then returns there.
 *   GET /.well-known/jwks.json   the public keys of X-Rolegate-Assertion.
 *
 * The checks of one decision, in order: the TCP peer is a trusted proxy → the original request is read from
 * its headers → it carries no identity header of its own → a configured upstream and a rule cover it → the
 * session's member, read now → the rule's role.
 * Every answer is `Cache-Control: no-store`: a cached "allow" would outlive a demotion.
 * Without `forward_auth:` in the configuration every route here answers 404.
 */
import type Router from '@koa/router';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import type { Config, ForwardAuthConfig } from '../configuration/types.js';
import { RolegateError } from '../errors.js';
import { AssertionCache } from '../forwardauth/assertion.js';
import { IDENTITY_HEADERS, type IdentityHeader, identityHeaders } from '../forwardauth/identity.js';
import { type SigningKeys, loadSigningKeys, signingKeyPems } from '../forwardauth/keys.js';
import { type Decision, decide, findUpstream } from '../forwardauth/policy.js';
import { type PeerCheck, trustedPeers } from '../forwardauth/proxies.js';
import { type OriginalRequest, type ProxyMode, readOriginalRequest } from '../forwardauth/request.js';
import type { Logger } from '../log.js';
import type { ConfigState } from '../reload/state.js';
import { toRolegateError } from './errors.js';
import { securityHeaderPairs } from './headers.js';
import { html, page } from './html.js';
import { safeReturnUrl } from './return-url.js';
import type { Services } from './services.js';
import { isProxySocket } from './proxy-socket.js';
import { readSession, readSessionDirect } from './session.js';

export interface ForwardAuthDeps {
  readonly config: Config;
  readonly services: Pick<Services, 'readCurrentMember' | 'readSessionAndMember'>;
  readonly log: Logger;
  readonly state: ConfigState;
}

/** One BlockList per configuration object (a reload brings a new one). */
const peerChecks = new WeakMap<ForwardAuthConfig, PeerCheck>();
function peerCheck(fa: ForwardAuthConfig): PeerCheck {
  let check = peerChecks.get(fa);
  if (check === undefined) {
    check = trustedPeers(fa.trustedProxies);
    peerChecks.set(fa, check);
  }
  return check;
}

const NGINX_PATH = '/auth/nginx';
const FORWARD_PATH = '/auth/forward';

/**
 * The mode of a check route's path (undefined for any other path): asked for every request to a protected
 * application, served without koa-session.
 */
export function checkMode(path: string): ProxyMode | undefined {
  return path === NGINX_PATH ? 'nginx' : path === FORWARD_PATH ? 'forward' : undefined;
}

export function isForwardAuthCheck(path: string): boolean {
  return checkMode(path) !== undefined;
}

/**
 * Mounted before the session middleware (whose database read can fail first): nginx turns any status but
 * 2xx/401/403 from the check into a 500 of its own, so a failure while deciding is answered 403 (fail
 * closed, with a code saying why) and logged, so that an outage reads as one in rolegate's log. A 404 (no
 * `forward_auth:` at all) stays a 404: that misconfiguration may well show as nginx's 500.
 */
export function nginxStatusGuard(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.path !== NGINX_PATH) return next();
    try {
      await next();
    } catch (caught) {
      const err = toRolegateError(caught);
      if (err.status === 401 || err.status === 403 || err.code === 'ERR_NOT_FOUND') throw err;
      log(err.code === 'ERR_INTERNAL' ? 'error' : 'warn', 'forward-auth', { outcome: 'failed', code: err.code, detail: err.message, mode: 'nginx' });
      throw new RolegateError('ERR_FORBIDDEN', `forward-auth could not decide (${err.code})`);
    }
  };
}

/** Identity header names, with `-` or `_`, in any case. */
const FORGED = /^x[-_]rolegate[-_]/i;

function withHeaders(err: RolegateError, headers: Record<string, string>): RolegateError {
  // errorMiddleware copies `headers` of an error onto the answer (koa's error contract).
  return Object.assign(err, { headers });
}

/**
 * Send the browser to `target`. To another origin, by a page that moves on by itself (Refresh) rather than a
 * redirect: right after sign-in this answer is the last hop of the IdP page's form submission, and browsers
 * check each redirect of a form submission against that page's CSP form-action (ours is 'self', an IdP's may
 * be anything), so a redirect to the application would be blocked.
 */
function goTo(ctx: Koa.Context, target: string): void {
  if (target.startsWith('/')) {
    ctx.redirect(target);
    return;
  }
  ctx.set('Refresh', `0; url=${target}`);
  ctx.type = 'html';
  ctx.body = page('Signed in', html`<section class="card"><h1>Signed in</h1>
<p>Continuing to <a id="continue" href="${target}">${new URL(target).origin}</a>…</p></section>`);
}

/** `/auth/nginx` or `/auth/forward` exactly, with or without a query (a request's raw URL): the check routes. */
export function checkModeOfUrl(url: string | undefined): ProxyMode | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  return checkMode(q === -1 ? url : url.slice(0, q));
}

/**
 * The server's request listener with the forward-auth fast path in front of koa's: a GET of a check route is
 * evaluated on a bare koa context (no middleware) and, when the answer is "allow", answered at once with the
 * headers the koa route would send; anything else (a denial, a refusal, an error, another path or method)
 * goes through koa as before, which decides again and answers, logs and counts it. So the fast path can only
 * ever answer what the route answers, and only "allow"; it saves the middleware, routing and the logging of
 * the common case.
 */
export function withForwardAuthFastPath(
  app: Koa,
  forwardAuth: ForwardAuth,
  callback: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  headers: { hstsMaxAgeSeconds?: number },
  count: (mode: ProxyMode, status: number) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  // As koa answers the route's `ctx.body = ''` (text/plain, empty), with the security headers and no-store.
  const fixed = [
    ...securityHeaderPairs(headers),
    ['Cache-Control', 'no-store'] as const,
    ['Content-Type', 'text/plain; charset=utf-8'] as const,
    ['Content-Length', '0'] as const,
  ];
  return (req, res) => {
    const mode = req.method === 'GET' ? checkModeOfUrl(req.url) : undefined;
    if (mode === undefined) {
      void callback(req, res);
      return;
    }
    void forwardAuth.fastAllow(app.createContext(req, res), mode).then((identity) => {
      if (identity === undefined) {
        void callback(req, res);
        return;
      }
      count(mode, 200);
      const out: string[] = [];
      for (const [name, value] of fixed) out.push(name, value);
      for (const name of IDENTITY_HEADERS) out.push(name, identity[name]);
      res.writeHead(200, out);
      res.end();
    });
  };
}

/** What one check found, before it is answered (the koa route logs and answers every kind; see fastAllow). */
type Outcome =
  | { readonly kind: 'allow'; readonly headers: Readonly<Record<IdentityHeader, string>> }
  | { readonly kind: 'untrusted'; readonly peer: string | undefined }
  | { readonly kind: 'request'; readonly reason: string; readonly peer: string | undefined }
  | { readonly kind: 'forged'; readonly header: string; readonly origin: string }
  | { readonly kind: 'deny'; readonly decision: Exclude<Decision, { allow: true }>; readonly request: OriginalRequest; readonly userId: number | null };

/** The forward-auth routes and the allow-only fast path of their checks (one signing key set, one cache). */
export interface ForwardAuth {
  /** Mount /auth/nginx, /auth/forward, /auth/signin and the JWKS on the router. */
  mount(router: Router): void;
  /**
   * The check of a request on `/auth/nginx` or `/auth/forward`, for the server's fast path (app.ts): the
   * identity headers when the answer is "allow", else undefined, and then the request goes through koa
   * and the route, which decide again and answer, log and count every other outcome. Never throws.
   */
  fastAllow(ctx: Koa.Context, mode: ProxyMode): Promise<Readonly<Record<IdentityHeader, string>> | undefined>;
}

export function createForwardAuth(deps: ForwardAuthDeps): ForwardAuth {
  const { services, log, state } = deps;
  const started = deps.config.forwardAuth;
  const publicUrl = deps.config.server.publicUrl;
  // Key files were checked by the loader; the generated key is read (or created) now, so a data directory that
  // cannot hold it stops the start rather than the first request.
  const keys: Promise<SigningKeys> | undefined = started === null ? undefined : loadSigningKeys(signingKeyPems(started, deps.config.server.dataDir));
  keys?.catch((err: unknown) => log('error', 'forward-auth signing keys do not load', { cause: err instanceof Error ? err.message : String(err) }));

  const assertions = new AssertionCache();

  /** The policy in force: it follows configuration reloads; the signing keys are those of the start. */
  const settings = (): { fa: ForwardAuthConfig; keys: Promise<SigningKeys> } => {
    const fa = state.current().forwardAuth;
    if (fa === null || keys === undefined) throw new RolegateError('ERR_NOT_FOUND', 'forward-auth is not configured');
    return { fa, keys };
  };

  /** Every check of one request, in order; throws only when it cannot decide (configuration, database). */
  const evaluate = async (ctx: Koa.Context, mode: ProxyMode): Promise<Outcome> => {
    const { fa, keys: keysReady } = settings();
    // 1. Only a trusted proxy's word about the original request counts: from anyone else, refuse. A connection
    // on forward_auth.socket was admitted by the socket file's permissions.
    const peer = ctx.req.socket.remoteAddress;
    if (!isProxySocket(ctx.req.socket) && !peerCheck(fa)(peer)) return { kind: 'untrusted', peer };
    // 2. The original request, from the headers of this mode only.
    const parsed = readOriginalRequest(mode, (name) => ctx.get(name));
    if (!parsed.ok) return { kind: 'request', reason: parsed.reason, peer };
    const request = parsed.request;
    // 2b. A client that sends identity headers of its own (either spelling: `X_Rolegate_Role` reaches CGI-style
    // upstreams as the same variable) is forging them: refused, whatever the proxy would have done with them.
    const forged = Object.keys(ctx.headers).find((name) => FORGED.test(name));
    if (forged !== undefined) return { kind: 'forged', header: forged, origin: request.origin };
    // 3. The member behind the session, as stored now (the session middleware skips these paths).
    const read = await readSessionDirect(ctx, services.readSessionAndMember);
    const org = read === undefined ? undefined : state.org(read.session.organizationId);
    const member = read === undefined || org === undefined ? undefined : read.loaded.member(org, read.session.userId);
    // 4. Upstream, rule, organization, state, role (forwardauth/policy.ts).
    const decision = decide(fa, request, member?.state);
    if (!decision.allow) return { kind: 'deny', decision, request, userId: member?.state.userId ?? null };
    const identity = member?.identity;
    if (identity === undefined) throw new RolegateError('ERR_INTERNAL', 'an allowed member without an identity');
    const full = { ...identity, role: decision.role };
    const assertion = await assertions.get(await keysReady, full, {
      issuer: publicUrl,
      audience: decision.upstream.host,
      ttlSeconds: fa.assertionTtlSeconds,
      now: new Date(),
    });
    return { kind: 'allow', headers: identityHeaders(full, assertion) };
  };

  const check = (mode: ProxyMode) => async (ctx: Koa.Context) => {
    ctx.set('Cache-Control', 'no-store');
    const outcome = await evaluate(ctx, mode);
    switch (outcome.kind) {
      case 'allow':
        for (const name of IDENTITY_HEADERS) ctx.set(name, outcome.headers[name]);
        ctx.status = 200;
        ctx.body = '';
        return;
      case 'untrusted':
        log('warn', 'forward-auth', { outcome: 'refused', code: 'ERR_FORWARD_AUTH_UNTRUSTED_PEER', peer: outcome.peer ?? null, mode });
        throw new RolegateError('ERR_FORWARD_AUTH_UNTRUSTED_PEER', 'this address is not in forward_auth.trusted_proxies');
      case 'request':
        log('warn', 'forward-auth', { outcome: 'refused', code: 'ERR_FORWARD_AUTH_REQUEST', reason: outcome.reason, peer: outcome.peer ?? null, mode });
        throw new RolegateError('ERR_FORWARD_AUTH_REQUEST', outcome.reason);
      case 'forged':
        log('warn', 'forward-auth', { outcome: 'refused', code: 'ERR_FORWARD_AUTH_REQUEST', reason: 'client-supplied identity header', header: outcome.header, origin: outcome.origin, mode });
        throw new RolegateError('ERR_FORWARD_AUTH_REQUEST', `the request carries an identity header of its own (${outcome.header})`);
      case 'deny': {
        const { decision, request } = outcome;
        log('info', 'forward-auth', { outcome: 'denied', code: decision.code, reason: decision.reason, method: request.method, origin: request.origin, path: request.path, user_id: outcome.userId, mode });
        if (decision.signIn) {
          const signIn = `${publicUrl}/auth/signin?rd=${encodeURIComponent(request.url)}`;
          if (mode === 'forward' && ctx.get('Accept').includes('text/html')) {
            ctx.redirect(signIn);
            return;
          }
          // No standard scheme fits a cookie session; the realm tells a client whom to ask.
          throw withHeaders(new RolegateError('ERR_UNAUTHENTICATED', decision.reason), { Location: signIn, 'WWW-Authenticate': 'Cookie realm="rolegate"' });
        }
        throw new RolegateError(decision.code, decision.reason);
      }
    }
  };

  const fastAllow: ForwardAuth['fastAllow'] = async (ctx, mode) => {
    try {
      const outcome = await evaluate(ctx, mode);
      return outcome.kind === 'allow' ? outcome.headers : undefined;
    } catch {
      return undefined;
    }
  };

  const mount = (router: Router): void => {
    router.get('forward-auth-nginx', NGINX_PATH, check('nginx'));
    router.get('forward-auth-forward', FORWARD_PATH, check('forward'));

    router.get('forward-auth-signin', '/auth/signin', async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      const { fa } = settings();
      const target = safeReturnUrl(ctx.query['rd'], fa.upstreams.map((u) => u.origin));
      const upstream = target.startsWith('/') ? undefined : findUpstream(fa, new URL(target).origin);
      const organizations = state.current().organizations;
      const orgId = upstream?.organizationId ?? (organizations.length === 1 ? organizations[0]?.id : undefined);
      const s = readSession(ctx);
      if (s !== undefined && (orgId === undefined || s.organizationId === orgId)) {
        const org = state.org(s.organizationId);
        // Signed in already (any state: a Deactivated member is sent on and gets the upstream's 403, not a loop).
        if (org !== undefined && (await services.readCurrentMember(org, s.userId)) !== undefined) {
          goTo(ctx, target);
          return;
        }
      }
      if (orgId === undefined) {
        ctx.redirect('/');
        return;
      }
      // After the SAML round trip the ACS sends the browser back here (a relative `next`), signed in.
      const next = `/auth/signin?rd=${encodeURIComponent(target)}`;
      ctx.redirect(`/saml/${orgId}/login?next=${encodeURIComponent(next)}`);
    });

    router.get('forward-auth-jwks', '/.well-known/jwks.json', async (ctx) => {
      const { keys: keysReady } = settings();
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.type = 'application/jwk-set+json';
      ctx.body = JSON.stringify((await keysReady).jwks);
    });
  };

  return { fastAllow, mount };
}
