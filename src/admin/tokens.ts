/**
 * API tokens: `Authorization: Token <key>` as Label Studio does. A key is 32 random bytes; only its
 * sha256 is stored. A token is only as good as its member's access, checked on every request.
 */
import { randomBytes } from 'node:crypto';
import type { Db, DbOrTrx } from '../db/connect.js';
import { appendAudit } from '../db/audit.js';
import type { MembershipRow } from '../db/memberships.js';
import { findMembership } from '../db/memberships.js';
import type { TokenRow } from '../db/api-tokens.js';
import { findLiveToken, findToken, hashTokenKey, insertToken, revokeToken, touchToken } from '../db/api-tokens.js';
import type { OrgRole } from '../domain/roles.js';
import { compareOrgRoles } from '../domain/roles.js';
import { RolegateError } from '../errors.js';

export type { TokenRow };

export const TOKEN_KEY = /^rg_[A-Za-z0-9_-]{43}$/;

export interface CreatedToken {
  readonly token: TokenRow;
  /** Shown once; never stored. */
  readonly key: string;
}

export async function createToken(
  db: Db,
  t: { organizationId: number; userId: number; name: string; createdBy: string; configRevision: string | null; ip: string | null },
  now: Date,
): Promise<CreatedToken> {
  const name = t.name.trim().slice(0, 100) || 'API token';
  const key = `rg_${randomBytes(32).toString('base64url')}`;
  const id = await db.transaction(async (trx) => {
    const tokenId = await insertToken(trx, { organizationId: t.organizationId, userId: t.userId, name, keyHash: hashTokenKey(key), keyPrefix: key.slice(0, 10), createdBy: t.createdBy }, now);
    await appendAudit(
      trx,
      [{ organizationId: t.organizationId, actor: t.createdBy, subjectUserId: t.userId, action: 'token_created', outcome: 'ok', reason: { token_id: tokenId, name, text: 'API token created' }, configRevision: t.configRevision, ip: t.ip }],
      now,
    );
    return tokenId;
  });
  const token = await findToken(db, t.organizationId, id);
  if (token === undefined) throw new Error('token vanished');
  return { token, key };
}

/**
 * Whether `by` may revoke a token of `owner`: the Owner any token, everyone their own, an Administrator the
 * tokens of lower roles (a deleted member's token too). Not an Owner's or another Administrator's: an
 * Administrator must not be able to cut the Owner's automation off, nor a peer's.
 */
export function mayRevoke(by: { userId: number; role: OrgRole }, owner: { userId: number; role: OrgRole | undefined }): boolean {
  if (by.role === 'OW' || by.userId === owner.userId) return true;
  return owner.role === undefined || compareOrgRoles(by.role, owner.role) > 0;
}

export async function revokeTokenById(
  db: Db,
  t: {
    organizationId: number;
    id: number;
    actor: string;
    /** The member revoking, checked by mayRevoke; null for the operator's CLI (full authority). */
    by: { userId: number; role: OrgRole } | null;
    configRevision: string | null;
    ip: string | null;
  },
  now: Date,
): Promise<void> {
  await db.transaction(async (trx) => {
    const token = await findToken(trx, t.organizationId, t.id);
    if (token === undefined || token.revokedAt !== null) throw new RolegateError('ERR_NOT_FOUND', 'no such live token in this organization');
    if (t.by !== null) {
      const owner = await findMembership(trx, t.organizationId, token.userId);
      const ownerRole = owner === undefined || owner.isDeleted ? undefined : owner.role;
      if (!mayRevoke(t.by, { userId: token.userId, role: ownerRole })) {
        throw new RolegateError('ERR_FORBIDDEN', "only the Owner or the token's own member may revoke the token of an Owner or Administrator");
      }
    }
    await revokeToken(trx, t.organizationId, t.id, now);
    await appendAudit(
      trx,
      [{ organizationId: t.organizationId, actor: t.actor, subjectUserId: token.userId, action: 'token_revoked', outcome: 'ok', reason: { token_id: token.id, name: token.name, text: 'API token revoked' }, configRevision: t.configRevision, ip: t.ip }],
      now,
    );
  });
}

/** The token and its member when the key is live and the member still has access (not deleted, not DI/NO). */
export async function authenticateKey(db: DbOrTrx, key: string, now: Date): Promise<{ token: TokenRow; member: MembershipRow } | undefined> {
  if (!TOKEN_KEY.test(key)) return undefined;
  const token = await findLiveToken(db, hashTokenKey(key));
  if (token === undefined) return undefined;
  const member = await findMembership(db, token.organizationId, token.userId);
  if (member === undefined || member.isDeleted || member.role === 'DI' || member.role === 'NO') return undefined;
  await touchToken(db, token.id, now);
  return { token, member };
}
