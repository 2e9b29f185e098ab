/**
 * The mapping: a pure function from (asserted groups, configuration, what the member holds now) to the
 * access they should hold, with the reasons. No I/O, no clock. The login, the audit log and the explain
 * trace all consume the same reasons, so what rolegate did and what it says it did cannot drift apart.
 *
 * Semantics (also the table in docs/mapping.md):
 *  1. Ownership moves only by a recorded transfer. The member holding it by the latest transfer stays
 *     Owner; otherwise the organization's `owner` email is Owner (source `manual`: a person wrote it) at
 *     every login, whatever role was set by hand, unless that email gave ownership away by a transfer.
 *  2. Groups unknown (no groups attribute, as Entra sends past its group limit): nothing changes; the member
 *     keeps what they hold (a new member is Not Activated) and a warning is recorded.
 *  3. Mapped groups present: the highest mapped role wins (source `saml`), even over a manual role, except
 *     that with `role_management: manual` a role set by hand is kept.
 *  4. No mapped group: a new member is Not Activated; a role set by hand (`manual`, or `api` through the admin
 *     API) is kept with its source; a role that
 *     came from the mapping (or from a former `owner:` line) becomes Deactivated; pending stays pending.
 *  5. Projects: the highest mapped project role, `Inherit` taking the organization role. No project access
 *     for Not Activated or Deactivated members. A project whose mapped groups are gone ends, unless its
 *     role was set by hand. With groups unknown, project memberships are kept.
 */
import type { ActiveOrgRole, OrgRole, RoleSource } from '../domain/roles.js';
import { compareOrgRoles, highestOrgRole, inheritedProjectRole, isActiveOrgRole, isSetByHand } from '../domain/roles.js';
import { groupKey } from '../configuration/groups.js';
import type { OrganizationConfig, OrgRoleRule, ProjectRoleRule, RuleSource } from '../configuration/types.js';

export interface Held {
  readonly role: OrgRole;
  readonly roleSource: RoleSource;
}

export interface HeldProject {
  readonly projectId: number;
  readonly role: ActiveOrgRole;
  readonly roleSource: RoleSource;
}

export interface DecisionInput {
  /** Lower-cased email. */
  readonly email: string;
  /** `null` = unknown (no groups attribute); `[]` = known to be none. */
  readonly groups: readonly string[] | null;
  /** The membership held now, if any. */
  readonly current: Held | null;
  readonly currentProjects: readonly HeldProject[];
  readonly ownership: OwnershipFacts;
}

/** What the recorded ownership transfers say about one member. */
export interface OwnershipFacts {
  /** The configured `owner:` email gave ownership away by a recorded transfer: the line no longer applies. */
  readonly ownerLineTransferred: boolean;
  /** This member holds ownership by the latest recorded transfer. */
  readonly holdsByTransfer: boolean;
}

/** No transfer was ever recorded (a new organization, a hypothetical member). */
export const NO_TRANSFER: OwnershipFacts = Object.freeze({ ownerLineTransferred: false, holdsByTransfer: false });

/** The facts for one member from the organization's transfer record (emails lower-cased). */
export function ownershipFacts(org: OrganizationConfig, record: { readonly gaveAway: readonly string[]; readonly holderUserId: number | null }, userId: number | null): OwnershipFacts {
  return { ownerLineTransferred: record.gaveAway.includes(org.owner), holdsByTransfer: userId !== null && record.holderUserId === userId };
}

/** A rule that matched, and the asserted group that matched it (its spelling as the IdP sent it). */
export interface RuleMatch {
  readonly group: string;
  readonly asserted: string;
  readonly role: string;
  readonly source: RuleSource;
  /** True for the rule whose role was chosen. */
  readonly decisive: boolean;
}

export type ReasonKind =
  | 'owner'
  | 'mapped'
  | 'groups_unknown'
  | 'new_without_mapped_group'
  | 'manual_kept'
  | 'no_mapped_group'
  | 'still_pending'
  | 'still_deactivated'
  | 'inactive_member'
  | 'project_manual_kept'
  | 'project_no_mapped_group';

export interface Reason {
  readonly kind: ReasonKind;
  /** One sentence for people (the explain trace, the audit page). */
  readonly text: string;
  readonly matches: readonly RuleMatch[];
}

export interface OrgDecision {
  readonly role: OrgRole;
  readonly roleSource: RoleSource;
  readonly reason: Reason;
}

