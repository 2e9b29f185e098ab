/** API tokens. Only sha256(key) is stored; the key itself is shown once, at creation. */
import { createHash } from 'node:crypto';
import type { DbOrTrx } from './connect.js';
import type { Raw } from './rows.js';
import { insertedId, num, toDate } from './rows.js';

/** The columns API tokens and SCIM tokens share (`api_tokens`, `scim_tokens`). */
export interface TokenColumns {
  readonly id: number;
  readonly organizationId: number;
  readonly name: string;
  readonly keyPrefix: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** An API token: a member's (a SCIM token belongs to the organization and has no user). */
export interface TokenRow extends TokenColumns {
  readonly userId: number;
}

export function hashTokenKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A raw `api_tokens` or `scim_tokens` row's shared columns. */
export function tokenColumns(row: Raw): TokenColumns {
  return {
    id: num(row['id']),
    organizationId: num(row['organization_id']),
    name: String(row['name']),
    keyPrefix: String(row['key_prefix']),
    createdBy: String(row['created_by']),
    createdAt: toDate(row['created_at']),
    lastUsedAt: row['last_used_at'] == null ? null : toDate(row['last_used_at']),
    revokedAt: row['revoked_at'] == null ? null : toDate(row['revoked_at']),
  };
}

function toToken(row: Raw): TokenRow {
  return { ...tokenColumns(row), userId: num(row['user_id']) };
}

export async function insertToken(
  db: DbOrTrx,
  t: { organizationId: number; userId: number; name: string; keyHash: string; keyPrefix: string; createdBy: string },
  now: Date,
): Promise<number> {
  const inserted = (await db('api_tokens')
    .insert({
      organization_id: t.organizationId,
      user_id: t.userId,
      name: t.name,
      key_hash: t.keyHash,
      key_prefix: t.keyPrefix,
      created_by: t.createdBy,
      created_at: now,
    })
    .returning('id')) as unknown[];
  return insertedId(inserted);
}

/** A live (not revoked) token by the hash of its key. */
export async function findLiveToken(db: DbOrTrx, keyHash: string): Promise<TokenRow | undefined> {
  const row = (await db('api_tokens').where({ key_hash: keyHash }).whereNull('revoked_at').first()) as Raw | undefined;
  return row === undefined ? undefined : toToken(row);
}

export async function findToken(db: DbOrTrx, organizationId: number, id: number): Promise<TokenRow | undefined> {
  const row = (await db('api_tokens').where({ organization_id: organizationId, id }).first()) as Raw | undefined;
  return row === undefined ? undefined : toToken(row);
}

export async function listTokens(db: DbOrTrx, organizationId: number, filter: { userId?: number; includeRevoked?: boolean } = {}): Promise<TokenRow[]> {
  const q = db('api_tokens').where({ organization_id: organizationId }).orderBy('id', 'asc');
  if (filter.userId !== undefined) q.where('user_id', filter.userId);
  if (filter.includeRevoked !== true) q.whereNull('revoked_at');
  return ((await q) as Raw[]).map(toToken);
}

export async function revokeToken(db: DbOrTrx, organizationId: number, id: number, now: Date): Promise<boolean> {
  const n = await db('api_tokens').where({ organization_id: organizationId, id }).whereNull('revoked_at').update({ revoked_at: now });
  return n > 0;
}

/** Every token of a member ends with their access (deactivation, deletion). */
/** Revoke every live token of these users for good; how many each had. In chunks (SQLite bounds parameters). */
export async function revokeTokensOf(db: DbOrTrx, userIds: readonly number[], now: Date): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (let i = 0; i < userIds.length; i += 500) {
    const chunk = userIds.slice(i, i + 500);
    const rows = (await db('api_tokens').whereIn('user_id', chunk).whereNull('revoked_at').select('user_id').count({ n: '*' }).groupBy('user_id')) as { user_id: number | string; n: number | string }[];
    for (const r of rows) out.set(Number(r.user_id), Number(r.n));
    if (rows.length > 0) await db('api_tokens').whereIn('user_id', chunk).whereNull('revoked_at').update({ revoked_at: now });
  }
  return out;
}

export async function revokeUserTokens(db: DbOrTrx, userId: number, now: Date): Promise<number> {
  return db('api_tokens').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: now });
}

/** Record use at most once a minute per token (a write per request would be wasteful). */
export async function touchToken(db: DbOrTrx, id: number, now: Date): Promise<void> {
  await db('api_tokens')
    .where({ id })
    .andWhere((w) => {
      w.whereNull('last_used_at').orWhere('last_used_at', '<', new Date(now.getTime() - 60_000));
    })
    .update({ last_used_at: now });
}
