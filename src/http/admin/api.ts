/**
 * The admin API, Label Studio's shapes. Every route here is named and listed in access.ts (the
 * guard opens it for Owners and Administrators) and in openapi.ts (the document clients read).
 */
import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type Koa from 'koa';
import { actorOf } from '../../admin/caller.js';
import type { ChangeContext } from '../../admin/members.js';
import type { ProjectRole } from '../../domain/roles.js';
import { PROJECT_ROLES } from '../../domain/roles.js';
import { RolegateError } from '../../errors.js';
import { renderExplain } from '../../explain/explain.js';
import type { AccessDeps } from './access.js';
import { callerOf } from './access.js';
import { OPENAPI } from './openapi.js';
import {
  bodyObject,
  boolParam,
  dateParam,
  intQuery,
  orderingParam,
  orgParam,
  pageEnvelope,
  paging,
  pathInt,
  positiveInt,
  roleFilter,
  roleValue,
  stringParam,
} from './params.js';
import { memberDetailJson, membershipJson, projectRoleJson, tokenJson } from './shapes.js';

export function changeContext(ctx: Koa.Context, deps: AccessDeps): ChangeContext {
  const { caller, org } = callerOf(ctx);
  return { config: deps.config(), org, caller, writer: deps.writer, now: new Date(), ip: ctx.ip };
}

