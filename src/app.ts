/**
 * Composition root: builds the services from a loaded configuration and an open database and returns the
 * Koa app. Tests use this directly; main.ts adds the process concerns (listen, signals).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa from 'koa';
import type { Config } from './configuration/types.js';
import type { Db } from './db/connect.js';
import { syncOrganizations } from './db/organizations.js';
import { loadOrCreateDevIdpKeys } from './devidp/keys.js';
import { devIdpEntityId, devIdpSsoUrl, mountDevIdp } from './devidp/routes.js';
import { seedDevelopmentHistory } from './devidp/seed.js';
import { loadMappingReport, previewOrganizationPlan } from './plan/report.js';
import { errorMiddleware } from './http/errors.js';
import { checkMode, createForwardAuth, isForwardAuthCheck, nginxStatusGuard, withForwardAuthFastPath } from './http/forwardauth.js';
import { securityHeaders } from './http/headers.js';
import { samlRateLimit } from './http/ratelimit.js';
import { buildRouter } from './http/routes.js';
import { sessionMiddleware } from './http/session.js';
import { rememberingKeygrip } from './http/signing-keys.js';
import type { Logger } from './log.js';
import { recordForwardAuthDecision, registerSources } from './metrics/index.js';
import { createServiceProvider } from './saml/index.js';
import { createSamlVerifier, withVerifier, type ProviderInputs, type SamlVerifier } from './saml/pool.js';
import type { SamlServiceProvider } from './saml/types.js';
import { ConfigState } from './reload/state.js';
import type { ChangeHook } from './members/write.js';
import { MemberWriter } from './members/write.js';
import { auditCsv, auditPage } from './admin/audit.js';
import { authenticateAccess, refreshAccessToken } from './admin/access-tokens.js';
import { listMemberPage } from './admin/member-list.js';
import { deleteMember, inviteMember, listMemberships, memberDetail, memberView, setMemberRole } from './admin/members.js';
import { assignProjectRole, listRoles, removeProjectRole } from './admin/projects.js';
import { authenticateKey, createToken, revokeTokenById } from './admin/tokens.js';
import { listTokens } from './db/api-tokens.js';
import { connectionPool, ping } from './db/connect.js';
import { findLiveMemberByEmail, projectsOfMember } from './db/member-query.js';
import { findMembership, membershipsByIds } from './db/memberships.js';
import { organizationCreatedAt } from './db/organizations.js';
import { saveAuthnRequest } from './db/saml-state.js';
import { destroySamlSessions, destroySession, loadSession, storeSession } from './db/sessions.js';
import { emailTaken } from './db/users.js';
import { explainMember } from './explain/explain.js';
import type { Services } from './http/services.js';
import { createScimService } from './scim/service.js';
import { applyLogin, auditRejectedLogin } from './members/login.js';
import { whoAmI } from './members/whoami.js';
import { webhookServices } from './webhooks/admin.js';
import { webhookApplied, webhookOutbox } from './webhooks/outbox.js';
import { readCurrentMember, readSessionAndMember } from './forwardauth/member.js';

export interface AppDeps {
  readonly config: Config;
  readonly db: Db;
  readonly log: Logger;
  /** The live configuration (reloads swap it); created from `config` when absent. */
  readonly state?: ConfigState;
  /** The one write path for role changes (buildMemberWriter). */
  readonly writer: MemberWriter;
}

/**
 * The write path every role change goes through, with the hooks that run inside its transactions. Built
 * here for the server and by the CLI (apply, token) alike, so both write the same side effects.
 */
export function buildMemberWriter(deps: { readonly config: Config; readonly log: Logger; readonly current?: () => Config }): MemberWriter {
  const current = deps.current ?? (() => deps.config);
  const hooks: ChangeHook[] = [
    // Signed change events: the outbox row commits with the change (the relay delivers it later).
    webhookOutbox(current),
  ];
  // One mapping.applied per apply and organization, in the apply's final transaction.
  return new MemberWriter(hooks, [webhookApplied(current)]);
}

/** What an app holds beyond its requests (validation threads, metric sources), released by closeApp. */
const closers = new WeakMap<Koa, () => Promise<void>>();

/** Release what createApp started (worker threads). The database stays open: the caller owns it. */
export async function closeApp(app: Koa): Promise<void> {
  const close = closers.get(app);
  closers.delete(app);
  await close?.();
}

