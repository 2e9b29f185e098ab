/** Project roles by hand, with the same "managed by the IdP" rule as organization roles. */
import type { OrganizationConfig } from '../configuration/types.js';
import type { Db, DbOrTrx } from '../db/connect.js';
import { groupsByUser } from '../db/member-groups.js';
import { findMembership } from '../db/memberships.js';
import type { ProjectMembershipRow } from '../db/project-memberships.js';
import { findProjectMembership, findProjectMembershipFor, listProjectMemberships } from '../db/project-memberships.js';
import type { ProjectRole } from '../domain/roles.js';
import { isActiveOrgRole } from '../domain/roles.js';
import { RolegateError } from '../errors.js';
import { actorOf } from './caller.js';
import { managedDetail, projectRoleManagedBy } from './managed.js';
import type { ChangeContext } from './members.js';
import { liveCaller, writeContext } from './members.js';

export type { ProjectMembershipRow as ProjectRoleRow };

function project(org: OrganizationConfig, projectId: number): { id: number; title: string } {
  const p = org.projects.find((x) => x.id === projectId);
  if (p === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no such project in this organization');
  return p;
}

export async function listRoles(db: Db, org: OrganizationConfig, projectId?: number): Promise<ProjectMembershipRow[]> {
  const ids = projectId === undefined ? org.projects.map((p) => p.id) : [project(org, projectId).id];
  return listProjectMemberships(db, ids);
}

async function managedFor(db: DbOrTrx, org: OrganizationConfig, userId: number, projectId: number) {
  const member = await findMembership(db, org.id, userId);
  if (member === undefined || member.isDeleted) throw new RolegateError('ERR_NOT_FOUND', 'no such member in this organization');
  const groups = (await groupsByUser(db, [userId])).get(userId)?.groups ?? null;
  return { member, managed: projectRoleManagedBy(org, { email: member.email, role: member.role, roleSource: member.roleSource, groups }, projectId) };
}

/** Add or change a member's role in a project. `created` tells 201 from 200. */
export async function assignProjectRole(db: Db, ctx: ChangeContext, projectId: number, userId: number, role: ProjectRole): Promise<{ row: ProjectMembershipRow; created: boolean }> {
  const p = project(ctx.org, projectId);
  const { value: created } = await ctx.writer.run(db, writeContext(ctx), async (trx) => {
    await liveCaller(trx, ctx);
    const { member, managed } = await managedFor(trx, ctx.org, userId, projectId);
    if (!isActiveOrgRole(member.role)) throw new RolegateError('ERR_MEMBER_INACTIVE', 'Not Activated and Deactivated members have no project access; give them a role first');
    if (managed !== null) throw new RolegateError('ERR_ROLE_MANAGED_BY_IDP', managedDetail(managed, `this member's role in project ${p.id}`));
    const held = await findProjectMembershipFor(trx, projectId, userId);
    const stored = { decision: { kind: 'set_by_admin', text: `set by ${actorOf(ctx.caller)} through the admin API`, matches: [] }, by: actorOf(ctx.caller), previous_role: held?.role ?? null, config_revision: ctx.config.revision };
    return {
      intents: [{ kind: 'project_role', userId, projectId, role, roleSource: ctx.source, reason: { kind: 'set_by_admin', text: ctx.source === 'api' ? 'set by hand through the admin API' : 'set by hand on the Organization page' }, stored }],
      value: held === undefined,
    };
  });
  const row = await findProjectMembershipFor(db, projectId, userId);
  if (row === undefined) throw new Error('project role vanished');
  return { row, created };
}

export async function removeProjectRole(db: Db, ctx: ChangeContext, id: number): Promise<void> {
  await ctx.writer.run(db, writeContext(ctx), async (trx) => {
    const row = await findProjectMembership(trx, id);
    if (row === undefined || !ctx.org.projects.some((p) => p.id === row.projectId)) throw new RolegateError('ERR_NOT_FOUND', 'no such project role in this organization');
    await liveCaller(trx, ctx);
    const { managed } = await managedFor(trx, ctx.org, row.userId, row.projectId);
    if (managed !== null) throw new RolegateError('ERR_ROLE_MANAGED_BY_IDP', managedDetail(managed, `this member's role in project ${row.projectId}`));
    return { intents: [{ kind: 'project_role', userId: row.userId, projectId: row.projectId, role: null, roleSource: 'manual', reason: { kind: 'removed_by_admin', text: 'removed by hand through the admin API' } }], value: undefined };
  });
}
