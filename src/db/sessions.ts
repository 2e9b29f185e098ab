/** Server-side session storage. Rows are keyed by sha256(cookie key), never by the key itself. */
import { hash } from 'node:crypto';
import type { DbOrTrx } from './connect.js';
import { hotRows, hotRun, insertSql, mergeSql } from './hot.js';

/** sha256 hex of a cookie key; Node's one-shot hash (no Hash object: this runs on every request). */
export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** The session every request carries: a hot statement (db/hot.ts). */
const LOAD_SESSION = 'select data from sessions where id = ? and expires_at > ? limit 1';

export async function loadSession(db: DbOrTrx, key: string, now: Date): Promise<Record<string, unknown> | undefined> {
  const row = (await hotRows(db, LOAD_SESSION, [hashKey(key), now]))[0];
  if (row === undefined || typeof row['data'] !== 'string') return undefined;
  const data = JSON.parse(row['data']) as unknown;
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : undefined;
}

/** Written by every login (inside its transaction) and by koa-session (hot.ts). */
const STORE_SESSION = insertSql('sessions', ['id', 'data', 'user_id', 'organization_id', 'expires_at'], 1, mergeSql(['id'], ['data', 'user_id', 'organization_id', 'expires_at']));
const DESTROY_SESSION = 'delete from sessions where id = ?';

export async function storeSession(
  db: DbOrTrx,
  key: string,
  data: Record<string, unknown>,
  expiresAt: Date,
): Promise<void> {
  const userId = typeof data['userId'] === 'number' ? data['userId'] : null;
  const organizationId = typeof data['organizationId'] === 'number' ? data['organizationId'] : null;
  await hotRun(db, STORE_SESSION, [hashKey(key), JSON.stringify(data), userId, organizationId, expiresAt]);
}

export async function destroySession(db: DbOrTrx, key: string): Promise<void> {
  await hotRun(db, DESTROY_SESSION, [hashKey(key)]);
}

/**
 * Single Logout from the IdP: end the organization's sessions started by an assertion with this NameID and,
 * when the LogoutRequest names SessionIndexes, one of them (SAML core §3.7.3.2). The organization's
 * sessions are read and matched here (the data is JSON); returns how many ended.
 */
export async function destroySamlSessions(db: DbOrTrx, organizationId: number, nameId: string, sessionIndexes: readonly string[]): Promise<number> {
  const rows = (await db('sessions').where({ organization_id: organizationId }).select('id', 'data')) as Array<{ id: string; data: string }>;
  const ids = rows
    .filter((row) => {
      let data: unknown;
      try {
        data = JSON.parse(row.data);
      } catch {
        return false;
      }
      if (typeof data !== 'object' || data === null) return false;
      const d = data as Record<string, unknown>;
      if (d['nameId'] !== nameId) return false;
      return sessionIndexes.length === 0 || (typeof d['sessionIndex'] === 'string' && sessionIndexes.includes(d['sessionIndex']));
    })
    .map((row) => row.id);
  if (ids.length === 0) return 0;
  return db('sessions').whereIn('id', ids).delete();
}

/**
 * End every session of these users at once (a push deactivating many); how many each had. Counted before
 * the delete, in the same transaction, in chunks (SQLite bounds parameters).
 */
export async function destroySessionsOf(db: DbOrTrx, userIds: readonly number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (let i = 0; i < userIds.length; i += 500) {
    const chunk = userIds.slice(i, i + 500);
    const rows = (await db('sessions').whereIn('user_id', chunk).select('user_id').count({ n: '*' }).groupBy('user_id')) as { user_id: number | string; n: number | string }[];
    for (const r of rows) out.set(Number(r.user_id), Number(r.n));
    if (rows.length > 0) await db('sessions').whereIn('user_id', chunk).delete();
  }
  return out;
}

/** End every session of a user at once (deactivation, deletion). */
export async function destroyUserSessions(db: DbOrTrx, userId: number): Promise<number> {
  return db('sessions').where({ user_id: userId }).delete();
}