/** The functions the HTTP layer calls, bound to this database and write path. */
export function buildServices(db: Db, writer: MemberWriter): Services {
  return {
    ping: () => ping(db),
    applyLogin: (...a) => applyLogin(db, writer, ...a),
    auditRejectedLogin: (...a) => auditRejectedLogin(db, ...a),
    whoAmI: (...a) => whoAmI(db, ...a),
    readCurrentMember: (...a) => readCurrentMember(db, ...a),
    readSessionAndMember: (...a) => readSessionAndMember(db, ...a),
    saveAuthnRequest: (r) => saveAuthnRequest(db, r),
    loadSession: (key, now) => loadSession(db, key, now),
    storeSession: (key, data, expiresAt) => storeSession(db, key, data, expiresAt),
    destroySession: (key) => destroySession(db, key),
    destroySamlSessions: (org, nameId, indexes) => destroySamlSessions(db, org, nameId, indexes),
    organizationCreatedAt: (id) => organizationCreatedAt(db, id),
    findMember: (org, userId) => findMembership(db, org, userId),
    membersByIds: (org, ids) => membershipsByIds(db, org, ids),
    listMemberships: (...a) => listMemberships(db, ...a),
    memberDetail: (...a) => memberDetail(db, ...a),
    setMemberRole: (...a) => setMemberRole(db, ...a),
    deleteMember: (...a) => deleteMember(db, ...a),
    inviteMember: (...a) => inviteMember(db, ...a),
    listRoles: (...a) => listRoles(db, ...a),
    assignProjectRole: (...a) => assignProjectRole(db, ...a),
    removeProjectRole: (...a) => removeProjectRole(db, ...a),
    auditPage: (...a) => auditPage(db, ...a),
    auditCsv: (...a) => auditCsv(db, ...a),
    explainMember: (...a) => explainMember(db, ...a),
    createToken: (...a) => createToken(db, ...a),
    revokeTokenById: (...a) => revokeTokenById(db, ...a),
    authenticateKey: (...a) => authenticateKey(db, ...a),
    listTokens: (org, filter) => listTokens(db, org, filter),
    listMemberPage: (...a) => listMemberPage(db, ...a),
    memberView: (...a) => memberView(db, ...a),
    projectsOfMember: (userId, projectIds) => projectsOfMember(db, userId, projectIds),
    emailTaken: (org, email) => emailTaken(db, org, email),
    findLiveMemberByEmail: (org, email) => findLiveMemberByEmail(db, org, email),
    refreshAccessToken: (...a) => refreshAccessToken(db, ...a),
    authenticateAccess: (...a) => authenticateAccess(db, ...a),
    mappingReport: (...a) => loadMappingReport(db, ...a),
    previewOrganizationPlan: (...a) => previewOrganizationPlan(db, ...a),
    scim: createScimService(db, writer),
    webhooks: webhookServices(db),
  };
}

