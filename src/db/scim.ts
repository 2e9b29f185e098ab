/**
 * SCIM tables: the organization's SCIM tokens, the SCIM attributes of members SCIM provisioned or linked (a
 * `scim_users` row is what "SCIM manages this member" means), the IdP's groups and their members. Membership
 * rows (roles) are not written here: role changes go through the one write path in members/.
 * Portable knex only (SQLite and PostgreSQL); id lists are read in chunks (SQLite bounds parameters).
 */
import type { OrgRole } from '../domain/roles.js';
import { tokenColumns, type TokenColumns } from './api-tokens.js';
import type { DbOrTrx } from './connect.js';
import type { Raw } from './rows.js';
import { bool, databaseKind, insertedId as firstId, num, orgRole, strOrNull as optStr, toDate } from './rows.js';

const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
async function insertedId(q: Promise<unknown>): Promise<number> {
  return firstId((await q) as unknown[]);
}

// ---- tokens --------------------------------------------------------------------------------------------------

/** A SCIM token: the organization's, not a member's (no user id). */
export type ScimTokenRow = TokenColumns;

const toToken = tokenColumns;

export async function insertScimToken(
  db: DbOrTrx,
  t: { organizationId: number; name: string; keyHash: string; keyPrefix: string; createdBy: string },
  now: Date,
): Promise<number> {
  return insertedId(
    db('scim_tokens')
      .insert({ organization_id: t.organizationId, name: t.name, key_hash: t.keyHash, key_prefix: t.keyPrefix, created_by: t.createdBy, created_at: now })
      .returning('id'),
  );
}

export async function findLiveScimToken(db: DbOrTrx, keyHash: string): Promise<ScimTokenRow | undefined> {
  const row = (await db('scim_tokens').where({ key_hash: keyHash }).whereNull('revoked_at').first()) as Raw | undefined;
  return row === undefined ? undefined : toToken(row);
}

export async function findScimToken(db: DbOrTrx, organizationId: number, id: number): Promise<ScimTokenRow | undefined> {
  const row = (await db('scim_tokens').where({ organization_id: organizationId, id }).first()) as Raw | undefined;
  return row === undefined ? undefined : toToken(row);
}

export async function listScimTokens(db: DbOrTrx, organizationId: number): Promise<ScimTokenRow[]> {
  return ((await db('scim_tokens').where({ organization_id: organizationId }).whereNull('revoked_at').orderBy('id', 'asc')) as Raw[]).map(toToken);
}

export async function revokeScimToken(db: DbOrTrx, organizationId: number, id: number, now: Date): Promise<boolean> {
  return (await db('scim_tokens').where({ organization_id: organizationId, id }).whereNull('revoked_at').update({ revoked_at: now })) > 0;
}

/** Record use at most once a minute per token. */
export async function touchScimToken(db: DbOrTrx, id: number, now: Date): Promise<void> {
  await db('scim_tokens')
    .where({ id })
    .andWhere((w) => {
      w.whereNull('last_used_at').orWhere('last_used_at', '<', new Date(now.getTime() - 60_000));
    })
    .update({ last_used_at: now });
}

// ---- users ---------------------------------------------------------------------------------------------------

