/**
 * Every route, in one file, so the public surface reads on one screen. Handlers stay thin: SAML checks
 * live in saml/, decisions in mapping/, writes in members/.
 */
import { createHash, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type Koa from 'koa';
import type { Config, OrganizationConfig } from '../configuration/types.js';
import { RolegateError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MemberWriter } from '../members/write.js';
import { ConfigState } from '../reload/state.js';
import type { SamlServiceProvider } from '../saml/types.js';
import { APP_CSS, AUTOPOST_JS, FAVICON_SVG, staticAsset } from './assets.js';
import { recordLogin } from '../metrics/index.js';
import { toRolegateError, wantsJson } from './errors.js';
import { metricsHandler, requireMetricsToken } from './metrics.js';
import type { ForwardAuth } from './forwardauth.js';
import { mountAccessGuard, mountAdmin, protectAllRoutes, whoamiHandler } from './admin/index.js';
import { invitationPage, profilePage, signInPage } from './pages.js';
import { mountScim } from './scim.js';
import type { Services } from './services.js';
import { clientIp, isSameOrigin, isSameOriginNavigation, safeNextPath } from './safety.js';
import { endSession, planSession, readSession, startSession } from './session.js';

/** Binds an AuthnRequest to the browser that started it (so that a Response answering another browser's AuthnRequest is refused). */
export const BINDING_COOKIE = 'rolegate.authn';
/**
 * Plain-http loopback public_url only (http://localhost, a development setup with a real IdP on another
 * site): the same binding value, SameSite=None; Secure. Chromium and Firefox treat http://localhost as a
 * secure context and keep Secure cookies there, so this copy reaches the ACS with the IdP's cross-site POST,
 * which never carries the Lax cookie; a browser that refuses it still has the Lax one (same-site IdPs).
 * Found by the SimpleSAMLphp interop suite (IdP on 127.0.0.1, rolegate on localhost).
 */
export const BINDING_COOKIE_CROSS_SITE = 'rolegate.authn.xs';

export interface RouteDeps {
  readonly config: Config;
  readonly services: Services;
  readonly log: Logger;
  readonly providers: ReadonlyMap<number, SamlServiceProvider>;
  /** The live configuration: organizations, mapping and revision follow reloads; server settings do not. */
  readonly state?: ConfigState;
  readonly writer: MemberWriter;
  /** The forward-auth routes (created by the composition root, which also serves their fast path). */
  readonly forwardAuth: ForwardAuth;
}

const LOOPBACK_HOSTNAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** `host` (a Host header) names a loopback address other than public_url's, on public_url's port. */
export function isOtherLoopbackName(host: string, publicUrl: URL): boolean {
  let requested: URL;
  try {
    requested = new URL(`http://${host}/`);
  } catch {
    return false;
  }
  return LOOPBACK_HOSTNAMES.includes(requested.hostname) && requested.hostname !== publicUrl.hostname && requested.port === publicUrl.port;
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function buildRouter(deps: RouteDeps, extra: (router: Router) => void): Router {
  const { config, services, log, providers } = deps;
  const router = new Router();
  const https = config.server.publicUrl.startsWith('https:');
  const publicUrl = new URL(config.server.publicUrl);
  const publicOrigin = publicUrl.origin;
  const loopbackHttp = !https && LOOPBACK_HOSTNAMES.includes(publicUrl.hostname);
  const state = deps.state ?? new ConfigState(config);
  const orgs = { get: (id: number): OrganizationConfig | undefined => state.org(id) };
  // Deny by default. The access guard precedes every route; a route without an entry in
  // src/http/admin/access.ts is refused.
  const adminDeps = { config: () => state.current(), services, log, writer: deps.writer };
  mountAccessGuard(router, adminDeps);

  const orgParam = (ctx: Koa.Context): { org: OrganizationConfig; sp: SamlServiceProvider } => {
    const raw = ctx.params['org'];
    const id = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
    const org = orgs.get(id);
    const sp = providers.get(id);
    if (org === undefined || sp === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no such organization');
    return { org, sp };
  };

  // --- static assets ---------------------------------------------------------------------------
  router.get('asset-css', '/assets/app.css', staticAsset('text/css', APP_CSS));
  router.get('asset-autopost', '/assets/autopost.js', staticAsset('application/javascript', AUTOPOST_JS));

  router.get('asset-favicon', '/assets/favicon.svg', staticAsset('image/svg+xml', FAVICON_SVG));
  // Browsers that ignore the pages' <link rel="icon"> ask for /favicon.ico: send them the SVG's address.
  router.get('favicon', '/favicon.ico', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.redirect('/assets/favicon.svg');
  });

  // --- health ------------------------------------------------------------------------------------
  // Public: ok or not, nothing else (a refused reload's messages name files, keys and lines). The details are
  // in the log, in /metrics (rolegate_config_reloads_total) and at /healthz/details behind the metrics token.
  const databaseAnswers = async (): Promise<void> => {
    try {
      await services.ping();
    } catch (err) {
      throw new RolegateError('ERR_UNAVAILABLE', 'database does not answer', { cause: err });
    }
  };
  router.get('healthz', '/healthz', async (ctx) => {
    await databaseAnswers();
    ctx.body = { status: 'ok' };
  });
  const operatorOnly = requireMetricsToken(config);
  router.get('healthz-details', '/healthz/details', async (ctx) => {
    operatorOnly(ctx);
    await databaseAnswers();
    ctx.body = { status: 'ok', config_revision: state.current().revision, config: state.health() };
  });

  // --- metrics (Prometheus text; off unless server.metrics_token is set, then bearer-only) --------------
  router.get('metrics', '/metrics', metricsHandler(config));

  // --- pages -------------------------------------------------------------------------------------
  router.get('home', '/', async (ctx) => {
    const s = readSession(ctx);
    const org = s === undefined ? undefined : orgs.get(s.organizationId);
    const me = s === undefined || org === undefined ? undefined : await services.whoAmI(org, s.userId);
    if (s !== undefined && me === undefined) endSession(ctx);
    ctx.type = 'html';
    const groupsKnown = me === undefined || org === undefined || (await services.memberDetail(org, me.id)).groups !== null;
    ctx.body = me === undefined ? signInPage(state.current().organizations, safeNextPath(ctx.query['next'])) : profilePage(me, { groupsKnown });
  });

  // Where an invitation link lands (the Organization page's Invite shows it): that organization's sign-in.
  router.get('sign-in-org', '/sign-in/:org', (ctx) => {
    const raw = ctx.params['org'];
    const org = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? orgs.get(Number(raw)) : undefined;
    if (org === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no such organization');
    const invited = typeof ctx.query['invited'] === 'string' && ctx.query['invited'].length <= 320 ? ctx.query['invited'] : null;
    ctx.type = 'html';
    ctx.body = invitationPage(org, invited);
  });

  router.post('logout', '/logout', (ctx) => {
    if (!isSameOrigin(ctx, publicOrigin)) throw new RolegateError('ERR_FORBIDDEN', 'cross-origin request refused');
    endSession(ctx);
    if (wantsJson(ctx)) ctx.status = 204;
    else ctx.redirect('/');
  });

  // --- API ---------------------------------------------------------------------------------------
  // Session or token (Token/Bearer), with Label Studio's fields alongside rolegate's.
  router.get('whoami', '/api/current-user/whoami', whoamiHandler(adminDeps));

  // --- SAML --------------------------------------------------------------------------------------
  router.get('saml-metadata', '/saml/:org/metadata', (ctx) => {
    const { sp } = orgParam(ctx);
    // Public and the same for everyone: IdPs and people may cache it (it changes only with a reload).
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'application/samlmetadata+xml';
    ctx.body = sp.metadataXml();
  });

  router.get('saml-login', '/saml/:org/login', async (ctx) => {
    const { org, sp } = orgParam(ctx);
    // The quick start's public_url names one loopback address (localhost) and a browser may come by another
    // (127.0.0.1): the binding cookie would be set for this host while the IdP posts back to public_url's,
    // where the browser has none, and the sign-in would fail as unsolicited. Start it on public_url's host.
    // Only on plain-http loopback and the same port: another loopback name for this very server, not a proxy
    // in front (which may send its upstream's address as Host: redirecting that would loop).
    if (loopbackHttp && isOtherLoopbackName(ctx.host, publicUrl)) {
      ctx.redirect(`${publicOrigin}${ctx.originalUrl}`);
      return;
    }
    const next = safeNextPath(ctx.query['next']);
    let binding = ctx.cookies.get(BINDING_COOKIE);
    if (binding === undefined || !/^[A-Za-z0-9_-]{43}$/.test(binding)) {
      binding = randomBytes(32).toString('base64url');
    }
    // The IdP's POST to the ACS is cross-site in real deployments, so on https the binding cookie must be
    // SameSite=None (and so Secure). On plain http (the quick start) browsers refuse None without Secure;
    // Lax works there because the development IdP is same-site.
    ctx.cookies.set(BINDING_COOKIE, binding, {
      httpOnly: true,
      path: '/saml/',
      sameSite: https ? 'none' : 'lax',
      secure: https,
      maxAge: state.current().saml.requestTtlSeconds * 1000,
      signed: false,
      overwrite: true,
    });
    if (loopbackHttp) {
      // Written by hand: koa's cookies refuse `secure` on an http connection.
      const maxAge = state.current().saml.requestTtlSeconds;
      ctx.append('Set-Cookie', `${BINDING_COOKIE_CROSS_SITE}=${binding}; path=/saml/; max-age=${maxAge}; samesite=none; secure; httponly`);
    }
    const redirect = await sp.authnRequestRedirect(next);
    await services.saveAuthnRequest( {
      id: redirect.requestId,
      organizationId: org.id,
      bindingHash: hash(binding),
      nextPath: next,
      expiresAt: new Date(Date.now() + state.current().saml.requestTtlSeconds * 1000),
    });
    ctx.redirect(redirect.url);
  });

  // Base64 inflates by 4/3; allow that plus the other form fields, then saml/ checks the decoded size.
  const acsBody = bodyParser({
    enableTypes: ['form'],
    formLimit: Math.ceil((config.saml.maxResponseBytes * 4) / 3) + 8192,
    encoding: 'utf-8',
  });
  router.post('saml-acs', '/saml/:org/acs', async (ctx) => {
    const { org, sp } = orgParam(ctx);
    const ip = clientIp(ctx);
    const binding = ctx.cookies.get(BINDING_COOKIE) ?? (loopbackHttp ? ctx.cookies.get(BINDING_COOKIE_CROSS_SITE) : undefined);
    let subject: string | null = null;
    let assertionId: string | null = null;
    let form: Record<string, unknown> = {};
    try {
      // Parsed inside the try so that an oversized or malformed body is audited like any rejected login.
      await acsBody(ctx, async () => {});
      form = (ctx.request.body ?? {}) as Record<string, unknown>;
      const login = await sp.verifyPostResponse(form);
      subject = login.email;
      assertionId = login.assertionId;
      // The configuration in force now (a reload may have happened while the Response was verified).
      const live = state.current();
      const session = planSession(
        ctx,
        {
          organizationId: org.id,
          authenticatedAt: new Date().toISOString(),
          // For Single Logout: the IdP names the session by these.
          nameId: login.nameId,
          nameIdFormat: login.nameIdFormat,
          sessionIndex: login.sessionIndex,
        },
        config.server.sessionMaxAgeSeconds * 1000,
      );
      const result = await services.applyLogin(live, live.organizations.find((o) => o.id === org.id) ?? org, login, {
        now: new Date(),
        ip,
        bindingHash: binding === undefined ? null : hash(binding),
        session,
      });
      await startSession(ctx, session, result.userId);
      recordLogin(null);
      log('info', 'login', { org: org.id, user_id: result.userId, email: login.email, outcome: 'ok', role: result.role, created: result.created, groups_known: login.groups !== null, assertion_id: login.assertionId, ip });
      ctx.redirect(result.nextPath ?? safeNextPath(form['RelayState']));
    } catch (caught) {
      const err = toRolegateError(caught);
      recordLogin(err.code);
      log('warn', 'login', { org: org.id, outcome: 'rejected', code: err.code, detail: err.message, email: subject, ip });
      // A revoked login wrote its audit row inside the login transaction (with the demotion).
      if (err.code !== 'ERR_ACCESS_REVOKED') {
        await services.auditRejectedLogin({ organizationId: org.id, subjectEmail: subject, errorCode: err.code, detail: err.message, configRevision: state.current().revision, assertionId, ip }, new Date());
      }
      throw err;
    }
  });

  // --- Single Logout (HTTP-Redirect both ways) ----------------------------------------------------------
  // SP-initiated: a signed LogoutRequest to the IdP; the local session ends when its LogoutResponse comes
  // back to /slo. Without Single Logout for the organization (no IdP SLO endpoint in its metadata, or no SP
  // key to sign with), or without a SAML session, only the local session ends.
  router.get('saml-logout', '/saml/:org/logout', async (ctx) => {
    const { org, sp } = orgParam(ctx);
    // A GET that ends sessions (here and, with Single Logout, at the IdP): refused when another site sent the
    // browser here. /slo stays open to cross-site navigations: its messages are signed by the IdP.
    if (!isSameOriginNavigation(ctx, publicOrigin)) throw new RolegateError('ERR_CSRF', 'sign-out must start from this site: use its Sign out button');
    const s = readSession(ctx);
    if (s === undefined || s.organizationId !== org.id || s.nameId === undefined || !sp.singleLogout) {
      endSession(ctx);
      ctx.redirect('/');
      return;
    }
    const { url, requestId } = await sp.logoutRequestRedirect({ nameId: s.nameId, nameIdFormat: s.nameIdFormat ?? null, sessionIndex: s.sessionIndex ?? null }, '/');
    if (ctx.session !== null && ctx.session !== undefined) ctx.session['logoutRequestId'] = requestId;
    log('info', 'logout', { org: org.id, user_id: s.userId, outcome: 'sent', request_id: requestId });
    ctx.redirect(url);
  });

  router.get('saml-slo', '/saml/:org/slo', async (ctx) => {
    const { org, sp } = orgParam(ctx);
    const message = sp.validateLogoutRedirect(ctx.querystring);
    if (message.kind === 'response') {
      const s = readSession(ctx);
      // Only the browser that sent the LogoutRequest, answering that request.
      if (s === undefined || s.organizationId !== org.id || s.logoutRequestId === undefined || s.logoutRequestId !== message.inResponseTo) {
        throw new RolegateError('ERR_SAML_IN_RESPONSE_TO', 'LogoutResponse does not answer a logout started by this browser');
      }
      endSession(ctx);
      log('info', 'logout', { org: org.id, user_id: s.userId, outcome: message.success ? 'ok' : 'ok-local-only', response_id: message.id });
      ctx.redirect('/');
      return;
    }
    const ended = await services.destroySamlSessions(org.id, message.nameId, message.sessionIndexes);
    log('info', 'logout', { org: org.id, outcome: 'idp-initiated', sessions_ended: ended, request_id: message.id });
    // This browser's own session too, when it is one of them (the row is gone; drop the cookie).
    const s = readSession(ctx);
    if (s !== undefined && s.organizationId === org.id && s.nameId === message.nameId) endSession(ctx);
    ctx.redirect(await sp.logoutResponseRedirect(message, message.relayState, true));
  });

  deps.forwardAuth.mount(router);
  mountAdmin(router, adminDeps);
  mountScim(router, adminDeps);
  extra(router);
  protectAllRoutes(router, adminDeps);
  return router;
}
