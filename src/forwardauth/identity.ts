/**
 * What an allowed request carries to the upstream: the identity headers, every one of them always (empty
 * rather than absent, so that a proxy copying only the headers present in the answer can never let a client's
 * own copy through), and the claims of X-Rolegate-Assertion.
 */
import type { ActiveOrgRole } from '../domain/roles.js';

export const IDENTITY_HEADERS = [
  'X-Rolegate-User',
  'X-Rolegate-Email',
  'X-Rolegate-Name',
  'X-Rolegate-Org',
  'X-Rolegate-Org-Role',
  'X-Rolegate-Projects',
  'X-Rolegate-Groups',
  'X-Rolegate-Assertion',
] as const;
export type IdentityHeader = (typeof IDENTITY_HEADERS)[number];

export interface Identity {
  readonly userId: number;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly organizationId: number;
  readonly role: ActiveOrgRole;
  /** Sorted by id. */
  readonly projects: readonly { readonly id: number; readonly role: ActiveOrgRole }[];
  /** The groups of the last assertion (empty when never asserted). */
  readonly groups: readonly string[];
}

/**
 * Header values are ASCII: `%` and `,` (the list separator) and anything outside printable ASCII are
 * percent-encoded as UTF-8, so `José` is `Jos%C3%A9` and a group `a,b` stays one item.
 */
export function headerText(value: string): string {
  // A lone surrogate cannot be encoded as UTF-8: it becomes U+FFFD first.
  const wellFormed = value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  return wellFormed.replace(/[^\x20-\x24\x26-\x2b\x2d-\x7e]/gu, (c) => encodeURIComponent(c));
}

export function identityHeaders(id: Identity, assertion: string): Record<IdentityHeader, string> {
  return {
    'X-Rolegate-User': String(id.userId),
    'X-Rolegate-Email': headerText(id.email),
    'X-Rolegate-Name': headerText(`${id.firstName} ${id.lastName}`.trim()),
    'X-Rolegate-Org': String(id.organizationId),
    'X-Rolegate-Org-Role': id.role,
    'X-Rolegate-Projects': id.projects.map((p) => `${p.id}:${p.role}`).join(','),
    'X-Rolegate-Groups': id.groups.map(headerText).join(','),
    'X-Rolegate-Assertion': assertion,
  };
}
