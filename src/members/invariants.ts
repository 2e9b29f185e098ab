/**
 * The invariants of organization roles, as pure functions: the write path enforces them under its lock,
 * and `plan` uses the same functions to show what `apply` would refuse.
 *
 *  - An Owner stops being Owner only by a recorded ownership transfer (never by the mapping, a hand change
 *    of their role, or a deletion).
 *  - An organization that has an active Owner or Administrator always keeps one: the change that would
 *    take away the last one is refused.
 */
import type { OrgRole } from '../domain/roles.js';
import { compareOrgRoles, isActiveOrgRole, isAdminRole } from '../domain/roles.js';

export type RefusalRule = 'owner' | 'last_admin';

export type OrgTransition = 'created' | 'promoted' | 'demoted' | 'activated' | 'deactivated' | 'source_changed';

/** How an organization role changes; `from` null = a new membership. */
export function transitionOf(from: OrgRole | null, to: OrgRole): OrgTransition {
  if (from === null) return 'created';
  if (to === 'DI') return 'deactivated';
  if (!isActiveOrgRole(from) && isActiveOrgRole(to)) return 'activated';
  const cmp = compareOrgRoles(to, from);
  if (cmp > 0) return 'promoted';
  if (cmp < 0) return 'demoted';
  return 'source_changed';
}

/** The change loses the organization an active Owner or Administrator (`to` null = deletion). */
export function removesAdmin(from: OrgRole | null, to: OrgRole | null): boolean {
  return from !== null && isAdminRole(from) && (to === null || !isAdminRole(to));
}

export function addsAdmin(from: OrgRole | null, to: OrgRole | null): boolean {
  return to !== null && isAdminRole(to) && (from === null || !isAdminRole(from));
}

/**
 * Counts the organization's active Owners and Administrators through a sequence of changes and says which
 * must be refused. Feed it every change that adds one before those that take one away (the write path and
 * plan both do), so that a batch promoting B while demoting A is allowed.
 */
export class AdminCount {
  #left: number;
  constructor(active: number) {
    this.#left = active;
  }

  get left(): number {
    return this.#left;
  }

  /** null when allowed (and then counted), else the rule that refuses it. */
  check(from: OrgRole | null, to: OrgRole | null, opts: { transfer?: boolean } = {}): RefusalRule | null {
    if (from === 'OW' && to !== 'OW' && opts.transfer !== true) return 'owner';
    if (removesAdmin(from, to)) {
      if (this.#left <= 1) return 'last_admin';
      this.#left--;
    } else if (addsAdmin(from, to)) {
      this.#left++;
    }
    return null;
  }
}

export function refusalText(rule: RefusalRule): string {
  return rule === 'owner'
    ? 'an Owner stops being Owner only by an ownership transfer'
    : 'the last active Administrator-or-Owner of the organization is never demoted, deactivated or deleted';
}