export interface ProjectDecision {
  readonly projectId: number;
  /** null = no membership in this project. */
  readonly role: ActiveOrgRole | null;
  readonly roleSource: RoleSource;
  readonly reason: Reason;
}

export interface AccessDecision {
  readonly groupsKnown: boolean;
  readonly org: OrgDecision;
  /** One entry per configured project, plus any held project no longer configured is left alone. */
  readonly projects: readonly ProjectDecision[];
}

/** Group → rules index for one organization, built once per configuration object (the hot path is a lookup). */
interface Index {
  readonly fold: (group: string) => string;
  readonly org: ReadonlyMap<string, readonly OrgRoleRule[]>;
  readonly projects: ReadonlyMap<string, readonly { projectId: number; rule: ProjectRoleRule }[]>;
}

const indexes = new WeakMap<OrganizationConfig, Index>();

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function indexFor(org: OrganizationConfig): Index {
  const cached = indexes.get(org);
  if (cached !== undefined) return cached;
  // The same folding as the configuration's duplicate check (configuration/groups.ts).
  const match = org.sso.groupMatch;
  const fold = (g: string): string => groupKey(g, match);
  const orgRules = new Map<string, OrgRoleRule[]>();
  for (const rule of org.roles) push(orgRules, fold(rule.group), rule);
  const projectRules = new Map<string, { projectId: number; rule: ProjectRoleRule }[]>();
  for (const project of org.projects) for (const rule of project.rules) push(projectRules, fold(rule.group), { projectId: project.id, rule });
  const index: Index = { fold, org: orgRules, projects: projectRules };
  indexes.set(org, index);
  return index;
}

function reason(kind: ReasonKind, text: string, matches: readonly RuleMatch[] = []): Reason {
  return { kind, text, matches };
}

function describeMatches(matches: readonly RuleMatch[]): string {
  return matches.map((m) => `${m.asserted} → ${m.role}`).join(', ');
}

export function decideAccess(org: OrganizationConfig, input: DecisionInput): AccessDecision {
  const index = indexFor(org);
  const groupsKnown = input.groups !== null;
  const asserted = input.groups ?? [];

  // Which org rules and project rules the asserted groups hit (each asserted group looked up once).
  const orgHits: { rule: OrgRoleRule; asserted: string }[] = [];
  const projectHits = new Map<number, { rule: ProjectRoleRule; asserted: string }[]>();
  const seen = new Set<string>();
  for (const group of asserted) {
    const key = index.fold(group);
    if (seen.has(key)) continue;
    seen.add(key);
    for (const rule of index.org.get(key) ?? []) orgHits.push({ rule, asserted: group });
    for (const { projectId, rule } of index.projects.get(key) ?? []) {
      const list = projectHits.get(projectId);
      if (list === undefined) projectHits.set(projectId, [{ rule, asserted: group }]);
      else list.push({ rule, asserted: group });
    }
  }

  const orgDecision = decideOrg(org, input, groupsKnown, orgHits);
  const projects = org.projects.map((project) =>
    decideProject(project.id, orgDecision.role, input, groupsKnown, projectHits.get(project.id) ?? []),
  );
  return { groupsKnown, org: orgDecision, projects };
}

