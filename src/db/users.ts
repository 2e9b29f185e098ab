/** The users table: one row per person per organization (an identity never spans organizations). */
import type { DbOrTrx } from './connect.js';
import type { Raw } from './rows.js';
import { hotRows, insertSql } from './hot.js';
import { dateOrNull, insertedId, num, str, toDate } from './rows.js';

export interface UserRow {
  readonly id: number;
  readonly organizationId: number;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly dateJoined: Date;
  readonly lastLoginAt: Date | null;
}

function toUser(row: Raw): UserRow {
  return {
    id: num(row['id']),
    organizationId: num(row['organization_id']),
    email: str(row['email']),
    firstName: str(row['first_name']),
    lastName: str(row['last_name']),
    dateJoined: toDate(row['date_joined']),
    lastLoginAt: dateOrNull(row['last_login_at']),
  };
}

/** The live user with this (lower-cased) email. */
export async function findUserByEmail(db: DbOrTrx, organizationId: number, email: string): Promise<UserRow | undefined> {
  const row = (await db('users').where({ organization_id: organizationId, email, is_deleted: false }).first()) as Raw | undefined;
  return row === undefined ? undefined : toUser(row);
}

export async function findUser(db: DbOrTrx, organizationId: number, userId: number): Promise<UserRow | undefined> {
  const row = (await db('users').where({ organization_id: organizationId, id: userId, is_deleted: false }).first()) as Raw | undefined;
  return row === undefined ? undefined : toUser(row);
}

// A login's statements (hot.ts): the update of a returning user, the insert-if-absent of a new one.
const LOGIN_UPDATE = 'update users set first_name = ?, last_name = ?, last_login_at = ? where organization_id = ? and email = ? returning *';
const LOGIN_INSERT = insertSql(
  'users',
  ['organization_id', 'email', 'first_name', 'last_name', 'date_joined', 'last_login_at', 'is_deleted'],
  1,
  'on conflict ("organization_id", "email") do nothing returning *',
);

/**
 * Find or create the live user with this email. Insert-if-absent on the (organization, email) unique
 * key, so two concurrent first logins of one person produce one row.
 */
export async function upsertUser(
  db: DbOrTrx,
  organizationId: number,
  profile: { email: string; firstName: string; lastName: string },
  now: Date,
  /** The caller has just read a live user with this email: try the update first (one statement). */
  likelyExists = false,
): Promise<{ user: UserRow; created: boolean }> {
  const update = async (): Promise<UserRow | undefined> => {
    const rows = await hotRows(db, LOGIN_UPDATE, [profile.firstName, profile.lastName, now, organizationId, profile.email]);
    // is_deleted is 0/1 on SQLite, a boolean on PostgreSQL.
    const live = rows.find((r) => !r['is_deleted']);
    return live === undefined ? undefined : toUser(live);
  };
  if (likelyExists) {
    const user = await update();
    if (user !== undefined) return { user, created: false };
  }
  const inserted = await hotRows(db, LOGIN_INSERT, [organizationId, profile.email, profile.firstName, profile.lastName, now, now, false]);
  const created = inserted.length > 0;
  // The insert or, for a returning user, the update hands back the row: no separate select.
  const user = created ? toUser(inserted[0] as Raw) : await update();
  if (user === undefined) throw new Error('user vanished inside its own transaction');
  return { user, created };
}

/** A live user with this email exists in the organization. */
export async function emailTaken(db: DbOrTrx, organizationId: number, email: string): Promise<boolean> {
  const row = await db('users').where({ organization_id: organizationId, email, is_deleted: false }).first('id');
  return row !== undefined;
}

/** A user without a login yet (an invite): the person's first SSO login finds this row by email. */
export async function insertInvitedUser(db: DbOrTrx, organizationId: number, email: string, now: Date): Promise<number> {
  const inserted = (await db('users')
    .insert({ organization_id: organizationId, email, first_name: '', last_name: '', date_joined: now, last_login_at: null, is_deleted: false })
    .returning('id')) as unknown[];
  return insertedId(inserted);
}

/** Soft delete: the person's data leaves the row (email NULL frees the address for a new account). */
export async function scrubUser(db: DbOrTrx, organizationId: number, userId: number): Promise<void> {
  await db('users').where({ organization_id: organizationId, id: userId }).update({ email: null, first_name: '', last_name: '', is_deleted: true });
}
