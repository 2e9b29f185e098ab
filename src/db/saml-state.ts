/**
 * SAML protocol state shared by every instance through the database: issued AuthnRequest ids (bound to a
 * browser) and consumed assertion ids. Both are consumed atomically, so a second use fails on any instance.
 */
import type { DbOrTrx } from './connect.js';

export async function saveAuthnRequest(
  db: DbOrTrx,
  r: { id: string; organizationId: number; bindingHash: string; nextPath: string; expiresAt: Date },
): Promise<void> {
  await db('authn_requests').insert({
    id: r.id,
    organization_id: r.organizationId,
    binding_hash: r.bindingHash,
    next_path: r.nextPath,
    expires_at: r.expiresAt,
  });
}

/**
 * Consume an AuthnRequest id issued to this browser for this organization. Returns the stored `next` path,
 * or undefined when there is no such live request (unknown, expired, other browser, other org, already used).
 * The DELETE is the atomic step: of two concurrent consumers only one deletes the row.
 */
export async function consumeAuthnRequest(
  db: DbOrTrx,
  q: { id: string; organizationId: number; bindingHash: string; now: Date },
): Promise<string | undefined> {
  const row = (await db('authn_requests')
    .where({ id: q.id, organization_id: q.organizationId, binding_hash: q.bindingHash })
    .where('expires_at', '>', q.now)
    .first('next_path')) as { next_path: string } | undefined;
  if (row === undefined) return undefined;
  const deleted = await db('authn_requests').where({ id: q.id, binding_hash: q.bindingHash }).delete();
  return deleted === 1 ? row.next_path : undefined;
}

/**
 * Record an assertion id as used; false when it was already used (a replay). Insert-if-absent (ON CONFLICT
 * DO NOTHING … RETURNING) rather than catching the unique violation: on PostgreSQL a failed statement aborts
 * the surrounding transaction, and a concurrent inserter waits for the first to commit, then sees the row.
 */
export async function consumeAssertion(
  db: DbOrTrx,
  a: { issuer: string; assertionId: string; expiresAt: Date },
): Promise<boolean> {
  const inserted = (await db('consumed_assertions')
    .insert({ issuer: a.issuer, assertion_id: a.assertionId, expires_at: a.expiresAt })
    .onConflict(['issuer', 'assertion_id'])
    .ignore()
    .returning('assertion_id')) as unknown[];
  return inserted.length === 1;
}

/** Housekeeping: forget what can no longer be used. */
export async function purgeExpired(db: DbOrTrx, now: Date): Promise<void> {
  await db('authn_requests').where('expires_at', '<=', now).delete();
  await db('consumed_assertions').where('expires_at', '<=', now).delete();
  await db('sessions').where('expires_at', '<=', now).delete();
}
