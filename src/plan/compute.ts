/**
 * The plan: what a configuration would change if every member logged in now with the groups the IdP last
 * asserted for them. Each member goes through the same pure `decideAccess` as a login; nothing here
 * decides a role. Writes nothing.
 *
 * - Groups never known (only logins without a groups attribute) and groups older than
 *   `guards.max_group_age_days` (stale) are unknown: `decideAccess` keeps what the member holds.
 * - Guards are evaluated here so that `plan` shows what `apply` would refuse: the configured Owner is
 *   never demoted, the last active Administrator-or-Owner is never demoted or deactivated, and too many
 *   demotions refuse the whole plan unless forced.
 */
import { groupKey } from '../configuration/groups.js';
import type { Config, OrganizationConfig, ProjectConfig } from '../configuration/types.js';
import type { Db, DbOrTrx } from '../db/connect.js';
import type { MemberWithGroups } from '../db/memberships.js';
import { loadMembersWithGroups } from '../db/memberships.js';
import type { OwnershipRecord } from '../db/ownership.js';
import { ownershipOf } from '../db/ownership.js';
import { latestRevision } from '../db/revisions.js';
import type { ActiveOrgRole, OrgRole, RoleSource } from '../domain/roles.js';
import { isActiveOrgRole, isAdminRole } from '../domain/roles.js';
import type { AccessDecision, Reason } from '../mapping/index.js';
import { decideAccess, effectiveGroups, ownershipFacts } from '../mapping/index.js';
import type { OrgTransition, RefusalRule } from '../members/invariants.js';
import { AdminCount, transitionOf } from '../members/invariants.js';

export type OrgChangeKind = Exclude<OrgTransition, 'created'>;
export type ProjectChangeKind = 'added' | 'removed' | 'changed';
export type RefusalKind = RefusalRule;
type PlanMember = MemberWithGroups;

/** One counter per kind of change, all zero: the shared start of a plan's and an apply's summary. */
export function zeroChangeCounts(): Record<OrgChangeKind | `project_${ProjectChangeKind}`, number> {
  return { promoted: 0, demoted: 0, deactivated: 0, activated: 0, source_changed: 0, project_added: 0, project_removed: 0, project_changed: 0 };
}

export interface MemberChange {
  readonly userId: number;
  readonly email: string;
  readonly kind: OrgChangeKind;
  readonly from: { readonly role: OrgRole; readonly roleSource: RoleSource };
  readonly to: { readonly role: OrgRole; readonly roleSource: RoleSource };
  readonly reason: Reason;
  /** Set when a guard refuses this change (it is listed, audited, and not applied). */
  readonly refused?: RefusalKind;
}

export interface ProjectChange {
  readonly userId: number;
  readonly email: string;
  readonly projectId: number;
  readonly projectTitle: string;
  readonly kind: ProjectChangeKind;
  readonly from: ActiveOrgRole | null;
  readonly to: ActiveOrgRole | null;
  readonly toSource: RoleSource;
  readonly reason: Reason;
}

export interface StaleMember {
  readonly userId: number;
  readonly email: string;
  readonly assertedAt: string;
  readonly ageDays: number;
}

export interface GuardVerdict {
  /** Demotions and deactivations the plan would apply (refused ones excluded). */
  readonly demotions: number;
  readonly activeMembers: number;
  readonly maxDemotions: number;
  readonly maxDemotionPercent: number;
  readonly exceeded: boolean;
  /** Why the plan is refused, for people; null when within the limits. */
  readonly message: string | null;
}

export interface OrgPlan {
  readonly organizationId: number;
  readonly title: string;
  readonly members: number;
  readonly activeMembers: number;
  readonly counts: Readonly<Record<OrgChangeKind | `project_${ProjectChangeKind}` | 'refused' | 'unknown' | 'stale', number>>;
  /** Org-level changes (refused ones included, marked). */
  readonly changes: readonly MemberChange[];
  readonly projectChanges: readonly ProjectChange[];
  readonly stale: readonly StaleMember[];
  readonly guard: GuardVerdict;
}

export interface Plan {
  readonly file: string;
  readonly revision: string;
  /** The revision most recently applied to this database (null: none recorded yet). */
  readonly currentRevision: string | null;
  readonly generatedAt: string;
  readonly organizations: readonly OrgPlan[];
  /** True when any organization exceeds its mass-demotion guard. */
  readonly refused: boolean;
}


