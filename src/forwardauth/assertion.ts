/**
 * X-Rolegate-Assertion: a compact JWS an upstream can verify against rolegate's JWKS, so that it need not
 * trust the network between itself and the proxy. Short-lived (at most 60 s) and bound to one upstream (`aud`).
 */
import { SignJWT } from 'jose';
import type { Identity } from './identity.js';
import type { SigningKeys } from './keys.js';

export interface AssertionClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  readonly email: string;
  readonly name: string;
  readonly org: number;
  readonly role: string;
  readonly projects: readonly { readonly id: number; readonly role: string }[];
  readonly iat: number;
  readonly exp: number;
}

export async function signAssertion(
  keys: SigningKeys,
  id: Identity,
  opts: { readonly issuer: string; readonly audience: string; readonly ttlSeconds: number; readonly now: Date },
): Promise<string> {
  const iat = Math.floor(opts.now.getTime() / 1000);
  return new SignJWT({
    email: id.email,
    name: `${id.firstName} ${id.lastName}`.trim(),
    org: id.organizationId,
    role: id.role,
    projects: id.projects.map((p) => ({ id: p.id, role: p.role })),
  })
    .setProtectedHeader({ alg: keys.current.alg, kid: keys.current.kid, typ: 'JWT' })
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setSubject(String(id.userId))
    .setIssuedAt(iat)
    .setExpirationTime(iat + opts.ttlSeconds)
    .sign(keys.current.privateKey);
}