function decideOrg(
  org: OrganizationConfig,
  input: DecisionInput,
  groupsKnown: boolean,
  hits: readonly { rule: OrgRoleRule; asserted: string }[],
): OrgDecision {
  const current = input.current;
  if (current !== null && current.role === 'OW' && input.ownership.holdsByTransfer) {
    return { role: 'OW', roleSource: isSetByHand(current.roleSource) ? current.roleSource : 'manual', reason: reason('manual_kept', 'ownership was transferred to this member; the mapping does not change it') };
  }
  if (input.email === org.owner && !input.ownership.ownerLineTransferred) {
    return { role: 'OW', roleSource: 'manual', reason: reason('owner', `${input.email} is the organization's owner (set by organizations[].owner, never by a group or a hand change)`) };
  }
  // With `role_management: manual` every role set by hand sticks (ownership excepted: it follows transfers).
  // A role set by hand is `manual` (the Organization page) or `api` (the admin API); it keeps its source.
  if (current !== null && isSetByHand(current.roleSource) && current.role !== 'OW' && org.roleManagement === 'manual') {
    return { role: current.role, roleSource: current.roleSource, reason: reason('manual_kept', 'the role was set by hand in rolegate (role_management: manual); the mapping does not change it') };
  }
  if (!groupsKnown) {
    if (current === null) {
      return { role: 'NO', roleSource: 'saml', reason: reason('groups_unknown', 'the assertion carried no groups attribute (groups unknown); a new member starts Not Activated') };
    }
    return { role: current.role, roleSource: current.roleSource, reason: reason('groups_unknown', 'the assertion carried no groups attribute (groups unknown); the role held is kept') };
  }
  if (hits.length > 0) {
    const best = highestOrgRole(hits.map((h) => h.rule.role));
    const matches = hits.map<RuleMatch>((h) => ({
      group: h.rule.group,
      asserted: h.asserted,
      role: h.rule.role,
      source: h.rule.source,
      decisive: false,
    }));
    // The first rule (in file order of assertion) granting the winning role is the decisive one.
    const decisiveAt = matches.findIndex((m) => m.role === best);
    const marked = matches.map((m, i) => (i === decisiveAt ? { ...m, decisive: true } : m));
    const role = best ?? 'NO';
    return { role, roleSource: 'saml', reason: reason('mapped', `highest mapped role among: ${describeMatches(marked)}`, marked) };
  }
  if (current === null) {
    return { role: 'NO', roleSource: 'saml', reason: reason('new_without_mapped_group', 'no asserted group is mapped; a new member starts Not Activated') };
  }
  if (isSetByHand(current.roleSource) && current.role !== 'OW') {
    return { role: current.role, roleSource: current.roleSource, reason: reason('manual_kept', 'no asserted group is mapped; the role set by hand is kept') };
  }
  if (current.role === 'NO') {
    return { role: 'NO', roleSource: 'saml', reason: reason('still_pending', 'no asserted group is mapped; the member stays Not Activated') };
  }
  if (current.role === 'DI') {
    return { role: 'DI', roleSource: 'saml', reason: reason('still_deactivated', 'no asserted group is mapped; the member stays Deactivated') };
  }
  return { role: 'DI', roleSource: 'saml', reason: reason('no_mapped_group', `no asserted group is mapped any more; ${current.role} from the mapping is revoked (Deactivated)`) };
}

function decideProject(
  projectId: number,
  orgRole: OrgRole,
  input: DecisionInput,
  groupsKnown: boolean,
  hits: readonly { rule: ProjectRoleRule; asserted: string }[],
): ProjectDecision {
  const held = input.currentProjects.find((p) => p.projectId === projectId);
  if (!isActiveOrgRole(orgRole)) {
    return { projectId, role: null, roleSource: 'saml', reason: reason('inactive_member', 'Not Activated and Deactivated members have no project access') };
  }
  if (!groupsKnown) {
    return held === undefined
      ? { projectId, role: null, roleSource: 'saml', reason: reason('groups_unknown', 'groups unknown; no project membership held') }
      : { projectId, role: held.role, roleSource: held.roleSource, reason: reason('groups_unknown', 'groups unknown; the project role held is kept') };
  }
  let best: ActiveOrgRole | null = null;
  const matches: RuleMatch[] = [];
  for (const hit of hits) {
    const granted = hit.rule.role === 'INHERIT' ? inheritedProjectRole(orgRole) : hit.rule.role;
    matches.push({
      group: hit.rule.group,
      asserted: hit.asserted,
      role: hit.rule.role === 'INHERIT' ? `Inherit (${orgRole})` : hit.rule.role,
      source: hit.rule.source,
      decisive: false,
    });
    if (granted !== undefined && (best === null || compareOrgRoles(granted, best) > 0)) best = granted;
  }
  if (best !== null) {
    const winner = best;
    const decisiveAt = hits.findIndex((h) => (h.rule.role === 'INHERIT' ? inheritedProjectRole(orgRole) : h.rule.role) === winner);
    const marked = matches.map((m, i) => (i === decisiveAt ? { ...m, decisive: true } : m));
    return { projectId, role: winner, roleSource: 'saml', reason: reason('mapped', `highest mapped project role among: ${describeMatches(marked)}`, marked) };
  }
  if (held !== undefined && isSetByHand(held.roleSource)) {
    return { projectId, role: held.role, roleSource: held.roleSource, reason: reason('project_manual_kept', 'no asserted group maps to this project; the role set by hand is kept') };
  }
  return { projectId, role: null, roleSource: 'saml', reason: reason('project_no_mapped_group', 'no asserted group maps to this project') };
}
