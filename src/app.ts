/**
 * Composition root: builds the services from a loaded configuration and an open database and returns the
 * Koa app. Tests use this directly; main.ts adds the process concerns (listen, signals).
 */
import Koa from 'koa';
import type { Config } from './configuration/types.js';
import type { Db } from './db/connect.js';
import { syncOrganizations } from './db/organizations.js';
import { loadOrCreateDevIdpKeys } from './devidp/keys.js';
import { devIdpEntityId, devIdpSsoUrl, mountDevIdp } from './devidp/routes.js';
import { errorMiddleware } from './http/errors.js';
import { securityHeaders } from './http/headers.js';
import { buildRouter } from './http/routes.js';
import { sessionMiddleware } from './http/session.js';
import type { Logger } from './log.js';
import { createServiceProvider } from './saml/index.js';
import type { SamlServiceProvider } from './saml/types.js';

export interface AppDeps {
  readonly config: Config;
  readonly db: Db;
  readonly log: Logger;
}

export async function createApp({ config, db, log }: AppDeps): Promise<Koa> {
  await syncOrganizations(db, config, new Date());

  const devOrgs = config.organizations.filter((o) => o.sso.idp.kind === 'development');
  const devKeys = devOrgs.length > 0 ? loadOrCreateDevIdpKeys(config.server.dataDir) : undefined;
  if (devOrgs.length > 0) {
    log('warn', 'development IdP enabled: it signs any identity; never use it in production', { organizations: devOrgs.map((o) => o.id) });
  }

  const providers = new Map<number, SamlServiceProvider>();
  for (const org of config.organizations) {
    const idp =
      org.sso.idp.kind === 'external'
        ? { entityId: org.sso.idp.entityId, ssoUrl: org.sso.idp.ssoUrl, certs: org.sso.idp.certs }
        : { entityId: devIdpEntityId(config, org.id), ssoUrl: devIdpSsoUrl(config, org.id), certs: [devKeys?.publicKeyPem ?? ''] };
    providers.set(org.id, createServiceProvider(org, config.saml, idp));
  }

  const app = new Koa({ proxy: config.server.trustProxy, keys: [config.server.sessionSecret] });
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
      log('info', 'request', { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round((performance.now() - started) * 10) / 10, ip: ctx.ip });
    }
  });
  app.use(errorMiddleware(log));
  app.use(securityHeaders());
  app.use(sessionMiddleware(app, db, config));
  const router = buildRouter({ config, db, log, providers }, (r) => {
    if (devKeys !== undefined) mountDevIdp(r, config, devKeys, devOrgs);
  });
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: false }));
  return app;
}
