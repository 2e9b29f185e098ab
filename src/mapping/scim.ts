/**
 * The access a member SCIM manages should hold: pure, from the member's SCIM groups and SCIM `active`. For
 * such a member this replaces the SAML groups everywhere a decision is made (SCIM provisioning, a login, an
 * apply or reload): SCIM is authoritative for their groups and for whether they are active.
 *
 *  - `active: false` → Deactivated, and no project access. (The guards still apply: an Owner is never
 *    demoted, the last Administrator-or-Owner never deactivated.)
 *  - `active: true` → what the member's SCIM groups map to, exactly as SAML groups map (the same pure mapping:
 *    highest role wins, `Inherit`, the `owner:` email is Owner, a hand-set role kept where the mapping keeps
 *    one); in no mapped group, Not Activated. SCIM says "deactivated" with `active`, so leaving every mapped
 *    group leaves the member without a role rather than Deactivated, and a later group push gives it back.
 *
 * Role source `scim` on every role this decides, so the audit, the members list and `explain` tell SCIM's
 * changes from SAML's.
 */
import type { OrganizationConfig } from '../configuration/types.js';
import type { AccessDecision, Held, HeldProject, OrgDecision, OwnershipFacts, ProjectDecision } from './decide.js';
import { decideAccess } from './decide.js';

export interface ScimDecisionInput {
  readonly email: string;
  readonly active: boolean;
  /** The displayNames of the member's SCIM groups. */
  readonly groups: readonly string[];
  readonly current: Held | null;
  readonly currentProjects: readonly HeldProject[];
  readonly ownership: OwnershipFacts;
}

const asScim = <T extends OrgDecision | ProjectDecision>(d: T): T => (d.roleSource === 'saml' ? { ...d, roleSource: 'scim' } : d);

export function decideScimAccess(org: OrganizationConfig, input: ScimDecisionInput): AccessDecision {
  if (!input.active) {
    return {
      groupsKnown: true,
      org: { role: 'DI', roleSource: 'scim', reason: { kind: 'no_mapped_group', text: 'the IdP set active: false over SCIM; the member is Deactivated', matches: [] } },
      projects: org.projects.map((p) => ({
        projectId: p.id,
        role: null,
        roleSource: 'scim',
        reason: { kind: 'inactive_member', text: 'Not Activated and Deactivated members have no project access', matches: [] },
      })),
    };
  }
  // Only a hand-set role is carried into the decision: a role that came from groups (SAML's or SCIM's) or
  // a Deactivated state is decided afresh from the SCIM groups, so `active: true` reactivates.
  const current = input.current !== null && input.current.roleSource === 'manual' ? input.current : null;
  const d = decideAccess(org, { email: input.email, groups: input.groups, current, currentProjects: input.currentProjects, ownership: input.ownership });
  const org_ =
    d.org.reason.kind === 'new_without_mapped_group'
      ? { ...d.org, roleSource: 'scim' as const, reason: { ...d.org.reason, text: 'no SCIM group of the member is mapped; Not Activated' } }
      : asScim(d.org);
  return { groupsKnown: true, org: org_, projects: d.projects.map(asScim) };
}