const DAY_MS = 86_400_000;

/** Folded group → the projects with a rule for it, per organization object (built once). */
interface ProjectIndex {
  readonly byGroup: ReadonlyMap<string, readonly ProjectConfig[]>;
  readonly byId: ReadonlyMap<number, ProjectConfig>;
  /** Position in the file, to keep decisions in configuration order. */
  readonly position: ReadonlyMap<ProjectConfig, number>;
  /** Narrowed organizations by project set, reused (members cluster on few project sets), bounded. */
  readonly narrowed: Map<string, OrganizationConfig>;
}
const projectIndexes = new WeakMap<OrganizationConfig, ProjectIndex>();

function projectIndex(org: OrganizationConfig): ProjectIndex {
  let index = projectIndexes.get(org);
  if (index === undefined) {
    const map = new Map<string, ProjectConfig[]>();
    for (const project of org.projects) {
      for (const rule of project.rules) {
        const key = groupKey(rule.group, org.sso.groupMatch);
        const list = map.get(key);
        if (list === undefined) map.set(key, [project]);
        else if (!list.includes(project)) list.push(project);
      }
    }
    index = { byGroup: map, byId: new Map(org.projects.map((p) => [p.id, p])), position: new Map(org.projects.map((p, i) => [p, i])), narrowed: new Map() };
    projectIndexes.set(org, index);
  }
  return index;
}

/**
 * `org` narrowed to the projects that can concern this member: those a group of theirs has a rule for, and
 * those they hold. Every other project decides "no membership" for a member who has none — no change — so
 * leaving them out changes no outcome, and spares `decideAccess` one decision per configured project per
 * member (a million-fold saving at 100,000 members × 1,000 projects). The decisions themselves are still
 * `decideAccess`'s.
 */
function narrowed(org: OrganizationConfig, member: PlanMember, groups: readonly string[] | null): OrganizationConfig {
  const index = projectIndex(org);
  const wanted = new Set<ProjectConfig>();
  for (const g of groups ?? []) for (const p of index.byGroup.get(groupKey(g, org.sso.groupMatch)) ?? []) wanted.add(p);
  for (const held of member.projects) {
    const p = index.byId.get(held.projectId);
    if (p !== undefined) wanted.add(p);
  }
  if (wanted.size === org.projects.length) return org;
  const projects = [...wanted].sort((a, b) => (index.position.get(a) ?? 0) - (index.position.get(b) ?? 0));
  const key = projects.map((p) => p.id).join(',');
  let narrow = index.narrowed.get(key);
  if (narrow === undefined) {
    narrow = { ...org, projects };
    // Reusing the object also reuses decideAccess's rule index for it.
    if (index.narrowed.size >= 50_000) index.narrowed.clear();
    index.narrowed.set(key, narrow);
  }
  return narrow;
}

/** The decision for one stored member under `org`: the same call a login makes. */
export function decideForMember(org: OrganizationConfig, member: PlanMember, groups: readonly string[] | null, ownership: OwnershipRecord): AccessDecision {
  return decideAccess(narrowed(org, member, groups), {
    email: member.email,
    groups,
    current: { role: member.role, roleSource: member.roleSource },
    currentProjects: member.projects,
    ownership: ownershipFacts(org, ownership, member.userId),
  });
}

export function classify(from: OrgRole, to: OrgRole): OrgChangeKind {
  const t = transitionOf(from, to);
  return t === 'created' ? 'activated' : t;
}

export function isDemotion(kind: OrgChangeKind): boolean {
  return kind === 'demoted' || kind === 'deactivated';
}

