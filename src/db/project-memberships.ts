/** The project_memberships table. Only src/members/write.ts writes through the functions marked "write path". */
import type { ActiveOrgRole, RoleSource } from '../domain/roles.js';
import type { DbOrTrx } from './connect.js';
import { HotInsert, mergeSql } from './hot.js';
import type { Raw } from './rows.js';
import { json, num, projectRole, roleSource } from './rows.js';

export interface ProjectMembershipRow {
  readonly id: number;
  readonly projectId: number;
  readonly userId: number;
  readonly role: ActiveOrgRole;
  readonly roleSource: RoleSource;
  readonly reason: unknown;
}

export function toProjectMembership(row: Raw): ProjectMembershipRow {
  return {
    id: num(row['id']),
    projectId: num(row['project_id']),
    userId: num(row['user_id']),
    role: projectRole(row['role']),
    roleSource: roleSource(row['role_source']),
    reason: json(row['reason']),
  };
}

export async function listProjectMemberships(db: DbOrTrx, projectIds: readonly number[], filter: { userIds?: readonly number[] } = {}): Promise<ProjectMembershipRow[]> {
  if (projectIds.length === 0) return [];
  const q = db('project_memberships').whereIn('project_id', [...projectIds]).orderBy('id', 'asc');
  if (filter.userIds !== undefined) q.whereIn('user_id', [...filter.userIds]);
  return ((await q) as Raw[]).map(toProjectMembership);
}

export async function findProjectMembership(db: DbOrTrx, id: number): Promise<ProjectMembershipRow | undefined> {
  const row = (await db('project_memberships').where({ id }).first()) as Raw | undefined;
  return row === undefined ? undefined : toProjectMembership(row);
}

export async function findProjectMembershipFor(db: DbOrTrx, projectId: number, userId: number): Promise<ProjectMembershipRow | undefined> {
  const row = (await db('project_memberships').where({ project_id: projectId, user_id: userId }).first()) as Raw | undefined;
  return row === undefined ? undefined : toProjectMembership(row);
}

/** Write path: insert or update one project membership. */
export async function upsertProjectMembership(
  db: DbOrTrx,
  m: { projectId: number; userId: number; role: ActiveOrgRole; roleSource: RoleSource; reason: unknown },
  now: Date,
): Promise<void> {
  await db('project_memberships')
    .insert({ project_id: m.projectId, user_id: m.userId, role: m.role, role_source: m.roleSource, reason: JSON.stringify(m.reason), updated_at: now })
    .onConflict(['project_id', 'user_id'])
    .merge(['role', 'role_source', 'reason', 'updated_at']);
}

/** Write path: insert or update many project memberships, 200 rows per statement. */
export async function upsertProjectMemberships(
  db: DbOrTrx,
  rows: readonly { projectId: number; userId: number; role: ActiveOrgRole; roleSource: RoleSource; reason: unknown }[],
  now: Date,
): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    await UPSERT_PROJECT_MEMBERSHIPS.run(
      db,
      rows.slice(i, i + 200).map((m) => [m.projectId, m.userId, m.role, m.roleSource, JSON.stringify(m.reason), now]),
    );
  }
}

/** Every project-membership write (hot.ts). */
const UPSERT_PROJECT_MEMBERSHIPS = new HotInsert(
  'project_memberships',
  ['project_id', 'user_id', 'role', 'role_source', 'reason', 'updated_at'],
  mergeSql(['project_id', 'user_id'], ['role', 'role_source', 'reason', 'updated_at']),
);

/** Write path: end these project memberships, grouped by project, in chunks. */
export async function deleteProjectMemberships(db: DbOrTrx, pairs: readonly { projectId: number; userId: number }[]): Promise<void> {
  const byProject = new Map<number, number[]>();
  for (const p of pairs) {
    const list = byProject.get(p.projectId);
    if (list === undefined) byProject.set(p.projectId, [p.userId]);
    else list.push(p.userId);
  }
  for (const [projectId, users] of byProject) {
    for (let i = 0; i < users.length; i += 500) await db('project_memberships').where({ project_id: projectId }).whereIn('user_id', users.slice(i, i + 500)).delete();
  }
}

/** Write path: end one project membership. */
export async function deleteProjectMembership(db: DbOrTrx, projectId: number, userId: number): Promise<void> {
  await db('project_memberships').where({ project_id: projectId, user_id: userId }).delete();
}

/** Write path: end every project membership of a member (a deletion). */
export async function deleteUserProjectMemberships(db: DbOrTrx, userId: number): Promise<number> {
  return db('project_memberships').where({ user_id: userId }).delete();
}
