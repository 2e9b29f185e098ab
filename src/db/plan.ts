/**
 * Bulk reads and guarded writes for plan/apply (issue 3): a whole organization's members with their
 * last-seen groups and project memberships in a few queries, and the count the last-administrator guard
 * needs. Only portable knex here (SQLite and PostgreSQL).
 */
import type { ActiveOrgRole, OrgRole, RoleSource } from '../domain/roles.js';
import { isOrgRole, isRoleSource } from '../domain/roles.js';
import type { DbOrTrx } from './connect.js';
import { toDate } from './connect.js';

/** A member as plan/apply see it: stored roles and the groups the IdP last asserted. */
export interface PlanMember {
  readonly userId: number;
  readonly email: string;
  readonly role: OrgRole;
  readonly roleSource: RoleSource;
  /** null = never known (only logins without a groups attribute), or no member_groups row. */
  readonly groups: readonly string[] | null;
  readonly assertedAt: Date | null;
  readonly assertionId: string | null;
  readonly projects: readonly { readonly projectId: number; readonly role: ActiveOrgRole; readonly roleSource: RoleSource }[];
}

type Raw = Record<string, unknown>;

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  throw new TypeError('not a number');
}
function roleOf(v: unknown): OrgRole {
  if (!isOrgRole(v)) throw new TypeError(`unknown role ${String(v)}`);
  return v;
}
function sourceOf(v: unknown): RoleSource {
  if (isRoleSource(v)) return v;
  throw new TypeError(`unknown role_source ${String(v)}`);
}
function groupsOf(v: unknown): string[] | null {
  if (typeof v !== 'string') return null;
  const parsed = JSON.parse(v) as unknown;
  return Array.isArray(parsed) ? parsed.filter((g): g is string => typeof g === 'string') : null;
}

/** The roles, the "Active Administrator-or-Owner" set of the last-administrator guard. */
export const ADMIN_ROLES: readonly OrgRole[] = ['OW', 'AD'];

const CHUNK = 500;

/**
 * Members of one organization (live users with a membership), ordered by user id. With `userIds`, only
 * those (read in chunks: SQLite limits bound parameters).
 */
export async function loadPlanMembers(db: DbOrTrx, organizationId: number, userIds?: readonly number[]): Promise<PlanMember[]> {
  const chunks: (readonly number[] | undefined)[] = [];
  if (userIds === undefined) chunks.push(undefined);
  else for (let i = 0; i < userIds.length; i += CHUNK) chunks.push(userIds.slice(i, i + CHUNK));
  const out: PlanMember[] = [];
  for (const chunk of chunks) {
    const q = db('memberships as m')
      .join('users as u', 'u.id', 'm.user_id')
      .leftJoin('member_groups as g', 'g.user_id', 'm.user_id')
      .where('m.organization_id', organizationId)
      .where('u.is_deleted', false)
      .orderBy('m.user_id')
      .select('m.user_id', 'u.email', 'm.role', 'm.role_source', 'g.groups', 'g.asserted_at', 'g.assertion_id');
    if (chunk !== undefined) q.whereIn('m.user_id', chunk);
    const pq = db('project_memberships as p')
      .join('projects as pr', 'pr.id', 'p.project_id')
      .where('pr.organization_id', organizationId)
      .select('p.user_id', 'p.project_id', 'p.role', 'p.role_source');
    if (chunk !== undefined) pq.whereIn('p.user_id', chunk);
    const [rows, projectRows] = [(await q) as Raw[], (await pq) as Raw[]];
    const projects = new Map<number, { projectId: number; role: ActiveOrgRole; roleSource: RoleSource }[]>();
    for (const row of projectRows) {
      const role = roleOf(row['role']);
      if (role === 'NO' || role === 'DI') continue;
      const userId = num(row['user_id']);
      const entry = { projectId: num(row['project_id']), role, roleSource: sourceOf(row['role_source']) };
      const list = projects.get(userId);
      if (list === undefined) projects.set(userId, [entry]);
      else list.push(entry);
    }
    for (const row of rows) {
      const userId = num(row['user_id']);
      const email = row['email'];
      if (typeof email !== 'string') continue;
      out.push({
        userId,
        email,
        role: roleOf(row['role']),
        roleSource: sourceOf(row['role_source']),
        groups: groupsOf(row['groups']),
        assertedAt: row['asserted_at'] == null ? null : toDate(row['asserted_at']),
        assertionId: typeof row['assertion_id'] === 'string' ? row['assertion_id'] : null,
        projects: projects.get(userId) ?? [],
      });
    }
  }
  return out;
}

