/**
 * The memberships table (joined with users): the one row type for "a member of an organization" that the
 * login, plan/apply, the admin surface and the write path all read. Only src/members/write.ts writes
 * through the functions marked "write path". Portable SQL only (SQLite and PostgreSQL).
 */
import type { OrgRole, RoleSource } from '../domain/roles.js';
import { ADMIN_ROLES } from '../domain/roles.js';
import type { DbOrTrx } from './connect.js';
import { HotInsert, mergeSql } from './hot.js';
import type { ProjectMembershipRow } from './project-memberships.js';
import type { Raw } from './rows.js';
import { bool, databaseKind, dateOrNull, json, num, orgRole, projectRole, roleSource, strOrNull, stringList, toDate } from './rows.js';

export interface MembershipRow {
  readonly membershipId: number;
  readonly organizationId: number;
  readonly userId: number;
  readonly role: OrgRole;
  readonly roleSource: RoleSource;
  readonly reason: unknown;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** null once deleted (scrubbed). */
  readonly email: string | null;
  readonly firstName: string;
  readonly lastName: string;
  readonly dateJoined: Date;
  readonly lastLoginAt: Date | null;
  readonly isDeleted: boolean;
}

export const MEMBER_ORDERINGS = ['id', 'email', 'first_name', 'last_name', 'role', 'last_activity', 'date_joined'] as const;
export type MemberOrdering = (typeof MEMBER_ORDERINGS)[number];

export interface MemberQuery {
  readonly organizationId: number;
  readonly offset: number;
  readonly limit: number;
  readonly search?: string;
  readonly roles?: readonly OrgRole[];
  readonly ordering?: { readonly field: MemberOrdering; readonly desc: boolean };
  /** true: only deleted members; false: only live ones. */
  readonly deleted: boolean;
}

export const COLUMNS = [
  'memberships.id as membership_id',
  'memberships.organization_id',
  'memberships.user_id',
  'memberships.role',
  'memberships.role_source',
  'memberships.reason',
  'memberships.created_at',
  'memberships.updated_at',
  'users.email',
  'users.first_name',
  'users.last_name',
  'users.date_joined',
  'users.last_login_at',
  'users.is_deleted',
] as const;

export function toMembership(row: Raw): MembershipRow {
  return {
    membershipId: num(row['membership_id']),
    organizationId: num(row['organization_id']),
    userId: num(row['user_id']),
    role: orgRole(row['role']),
    roleSource: roleSource(row['role_source']),
    reason: json(row['reason']),
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
    email: strOrNull(row['email']),
    firstName: strOrNull(row['first_name']) ?? '',
    lastName: strOrNull(row['last_name']) ?? '',
    dateJoined: toDate(row['date_joined']),
    lastLoginAt: dateOrNull(row['last_login_at']),
    isDeleted: bool(row['is_deleted']),
  };
}

export function base(db: DbOrTrx, organizationId: number) {
  return db('memberships')
    .join('users', 'users.id', 'memberships.user_id')
    .where('memberships.organization_id', organizationId)
    .andWhere('users.organization_id', organizationId);
}

/** `%`, `_` and the escape character itself match literally in a search. */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export const ROLE_RANK_SQL = "case memberships.role when 'OW' then 5 when 'AD' then 4 when 'MA' then 3 when 'RE' then 2 when 'AN' then 1 when 'NO' then 0 else -1 end";

export async function listMembers(db: DbOrTrx, q: MemberQuery): Promise<{ count: number; rows: MembershipRow[] }> {
  const filtered = () => {
    const query = base(db, q.organizationId).andWhere('users.is_deleted', q.deleted);
    if (q.roles !== undefined && q.roles.length > 0) query.whereIn('memberships.role', [...q.roles]);
    if (q.search !== undefined && q.search !== '') {
      const pattern = likePattern(q.search);
      query.andWhere((w) => {
        w.whereRaw("lower(users.email) like ? escape '\\'", [pattern])
          .orWhereRaw("lower(users.first_name) like ? escape '\\'", [pattern])
          .orWhereRaw("lower(users.last_name) like ? escape '\\'", [pattern])
          // "Ada Admin": a full name as people type it (|| concatenates on SQLite and PostgreSQL).
          .orWhereRaw("lower(users.first_name || ' ' || users.last_name) like ? escape '\\'", [pattern]);
      });
    }
    return query;
  };
  const countRow = (await filtered().count({ n: '*' }).first()) as { n: number | string } | undefined;
  const count = countRow === undefined ? 0 : num(countRow.n);
  const query = filtered().select(...COLUMNS);
  const order = q.ordering ?? { field: 'id', desc: false };
  const dir = order.desc ? 'desc' : 'asc';
  switch (order.field) {
    case 'id':
      query.orderBy('users.id', dir);
      break;
    case 'email':
      query.orderBy('users.email', dir);
      break;
    case 'first_name':
      query.orderBy('users.first_name', dir);
      break;
    case 'last_name':
      query.orderBy('users.last_name', dir);
      break;
    case 'role':
      query.orderByRaw(`${ROLE_RANK_SQL} ${dir}`);
      break;
    case 'last_activity':
      // Never signed in sorts as the oldest activity, on both databases.
      query.orderByRaw(`case when users.last_login_at is null then 0 else 1 end ${dir}`).orderBy('users.last_login_at', dir);
      break;
    case 'date_joined':
      query.orderBy('users.date_joined', dir);
      break;
  }
  query.orderBy('users.id', 'asc').offset(q.offset).limit(q.limit);
  const rows = (await query) as Raw[];
  return { count, rows: rows.map(toMembership) };
}