export interface ScimAttributes {
  readonly userName: string;
  readonly externalId: string | null;
  readonly displayName: string | null;
  /** The emails list as sent (JSON), or null. */
  readonly emails: unknown;
  readonly active: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A live member as SCIM shows it. `scim` is null for a member SCIM has not provisioned or linked yet. */
export interface ScimUserRow {
  readonly userId: number;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly dateJoined: Date;
  readonly role: OrgRole;
  readonly membershipUpdatedAt: Date;
  readonly scim: ScimAttributes | null;
}

const USER_COLUMNS = [
  'users.id as user_id',
  'users.email',
  'users.first_name',
  'users.last_name',
  'users.date_joined',
  'memberships.role',
  'memberships.updated_at as membership_updated_at',
  'scim_users.user_name',
  'scim_users.external_id',
  'scim_users.display_name',
  'scim_users.emails',
  'scim_users.active',
  'scim_users.created_at as scim_created_at',
  'scim_users.updated_at as scim_updated_at',
] as const;

function toScimUser(row: Raw): ScimUserRow {
  const role = orgRole(row['role']);
  const linked = typeof row['user_name'] === 'string';
  let emails: unknown = null;
  if (typeof row['emails'] === 'string') {
    try {
      emails = JSON.parse(row['emails']) as unknown;
    } catch {
      emails = null;
    }
  }
  return {
    userId: num(row['user_id']),
    email: String(row['email']),
    firstName: typeof row['first_name'] === 'string' ? row['first_name'] : '',
    lastName: typeof row['last_name'] === 'string' ? row['last_name'] : '',
    dateJoined: toDate(row['date_joined']),
    role,
    membershipUpdatedAt: toDate(row['membership_updated_at']),
    scim: linked
      ? {
          userName: String(row['user_name']),
          externalId: optStr(row['external_id']),
          displayName: optStr(row['display_name']),
          emails,
          active: bool(row['active']),
          createdAt: toDate(row['scim_created_at']),
          updatedAt: toDate(row['scim_updated_at']),
        }
      : null,
  };
}

function userBase(db: DbOrTrx, organizationId: number) {
  return db('users')
    .join('memberships', (j) => {
      j.on('memberships.user_id', '=', 'users.id').andOn('memberships.organization_id', '=', 'users.organization_id');
    })
    .leftJoin('scim_users', 'scim_users.user_id', 'users.id')
    .where('users.organization_id', organizationId)
    .andWhere('users.is_deleted', false);
}

export type UserCondition =
  | { readonly attr: 'email'; readonly value: string }
  | { readonly attr: 'externalId'; readonly value: string }
  | { readonly attr: 'id'; readonly value: number }
  | { readonly attr: 'anyEmail'; readonly value: string };

export async function listScimUsers(
  db: DbOrTrx,
  organizationId: number,
  where: readonly UserCondition[],
  page: { offset: number; limit: number },
): Promise<{ total: number; rows: ScimUserRow[] }> {
  const filtered = () => {
    const q = userBase(db, organizationId);
    for (const c of where) {
      if (c.attr === 'email') q.andWhere('users.email', c.value);
      else if (c.attr === 'externalId') q.andWhere('scim_users.external_id', c.value);
      else if (c.attr === 'id') q.andWhere('users.id', c.value);
      else {
        const value = c.value;
        q.andWhere((w) => {
          w.where('users.email', value).orWhere('scim_users.email_lower', value);
        });
      }
    }
    return q;
  };
  const countRow = (await filtered().count({ n: '*' }).first()) as { n: number | string } | undefined;
  const total = countRow === undefined ? 0 : num(countRow.n);
  if (page.limit === 0 || total === 0) return { total, rows: [] };
  const rows = (await filtered().select(...USER_COLUMNS).orderBy('users.id', 'asc').offset(page.offset).limit(page.limit)) as Raw[];
  return { total, rows: rows.map(toScimUser) };
}

export async function findScimUser(db: DbOrTrx, organizationId: number, userId: number): Promise<ScimUserRow | undefined> {
  const row = (await userBase(db, organizationId).andWhere('users.id', userId).first(...USER_COLUMNS)) as Raw | undefined;
  return row === undefined ? undefined : toScimUser(row);
}

/** Which of these ids are live members of the organization. */
export async function liveMemberIds(db: DbOrTrx, organizationId: number, userIds: readonly number[]): Promise<Set<number>> {
  const out = new Set<number>();
  for (const chunk of chunks([...new Set(userIds)])) {
    const rows = (await db('users').where({ organization_id: organizationId, is_deleted: false }).whereIn('id', chunk).select('id')) as Raw[];
    for (const r of rows) out.add(num(r['id']));
  }
  return out;
}

/** The live user holding this email (lower-cased), if any. */
export async function userIdByEmail(db: DbOrTrx, organizationId: number, email: string): Promise<number | undefined> {
  const row = (await db('users').where({ organization_id: organizationId, email, is_deleted: false }).first('id')) as Raw | undefined;
  return row === undefined ? undefined : num(row['id']);
}

export interface ScimProfile {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly userName: string;
  readonly externalId: string | null;
  readonly displayName: string | null;
  readonly emailLower: string | null;
  readonly emails: unknown;
  readonly active: boolean;
}

/** A new user row for a SCIM-provisioned member (its membership is written by the write path). */
export async function insertScimUser(db: DbOrTrx, organizationId: number, p: ScimProfile, now: Date): Promise<number> {
  const userId = await insertedId(
    db('users')
      .insert({ organization_id: organizationId, email: p.email, first_name: p.firstName, last_name: p.lastName, date_joined: now, last_login_at: null, is_deleted: false })
      .returning('id'),
  );
  await saveScimAttributes(db, organizationId, userId, p, now);
  return userId;
}

/** Create or replace the SCIM attributes of a member (linking a member SCIM had not seen), and its profile. */
export async function saveScimAttributes(db: DbOrTrx, organizationId: number, userId: number, p: ScimProfile, now: Date): Promise<void> {
  await db('users').where({ organization_id: organizationId, id: userId }).update({ email: p.email, first_name: p.firstName, last_name: p.lastName });
  await db('scim_users')
    .insert({
      user_id: userId,
      organization_id: organizationId,
      user_name: p.userName,
      external_id: p.externalId,
      display_name: p.displayName,
      email_lower: p.emailLower,
      emails: p.emails === null ? null : JSON.stringify(p.emails),
      active: p.active,
      created_at: now,
      updated_at: now,
    })
    .onConflict('user_id')
    .merge(['user_name', 'external_id', 'display_name', 'email_lower', 'emails', 'active', 'updated_at']);
}

/** Link members SCIM had not seen (a group push naming them): their email becomes their userName. */
export async function linkScimUsers(db: DbOrTrx, organizationId: number, userIds: readonly number[], now: Date): Promise<void> {
  for (const chunk of chunks([...new Set(userIds)])) {
    // Simple indexed lookups: a join of users, scim_users and memberships here made SQLite scan the
    // organization's users once per chunk.
    const linked = new Set(((await db('scim_users').whereIn('user_id', chunk).select('user_id')) as Raw[]).map((r) => num(r['user_id'])));
    const missing = chunk.filter((id) => !linked.has(id));
    if (missing.length === 0) continue;
    const users = (await db('users').where({ organization_id: organizationId }).whereIn('id', missing).select('id', 'email')) as Raw[];
    const roles = new Map(((await db('memberships').where({ organization_id: organizationId }).whereIn('user_id', missing).select('user_id', 'role')) as Raw[]).map((r) => [num(r['user_id']), r['role']]));
    const rows = users
      .filter((u) => typeof u['email'] === 'string')
      .map((u) => ({
        user_id: num(u['id']),
        organization_id: organizationId,
        user_name: String(u['email']),
        external_id: null,
        display_name: null,
        email_lower: String(u['email']),
        emails: null,
        // A member already Deactivated stays so until the IdP says active: true.
        active: roles.get(num(u['id'])) !== 'DI',
        created_at: now,
        updated_at: now,
      }));
    for (let i = 0; i < rows.length; i += 200) await db('scim_users').insert(rows.slice(i, i + 200));
  }
}

/** Forget a member's SCIM attributes and group memberships (the member was deleted). */
export async function forgetScimUser(db: DbOrTrx, userId: number): Promise<void> {
  await db('scim_group_members').where({ user_id: userId }).delete();
  await db('scim_users').where({ user_id: userId }).delete();
}

/**
 * Lock these members' user rows (PostgreSQL) before deciding their roles from SCIM state. A login updates
 * its user row before it reads the member's SCIM state, so a SCIM push and a login of the same person
 * serialize on that row: whichever comes second decides from what the first committed.
 */
export async function lockUsers(db: DbOrTrx, userIds: readonly number[]): Promise<void> {
  if (databaseKind(db) !== 'postgres') return;
  for (const chunk of chunks([...new Set(userIds)].sort((a, b) => a - b))) await db('users').whereIn('id', chunk).orderBy('id').forUpdate().select('id');
}

/** A member's SCIM state (undefined when SCIM does not manage them): `active` and their groups. */
export async function scimMemberState(db: DbOrTrx, userId: number): Promise<{ active: boolean; groups: ScimGroupMembership[] } | undefined> {
  const row = (await db('scim_users').where({ user_id: userId }).first('active')) as Raw | undefined;
  if (row === undefined) return undefined;
  return { active: bool(row['active']), groups: (await groupsOfUsers(db, [userId])).get(userId) ?? [] };
}

/** What decides a SCIM-managed member's roles: `active` and the displayNames of their SCIM groups. */
export interface ScimDecisionState {
  readonly active: boolean;
  readonly groups: readonly string[];
}

/**
 * The SCIM state of the members SCIM manages in an organization (all of them, or those of `userIds`), for
 * plan/apply: two queries per chunk, so a plan over 100,000 members stays a handful of reads.
 */
export async function scimDecisionStates(db: DbOrTrx, organizationId: number, userIds?: readonly number[]): Promise<Map<number, ScimDecisionState>> {
  const out = new Map<number, { active: boolean; groups: string[] }>();
  const parts: (readonly number[] | undefined)[] = userIds === undefined ? [undefined] : chunks([...new Set(userIds)]);
  for (const part of parts) {
    const uq = db('scim_users').where({ organization_id: organizationId }).select('user_id', 'active');
    if (part !== undefined) uq.whereIn('user_id', part);
    for (const r of (await uq) as Raw[]) out.set(num(r['user_id']), { active: bool(r['active']), groups: [] });
    const gq = db('scim_group_members as gm').join('scim_groups as g', 'g.id', 'gm.group_id').where('g.organization_id', organizationId).orderBy(['gm.user_id', 'g.id']).select('gm.user_id', 'g.display_name');
    if (part !== undefined) gq.whereIn('gm.user_id', part);
    for (const r of (await gq) as Raw[]) out.get(num(r['user_id']))?.groups.push(String(r['display_name']));
  }
  return out;
}

/** Which of these members SCIM manages, with their `active`. */
export async function scimStates(db: DbOrTrx, userIds: readonly number[]): Promise<Map<number, { active: boolean }>> {
  const out = new Map<number, { active: boolean }>();
  for (const chunk of chunks([...new Set(userIds)])) {
    const rows = (await db('scim_users').whereIn('user_id', chunk).select('user_id', 'active')) as Raw[];
    for (const r of rows) out.set(num(r['user_id']), { active: bool(r['active']) });
  }
  return out;
}

/** Members of the organization SCIM manages (ids), for the Organization page. */
export async function scimManagedIds(db: DbOrTrx, organizationId: number, userIds: readonly number[]): Promise<Set<number>> {
  const out = new Set<number>();
  for (const chunk of chunks([...new Set(userIds)])) {
    const rows = (await db('scim_users').where({ organization_id: organizationId }).whereIn('user_id', chunk).select('user_id')) as Raw[];
    for (const r of rows) out.add(num(r['user_id']));
  }
  return out;
}

// ---- groups --------------------------------------------------------------------------------------------------

export interface ScimGroupRow {
  readonly id: number;
  readonly organizationId: number;
  readonly displayName: string;
  readonly externalId: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

function toGroup(row: Raw): ScimGroupRow {
  return {
    id: num(row['id']),
    organizationId: num(row['organization_id']),
    displayName: String(row['display_name']),
    externalId: optStr(row['external_id']),
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
  };
}

export type GroupCondition =
  | { readonly attr: 'displayName'; readonly value: string }
  | { readonly attr: 'externalId'; readonly value: string }
  | { readonly attr: 'id'; readonly value: number };

export async function listScimGroups(
  db: DbOrTrx,
  organizationId: number,
  where: readonly GroupCondition[],
  page: { offset: number; limit: number },
): Promise<{ total: number; rows: ScimGroupRow[] }> {
  const filtered = () => {
    const q = db('scim_groups').where('organization_id', organizationId);
    for (const c of where) {
      if (c.attr === 'displayName') q.andWhere('display_name_lower', c.value.toLowerCase());
      else if (c.attr === 'externalId') q.andWhere('external_id', c.value);
      else q.andWhere('id', c.value);
    }
    return q;
  };
  const countRow = (await filtered().count({ n: '*' }).first()) as { n: number | string } | undefined;
  const total = countRow === undefined ? 0 : num(countRow.n);
  if (page.limit === 0 || total === 0) return { total, rows: [] };
  const rows = (await filtered().select('*').orderBy('id', 'asc').offset(page.offset).limit(page.limit)) as Raw[];
  return { total, rows: rows.map(toGroup) };
}

export async function findScimGroup(db: DbOrTrx, organizationId: number, id: number): Promise<ScimGroupRow | undefined> {
  const row = (await db('scim_groups').where({ organization_id: organizationId, id }).first()) as Raw | undefined;
  return row === undefined ? undefined : toGroup(row);
}

export async function groupIdByName(db: DbOrTrx, organizationId: number, displayName: string): Promise<number | undefined> {
  const row = (await db('scim_groups').where({ organization_id: organizationId, display_name_lower: displayName.toLowerCase() }).first('id')) as Raw | undefined;
  return row === undefined ? undefined : num(row['id']);
}

export async function insertScimGroup(db: DbOrTrx, organizationId: number, g: { displayName: string; externalId: string | null }, now: Date): Promise<number> {
  return insertedId(
    db('scim_groups')
      .insert({ organization_id: organizationId, display_name: g.displayName, display_name_lower: g.displayName.toLowerCase(), external_id: g.externalId, created_at: now, updated_at: now })
      .returning('id'),
  );
}

export async function updateScimGroup(db: DbOrTrx, organizationId: number, id: number, g: { displayName: string; externalId: string | null }, now: Date): Promise<void> {
  await db('scim_groups')
    .where({ organization_id: organizationId, id })
    .update({ display_name: g.displayName, display_name_lower: g.displayName.toLowerCase(), external_id: g.externalId, updated_at: now });
}

export async function touchScimGroup(db: DbOrTrx, id: number, now: Date): Promise<void> {
  await db('scim_groups').where({ id }).update({ updated_at: now });
}

export async function deleteScimGroup(db: DbOrTrx, organizationId: number, id: number): Promise<void> {
  await db('scim_group_members').where({ group_id: id }).delete();
  await db('scim_groups').where({ organization_id: organizationId, id }).delete();
}

/** Member ids of a group, ascending. */
export async function groupMemberIds(db: DbOrTrx, groupId: number): Promise<number[]> {
  return ((await db('scim_group_members').where({ group_id: groupId }).orderBy('user_id', 'asc').select('user_id')) as Raw[]).map((r) => num(r['user_id']));
}

/** Members of these groups with the userName to display. */
export async function groupMembers(db: DbOrTrx, groupIds: readonly number[]): Promise<Map<number, { userId: number; display: string }[]>> {
  const out = new Map<number, { userId: number; display: string }[]>();
  for (const chunk of chunks([...new Set(groupIds)])) {
    const rows = (await db('scim_group_members as gm')
      .join('users', 'users.id', 'gm.user_id')
      .leftJoin('scim_users', 'scim_users.user_id', 'gm.user_id')
      .whereIn('gm.group_id', chunk)
      .orderBy(['gm.group_id', 'gm.user_id'])
      .select('gm.group_id', 'gm.user_id', 'users.email', 'scim_users.user_name')) as Raw[];
    for (const r of rows) {
      const gid = num(r['group_id']);
      const list = out.get(gid) ?? [];
      list.push({ userId: num(r['user_id']), display: optStr(r['user_name']) ?? String(r['email']) });
      out.set(gid, list);
    }
  }
  return out;
}

export async function addGroupMembers(db: DbOrTrx, groupId: number, userIds: readonly number[], now: Date): Promise<void> {
  for (const chunk of chunks([...new Set(userIds)])) {
    await db('scim_group_members')
      .insert(chunk.map((userId) => ({ group_id: groupId, user_id: userId, added_at: now })))
      .onConflict(['group_id', 'user_id'])
      .ignore();
  }
}

export async function removeGroupMembers(db: DbOrTrx, groupId: number, userIds: readonly number[]): Promise<void> {
  for (const chunk of chunks([...new Set(userIds)])) await db('scim_group_members').where({ group_id: groupId }).whereIn('user_id', chunk).delete();
}

export interface ScimGroupMembership {
  readonly groupId: number;
  readonly displayName: string;
  readonly addedAt: Date;
}

/** The SCIM groups of each member (the groups their roles follow). */
export async function groupsOfUsers(db: DbOrTrx, userIds: readonly number[]): Promise<Map<number, ScimGroupMembership[]>> {
  const out = new Map<number, ScimGroupMembership[]>();
  for (const chunk of chunks([...new Set(userIds)])) {
    const rows = (await db('scim_group_members as gm')
      .join('scim_groups as g', 'g.id', 'gm.group_id')
      .whereIn('gm.user_id', chunk)
      .orderBy(['gm.user_id', 'g.id'])
      .select('gm.user_id', 'g.id', 'g.display_name', 'gm.added_at')) as Raw[];
    for (const r of rows) {
      const uid = num(r['user_id']);
      const list = out.get(uid) ?? [];
      list.push({ groupId: num(r['id']), displayName: String(r['display_name']), addedAt: toDate(r['added_at']) });
      out.set(uid, list);
    }
  }
  return out;
}

/** Members with an active (role-granting) organization role, for the mass-demotion guard's percentage. */
export async function countActiveMembers(db: DbOrTrx, organizationId: number): Promise<number> {
  const row = (await db('memberships')
    .join('users', 'users.id', 'memberships.user_id')
    .where('memberships.organization_id', organizationId)
    .andWhere('users.is_deleted', false)
    .whereIn('memberships.role', ['OW', 'AD', 'MA', 'RE', 'AN'])
    .count({ n: '*' })
    .first()) as { n: number | string } | undefined;
  return row === undefined ? 0 : num(row.n);
}
