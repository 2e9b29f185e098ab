/**
 * "Is this role managed by the IdP?": computed with the same pure mapping a login uses, from the
 * member's last asserted groups, so the page's badge, the API's 409 and the next login agree.
 */
import type { OrganizationConfig } from '../configuration/types.js';
import type { OrgRole, RoleSource } from '../domain/roles.js';
import { NO_TRANSFER, decideAccess } from '../mapping/index.js';
import type { OwnershipFacts, RuleMatch } from '../mapping/index.js';

export interface IdpManaged {
  /** The mapped group (as the IdP sent it) that decides the role. */
  readonly group: string;
  /** Where the rule is written, e.g. `organizations[0].roles.LS-Admins`. */
  readonly rule: string;
  readonly line: number;
  /** The role the mapping grants (organization role code, or a project role label). */
  readonly role: string;
}

export interface ManagedInput {
  readonly email: string | null;
  readonly role: OrgRole;
  readonly roleSource: RoleSource;
  /** Last asserted groups; null = never known. */
  readonly groups: readonly string[] | null;
}

/** An Owner holds ownership by the owner line or a recorded transfer, never by a group: it is kept as held. */
function heldOwnership(m: ManagedInput): OwnershipFacts {
  return m.role === 'OW' ? { ownerLineTransferred: false, holdsByTransfer: true } : NO_TRANSFER;
}

function decisive(matches: readonly RuleMatch[]): RuleMatch | undefined {
  return matches.find((m) => m.decisive) ?? matches[0];
}

function toManaged(m: RuleMatch | undefined): IdpManaged | null {
  return m === undefined ? null : { group: m.asserted, rule: m.source.path, line: m.source.line, role: m.role };
}

/** The rule that owns this member's organization role, or null when an admin may set it by hand. */
export function orgRoleManagedBy(org: OrganizationConfig, m: ManagedInput): IdpManaged | null {
  if (org.roleManagement === 'manual') return null;
  if (m.email === null || m.groups === null) return null;
  const d = decideAccess(org, { email: m.email, groups: m.groups, current: { role: m.role, roleSource: m.roleSource }, currentProjects: [], ownership: heldOwnership(m) });
  if (d.org.reason.kind !== 'mapped') return null;
  return toManaged(decisive(d.org.reason.matches));
}

/**
 * The rule that owns this member's role in a project, or null. Project roles follow the mapping whatever
 * `role_management` says (it governs the organization role only), so this is never relaxed: a login would
 * overwrite a hand-set project role where a project group applies.
 */
export function projectRoleManagedBy(org: OrganizationConfig, m: ManagedInput, projectId: number): IdpManaged | null {
  if (m.email === null || m.groups === null) return null;
  const d = decideAccess(org, { email: m.email, groups: m.groups, current: { role: m.role, roleSource: m.roleSource }, currentProjects: [], ownership: heldOwnership(m) });
  const p = d.projects.find((x) => x.projectId === projectId);
  if (p === undefined || p.reason.kind !== 'mapped') return null;
  return toManaged(decisive(p.reason.matches));
}

export function managedDetail(m: IdpManaged, what: string): string {
  return `${what} is managed by the IdP: group "${m.group}" (rule ${m.rule}, line ${m.line}) grants ${m.role}; change the member's groups in the IdP, or set role_management: manual for the organization`;
}
