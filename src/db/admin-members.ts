/**
 * The admin surface's queries over members (issue 4): the filtered, paginated list, one member with deleted
 * ones included, role writes by hand, invites and soft deletion. Portable SQL only (SQLite and PostgreSQL).
 */
import type { ActiveOrgRole, OrgRole, RoleSource } from '../domain/roles.js';
import { isOrgRole } from '../domain/roles.js';
import type { DbOrTrx } from './connect.js';
import { toDate } from './connect.js';

export interface MemberRow {
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

type Raw = Record<string, unknown>;

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  throw new TypeError('not a number');
}

function bool(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 't' || v === 'true';
}

function parseJson(v: unknown): unknown {
  if (typeof v !== 'string') return null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return null;
  }
}

function source(v: unknown): RoleSource {
  if (v === 'saml' || v === 'manual' || v === 'config') return v;
  throw new TypeError(`unknown role_source ${String(v)}`);
}

const COLUMNS = [
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

function toMember(row: Raw): MemberRow {
  const role = row['role'];
  if (!isOrgRole(role)) throw new TypeError(`unknown role ${String(role)}`);
  return {
    membershipId: num(row['membership_id']),
    organizationId: num(row['organization_id']),
    userId: num(row['user_id']),
    role,
    roleSource: source(row['role_source']),
    reason: parseJson(row['reason']),
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
    email: typeof row['email'] === 'string' ? row['email'] : null,
    firstName: typeof row['first_name'] === 'string' ? row['first_name'] : '',
    lastName: typeof row['last_name'] === 'string' ? row['last_name'] : '',
    dateJoined: toDate(row['date_joined']),
    lastLoginAt: row['last_login_at'] == null ? null : toDate(row['last_login_at']),
    isDeleted: bool(row['is_deleted']),
  };
}

function base(db: DbOrTrx, organizationId: number) {
  return db('memberships')
    .join('users', 'users.id', 'memberships.user_id')
    .where('memberships.organization_id', organizationId)
    .andWhere('users.organization_id', organizationId);
}

/** `%`, `_` and the escape character itself match literally in a search. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const ROLE_RANK_SQL = "case memberships.role when 'OW' then 5 when 'AD' then 4 when 'MA' then 3 when 'RE' then 2 when 'AN' then 1 when 'NO' then 0 else -1 end";

export async function listMembers(db: DbOrTrx, q: MemberQuery): Promise<{ count: number; rows: MemberRow[] }> {
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
  return { count, rows: rows.map(toMember) };
}

/** One member of the organization, deleted ones included (they are history, not strangers). */
export async function findMember(db: DbOrTrx, organizationId: number, userId: number): Promise<MemberRow | undefined> {
  const row = (await base(db, organizationId).andWhere('users.id', userId).first(...COLUMNS)) as Raw | undefined;
  return row === undefined ? undefined : toMember(row);
}

/** Display data of members by id (audit rows name their actors and subjects). */
export async function membersByIds(db: DbOrTrx, organizationId: number, userIds: readonly number[]): Promise<Map<number, MemberRow>> {
  const out = new Map<number, MemberRow>();
  const ids = [...new Set(userIds)];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = (await base(db, organizationId).whereIn('users.id', ids.slice(i, i + 500)).select(...COLUMNS)) as Raw[];
    for (const row of rows) {
      const m = toMember(row);
      out.set(m.userId, m);
    }
  }
  return out;
}

/** Last asserted groups per member (`null` = never known). */
export async function groupsByUser(db: DbOrTrx, userIds: readonly number[]): Promise<Map<number, { groups: string[] | null; assertedAt: Date | null }>> {
  const out = new Map<number, { groups: string[] | null; assertedAt: Date | null }>();
  const ids = [...new Set(userIds)];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = (await db('member_groups').whereIn('user_id', ids.slice(i, i + 500))) as Raw[];
    for (const row of rows) {
      const g = parseJson(row['groups']);
      out.set(num(row['user_id']), {
        groups: Array.isArray(g) ? g.filter((x): x is string => typeof x === 'string') : null,
        assertedAt: row['asserted_at'] == null ? null : toDate(row['asserted_at']),
      });
    }
  }
  return out;
}

/** Live members holding Owner or Administrator (the "last admin" invariant counts these). */
export async function countAdmins(db: DbOrTrx, organizationId: number): Promise<{ owners: number; admins: number }> {
  const rows = (await base(db, organizationId)
    .andWhere('users.is_deleted', false)
    .whereIn('memberships.role', ['OW', 'AD'])
    .select('memberships.role')
    .count({ n: '*' })
    .groupBy('memberships.role')) as { role: string; n: number | string }[];
  let owners = 0;
  let admins = 0;
  for (const r of rows) {
    if (r.role === 'OW') owners += num(r.n);
    else admins += num(r.n);
  }
  return { owners, admins };
}

/**
 * Serialise admin writes of one organization on PostgreSQL (row lock), so that two concurrent demotions
 * cannot both see "another admin remains". SQLite has one writer at a time already.
 */
