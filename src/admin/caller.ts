/** Who is calling the admin surface: a member, by browser session or API token, checked live per request. */
import type { OrgRole } from '../domain/roles.js';

export interface Caller {
  readonly kind: 'session' | 'token';
  readonly userId: number;
  readonly organizationId: number;
  /** The member's organization role as stored now (not when the session or token was made). */
  readonly role: OrgRole;
  readonly email: string | null;
  readonly tokenId?: number;
}

/** The audit `actor` of a change made by a member. */
export function actorOf(caller: Caller): string {
  return `user:${caller.userId}`;
}

/** Owner and Administrator run the organization; nobody else reaches the admin surface. */
export function isOrgAdmin(role: OrgRole): boolean {
  return role === 'OW' || role === 'AD';
}
