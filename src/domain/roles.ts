/**
 * The one closed set of roles. The API speaks codes, the YAML speaks names; precedence is defined here
 * and nowhere else.
 */

/** Organization roles that grant access, highest first. */
export const ACTIVE_ORG_ROLES = ['OW', 'AD', 'MA', 'RE', 'AN'] as const;
export type ActiveOrgRole = (typeof ACTIVE_ORG_ROLES)[number];

/** States: NO = Not Activated (pending: an account without a role), DI = Deactivated (access revoked). */
export const ORG_STATES = ['NO', 'DI'] as const;
export type OrgState = (typeof ORG_STATES)[number];

export type OrgRole = ActiveOrgRole | OrgState;
export const ORG_ROLES: readonly OrgRole[] = [...ACTIVE_ORG_ROLES, ...ORG_STATES];

export const ORG_ROLE_NAMES: Readonly<Record<OrgRole, string>> = {
  OW: 'Owner',
  AD: 'Administrator',
  MA: 'Manager',
  RE: 'Reviewer',
  AN: 'Annotator',
  NO: 'Not Activated',
  DI: 'Deactivated',
};

/** Roles a group may map to at organization level (Owner is set by `owner:`, states are not roles). */
export const MAPPABLE_ORG_ROLES = ['AD', 'MA', 'RE', 'AN'] as const;
export type MappableOrgRole = (typeof MAPPABLE_ORG_ROLES)[number];

/** Project-level roles: the two a project can grant itself, and Inherit (take the organization role). */
export const PROJECT_ROLES = ['RE', 'AN'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];
export type ProjectMappingRole = ProjectRole | 'INHERIT';
export const PROJECT_MAPPING_ROLE_NAMES: Readonly<Record<ProjectMappingRole, string>> = {
  RE: 'Reviewer',
  AN: 'Annotator',
  INHERIT: 'Inherit',
};

/**
 * Where a membership's role came from: Label Studio's RoleSourceEnum, the subset rolegate writes. `saml`:
 * the mapping at a login or an apply; `scim`: provisioning; `manual`: written by a person (a hand change
 * in the admin surface, an ownership transfer, or the `owner:` line of the configuration).
 */
export const ROLE_SOURCES = ['saml', 'scim', 'manual', 'api'] as const;
export type RoleSource = (typeof ROLE_SOURCES)[number];

export function isRoleSource(value: unknown): value is RoleSource {
  return typeof value === 'string' && (ROLE_SOURCES as readonly string[]).includes(value);
}

/**
 * The sources of a role set by hand: `manual` (the Organization page, the YAML's owner line, an ownership
 * transfer) and `api` (the Label Studio–compatible admin API). The mapping keeps such a role where it would
 * otherwise change it.
 */
export type HandSetSource = 'manual' | 'api';

export function isSetByHand(source: RoleSource): source is HandSetSource {
  return source === 'manual' || source === 'api';
}

/** The roles that administer an organization; an organization that has one always keeps one. */
export const ADMIN_ROLES = ['OW', 'AD'] as const;

export function isAdminRole(role: OrgRole): boolean {
  return role === 'OW' || role === 'AD';
}

const RANK: Readonly<Record<OrgRole, number>> = { OW: 5, AD: 4, MA: 3, RE: 2, AN: 1, NO: 0, DI: -1 };

export function isOrgRole(value: unknown): value is OrgRole {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

export function isActiveOrgRole(role: OrgRole): role is ActiveOrgRole {
  return RANK[role] > 0;
}

/** Positive when `a` outranks `b`. States rank below every role (NO above DI). */
export function compareOrgRoles(a: OrgRole, b: OrgRole): number {
  return RANK[a] - RANK[b];
}

export function highestOrgRole<R extends OrgRole>(roles: Iterable<R>): R | undefined {
  let best: R | undefined;
  for (const role of roles) if (best === undefined || RANK[role] > RANK[best]) best = role;
  return best;
}

/**
 * The project role an organization role confers through `Inherit`: the organization role itself (Label
 * Studio's ProjectRole.role is an organization role code). States confer nothing.
 */
export function inheritedProjectRole(orgRole: OrgRole): ActiveOrgRole | undefined {
  return isActiveOrgRole(orgRole) ? orgRole : undefined;
}

export const PROJECT_MAPPING_ROLE_BY_NAME: Readonly<Record<string, ProjectMappingRole>> = {
  Reviewer: 'RE',
  Annotator: 'AN',
  Inherit: 'INHERIT',
};