export async function lockOrganization(trx: DbOrTrx, organizationId: number): Promise<void> {
  const client = (trx as unknown as { client?: { config?: { client?: unknown } } }).client?.config?.client;
  if (client === 'pg' || client === 'postgres' || client === 'postgresql') {
    await trx('organizations').where({ id: organizationId }).forUpdate().first('id');
  }
}

export async function writeRole(
  trx: DbOrTrx,
  m: { organizationId: number; userId: number; role: OrgRole; roleSource: RoleSource; reason: unknown },
  now: Date,
): Promise<void> {
  await trx('memberships')
    .where({ organization_id: m.organizationId, user_id: m.userId })
    .update({ role: m.role, role_source: m.roleSource, reason: JSON.stringify(m.reason), updated_at: now });
}

/** A live user with this email exists in the organization. */
export async function emailTaken(db: DbOrTrx, organizationId: number, email: string): Promise<boolean> {
  const row = await db('users').where({ organization_id: organizationId, email, is_deleted: false }).first('id');
  return row !== undefined;
}

/**
 * An invited member: a user row without a login yet and a Not Activated membership set by hand. The person's
 * first SSO login finds this row by email (upsertUser) and so attaches to it.
 */
export async function insertInvitedMember(
  trx: DbOrTrx,
  organizationId: number,
  email: string,
  reason: unknown,
  now: Date,
): Promise<number> {
  const inserted = (await trx('users')
    .insert({ organization_id: organizationId, email, first_name: '', last_name: '', date_joined: now, last_login_at: null, is_deleted: false })
    .returning('id')) as ({ id: number } | number)[];
  const first = inserted[0];
  const userId = typeof first === 'object' ? num(first.id) : num(first);
  await trx('memberships').insert({
    organization_id: organizationId,
    user_id: userId,
    role: 'NO',
    role_source: 'manual',
    reason: JSON.stringify(reason),
    created_at: now,
    updated_at: now,
  });
  return userId;
}

/**
 * Soft delete: the person's data leaves the member row (email NULL frees the address for a new account,
 * names emptied), access ends (membership Deactivated, project memberships and last-seen groups removed),
 * and audit rows about them lose the email so that they read "Deleted User". Sessions and tokens are ended
 * by the caller in the same transaction.
 */
export async function softDeleteMember(trx: DbOrTrx, organizationId: number, userId: number, email: string | null, reason: unknown, now: Date): Promise<void> {
  await trx('users').where({ organization_id: organizationId, id: userId }).update({ email: null, first_name: '', last_name: '', is_deleted: true });
  await trx('memberships')
    .where({ organization_id: organizationId, user_id: userId })
    .update({ role: 'DI', role_source: 'manual', reason: JSON.stringify(reason), updated_at: now });
  await trx('project_memberships').where({ user_id: userId }).delete();
  await trx('member_groups').where({ user_id: userId }).delete();
  // The one update of audit rows: scrubbing personal data. The events themselves (what happened) stay.
  await trx('audit_events').where({ organization_id: organizationId, subject_user_id: userId }).update({ subject_email: null });
  if (email !== null) {
    await trx('audit_events').where({ organization_id: organizationId, subject_email: email }).whereNull('subject_user_id').update({ subject_email: null });
  }
}

// ---- project roles -------------------------------------------------------------------------------------------

export interface ProjectRoleRow {
  readonly id: number;
  readonly projectId: number;
  readonly userId: number;
  readonly role: ActiveOrgRole;
  readonly roleSource: RoleSource;
  readonly reason: unknown;
}

function toProjectRole(row: Raw): ProjectRoleRow {
  const role = row['role'];
  if (!isOrgRole(role) || role === 'NO' || role === 'DI') throw new TypeError('a project membership holds a state');
  return {
    id: num(row['id']),
    projectId: num(row['project_id']),
    userId: num(row['user_id']),
    role,
    roleSource: source(row['role_source']),
    reason: parseJson(row['reason']),
  };
}

export async function listProjectRoles(db: DbOrTrx, projectIds: readonly number[], filter: { userId?: number } = {}): Promise<ProjectRoleRow[]> {
  if (projectIds.length === 0) return [];
  const q = db('project_memberships').whereIn('project_id', [...projectIds]).orderBy('id', 'asc');
  if (filter.userId !== undefined) q.where('user_id', filter.userId);
  return ((await q) as Raw[]).map(toProjectRole);
}

export async function findProjectRole(db: DbOrTrx, id: number): Promise<ProjectRoleRow | undefined> {
  const row = (await db('project_memberships').where({ id }).first()) as Raw | undefined;
  return row === undefined ? undefined : toProjectRole(row);
}

export async function findProjectRoleFor(db: DbOrTrx, projectId: number, userId: number): Promise<ProjectRoleRow | undefined> {
  const row = (await db('project_memberships').where({ project_id: projectId, user_id: userId }).first()) as Raw | undefined;
  return row === undefined ? undefined : toProjectRole(row);
}
