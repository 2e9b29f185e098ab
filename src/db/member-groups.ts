/** The member_groups table: the groups the IdP last asserted for a member, and when. */
import type { DbOrTrx } from './connect.js';
import type { Raw } from './rows.js';
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

/** Record what the IdP asserted. Unknown groups (no attribute) keep the last known list and note the time. */
export async function saveMemberGroups(db: DbOrTrx, userId: number, groups: readonly string[] | null, assertionId: string, now: Date): Promise<void> {
  if (groups === null) {
    await db('member_groups').insert({ user_id: userId, groups: null, last_unknown_at: now }).onConflict('user_id').merge(['last_unknown_at']);
    return;
  }
  // Written as SQL (every login runs it): knex's builder costs more CPU than the statement itself.
  await db.raw(
    `insert into member_groups (user_id, "groups", asserted_at, assertion_id) values (?, ?, ?, ?)
     on conflict (user_id) do update set "groups" = excluded."groups", asserted_at = excluded.asserted_at, assertion_id = excluded.assertion_id`,
    [userId, JSON.stringify(groups), now, assertionId],
  );
}

export async function deleteMemberGroups(db: DbOrTrx, userId: number): Promise<void> {
  await db('member_groups').where({ user_id: userId }).delete();
}
