/**
 * SCIM 2.0 over HTTP (RFC 7644) at `{public_url}/scim/v2`: bearer authentication with the organization's SCIM
 * token, JSON bodies (`application/scim+json` or `application/json`) up to a size limit, responses in
 * `application/scim+json`, and every failure as a SCIM Error body. The operations live in scim/service.ts.
 *
 * Order of checks for every request, on one screen:
 *   1. `Authorization: Bearer <SCIM token>`: absent, malformed, unknown or revoked → 401 (an API token is not a
 *      SCIM token: 401 too);
 *   2. the token's organization has `scim.enabled: true` → else 403;
 *   3. a body (POST/PUT/PATCH) is JSON of a JSON content type within SCIM_BODY_LIMIT → else 400 / 413;
 *   4. the operation (its own 400/404/409 with scimType).
 */
import { bodyParser } from '@koa/bodyparser';
import type Router from '@koa/router';
import type Koa from 'koa';
import type { Config } from '../configuration/types.js';
import { RolegateError } from '../errors.js';
import type { Logger } from '../log.js';
import { recordScimRequest } from '../metrics/scim.js';
import { scimErrorBody } from '../scim/errors.js';
import type { Projection } from '../scim/render.js';
import { parseProjection } from '../scim/render.js';
import { MAX_RESULTS, resourceTypes, schemas, serviceProviderConfig, listResponse } from '../scim/schemas.js';
import type { Page, ScimRequest, ScimService } from '../scim/service.js';
import { toRolegateError } from './errors.js';

/** Largest request body: a full push of 50,000 members (`{"value":"123456"}` each) fits with room to spare. */
export const SCIM_BODY_LIMIT = 2 * 1024 * 1024;
const SCIM_TYPE = 'application/scim+json; charset=utf-8';

export interface ScimDeps {
  readonly config: () => Config;
  readonly services: { readonly scim: ScimService };
  readonly log: Logger;
}

const parseBody = bodyParser({
  enableTypes: ['json'],
  extendTypes: { json: ['application/json', 'application/scim+json'] },
  jsonLimit: SCIM_BODY_LIMIT,
  jsonStrict: true,
  encoding: 'utf-8',
});

function scimFailure(caught: unknown): RolegateError {
  if (caught instanceof RolegateError) return caught;
  const status = typeof caught === 'object' && caught !== null ? (caught as { status?: unknown }).status : undefined;
  if (status === 413) return new RolegateError('ERR_PAYLOAD_TOO_LARGE', `the request body is larger than ${SCIM_BODY_LIMIT} bytes`);
  if (status === 400 || status === 415) return new RolegateError('ERR_SCIM_INVALID_SYNTAX', 'the request body is not valid JSON');
  return toRolegateError(caught);
}

function intParam(raw: unknown, name: string, dflt: number): number {
  if (raw === undefined || raw === '') return dflt;
  if (typeof raw !== 'string' || !/^-?\d{1,15}$/.test(raw.trim())) throw new RolegateError('ERR_SCIM_INVALID_VALUE', `${name}: expected an integer`);
  return Number(raw.trim());
}

function pageOf(ctx: Koa.Context): Page {
  // RFC 7644 §3.4.2.4: startIndex below 1 is 1; a negative count is 0; count above maxResults is lowered.
  const startIndex = Math.max(1, intParam(ctx.query['startIndex'], 'startIndex', 1));
  const count = Math.min(MAX_RESULTS, Math.max(0, intParam(ctx.query['count'], 'count', 100)));
  return { startIndex, count };
}

function filterOf(ctx: Koa.Context): string | undefined {
  const f = ctx.query['filter'];
  if (f === undefined) return undefined;
  if (typeof f !== 'string') throw new RolegateError('ERR_SCIM_INVALID_FILTER', 'give one filter parameter');
  return f;
}

function projectionOf(ctx: Koa.Context): Projection {
  return parseProjection(ctx.query['attributes'], ctx.query['excludedAttributes']);
}

