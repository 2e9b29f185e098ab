/**
 * The ownership_transfers table: ownership moves only by a recorded transfer. The mapping reads these
 * records, never a hand-set role, to decide whether the configured `owner:` email is still the Owner.
 */
import type { DbOrTrx } from './connect.js';
import type { Raw } from './rows.js';
import { num, numOrNull } from './rows.js';

export interface OwnershipRecord {
  /** Lower-cased emails that gave ownership away by a transfer (the `owner:` line stops applying to them). */
  readonly gaveAway: readonly string[];
  /** The member who holds ownership by the latest transfer, or null when nobody received it that way. */
  readonly holderUserId: number | null;
}

export async function ownershipOf(db: DbOrTrx, organizationId: number): Promise<OwnershipRecord> {
  const rows = (await db('ownership_transfers').where({ organization_id: organizationId }).orderBy('id', 'asc').select('from_email', 'to_user_id')) as Raw[];
  const gaveAway = new Set<string>();
  let holder: number | null = null;
  for (const row of rows) {
    const from = row['from_email'];
    if (typeof from === 'string') gaveAway.add(from);
    holder = numOrNull(row['to_user_id']);
  }
  return { gaveAway: [...gaveAway], holderUserId: holder };
}

/** Write path: record a transfer (the two role changes are written beside it in the same transaction). */
export async function recordTransfer(
  db: DbOrTrx,
  t: { organizationId: number; fromUserId: number; fromEmail: string | null; toUserId: number; actor: string },
  now: Date,
): Promise<number> {
  const rows = (await db('ownership_transfers')
    .insert({ organization_id: t.organizationId, from_user_id: t.fromUserId, from_email: t.fromEmail, to_user_id: t.toUserId, actor: t.actor, at: now })
    .returning('id')) as unknown[];
  const first = rows[0];
  return typeof first === 'object' && first !== null ? num((first as Raw)['id']) : num(first);
}
