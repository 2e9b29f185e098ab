/** Users, memberships, project memberships and last-seen groups. */
import type { OrgRole, ActiveOrgRole, RoleSource } from '../domain/roles.js';
import { isOrgRole, isRoleSource } from '../domain/roles.js';
import type { DbOrTrx } from './connect.js';
import { toDate } from './connect.js';

export interface UserRow {
  readonly id: number;
  readonly organizationId: number;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly dateJoined: Date;
  readonly lastLoginAt: Date | null;
}

export interface MembershipRow {
  readonly id: number;
  readonly organizationId: number;
  readonly userId: number;
  readonly role: OrgRole;
  readonly roleSource: RoleSource;
  readonly reason: unknown;
  readonly updatedAt: Date;
}

export interface ProjectMembershipRow {
  readonly id: number;
  readonly projectId: number;
  readonly userId: number;
  readonly role: ActiveOrgRole;
  readonly roleSource: RoleSource;
  readonly reason: unknown;
}

export interface MemberGroupsRow {
  readonly groups: readonly string[] | null;
  readonly assertedAt: Date | null;
  readonly assertionId: string | null;
}

type Raw = Record<string, unknown>;

function str(row: Raw, key: string): string {
  const v = row[key];
  if (typeof v !== 'string') throw new TypeError(`column ${key} is not text`);
  return v;
}
function num(row: Raw, key: string): number {
  const v = row[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  throw new TypeError(`column ${key} is not a number`);
}
function role(row: Raw): OrgRole {
  const v = row['role'];
  if (!isOrgRole(v)) throw new TypeError(`unknown role ${String(v)}`);
  return v;
}
function source(row: Raw): RoleSource {
  const v = row['role_source'];
  if (isRoleSource(v)) return v;
  throw new TypeError(`unknown role_source ${String(v)}`);
}
function json(row: Raw, key: string): unknown {
  const v = row[key];
  return typeof v === 'string' ? (JSON.parse(v) as unknown) : null;
}

function toUser(row: Raw): UserRow {
  return {
    id: num(row, 'id'),
    organizationId: num(row, 'organization_id'),
    email: str(row, 'email'),
    firstName: str(row, 'first_name'),
    lastName: str(row, 'last_name'),
    dateJoined: toDate(row['date_joined']),
    lastLoginAt: row['last_login_at'] == null ? null : toDate(row['last_login_at']),
  };
}

function toMembership(row: Raw): MembershipRow {
  return {
    id: num(row, 'id'),
    organizationId: num(row, 'organization_id'),
    userId: num(row, 'user_id'),
    role: role(row),
    roleSource: source(row),
    reason: json(row, 'reason'),
    updatedAt: toDate(row['updated_at']),
  };
}

export async function findUserByEmail(db: DbOrTrx, organizationId: number, email: string): Promise<UserRow | undefined> {
  const row = (await db('users').where({ organization_id: organizationId, email, is_deleted: false }).first()) as Raw | undefined;
  return row === undefined ? undefined : toUser(row);
}

export async function findUser(db: DbOrTrx, organizationId: number, userId: number): Promise<UserRow | undefined> {
  const row = (await db('users').where({ organization_id: organizationId, id: userId, is_deleted: false }).first()) as Raw | undefined;
  return row === undefined ? undefined : toUser(row);
}

/**
 * Find or create the live user with this email. Insert-if-absent on the (organization, email) unique
 * key, so two concurrent first logins of one person produce one row.
 */
export async function upsertUser(
  db: DbOrTrx,
  organizationId: number,
  profile: { email: string; firstName: string; lastName: string },
  now: Date,
): Promise<{ user: UserRow; created: boolean }> {
  const inserted = await db('users')
    .insert({
      organization_id: organizationId,
      email: profile.email,
      first_name: profile.firstName,
      last_name: profile.lastName,
      date_joined: now,
      last_login_at: now,
      is_deleted: false,
    })
    .onConflict(['organization_id', 'email'])
    .ignore()
    .returning('id');
  const created = inserted.length > 0;
  if (!created) {
    await db('users')
      .where({ organization_id: organizationId, email: profile.email })
      .update({ first_name: profile.firstName, last_name: profile.lastName, last_login_at: now });
  }
  const user = await findUserByEmail(db, organizationId, profile.email);
  if (user === undefined) throw new Error('user vanished inside its own transaction');
  return { user, created };
}

export async function findMembership(db: DbOrTrx, organizationId: number, userId: number): Promise<MembershipRow | undefined> {
  const row = (await db('memberships').where({ organization_id: organizationId, user_id: userId }).first()) as Raw | undefined;
  return row === undefined ? undefined : toMembership(row);
}

export async function saveMembership(
  db: DbOrTrx,
  m: { organizationId: number; userId: number; role: OrgRole; roleSource: RoleSource; reason: unknown },
  now: Date,
): Promise<void> {
  await db('memberships')
    .insert({
      organization_id: m.organizationId,
      user_id: m.userId,
      role: m.role,
      role_source: m.roleSource,
      reason: JSON.stringify(m.reason),
      created_at: now,
      updated_at: now,
    })
    .onConflict(['organization_id', 'user_id'])
    .merge(['role', 'role_source', 'reason', 'updated_at']);
}

export async function listProjectMemberships(
  db: DbOrTrx,
  userId: number,
  projectIds: readonly number[],
): Promise<ProjectMembershipRow[]> {
  if (projectIds.length === 0) return [];
  const rows = (await db('project_memberships').where({ user_id: userId }).whereIn('project_id', projectIds)) as Raw[];
  return rows.map((row) => {
    const r = role(row);
    if (r === 'NO' || r === 'DI') throw new TypeError('a project membership holds a state');
    return {
      id: num(row, 'id'),
      projectId: num(row, 'project_id'),
      userId: num(row, 'user_id'),
      role: r,
      roleSource: source(row),
      reason: json(row, 'reason'),
    };
  });
}

export async function saveProjectMembership(
  db: DbOrTrx,
  m: { projectId: number; userId: number; role: ActiveOrgRole; roleSource: RoleSource; reason: unknown },
  now: Date,
): Promise<void> {
  await db('project_memberships')
    .insert({
      project_id: m.projectId,
      user_id: m.userId,
      role: m.role,
      role_source: m.roleSource,
      reason: JSON.stringify(m.reason),
      updated_at: now,
    })
    .onConflict(['project_id', 'user_id'])
    .merge(['role', 'role_source', 'reason', 'updated_at']);
}

export async function deleteProjectMembership(db: DbOrTrx, projectId: number, userId: number): Promise<void> {
  await db('project_memberships').where({ project_id: projectId, user_id: userId }).delete();
}

export async function findMemberGroups(db: DbOrTrx, userId: number): Promise<MemberGroupsRow | undefined> {
  const row = (await db('member_groups').where({ user_id: userId }).first()) as Raw | undefined;
  if (row === undefined) return undefined;
  const groups = json(row, 'groups');
  return {
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : null,
    assertedAt: row['asserted_at'] == null ? null : toDate(row['asserted_at']),
    assertionId: typeof row['assertion_id'] === 'string' ? row['assertion_id'] : null,
  };
}

/** Record what the IdP asserted. Unknown groups (no attribute) keep the last known list and note the time. */
export async function saveMemberGroups(
  db: DbOrTrx,
  userId: number,
  groups: readonly string[] | null,
  assertionId: string,
  now: Date,
): Promise<void> {
  if (groups === null) {
    await db('member_groups').insert({ user_id: userId, groups: null, last_unknown_at: now }).onConflict('user_id').merge(['last_unknown_at']);
    return;
  }
  await db('member_groups')
    .insert({ user_id: userId, groups: JSON.stringify(groups), asserted_at: now, assertion_id: assertionId })
    .onConflict('user_id')
    .merge(['groups', 'asserted_at', 'assertion_id']);
}
