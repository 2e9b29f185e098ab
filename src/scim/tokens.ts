/**
 * SCIM tokens: the bearer keys an IdP presents on `/scim/v2`. A key is 32 random bytes with its own prefix
 * (`rgscim_`), only its sha256 is stored, and it belongs to an organization rather than to a member (an IdP
 * is not a person). It works only on `/scim/v2`, and an API token does not work there.
 */
import { randomBytes } from 'node:crypto';
import { appendAudit } from '../db/audit.js';
import type { Db, DbOrTrx } from '../db/connect.js';
import type { ScimTokenRow } from '../db/scim.js';
import { hashTokenKey } from '../db/api-tokens.js';
import { findLiveScimToken, findScimToken, insertScimToken, revokeScimToken, touchScimToken } from '../db/scim.js';
import { RolegateError } from '../errors.js';

export const SCIM_KEY = /^rgscim_[A-Za-z0-9_-]{43}$/;

export async function createScimToken(
  db: Db,
  t: { organizationId: number; name: string; createdBy: string; configRevision: string | null; ip: string | null },
  now: Date,
): Promise<{ token: ScimTokenRow; key: string }> {
  const name = t.name.trim().slice(0, 100) || 'SCIM token';
  const key = `rgscim_${randomBytes(32).toString('base64url')}`;
  const id = await db.transaction(async (trx) => {
    const tokenId = await insertScimToken(trx, { organizationId: t.organizationId, name, keyHash: hashTokenKey(key), keyPrefix: key.slice(0, 12), createdBy: t.createdBy }, now);
    await appendAudit(
      trx,
      [{ organizationId: t.organizationId, actor: t.createdBy, action: 'scim_token_created', outcome: 'ok', reason: { token_id: tokenId, name, text: 'SCIM token created' }, configRevision: t.configRevision, ip: t.ip }],
      now,
    );
    return tokenId;
  });
  const token = await findScimToken(db, t.organizationId, id);
  if (token === undefined) throw new Error('token vanished');
  return { token, key };
}

export async function revokeScimTokenById(
  db: Db,
  t: { organizationId: number; id: number; actor: string; configRevision: string | null; ip: string | null },
  now: Date,
): Promise<void> {
  await db.transaction(async (trx) => {
    const token = await findScimToken(trx, t.organizationId, t.id);
    if (token === undefined || token.revokedAt !== null) throw new RolegateError('ERR_NOT_FOUND', 'no such live SCIM token in this organization');
    await revokeScimToken(trx, t.organizationId, t.id, now);
    await appendAudit(
      trx,
      [{ organizationId: t.organizationId, actor: t.actor, action: 'scim_token_revoked', outcome: 'ok', reason: { token_id: token.id, name: token.name, text: 'SCIM token revoked' }, configRevision: t.configRevision, ip: t.ip }],
      now,
    );
  });
}

/** The live SCIM token of this key, or undefined. */
export async function authenticateScimKey(db: DbOrTrx, key: string, now: Date): Promise<ScimTokenRow | undefined> {
  if (!SCIM_KEY.test(key)) return undefined;
  const token = await findLiveScimToken(db, hashTokenKey(key));
  if (token !== undefined) await touchScimToken(db, token.id, now);
  return token;
}
