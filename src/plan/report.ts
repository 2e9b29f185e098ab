/**
 * The mapped-roles report: for one organization, each rule of the configuration with the members it grants
 * a role to now, the groups the IdP asserts that no rule maps, and the members whose groups were last seen
 * long ago. Every member goes through the same `decideForMember` as `plan` (and so as a login), with the
 * groups stored at their last login; the report counts the rule a decision names as decisive, so it agrees
 * with the explain trace and the Organization page's "Managed by". Pure: no I/O, the clock is a parameter.
 */
import { groupKey } from '../configuration/groups.js';
import type { OrganizationConfig } from '../configuration/types.js';
import type { DbOrTrx } from '../db/connect.js';
import type { MemberWithGroups } from '../db/memberships.js';
import { loadMembersWithGroups } from '../db/memberships.js';
import type { OwnershipRecord } from '../db/ownership.js';
import { ownershipOf } from '../db/ownership.js';
import type { OrgRole } from '../domain/roles.js';
import { effectiveGroups } from '../mapping/index.js';
import type { OrgPlan } from './compute.js';
import { decideForMember, planOrganization } from './compute.js';

export interface ReportMember {
  readonly userId: number;
  readonly email: string;
  readonly role: OrgRole;
}

export interface RuleReport {
  /** `organization` for `roles:`, else the project's id. */
  readonly scope: 'organization' | number;
  readonly scopeTitle: string;
  readonly group: string;
  /** The role the rule grants (organization role code, or RE / AN / INHERIT for a project). */
  readonly role: string;
  readonly path: string;
  readonly line: number;
  /** Members whose role this rule decides now. */
  readonly members: readonly ReportMember[];
}

export interface UnmappedGroup {
  readonly group: string;
  readonly members: readonly ReportMember[];
}

export interface SeenLongAgo {
  readonly member: ReportMember;
  /** null: the IdP never sent this member's groups. */
  readonly assertedAt: Date | null;
  readonly ageDays: number | null;
}

export interface MappingReport {
  readonly rules: readonly RuleReport[];
  readonly unmapped: readonly UnmappedGroup[];
  /** The age past which groups count as seen long ago: guards.max_group_age_days, else this default. */
  readonly staleAfterDays: number;
  readonly seenLongAgo: readonly SeenLongAgo[];
  readonly members: number;
}

/** Without `guards.max_group_age_days`, a month without a sign-in is what the report calls long ago. */
export const DEFAULT_STALE_AFTER_DAYS = 30;
const DAY_MS = 86_400_000;

export function mappingReport(org: OrganizationConfig, members: readonly MemberWithGroups[], ownership: OwnershipRecord, now: Date): MappingReport {
  const guards = org.guards;
  const staleAfterDays = guards.maxGroupAgeDays ?? DEFAULT_STALE_AFTER_DAYS;
  const fold = (g: string) => groupKey(g, org.sso.groupMatch);

  const rules: { report: RuleReport; granted: ReportMember[] }[] = [];
  const byPath = new Map<string, ReportMember[]>();
  const add = (scope: RuleReport['scope'], scopeTitle: string, group: string, role: string, source: { path: string; line: number }) => {
    const granted: ReportMember[] = [];
    byPath.set(source.path, granted);
    rules.push({ report: { scope, scopeTitle, group, role, path: source.path, line: source.line, members: granted }, granted });
  };
  for (const r of org.roles) add('organization', org.title, r.group, r.role, r.source);
  for (const p of org.projects) for (const r of p.rules) add(p.id, p.title, r.group, r.role, r.source);

  const mapped = new Set<string>([...org.roles.map((r) => fold(r.group)), ...org.projects.flatMap((p) => p.rules.map((r) => fold(r.group)))]);
  const unmapped = new Map<string, { group: string; members: ReportMember[] }>();
  const seenLongAgo: SeenLongAgo[] = [];

  for (const m of members) {
    const who: ReportMember = { userId: m.userId, email: m.email, role: m.role };
    const { groups } = effectiveGroups(m, guards.maxGroupAgeDays, now);
    // Stale groups are unknown to `plan`; the report still says which rules they would match, from the
    // groups as last seen, because "who does this rule cover" is the question asked here.
    const decision = decideForMember(org, m, groups ?? m.groups, ownership);
    const decisive = [...decision.org.reason.matches, ...decision.projects.flatMap((p) => p.reason.matches)].filter((x) => x.decisive);
    for (const match of decisive) byPath.get(match.source.path)?.push(who);

    for (const g of m.groups ?? []) {
      const key = fold(g);
      if (mapped.has(key)) continue;
      const entry = unmapped.get(key) ?? { group: g, members: [] };
      entry.members.push(who);
      unmapped.set(key, entry);
    }
    if (m.assertedAt === null) {
      if (m.role !== 'OW') seenLongAgo.push({ member: who, assertedAt: null, ageDays: null });
    } else {
      const ageDays = Math.floor((now.getTime() - m.assertedAt.getTime()) / DAY_MS);
      if (ageDays > staleAfterDays) seenLongAgo.push({ member: who, assertedAt: m.assertedAt, ageDays });
    }
  }
  seenLongAgo.sort((a, b) => (b.ageDays ?? Infinity) - (a.ageDays ?? Infinity) || a.member.email.localeCompare(b.member.email));
  return {
    rules: rules.map((r) => r.report),
    unmapped: [...unmapped.values()].sort((a, b) => b.members.length - a.members.length || a.group.localeCompare(b.group)),
    staleAfterDays,
    seenLongAgo,
    members: members.length,
  };
}

/** The report for `org` from the stored members (the Mapping page). */
export async function loadMappingReport(db: DbOrTrx, org: OrganizationConfig, now: Date): Promise<MappingReport> {
  return mappingReport(org, await loadMembersWithGroups(db, org.id), await ownershipOf(db, org.id), now);
}

/**
 * What `org` as another configuration defines it (same id) would change for the stored members: the plan
 * `rolegate plan` prints for it, computed by the same planOrganization. Writes nothing.
 */
export async function previewOrganizationPlan(db: DbOrTrx, org: OrganizationConfig, now: Date): Promise<OrgPlan> {
  return planOrganization(org, await loadMembersWithGroups(db, org.id), await ownershipOf(db, org.id), now);
}
