/**
 * The admin API, Label Studio's shapes. Every route here is named and listed in access.ts (the
 * guard opens it for Owners and Administrators) and in openapi.ts (the document clients read).
 */
import type Router from '@koa/router';
import type Koa from 'koa';
import { actorOf } from '../../admin/caller.js';
import type { ChangeContext } from '../../admin/members.js';
import type { HandSetSource, ProjectRole } from '../../domain/roles.js';
import { PROJECT_ROLES } from '../../domain/roles.js';
import { RolegateError } from '../../errors.js';
import { renderExplain } from '../../explain/explain.js';
import type { AccessDeps } from './access.js';
import { callerOf } from './access.js';
import { OPENAPI } from './openapi.js';
import { apiBody } from './body.js';
import {
  MEMBER_LIST_PARAMS,
  acceptOnly,
  bodyObject,
  boolParam,
  confirmed,
  dateParam,
  intQuery,
  optionalBool,
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

/** `source`: `api` for the admin API (the default), `manual` for the Organization page's forms. */
export function changeContext(ctx: Koa.Context, deps: AccessDeps, source: HandSetSource = 'api'): ChangeContext {
  const { caller, org } = callerOf(ctx);
  return { source, config: deps.config(), org, caller, writer: deps.writer, now: new Date(), ip: ctx.ip };
}

export function mountAdminApi(router: Router, deps: AccessDeps): void {
  const { services } = deps;
  const body = apiBody();

  router.get('openapi', '/api/openapi.json', (ctx) => {
    ctx.body = OPENAPI;
  });

  // --- organizations -----------------------------------------------------------------------------
  router.get('api-organizations', '/api/organizations', async (ctx) => {
    acceptOnly(ctx, ['ordering']);
    // One organization: any valid ordering is trivially applied; an unknown field is still refused.
    const ordering = stringParam(ctx, 'ordering', 64);
    if (ordering !== undefined && !/^-?(id|title|created_at|contact_info)$/.test(ordering)) {
      throw new RolegateError('ERR_BAD_REQUEST', 'ordering: expected id, title, created_at or contact_info (prefix - for descending)', { fields: { ordering: ['unknown field'] } });
    }
    const { org } = callerOf(ctx);
    const created = await services.organizationCreatedAt(org.id);
    ctx.body = [{ id: org.id, title: org.title, contact_info: '', created_at: created?.toISOString() ?? null }];
  });

  router.get('api-organization', '/api/organizations/:id', async (ctx) => {
    acceptOnly(ctx, []);
    const org = orgParam(ctx, callerOf(ctx).org);
    const created = await services.organizationCreatedAt(org.id);
    ctx.body = {
      id: org.id,
      title: org.title,
      contact_info: '',
      created_at: created?.toISOString() ?? null,
      // Invited members start Not Activated until an admin assigns a role.
      default_role: 'NO',
      role_management: org.roleManagement ?? 'idp',
      projects: org.projects.map((p) => ({ id: p.id, title: p.title })),
    };
  });

  // --- memberships -------------------------------------------------------------------------------
  // Label Studio's member list: every parameter its SDK sends is either applied or refused (400 naming it).
  router.get('api-memberships', '/api/organizations/:id/memberships', async (ctx) => {
    acceptOnly(ctx, MEMBER_LIST_PARAMS);
    const { caller, org } = callerOf(ctx);
    orgParam(ctx, org);
    const p = paging(ctx);
    const search = stringParam(ctx, 'search', 200);
    const roles = roleFilter(ctx);
    const sorts = orderingParam(ctx);
    const active = optionalBool(ctx, 'active');
    const gte = dateParam(ctx, 'user__last_activity__gte');
    const lte = dateParam(ctx, 'user__last_activity__lte');
    const excludeProjectId = intQuery(ctx, 'exclude_project_id');
    if (excludeProjectId !== undefined && !org.projects.some((x) => x.id === excludeProjectId)) {
      throw new RolegateError('ERR_BAD_REQUEST', 'exclude_project_id: no such project in this organization', { fields: { exclude_project_id: ['no such project in this organization'] } });
    }
    const withProjects = boolParam(ctx, 'contributed_to_projects');
    const scope = stringParam(ctx, 'scope', 16) ?? 'accessible';
    if (scope !== 'accessible' && scope !== 'all') throw new RolegateError('ERR_BAD_REQUEST', 'scope: expected accessible or all', { fields: { scope: ['expected accessible or all'] } });
    // Label Studio's `scope=accessible` (the default) limits a Manager to the members of their projects.
    const managerScope = caller.role === 'MA' && scope === 'accessible' ? { projectIds: await services.projectsOfMember(caller.userId, org.projects.map((x) => x.id)), alsoUserId: caller.userId } : undefined;
    const page = await services.listMemberPage(
      org,
      {
        deleted: boolParam(ctx, 'is_deleted'),
        ...(search === undefined ? {} : { search }),
        ...(roles === undefined ? {} : { roles }),
        ...(active === true ? { activeOnly: true } : {}),
        ...(gte === undefined ? {} : { lastActivityGte: gte }),
        ...(lte === undefined ? {} : { lastActivityLte: lte }),
        ...(excludeProjectId === undefined ? {} : { excludeProjectId }),
        ...(managerScope === undefined ? {} : { inProjects: managerScope }),
      },
      sorts,
      p,
    );
    ctx.body = pageEnvelope(ctx, deps.config().server.publicUrl, page, page.count, page.results.map((v) => membershipJson(v, { withProjects })));
  });

  // The docs say POST, the SDK sends PATCH: both assign a role.
  const assign = async (ctx: Koa.Context): Promise<void> => {
    orgParam(ctx, callerOf(ctx).org);
    const body = bodyObject(ctx);
    const userId = positiveInt(body['user_id'], 'user_id');
    const role = roleValue(body['role']);
    // Making someone Owner transfers ownership (the caller becomes Administrator). A script that sends
    // `role: OW` by mistake must not give the organization away: the transfer needs its own confirmation.
    if (role === 'OW' && !confirmed(body['transfer_ownership'])) {
      throw new RolegateError('ERR_TRANSFER_NOT_CONFIRMED', 'role OW transfers ownership of the organization (you become Administrator): send "transfer_ownership": true with it, or use POST /api/organizations/{id}/memberships/transfer-ownership', {
        fields: { transfer_ownership: ['required (true) with role OW'] },
      });
    }
    const view = await services.setMemberRole(changeContext(ctx, deps), userId, role);
    ctx.body = membershipJson(view);
  };
  router.patch('api-memberships-patch', '/api/organizations/:id/memberships', body, assign);
  router.post('api-memberships-post', '/api/organizations/:id/memberships', body, assign);

  // The explicit ownership transfer: the Owner hands the organization to an active member.
  router.post('api-ownership-transfer', '/api/organizations/:id/memberships/transfer-ownership', body, async (ctx) => {
    orgParam(ctx, callerOf(ctx).org);
    const userId = positiveInt(bodyObject(ctx)['user_id'], 'user_id');
    ctx.body = membershipJson(await services.setMemberRole(changeContext(ctx, deps), userId, 'OW'));
  });

  router.get('api-membership', '/api/organizations/:id/memberships/:user_id', async (ctx) => {
    acceptOnly(ctx, ['contributed_to_projects']);
    const org = orgParam(ctx, callerOf(ctx).org);
    const withProjects = boolParam(ctx, 'contributed_to_projects');
    ctx.body = memberDetailJson(await services.memberDetail(org, pathInt(ctx, 'user_id')), { withProjects });
  });

  // The decision as a readable trace (each rule matched or not, what a login now would change).
  router.get('api-membership-explain', '/api/organizations/:id/memberships/:user_id/explain', async (ctx) => {
    acceptOnly(ctx, []);
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

  router.post('api-invites', '/api/organizations/:id/invites', body, async (ctx) => {
    orgParam(ctx, callerOf(ctx).org);
    const email = bodyObject(ctx)['email'];
    if (typeof email !== 'string') throw new RolegateError('ERR_BAD_REQUEST', 'email: expected an email address');
    const invite = await services.inviteMember(changeContext(ctx, deps), email);
    ctx.status = 201;
    ctx.body = { ...membershipJson(invite.view), invite_url: invite.inviteUrl };
  });

  // --- audit -------------------------------------------------------------------------------------
  router.get('api-audit', '/api/organizations/:id/audit', async (ctx) => {
    acceptOnly(ctx, ['page', 'page_size', 'user_id', 'action', 'since', 'until', 'format']);
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
    const size = p.pageSize ?? Number.MAX_SAFE_INTEGER;
    // page=last needs the count first.
    const count = p.page === 'last' ? (await services.auditPage(org, q, { offset: 0, limit: 0 })).count : undefined;
    const lastPage = (n: number) => Math.max(1, Math.ceil(n / size));
    const pageNo = p.page === 'last' ? lastPage(count ?? 0) : p.page;
    const page = await services.auditPage(org, q, { offset: (pageNo - 1) * size, limit: size });
    ctx.body = pageEnvelope(ctx, deps.config().server.publicUrl, { page: pageNo, lastPage: lastPage(page.count) }, page.count, page.results);
  });

  // --- project roles -----------------------------------------------------------------------------
  router.get('api-project-roles-all', '/api/projects/roles', async (ctx) => {
    acceptOnly(ctx, ['project']);
    const { org } = callerOf(ctx);
    const project = intQuery(ctx, 'project');
    ctx.body = (await services.listRoles(org, project)).map(projectRoleJson);
  });

  router.get('api-project-roles', '/api/projects/:id/roles', async (ctx) => {
    acceptOnly(ctx, []);
    const { org } = callerOf(ctx);
    ctx.body = (await services.listRoles(org, pathInt(ctx, 'id'))).map(projectRoleJson);
  });

  router.post('api-project-roles-create', '/api/projects/roles', body, async (ctx) => {
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
    acceptOnly(ctx, ['include_revoked']);
    const { org } = callerOf(ctx);
    ctx.body = (await services.listTokens(org.id, { includeRevoked: boolParam(ctx, 'include_revoked') })).map(tokenJson);
  });

  router.post('api-tokens-create', '/api/tokens', body, async (ctx) => {
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