/**
 * How many members of the organization other than `exceptUserId` hold an active Administrator-or-Owner
 * role. On PostgreSQL the rows are locked (FOR UPDATE) so that two concurrent demotions of the last two
 * administrators serialize and the second sees the first; SQLite has one writer at a time anyway.
 */
export async function countOtherAdmins(db: DbOrTrx, organizationId: number, exceptUserId: number): Promise<number> {
  const q = db('memberships')
    .where('organization_id', organizationId)
    .whereIn('role', ADMIN_ROLES as OrgRole[])
    .whereNot('user_id', exceptUserId)
    .select('user_id');
  if (!isSqlite(db)) q.forUpdate();
  const rows = (await q) as Raw[];
  return rows.length;
}

function isSqlite(db: DbOrTrx): boolean {
  const client = (db as unknown as { client?: { config?: { client?: unknown } } }).client?.config?.client;
  return client === 'better-sqlite3' || client === 'sqlite3';
}

/** Update one membership's role (apply): returns false when the row is gone. */
export async function updateMembershipRole(
  db: DbOrTrx,
  m: { organizationId: number; userId: number; role: OrgRole; roleSource: RoleSource; reason: unknown },
  now: Date,
): Promise<boolean> {
  const n = await db('memberships')
    .where({ organization_id: m.organizationId, user_id: m.userId })
    .update({ role: m.role, role_source: m.roleSource, reason: JSON.stringify(m.reason), updated_at: now });
  return n > 0;
}

/** Synthetic populations for tests and the benchmark: rows written straight through knex, in chunks. */
export interface SyntheticMember {
  readonly email: string;
  readonly role: OrgRole;
  readonly roleSource: RoleSource;
  readonly groups: readonly string[] | null;
  readonly assertedAt: Date | null;
  readonly projects: readonly { readonly projectId: number; readonly role: ActiveOrgRole }[];
}

export async function insertSyntheticMembers(db: DbOrTrx, organizationId: number, members: readonly SyntheticMember[], now: Date): Promise<number[]> {
  const ids: number[] = [];
  // SQLite allows 32766 bound parameters; 7 columns × 200 rows stays far below.
  const step = 200;
  for (let i = 0; i < members.length; i += step) {
    const slice = members.slice(i, i + step);
    const inserted = (await db('users')
      .insert(
        slice.map((m) => ({
          organization_id: organizationId,
          email: m.email,
          first_name: '',
          last_name: '',
          date_joined: now,
          last_login_at: m.assertedAt,
          is_deleted: false,
        })),
      )
      .returning('id')) as (number | { id: number })[];
    const sliceIds = inserted.map((r) => (typeof r === 'number' ? r : num(r.id)));
    ids.push(...sliceIds);
    await db('memberships').insert(
      slice.map((m, j) => ({
        organization_id: organizationId,
        user_id: sliceIds[j],
        role: m.role,
        role_source: m.roleSource,
        reason: JSON.stringify({ synthetic: true }),
        created_at: now,
        updated_at: now,
      })),
    );
    await db('member_groups').insert(
      slice.map((m, j) => ({
        user_id: sliceIds[j],
        groups: m.groups === null ? null : JSON.stringify(m.groups),
        asserted_at: m.groups === null ? null : m.assertedAt,
        assertion_id: m.groups === null ? null : `_synthetic-${sliceIds[j]}`,
        last_unknown_at: m.groups === null ? now : null,
      })),
    );
    const projectRows = slice.flatMap((m, j) =>
      m.projects.map((p) => ({
        project_id: p.projectId,
        user_id: sliceIds[j],
        role: p.role,
        role_source: 'saml',
        reason: JSON.stringify({ synthetic: true }),
        updated_at: now,
      })),
    );
    for (let k = 0; k < projectRows.length; k += step) await db('project_memberships').insert(projectRows.slice(k, k + step));
  }
  return ids;
}