/** One member of the organization, deleted ones included (they are history, not strangers). */
export async function findMembership(db: DbOrTrx, organizationId: number, userId: number): Promise<MembershipRow | undefined> {
  const row = (await base(db, organizationId).andWhere('users.id', userId).first(...COLUMNS)) as Raw | undefined;
  return row === undefined ? undefined : toMembership(row);
}

/** Members by user id, deleted ones included (read in chunks: SQLite limits bound parameters). */
export async function membershipsByIds(db: DbOrTrx, organizationId: number, userIds: readonly number[]): Promise<Map<number, MembershipRow>> {
  const out = new Map<number, MembershipRow>();
  const ids = [...new Set(userIds)];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = (await base(db, organizationId).whereIn('users.id', ids.slice(i, i + 500)).select(...COLUMNS)) as Raw[];
    for (const row of rows) {
      const m = toMembership(row);
      out.set(m.userId, m);
    }
  }
  return out;
}

/** A member with the groups the IdP last asserted and their project roles: what plan/apply decide from. */
export interface MemberWithGroups extends MembershipRow {
  readonly email: string;
  /** null = never known (only logins without a groups attribute), or no member_groups row. */
  readonly groups: readonly string[] | null;
  readonly assertedAt: Date | null;
  readonly assertionId: string | null;
  readonly projects: readonly Pick<ProjectMembershipRow, 'projectId' | 'role' | 'roleSource'>[];
}

/**
 * Live members of one organization with their last-seen groups and project roles, ordered by user id. With
 * `userIds`, only those.
 */
export async function loadMembersWithGroups(db: DbOrTrx, organizationId: number, userIds?: readonly number[]): Promise<MemberWithGroups[]> {
  const chunks: (readonly number[] | undefined)[] = [];
  if (userIds === undefined) chunks.push(undefined);
  else for (let i = 0; i < userIds.length; i += 500) chunks.push(userIds.slice(i, i + 500));
  const out: MemberWithGroups[] = [];
  for (const chunk of chunks) {
    const q = base(db, organizationId)
      .leftJoin('member_groups', 'member_groups.user_id', 'memberships.user_id')
      .where('users.is_deleted', false)
      .orderBy('memberships.user_id')
      .select(...COLUMNS, 'member_groups.groups', 'member_groups.asserted_at', 'member_groups.assertion_id');
    if (chunk !== undefined) q.whereIn('memberships.user_id', chunk);
    const pq = db('project_memberships as p')
      .join('projects as pr', 'pr.id', 'p.project_id')
      .where('pr.organization_id', organizationId)
      .select('p.user_id', 'p.project_id', 'p.role', 'p.role_source');
    if (chunk !== undefined) pq.whereIn('p.user_id', chunk);
    const rows = (await q) as Raw[];
    const projectRows = (await pq) as Raw[];
    const projects = new Map<number, MemberWithGroups['projects'][number][]>();
    for (const row of projectRows) {
      const userId = num(row['user_id']);
      const entry = { projectId: num(row['project_id']), role: projectRole(row['role']), roleSource: roleSource(row['role_source']) };
      const list = projects.get(userId);
      if (list === undefined) projects.set(userId, [entry]);
      else list.push(entry);
    }
    for (const row of rows) {
      const m = toMembership(row);
      if (m.email === null) continue;
      out.push({
        ...m,
        email: m.email,
        groups: stringList(row['groups']),
        assertedAt: dateOrNull(row['asserted_at']),
        assertionId: strOrNull(row['assertion_id']),
        projects: projects.get(m.userId) ?? [],
      });
    }
  }
  return out;
}

/** Live members holding an active Owner or Administrator role: what the last-administrator invariant counts. */
export async function countActiveAdmins(db: DbOrTrx, organizationId: number): Promise<number> {
  const row = (await base(db, organizationId)
    .andWhere('users.is_deleted', false)
    .whereIn('memberships.role', [...ADMIN_ROLES])
    .count({ n: '*' })
    .first()) as { n: number | string } | undefined;
  return row === undefined ? 0 : num(row.n);
}

/**
 * Write path: the organization row lock. On PostgreSQL every transaction that may take away an Owner or
 * Administrator locks the organization row before it counts them, so two such transactions serialize and
 * the second counts what the first left. SQLite has one writer at a time already.
 */
export async function lockOrganization(trx: DbOrTrx, organizationId: number): Promise<boolean> {
  if (databaseKind(trx) !== 'postgres') return false;
  await trx('organizations').where({ id: organizationId }).forUpdate().first('id');
  return true;
}

/** Write path: insert or update many memberships, 200 rows per statement (SQLite bounds bound parameters). */
export async function upsertMemberships(
  db: DbOrTrx,
  rows: readonly { organizationId: number; userId: number; role: OrgRole; roleSource: RoleSource; reason: unknown }[],
  now: Date,
): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    await UPSERT_MEMBERSHIPS.run(
      db,
      rows.slice(i, i + 200).map((m) => [m.organizationId, m.userId, m.role, m.roleSource, JSON.stringify(m.reason), now, now]),
    );
  }
}

/** Every membership write (hot.ts): a new member, a role change; `created_at` stays as it was. */
const UPSERT_MEMBERSHIPS = new HotInsert(
  'memberships',
  ['organization_id', 'user_id', 'role', 'role_source', 'reason', 'created_at', 'updated_at'],
  mergeSql(['organization_id', 'user_id'], ['role', 'role_source', 'reason', 'updated_at']),
);

/** Write path: insert or update one membership (the batch upsert with one row: one SQL shape for both). */
export async function upsertMembership(
  db: DbOrTrx,
  m: { organizationId: number; userId: number; role: OrgRole; roleSource: RoleSource; reason: unknown },
  now: Date,
): Promise<void> {
  await upsertMemberships(db, [m], now);
}
