/**
 * SAML protocol state shared by every instance through the database: issued AuthnRequest ids (bound to a
 * browser) and consumed assertion ids. Both are consumed atomically, so a second use fails on any instance.
 */
import type { DbOrTrx } from './connect.js';
import { hotRows, hotRun, insertSql } from './hot.js';
import { str } from './rows.js';

const SAVE_REQUEST = insertSql('authn_requests', ['id', 'organization_id', 'binding_hash', 'next_path', 'expires_at'], 1);
const CONSUME_REQUEST = 'delete from authn_requests where id = ? and organization_id = ? and binding_hash = ? and expires_at > ? returning next_path';

export async function saveAuthnRequest(
  db: DbOrTrx,
  r: { id: string; organizationId: number; bindingHash: string; nextPath: string; expiresAt: Date },
): Promise<void> {
  await hotRun(db, SAVE_REQUEST, [r.id, r.organizationId, r.bindingHash, r.nextPath, r.expiresAt]);
}

/**
 * Consume an AuthnRequest id issued to this browser for this organization. Returns the stored `next` path,
 * or undefined when there is no such live request (unknown, expired, other browser, other org, already used).
 * One statement, `DELETE … RETURNING` (SQLite ≥ 3.35, PostgreSQL; raw SQL because knex drops `returning`
 * on a delete for better-sqlite3): of two concurrent consumers only one deletes the row and gets it back.
 */
export async function consumeAuthnRequest(
  db: DbOrTrx,
  q: { id: string; organizationId: number; bindingHash: string; now: Date },
): Promise<string | undefined> {
  const rows = await hotRows(db, CONSUME_REQUEST, [q.id, q.organizationId, q.bindingHash, q.now]);
  return rows.length === 1 ? str(rows[0]?.['next_path']) : undefined;
}

// Assertion ids are consumed by the login's first read (login-state.ts: insert-if-absent … RETURNING).

/** Housekeeping: forget what can no longer be used. */
export async function purgeExpired(db: DbOrTrx, now: Date): Promise<void> {
  await db('authn_requests').where('expires_at', '<=', now).delete();
  await db('consumed_assertions').where('expires_at', '<=', now).delete();
  await db('sessions').where('expires_at', '<=', now).delete();
}
