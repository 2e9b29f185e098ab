/**
 * Label Studio's personal-access-token flow: a long-lived refresh token is exchanged at
 * `POST /api/token/refresh` for a short-lived access token, sent as `Authorization: Bearer <access>`.
 *
 * In rolegate the refresh token is an API token key (the same secret `Authorization: Token` takes), and an
 * access token is a JWT (HS256, as Label Studio's simplejwt issues them) naming that API token. Nothing
 * about an access token is stored: every use re-reads its API token and its member, so revoking the token,
 * deactivating or deleting the member (which revokes all their tokens) ends its access tokens at once,
 * however long they had left.
 */
import { createHmac } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { DbOrTrx } from '../db/connect.js';
import type { TokenRow } from '../db/api-tokens.js';
import { findToken, touchToken } from '../db/api-tokens.js';
import type { MembershipRow } from '../db/memberships.js';
import { findMembership } from '../db/memberships.js';
import { authenticateKey } from './tokens.js';

/** Five minutes: simplejwt's default ACCESS_TOKEN_LIFETIME, which Label Studio keeps. */
export const ACCESS_TOKEN_SECONDS = 300;
const ISSUER = 'rolegate';
const AUDIENCE = 'rolegate-admin-api';

/** The signing key: derived from the server secret under its own label, so it signs nothing else. */
function signingKey(serverSecret: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', serverSecret).update('rolegate access token v1').digest());
}

/** An access token for a live refresh token (an API token key), or undefined when the key is not live. */
export async function refreshAccessToken(db: DbOrTrx, serverSecret: string, refresh: string, now: Date): Promise<{ access: string; expiresAt: Date } | undefined> {
  const found = await authenticateKey(db, refresh, now);
  if (found === undefined) return undefined;
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + ACCESS_TOKEN_SECONDS;
  const access = await new SignJWT({ token_type: 'access', org: found.token.organizationId, tid: found.token.id })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(String(found.token.userId))
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(signingKey(serverSecret));
  return { access, expiresAt: new Date(exp * 1000) };
}

/** The API token and member behind a Bearer access token, when the token is valid, unexpired, and both are still live. */
export async function authenticateAccess(db: DbOrTrx, serverSecret: string, access: string, now: Date): Promise<{ token: TokenRow; member: MembershipRow } | undefined> {
  let claims: Record<string, unknown>;
  try {
    const verified = await jwtVerify(access, signingKey(serverSecret), {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      currentDate: now,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    claims = verified.payload as Record<string, unknown>;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return undefined;
    throw err;
  }
  const { org, tid, sub, token_type: type } = claims;
  if (type !== 'access' || typeof org !== 'number' || typeof tid !== 'number' || typeof sub !== 'string') return undefined;
  const token = await findToken(db, org, tid);
  if (token === undefined || token.revokedAt !== null || String(token.userId) !== sub) return undefined;
  const member = await findMembership(db, token.organizationId, token.userId);
  if (member === undefined || member.isDeleted || member.role === 'DI' || member.role === 'NO') return undefined;
  await touchToken(db, token.id, now);
  return { token, member };
}