function send(ctx: Koa.Context, status: number, body?: unknown): void {
  ctx.status = status;
  if (body !== undefined) {
    ctx.body = body;
    ctx.type = SCIM_TYPE;
  }
}

export function mountScim(router: Router, deps: ScimDeps): void {
  type Handler = (ctx: Koa.Context, c: ScimRequest) => Promise<void>;
  const scim = deps.services.scim;

  const route = (endpoint: string, handler: Handler): Koa.Middleware => async (ctx) => {
    try {
      const auth = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(ctx.get('Authorization'));
      const now = new Date();
      const token = auth?.[1] === undefined ? undefined : await scim.authenticate(auth[1], now);
      const config = deps.config();
      const org = token === undefined ? undefined : config.organizations.find((o) => o.id === token.organizationId);
      if (org === undefined) throw new RolegateError('ERR_UNAUTHENTICATED', 'send "Authorization: Bearer <key>" with a live SCIM token of the organization');
      if (org.scim.enabled !== true) throw new RolegateError('ERR_FORBIDDEN', `SCIM is not enabled for organization ${org.id} (organizations[].scim.enabled)`);
      if (ctx.method === 'POST' || ctx.method === 'PUT' || ctx.method === 'PATCH') {
        if (!ctx.request.is('application/json', 'application/scim+json')) {
          throw new RolegateError('ERR_SCIM_INVALID_SYNTAX', 'send the body as application/scim+json or application/json');
        }
        await parseBody(ctx, async () => {});
      }
      const base = `${config.server.publicUrl}/scim/v2`;
      await handler(ctx, { config, org, now, ip: ctx.ip, base, request: `${ctx.method} /${endpoint.replace('{id}', String(ctx.params['id'] ?? ''))}` });
    } catch (caught) {
      const err = scimFailure(caught);
      if (err.code === 'ERR_INTERNAL') {
        const cause = err.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}` : String(err.cause);
        deps.log('error', 'unhandled error', { path: ctx.path, cause, stack: err.cause instanceof Error ? err.cause.stack : undefined });
      }
      if (err.code === 'ERR_UNAUTHENTICATED') ctx.set('WWW-Authenticate', 'Bearer realm="rolegate-scim"');
      ctx.set('X-Rolegate-Error', err.code);
      ctx.set('Cache-Control', 'no-store');
      send(ctx, err.status, scimErrorBody(err));
    } finally {
      recordScimRequest(endpoint, ctx.method, ctx.status);
    }
  };
  const id = (ctx: Koa.Context): string => String(ctx.params['id'] ?? '');

  // --- discovery (RFC 7644 §4) ---------------------------------------------------------------------------------
  router.get('scim-service-provider-config', '/scim/v2/ServiceProviderConfig', route('ServiceProviderConfig', async (ctx, c) => {
    send(ctx, 200, serviceProviderConfig(c.base, `${c.config.server.publicUrl}/docs/scim`));
  }));
  router.get('scim-resource-types', '/scim/v2/ResourceTypes', route('ResourceTypes', async (ctx, c) => {
    const all = resourceTypes(c.base);
    send(ctx, 200, listResponse(all, all.length, 1));
  }));
  router.get('scim-resource-type', '/scim/v2/ResourceTypes/:id', route('ResourceTypes/{id}', async (ctx, c) => {
    const found = resourceTypes(c.base).find((r) => (r as { id: string }).id === id(ctx));
    if (found === undefined) throw new RolegateError('ERR_NOT_FOUND', `ResourceType ${id(ctx)} not found`);
    send(ctx, 200, found);
  }));
  router.get('scim-schemas', '/scim/v2/Schemas', route('Schemas', async (ctx, c) => {
    const all = schemas(c.base);
    send(ctx, 200, listResponse(all, all.length, 1));
  }));
  router.get('scim-schema', '/scim/v2/Schemas/:id', route('Schemas/{id}', async (ctx, c) => {
    const found = schemas(c.base).find((s) => (s as { id: string }).id === id(ctx));
    if (found === undefined) throw new RolegateError('ERR_NOT_FOUND', `Schema ${id(ctx)} not found`);
    send(ctx, 200, found);
  }));

  // --- Users ------------------------------------------------------------------------------------------------------
  router.get('scim-users', '/scim/v2/Users', route('Users', async (ctx, c) => {
    const filter = filterOf(ctx);
    send(ctx, 200, await scim.listUsers(c, { ...(filter === undefined ? {} : { filter }), page: pageOf(ctx), projection: projectionOf(ctx) }));
  }));
  router.post('scim-users-create', '/scim/v2/Users', route('Users', async (ctx, c) => {
    const created = await scim.createUser(c, ctx.request.body);
    ctx.set('Location', `${c.base}/Users/${created.id}`);
    send(ctx, 201, created.resource);
  }));
  router.get('scim-user', '/scim/v2/Users/:id', route('Users/{id}', async (ctx, c) => {
    send(ctx, 200, await scim.getUser(c, id(ctx), projectionOf(ctx)));
  }));
  router.put('scim-user-replace', '/scim/v2/Users/:id', route('Users/{id}', async (ctx, c) => {
    send(ctx, 200, await scim.replaceUser(c, id(ctx), ctx.request.body));
  }));
  router.patch('scim-user-patch', '/scim/v2/Users/:id', route('Users/{id}', async (ctx, c) => {
    send(ctx, 200, await scim.patchUser(c, id(ctx), ctx.request.body));
  }));
  router.delete('scim-user-delete', '/scim/v2/Users/:id', route('Users/{id}', async (ctx, c) => {
    await scim.deleteUser(c, id(ctx));
    send(ctx, 204);
  }));

  // --- Groups -----------------------------------------------------------------------------------------------------
  router.get('scim-groups', '/scim/v2/Groups', route('Groups', async (ctx, c) => {
    const filter = filterOf(ctx);
    send(ctx, 200, await scim.listGroups(c, { ...(filter === undefined ? {} : { filter }), page: pageOf(ctx), projection: projectionOf(ctx) }));
  }));
  router.post('scim-groups-create', '/scim/v2/Groups', route('Groups', async (ctx, c) => {
    const created = await scim.createGroup(c, ctx.request.body);
    ctx.set('Location', `${c.base}/Groups/${created.id}`);
    send(ctx, 201, created.resource);
  }));
  router.get('scim-group', '/scim/v2/Groups/:id', route('Groups/{id}', async (ctx, c) => {
    send(ctx, 200, await scim.getGroup(c, id(ctx), projectionOf(ctx)));
  }));
  router.put('scim-group-replace', '/scim/v2/Groups/:id', route('Groups/{id}', async (ctx, c) => {
    send(ctx, 200, await scim.replaceGroup(c, id(ctx), ctx.request.body));
  }));
  // Entra asks for 204 on group PATCH ("returning a body with all the members isn't advisable"); Okta accepts it.
  router.patch('scim-group-patch', '/scim/v2/Groups/:id', route('Groups/{id}', async (ctx, c) => {
    await scim.patchGroup(c, id(ctx), ctx.request.body);
    send(ctx, 204);
  }));
  router.delete('scim-group-delete', '/scim/v2/Groups/:id', route('Groups/{id}', async (ctx, c) => {
    await scim.deleteGroup(c, id(ctx));
    send(ctx, 204);
  }));

  // --- everything else under /scim/v2: a SCIM error, not an HTML page ----------------------------------------------
  const other = route('other', async (ctx) => {
    const first = ctx.path.slice('/scim/v2/'.length).split('/')[0] ?? '';
    if (first === 'Bulk' || first === 'Me' || first === '.search') throw new RolegateError('ERR_NOT_IMPLEMENTED', `${first} is not supported (see /scim/v2/ServiceProviderConfig)`);
    throw new RolegateError('ERR_NOT_FOUND', `no SCIM endpoint ${ctx.method} ${ctx.path}`);
  });
  router.register('/scim/v2/{*rest}', ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], other, { name: 'scim-unsupported' });
}
