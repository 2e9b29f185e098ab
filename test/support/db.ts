/** Reading the database in tests: members, roles and audit rows, to assert "nothing changed". */
import type { Db } from '../../src/db/connect.js';

export interface Snapshot {
  readonly users: unknown[];
  readonly memberships: unknown[];
  readonly projects: unknown[];
  readonly groups: unknown[];
  readonly sessions: number;
}

export async function snapshot(db: Db): Promise<Snapshot> {
  return {
    users: await db('users').orderBy('id'),
    memberships: await db('memberships').orderBy('id'),
    projects: await db('project_memberships').orderBy('id'),
    groups: await db('member_groups').orderBy('user_id'),
    sessions: Number(((await db('sessions').count({ n: '*' })) as { n: number | string }[])[0]?.n ?? 0),
  };
}

export async function auditRows(db: Db): Promise<Record<string, unknown>[]> {
  return (await db('audit_events').orderBy('id')) as Record<string, unknown>[];
}

export async function memberRole(db: Db, orgId: number, email: string): Promise<{ role: string; role_source: string } | undefined> {
  return (await db('memberships')
    .join('users', 'users.id', 'memberships.user_id')
    .where({ 'memberships.organization_id': orgId, 'users.email': email })
    .first('memberships.role', 'memberships.role_source')) as { role: string; role_source: string } | undefined;
}

export async function projectRoles(db: Db, email: string): Promise<Record<number, string>> {
  const rows = (await db('project_memberships').join('users', 'users.id', 'project_memberships.user_id').where({ 'users.email': email }).select('project_memberships.project_id', 'project_memberships.role')) as { project_id: number; role: string }[];
  return Object.fromEntries(rows.map((r) => [r.project_id, r.role]));
}