export async function createApp(deps: AppDeps): Promise<Koa> {
  const { config, db, log } = deps;
  await syncOrganizations(db, config, new Date());

  const devOrgs = config.organizations.filter((o) => o.sso.idp.kind === 'development');
  const devKeys = devOrgs.length > 0 ? loadOrCreateDevIdpKeys(config.server.dataDir) : undefined;
  if (devOrgs.length > 0) {
    log('warn', 'development IdP enabled: it signs any identity; never use it in production', { organizations: devOrgs.map((o) => o.id) });
    // Its "Fred Former" persona is a member who left: record that once, so he is Deactivated as named.
    await seedDevelopmentHistory(db, deps.writer, config);
  }

  // The per-organization SAML providers, built from a configuration: at start and again on each reload.
  const buildProviders = (cfg: Config): { providers: Map<number, SamlServiceProvider>; verifier: SamlVerifier } => {
    const inlineProviders = new Map<number, SamlServiceProvider>();
    const providerInputs: ProviderInputs[] = [];
    for (const org of cfg.organizations) {
      const idp =
        org.sso.idp.kind === 'external'
          ? { entityId: org.sso.idp.entityId, ssoUrl: org.sso.idp.ssoUrl, certs: org.sso.idp.certs, ...(org.sso.idp.sloUrl === undefined ? {} : { sloUrl: org.sso.idp.sloUrl }) }
          : { entityId: devIdpEntityId(cfg, org.id), ssoUrl: devIdpSsoUrl(cfg, org.id), certs: [devKeys?.publicKeyPem ?? ''] };
      inlineProviders.set(org.id, createServiceProvider(org, cfg.saml, idp));
      providerInputs.push({ org, saml: cfg.saml, idp });
    }
    // Response validation in worker threads (saml.workers, 0 = inline) behind a bounded queue.
    const verifier = createSamlVerifier(providerInputs, inlineProviders, {
      workers: cfg.saml.workers,
      queueLimit: cfg.saml.queueLimit,
    });
    return { providers: new Map([...inlineProviders].map(([id, sp]) => [id, withVerifier(sp, verifier)] as const)), verifier };
  };
  const built = buildProviders(config);
  let verifier = built.verifier;
  // Mutated in place on a reload, so the router's reference stays valid.
  const providers = built.providers;
  // Verifiers replaced by a reload, each with the timer that closes it once its admitted Responses are done;
  // closeApp closes them at once and clears the timers (nothing left to fire after close).
  const retired = new Map<SamlVerifier, NodeJS.Timeout>();
  let unregisterMetrics = registerSources({ queue: verifier, pool: connectionPool(db) });
  const state = deps.state ?? new ConfigState(config);
  state.onSwap((next) => {
    const fresh = buildProviders(next); // throws (nothing swapped) when a certificate does not load
    return () => {
      const old = verifier;
      verifier = fresh.verifier;
      providers.clear();
      for (const [id, sp] of fresh.providers) providers.set(id, sp);
      unregisterMetrics();
      unregisterMetrics = registerSources({ queue: verifier, pool: connectionPool(db) });
      // Responses already admitted by the old verifier finish there; then its threads stop.
      const timer = setTimeout(() => {
        retired.delete(old);
        void old.close().catch(() => undefined);
      }, 30_000);
      timer.unref();
      retired.set(old, timer);
    };
  });

  // maxIpsCount 1: behind the one trusted proxy, the client address is the X-Forwarded-For entry that proxy
  // appended (the last). koa's default (0) takes the FIRST entry, which the client itself can write, so audit
  // rows and per-address rate limits could be steered with a forged header.
  const app = new Koa({ proxy: config.server.trustProxy, maxIpsCount: 1 });
  // One keygrip for every request (koa would build one per request from a list), remembering verified cookies.
  app.keys = rememberingKeygrip([config.server.sessionSecret]);
  closers.set(app, async () => {
    unregisterMetrics();
    const retiring = [...retired];
    retired.clear();
    for (const [, timer] of retiring) clearTimeout(timer);
    await Promise.all([verifier, ...retiring.map(([v]) => v)].map((v) => v.close()));
  });
  // koa logs every error itself unless told otherwise; ours go through errorMiddleware and the JSON log.
  app.silent = true;
  const https = config.server.publicUrl.startsWith('https:');

  app.use(async (ctx, next) => {
    const started = performance.now();
    // Browsers reach us through public_url; behind a TLS-terminating proxy the socket is plain http, but
    // the cookie is for an https origin, so let koa set Secure cookies.
    if (https) ctx.cookies.secure = true;
    try {
      await next();
    } finally {
      // Forward-auth checks come with every request to every protected application: each is counted, and
      // logged when it did not allow (the check itself logs why); an allowed one is in the proxy's access log.
      const mode = checkMode(ctx.path);
      if (mode !== undefined) recordForwardAuthDecision(mode, ctx.status);
      if (mode === undefined || ctx.status !== 200) log('info', 'request', { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round((performance.now() - started) * 10) / 10, ip: ctx.ip });
    }
  });
  app.use(errorMiddleware(log));
  app.use(nginxStatusGuard(log));
  app.use(securityHeaders(https ? { hstsMaxAgeSeconds: config.server.hstsMaxAgeSeconds } : {}));
  app.use(samlRateLimit(config.server.rateLimits, log));
  const services = buildServices(db, deps.writer);
  app.use(sessionMiddleware(app, services, config, isForwardAuthCheck));
  const forwardAuth = createForwardAuth({ config, services, log, state });
  const router = buildRouter({ config, services, log, providers, state, writer: deps.writer, forwardAuth }, (r) => {
    if (devKeys !== undefined) mountDevIdp(r, config, devKeys, devOrgs);
  });
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: false }));
  listeners.set(app, withForwardAuthFastPath(app, forwardAuth, app.callback(), https ? { hstsMaxAgeSeconds: config.server.hstsMaxAgeSeconds } : {}, recordForwardAuthDecision));
  return app;
}

/** Each app's request listener: koa's, behind the forward-auth checks' fast path. */
const listeners = new WeakMap<Koa, (req: IncomingMessage, res: ServerResponse) => void>();

/** The listener an http server of this app serves with (main.ts); koa's own callback for an app not built here. */
export function requestListener(app: Koa): (req: IncomingMessage, res: ServerResponse) => void {
  return listeners.get(app) ?? app.callback();
}
