/** Project roles by hand (issue 4), with the same "managed by the IdP" rule as organization roles. */
import type { OrganizationConfig } from '../configuration/types.js';
import type { Db, DbOrTrx } from '../db/connect.js';
import { appendAudit } from '../db/audit.js';
import type { ProjectRoleRow } from '../db/admin-members.js';
import { findMember, findProjectRole, findProjectRoleFor, groupsByUser, listProjectRoles, lockOrganization } from '../db/admin-members.js';
import { deleteProjectMembership, saveProjectMembership } from '../db/members.js';
import type { ProjectRole } from '../domain/roles.js';
import { isActiveOrgRole } from '../domain/roles.js';
import { RolegateError } from '../errors.js';
import { actorOf, isOrgAdmin } from './caller.js';
import { managedDetail, projectRoleManagedBy } from './managed.js';
import type { ChangeContext } from './members.js';

function project(org: OrganizationConfig, projectId: number): { id: number; title: string } {
  const p = org.projects.find((x) => x.id === projectId);
  if (p === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no such project in this organization');
  return p;
}

export async function listRoles(db: Db, org: OrganizationConfig, projectId?: number): Promise<ProjectRoleRow[]> {
  const ids = projectId === undefined ? org.projects.map((p) => p.id) : [project(org, projectId).id];
  return listProjectRoles(db, ids);
}

async function managedFor(db: DbOrTrx, org: OrganizationConfig, userId: number, projectId: number) {
  const member = await findMember(db, org.id, userId);
  if (member === undefined || member.isDeleted) throw new RolegateError('ERR_NOT_FOUND', 'no such member in this organization');
  const groups = (await groupsByUser(db, [userId])).get(userId)?.groups ?? null;
  return { member, managed: projectRoleManagedBy(org, { email: member.email, role: member.role, roleSource: member.roleSource, groups }, projectId) };
}

/** Add or change a member's role in a project. `created` tells 201 from 200. */
export async function assignProjectRole(db: Db, ctx: ChangeContext, projectId: number, userId: number, role: ProjectRole): Promise<{ row: ProjectRoleRow; created: boolean }> {
  const p = project(ctx.org, projectId);
  let created = false;
  await db.transaction(async (trx) => {
    await lockOrganization(trx, ctx.org.id);
    const me = await findMember(trx, ctx.org.id, ctx.caller.userId);
    if (me === undefined || me.isDeleted || !isOrgAdmin(me.role)) throw new RolegateError('ERR_FORBIDDEN', 'only an Owner or Administrator may do this');
    const { member, managed } = await managedFor(trx, ctx.org, userId, projectId);
    if (!isActiveOrgRole(member.role)) throw new RolegateError('ERR_MEMBER_INACTIVE', 'Not Activated and Deactivated members have no project access; give them a role first');
    if (managed !== null) throw new RolegateError('ERR_ROLE_MANAGED_BY_IDP', managedDetail(managed, `this member's role in project ${p.id}`));
    const held = await findProjectRoleFor(trx, projectId, userId);
    if (held !== undefined && held.role === role && held.roleSource === 'manual') return;
    created = held === undefined;
    await saveProjectMembership(
      trx,
      { projectId, userId, role, roleSource: ctx.source, reason: { decision: { kind: 'set_by_admin', text: `set by ${actorOf(ctx.caller)} through the admin API`, matches: [] }, by: actorOf(ctx.caller), previous_role: held?.role ?? null, config_revision: ctx.config.revision } },
      ctx.now,
    );
    await appendAudit(
      trx,
      [{ organizationId: ctx.org.id, actor: actorOf(ctx.caller), subjectUserId: userId, subjectEmail: member.email, action: 'project_role_change', outcome: 'ok', before: held?.role ?? null, after: role, reason: { project_id: projectId, kind: 'set_by_admin', text: 'set by hand through the admin API' }, configRevision: ctx.config.revision, ip: ctx.ip }],
      ctx.now,
    );
  });
  const row = await findProjectRoleFor(db, projectId, userId);
  if (row === undefined) throw new Error('project role vanished');
  return { row, created };
}

export async function removeProjectRole(db: Db, ctx: ChangeContext, id: number): Promise<void> {
  await db.transaction(async (trx) => {
    await lockOrganization(trx, ctx.org.id);
    const row = await findProjectRole(trx, id);
    if (row === undefined || !ctx.org.projects.some((p) => p.id === row.projectId)) throw new RolegateError('ERR_NOT_FOUND', 'no such project role in this organization');
    const me = await findMember(trx, ctx.org.id, ctx.caller.userId);
    if (me === undefined || me.isDeleted || !isOrgAdmin(me.role)) throw new RolegateError('ERR_FORBIDDEN', 'only an Owner or Administrator may do this');
    const { member, managed } = await managedFor(trx, ctx.org, row.userId, row.projectId);
    if (managed !== null) throw new RolegateError('ERR_ROLE_MANAGED_BY_IDP', managedDetail(managed, `this member's role in project ${row.projectId}`));
    await deleteProjectMembership(trx, row.projectId, row.userId);
    await appendAudit(
      trx,
      [{ organizationId: ctx.org.id, actor: actorOf(ctx.caller), subjectUserId: row.userId, subjectEmail: member.email, action: 'project_role_change', outcome: 'ok', before: row.role, after: null, reason: { project_id: row.projectId, kind: 'removed_by_admin', text: 'removed by hand through the admin API' }, configRevision: ctx.config.revision, ip: ctx.ip }],
      ctx.now,
    );
  });
}