/** The per-member diff of one organization, guards included. Pure given the loaded members. */
export function planOrganization(org: OrganizationConfig, members: readonly PlanMember[], ownership: OwnershipRecord, now: Date): OrgPlan {
  const guards = org.guards;
  const titles = new Map(org.projects.map((p) => [p.id, p.title]));
  const changes: MemberChange[] = [];
  const projectChanges: ProjectChange[] = [];
  const stale: StaleMember[] = [];
  let unknown = 0;
  let activeMembers = 0;
  let admins = 0;
  for (const member of members) {
    if (isActiveOrgRole(member.role)) activeMembers++;
    if (isAdminRole(member.role)) admins++;
    const eff = effectiveGroups(member, guards.maxGroupAgeDays, now);
    if (eff.stale && member.assertedAt !== null) {
      stale.push({
        userId: member.userId,
        email: member.email,
        assertedAt: member.assertedAt.toISOString(),
        ageDays: Math.floor((now.getTime() - member.assertedAt.getTime()) / DAY_MS),
      });
    } else if (eff.groups === null) unknown++;
    const decision = decideForMember(org, member, eff.groups, ownership);
    const next = decision.org;
    if (next.role !== member.role || next.roleSource !== member.roleSource) {
      changes.push({
        userId: member.userId,
        email: member.email,
        kind: classify(member.role, next.role),
        from: { role: member.role, roleSource: member.roleSource },
        to: { role: next.role, roleSource: next.roleSource },
        reason: next.reason,
      });
    }
    for (const p of decision.projects) {
      const held = member.projects.find((h) => h.projectId === p.projectId);
      const base = { userId: member.userId, email: member.email, projectId: p.projectId, projectTitle: titles.get(p.projectId) ?? '', toSource: p.roleSource, reason: p.reason };
      if (p.role === null) {
        if (held !== undefined) projectChanges.push({ ...base, kind: 'removed', from: held.role, to: null });
      } else if (held === undefined) projectChanges.push({ ...base, kind: 'added', from: null, to: p.role });
      else if (held.role !== p.role || held.roleSource !== p.roleSource) projectChanges.push({ ...base, kind: 'changed', from: held.role, to: p.role });
    }
  }

  // The write path's invariants, in its order (what adds an administrator is counted first).
  const ordered = orderForApply(changes);
  const count = new AdminCount(admins);
  const guarded = ordered.map((c): MemberChange => {
    const refused = count.check(c.from.role, c.to.role);
    return refused === null ? c : { ...c, refused };
  });
  // A refused org change keeps the member's role, so their project changes (which follow from it) are dropped too.
  const refusedUsers = new Set(guarded.filter((c) => c.refused !== undefined).map((c) => c.userId));
  const keptProjectChanges = projectChanges.filter((p) => !refusedUsers.has(p.userId));

  const counts = {
    ...zeroChangeCounts(),
    refused: refusedUsers.size,
    unknown,
    stale: stale.length,
  };
  for (const c of guarded) if (c.refused === undefined) counts[c.kind]++;
  for (const p of keptProjectChanges) counts[`project_${p.kind}`]++;

  const demotions = counts.demoted + counts.deactivated;
  const overCount = demotions > guards.maxDemotions;
  const overPercent = activeMembers > 0 && demotions * 100 > guards.maxDemotionPercent * activeMembers;
  const pct = activeMembers > 0 ? ((demotions * 100) / activeMembers).toFixed(1) : '0.0';
  const message =
    overCount || overPercent
      ? `organization ${org.id} (${org.title}): ${demotions} demotion(s) or deactivation(s) of ${activeMembers} active member(s) (${pct} %) exceed${
          overCount && overPercent ? 's both guards' : 's the guard'
        } max_demotions ${guards.maxDemotions} / max_demotion_percent ${guards.maxDemotionPercent} %`
      : null;
  return {
    organizationId: org.id,
    title: org.title,
    members: members.length,
    activeMembers,
    counts,
    changes: guarded,
    projectChanges: keptProjectChanges,
    stale,
    guard: { demotions, activeMembers, maxDemotions: guards.maxDemotions, maxDemotionPercent: guards.maxDemotionPercent, exceeded: message !== null, message },
  };
}

/** Promotions and activations before demotions, each group by user id: apply runs in this order. */
export function orderForApply<T extends Pick<MemberChange, 'kind' | 'userId'>>(changes: readonly T[]): T[] {
  return [...changes].sort((a, b) => Number(isDemotion(a.kind)) - Number(isDemotion(b.kind)) || a.userId - b.userId);
}

export async function computePlan(db: Db | DbOrTrx, config: Config, now: Date = new Date()): Promise<Plan> {
  const organizations: OrgPlan[] = [];
  for (const org of config.organizations) {
    const members = await loadMembersWithGroups(db, org.id);
    organizations.push(planOrganization(org, members, await ownershipOf(db, org.id), now));
  }
  const current = await latestRevision(db);
  return {
    file: config.file,
    revision: config.revision,
    currentRevision: current?.hash ?? null,
    generatedAt: now.toISOString(),
    organizations,
    refused: organizations.some((o) => o.guard.exceeded),
  };
}