export function mountAdminApi(router: Router, deps: AccessDeps): void {
  const { services } = deps;
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '32kb', encoding: 'utf-8' });

  router.get('openapi', '/api/openapi.json', (ctx) => {
    ctx.body = OPENAPI;
  });

  // --- organizations -----------------------------------------------------------------------------
  router.get('api-organizations', '/api/organizations', async (ctx) => {
    const { org } = callerOf(ctx);
    const created = await services.organizationCreatedAt(org.id);
    ctx.body = [{ id: org.id, title: org.title, contact_info: '', created_at: created?.toISOString() ?? null }];
  });

  router.get('api-organization', '/api/organizations/:id', async (ctx) => {
    const org = orgParam(ctx, callerOf(ctx).org);
    const created = await services.organizationCreatedAt(org.id);
    ctx.body = {
      id: org.id,
      title: org.title,
      contact_info: '',
      created_at: created?.toISOString() ?? null,
      // Invited members start Not Activated until an admin assigns a role.
      default_role: 'NO',
      role_management: org.roleManagement,
      projects: org.projects.map((p) => ({ id: p.id, title: p.title })),
    };
  });

  // --- memberships -------------------------------------------------------------------------------
  router.get('api-memberships', '/api/organizations/:id/memberships', async (ctx) => {
    const org = orgParam(ctx, callerOf(ctx).org);
    const p = paging(ctx);
    const search = stringParam(ctx, 'search', 200);
    const roles = roleFilter(ctx);
    const ordering = orderingParam(ctx);
    const page = await services.listMemberships(org, {
      offset: p.offset,
      limit: p.limit,
      deleted: boolParam(ctx, 'is_deleted'),
      ...(search === undefined ? {} : { search }),
      ...(roles === undefined ? {} : { roles }),
      ...(ordering === undefined ? {} : { ordering }),
    });
    ctx.body = pageEnvelope(ctx, deps.config().server.publicUrl, p, page.count, page.results.map(membershipJson));
  });

  // The docs say POST, the SDK sends PATCH: both assign a role.
  const assign = async (ctx: Koa.Context): Promise<void> => {
    orgParam(ctx, callerOf(ctx).org);
    const body = bodyObject(ctx);
    const userId = positiveInt(body['user_id'], 'user_id');
    const role = roleValue(body['role']);
    const view = await services.setMemberRole(changeContext(ctx, deps), userId, role);
    ctx.body = membershipJson(view);
  };
  router.patch('api-memberships-patch', '/api/organizations/:id/memberships', json, assign);
  router.post('api-memberships-post', '/api/organizations/:id/memberships', json, assign);

  router.get('api-membership', '/api/organizations/:id/memberships/:user_id', async (ctx) => {
    const org = orgParam(ctx, callerOf(ctx).org);
    ctx.body = memberDetailJson(await services.memberDetail(org, pathInt(ctx, 'user_id')));
  });

  // The decision as a readable trace (each rule matched or not, what a login now would change).
  router.get('api-membership-explain', '/api/organizations/:id/memberships/:user_id/explain', async (ctx) => {
    const org = orgParam(ctx, callerOf(ctx).org);
    const trace = await services.explainMember(deps.config(), org.id, pathInt(ctx, 'user_id'));
    if (ctx.accepts('json', 'text') === 'text') {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = renderExplain(trace);
    } else ctx.body = trace;
  });

  router.delete('api-membership-delete', '/api/organizations/:id/memberships/:user_id', async (ctx) => {
    orgParam(ctx, callerOf(ctx).org);
    await services.deleteMember(changeContext(ctx, deps), pathInt(ctx, 'user_id'));
    ctx.status = 204;
  });

  router.post('api-invites', '/api/organizations/:id/invites', json, async (ctx) => {
    orgParam(ctx, callerOf(ctx).org);
    const email = bodyObject(ctx)['email'];
    if (typeof email !== 'string') throw new RolegateError('ERR_BAD_REQUEST', 'email: expected an email address');
    const invite = await services.inviteMember(changeContext(ctx, deps), email);
    ctx.status = 201;
    ctx.body = { ...membershipJson(invite.view), invite_url: invite.inviteUrl };
  });

  // --- audit -------------------------------------------------------------------------------------
  router.get('api-audit', '/api/organizations/:id/audit', async (ctx) => {
    const org = orgParam(ctx, callerOf(ctx).org);
    const userId = intQuery(ctx, 'user_id');
    const action = stringParam(ctx, 'action', 64);
    const since = dateParam(ctx, 'since');
    const until = dateParam(ctx, 'until');
    const q = {
      ...(userId === undefined ? {} : { userId }),
      ...(action === undefined ? {} : { action }),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
    };
    const format = stringParam(ctx, 'format', 8) ?? 'json';
    if (format === 'csv') {
      ctx.type = 'text/csv; charset=utf-8';
      ctx.set('Content-Disposition', `attachment; filename="rolegate-audit-org${org.id}.csv"`);
      ctx.body = services.auditCsv(org, q);
      return;
    }
    if (format !== 'json') throw new RolegateError('ERR_BAD_REQUEST', 'format: expected json or csv');
    const p = paging(ctx);
    const page = await services.auditPage(org, q, p);
    ctx.body = pageEnvelope(ctx, deps.config().server.publicUrl, p, page.count, page.results);
  });

  // --- project roles -----------------------------------------------------------------------------
  router.get('api-project-roles-all', '/api/projects/roles', async (ctx) => {
    const { org } = callerOf(ctx);
    const project = intQuery(ctx, 'project');
    ctx.body = (await services.listRoles(org, project)).map(projectRoleJson);
  });

  router.get('api-project-roles', '/api/projects/:id/roles', async (ctx) => {
    const { org } = callerOf(ctx);
    ctx.body = (await services.listRoles(org, pathInt(ctx, 'id'))).map(projectRoleJson);
  });

  router.post('api-project-roles-create', '/api/projects/roles', json, async (ctx) => {
    const body = bodyObject(ctx);
    const project = positiveInt(body['project'], 'project');
    const user = positiveInt(body['user'] ?? body['user_id'], 'user');
    const role = body['role'];
    if (typeof role !== 'string' || !(PROJECT_ROLES as readonly string[]).includes(role)) {
      throw new RolegateError('ERR_INVALID_ROLE', `role: expected one of ${PROJECT_ROLES.join(', ')} (a project grants Reviewer or Annotator)`);
    }
    const { row, created } = await services.assignProjectRole(changeContext(ctx, deps), project, user, role as ProjectRole);
    ctx.status = created ? 201 : 200;
    ctx.body = projectRoleJson(row);
  });

  router.delete('api-project-roles-delete', '/api/projects/roles/:id', async (ctx) => {
    await services.removeProjectRole(changeContext(ctx, deps), pathInt(ctx, 'id'));
    ctx.status = 204;
  });

  // --- API tokens --------------------------------------------------------------------------------
  router.get('api-tokens', '/api/tokens', async (ctx) => {
    const { org } = callerOf(ctx);
    ctx.body = (await services.listTokens(org.id, { includeRevoked: boolParam(ctx, 'include_revoked') })).map(tokenJson);
  });

  router.post('api-tokens-create', '/api/tokens', json, async (ctx) => {
    const { caller, org } = callerOf(ctx);
    // A leaked token must not be able to mint successors that outlive its revocation.
    if (caller.kind === 'token') throw new RolegateError('ERR_FORBIDDEN', 'tokens are created from a signed-in browser session or with `rolegate token create`');
    const name = bodyObject(ctx)['name'];
    if (name !== undefined && typeof name !== 'string') throw new RolegateError('ERR_BAD_REQUEST', 'name: expected a string');
    const created = await services.createToken({ organizationId: org.id, userId: caller.userId, name: name ?? '', createdBy: actorOf(caller), configRevision: deps.config().revision, ip: ctx.ip }, new Date());
    ctx.status = 201;
    ctx.body = { ...tokenJson(created.token), key: created.key };
  });

  router.delete('api-tokens-delete', '/api/tokens/:id', async (ctx) => {
    const { caller, org } = callerOf(ctx);
    await services.revokeTokenById({ organizationId: org.id, id: pathInt(ctx, 'id'), actor: actorOf(caller), by: caller, configRevision: deps.config().revision, ip: ctx.ip }, new Date());
    ctx.status = 204;
  });
}
