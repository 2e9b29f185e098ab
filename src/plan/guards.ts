/**
 * The guards on individual role changes (issue 3), shared by a login, a reload and `rolegate apply`:
 *  - an Owner is never demoted by the mapping (ownership moves only by an explicit transfer);
 *  - the last active Administrator-or-Owner of an organization is never demoted or deactivated, so a
 *    mapping mistake can never lock everyone out of administering it.
 * A refused change is not made: the member keeps their role (and the project roles that follow from it),
 * and the caller audits the refusal.
 */
import type { DbOrTrx } from '../db/connect.js';
import { ADMIN_ROLES, countOtherAdmins } from '../db/plan.js';
import type { OrgRole } from '../domain/roles.js';

export type RefusalKind = 'owner' | 'last_admin';

export const isAdminRole = (role: OrgRole): boolean => ADMIN_ROLES.includes(role);

/** Inside the transaction that would make the change (the count is read, and on PostgreSQL locked, there). */
export async function refusal(db: DbOrTrx, organizationId: number, userId: number, from: OrgRole, to: OrgRole): Promise<RefusalKind | null> {
  if (from === 'OW' && to !== 'OW') return 'owner';
  if (isAdminRole(from) && !isAdminRole(to) && (await countOtherAdmins(db, organizationId, userId)) === 0) return 'last_admin';
  return null;
}

export function refusalText(kind: RefusalKind): string {
  return kind === 'owner'
    ? 'an Owner is never demoted by the mapping (ownership moves only by a transfer)'
    : 'the last active Administrator-or-Owner of the organization is never demoted or deactivated';
}
