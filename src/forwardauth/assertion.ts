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

/**
 * Reuses a signed assertion while it is young (at most a sixth of its lifetime: 5 s of the default 30 s) for
 * exactly the same claims. The decision itself is still made from the database on every request, and any
 * change to the member (role, projects, name, email) changes the claims and so gets a new assertion; only a
 * signature per request is saved, which under load costs more than the rest of the decision.
 */
export class AssertionCache {
  readonly #entries = new Map<string, { jws: string; until: number }>();
  static readonly MAX_ENTRIES = 10_000;

  async get(
    keys: SigningKeys,
    id: Identity,
    opts: { readonly issuer: string; readonly audience: string; readonly ttlSeconds: number; readonly now: Date },
  ): Promise<string> {
    const key = JSON.stringify([keys.current.kid, opts.issuer, opts.audience, opts.ttlSeconds, id]);
    const now = opts.now.getTime();
    const hit = this.#entries.get(key);
    if (hit !== undefined && hit.until > now) return hit.jws;
    const jws = await signAssertion(keys, id, opts);
    // Bounded: past the limit, start over rather than track ages (a cold cache only costs signatures).
    if (this.#entries.size >= AssertionCache.MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(key, { jws, until: Math.floor(now / 1000) * 1000 + Math.floor((opts.ttlSeconds * 1000) / 6) });
    return jws;
  }
}
