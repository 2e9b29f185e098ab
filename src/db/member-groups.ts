/** The member_groups table: the groups the IdP last asserted for a member, and when. */
import type { DbOrTrx } from './connect.js';
import type { Raw } from './rows.js';
import { hotRun, insertSql, mergeSql } from './hot.js';
import { dateOrNull, num, strOrNull, stringList } from './rows.js';

export interface MemberGroupsRow {
  /** null = never known (only logins without a groups attribute). */
  readonly groups: readonly string[] | null;
  readonly assertedAt: Date | null;
  readonly assertionId: string | null;
}

function toGroups(row: Raw): MemberGroupsRow {
  return { groups: stringList(row['groups']), assertedAt: dateOrNull(row['asserted_at']), assertionId: strOrNull(row['assertion_id']) };
}

export async function findMemberGroups(db: DbOrTrx, userId: number): Promise<MemberGroupsRow | undefined> {
  const row = (await db('member_groups').where({ user_id: userId }).first()) as Raw | undefined;
  return row === undefined ? undefined : toGroups(row);
}

/** Last asserted groups per member (absent = no row). */
export async function groupsByUser(db: DbOrTrx, userIds: readonly number[]): Promise<Map<number, MemberGroupsRow>> {
  const out = new Map<number, MemberGroupsRow>();
  const ids = [...new Set(userIds)];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = (await db('member_groups').whereIn('user_id', ids.slice(i, i + 500))) as Raw[];
    for (const row of rows) out.set(num(row['user_id']), toGroups(row));
  }
  return out;
}

// Every login writes one of these (hot.ts).
const SAVE_KNOWN = insertSql('member_groups', ['user_id', 'groups', 'asserted_at', 'assertion_id'], 1, mergeSql(['user_id'], ['groups', 'asserted_at', 'assertion_id']));
const SAVE_UNKNOWN = insertSql('member_groups', ['user_id', 'groups', 'last_unknown_at'], 1, mergeSql(['user_id'], ['last_unknown_at']));

/** Record what the IdP asserted. Unknown groups (no attribute) keep the last known list and note the time. */
export async function saveMemberGroups(db: DbOrTrx, userId: number, groups: readonly string[] | null, assertionId: string, now: Date): Promise<void> {
  if (groups === null) {
    await hotRun(db, SAVE_UNKNOWN, [userId, null, now]);
    return;
  }
  await hotRun(db, SAVE_KNOWN, [userId, JSON.stringify(groups), now, assertionId]);
}

export async function deleteMemberGroups(db: DbOrTrx, userId: number): Promise<void> {
  await db('member_groups').where({ user_id: userId }).delete();
}
