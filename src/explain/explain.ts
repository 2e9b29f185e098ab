/**
 * "Why does this member have this role?" The trace is built from the same `decideAccess` the login uses
 * (the decision, its reasons and the decisive rules); the only thing computed here is, for each rule,
 * whether one of the member's groups names it (folded with the same `groupKey` as the mapping), so that
 * rules that did not decide — or that matched but were overruled (owner, groups unknown, inactive
 * member) — are listed too.
 */
import { groupKey } from '../configuration/groups.js';
import type { Config, OrganizationConfig, RuleSource } from '../configuration/types.js';
import type { DbOrTrx } from '../db/connect.js';
import { findMemberGroups } from '../db/member-groups.js';
import type { MembershipRow } from '../db/memberships.js';
import { findMembership } from '../db/memberships.js';
import { ownershipOf } from '../db/ownership.js';
import { listProjectMemberships } from '../db/project-memberships.js';
import { findUser, findUserByEmail } from '../db/users.js';
import type { ActiveOrgRole, OrgRole, RoleSource } from '../domain/roles.js';
import { ORG_ROLE_NAMES, PROJECT_MAPPING_ROLE_NAMES } from '../domain/roles.js';
import { RolegateError } from '../errors.js';
import type { AccessDecision, Reason, RuleMatch } from '../mapping/index.js';
import { NO_TRANSFER, decideAccess, effectiveGroups, ownershipFacts } from '../mapping/index.js';

export interface RuleTrace {
  readonly group: string;
  /** Role name as in the YAML (Administrator, Reviewer, Inherit…). */
  readonly role: string;
  readonly source: RuleSource;
  /** One of the member's groups names this rule. */
  readonly matched: boolean;
  /** The group as the IdP spelt it, when matched. */
  readonly asserted: string | null;
  /** This rule's role was the one chosen. */
  readonly decisive: boolean;
}

export interface RoleChange {
  readonly scope: 'organization' | 'project';
  readonly projectId: number | null;
  readonly from: OrgRole | null;
  readonly to: OrgRole | null;
  readonly fromSource: RoleSource | null;
  readonly toSource: RoleSource | null;
}

export interface ExplainTrace {
  readonly organization: { readonly id: number; readonly title: string };
  readonly configRevision: string;
  /** null user id: a hypothetical member (`--groups`), nothing read from the database. */
  readonly member: { readonly userId: number | null; readonly email: string; readonly hypothetical: boolean };
  readonly groups: {
    /** What the decision used: null = unknown. */
    readonly used: readonly string[] | null;
    /** As last stored (null = never known). */
    readonly lastAsserted: readonly string[] | null;
    readonly assertedAt: string | null;
    readonly assertionId: string | null;
    /** Older than guards.max_group_age_days: treated as unknown by plan/apply (a login would use fresh groups). */
    readonly stale: boolean;
  };
  /** The membership as stored, with the reason recorded when it was last written. */
  readonly stored: {
    readonly role: OrgRole;
    readonly roleSource: RoleSource;
    readonly updatedAt: string;
    readonly reason: unknown;
    readonly projects: readonly { projectId: number; role: ActiveOrgRole; roleSource: RoleSource; reason: unknown }[];
  } | null;
  readonly organizationRules: readonly RuleTrace[];
  readonly decision: {
    readonly org: { readonly role: OrgRole; readonly roleSource: RoleSource; readonly reason: Reason };
    readonly projects: readonly {
      readonly projectId: number;
      readonly title: string;
      readonly role: ActiveOrgRole | null;
      readonly roleSource: RoleSource;
      readonly reason: Reason;
      readonly rules: readonly RuleTrace[];
    }[];
  };
  /** What a login now (with the groups above) would change; empty = nothing. */
  readonly changes: readonly RoleChange[];
}

function orgOf(config: Config, orgId: number): OrganizationConfig {
  const org = config.organizations.find((o) => o.id === orgId);
  if (org === undefined) throw new RolegateError('ERR_NOT_FOUND', `organization ${orgId} is not configured`);
  return org;
}

function ruleTraces(
  org: OrganizationConfig,
  rules: readonly { group: string; role: string; source: RuleSource }[],
  groups: readonly string[] | null,
  matches: readonly RuleMatch[],
): RuleTrace[] {
  const fold = (g: string): string => groupKey(g, org.sso.groupMatch);
  const asserted = new Map<string, string>();
  for (const g of groups ?? []) if (!asserted.has(fold(g))) asserted.set(fold(g), g);
  return rules.map((rule) => {
    const hit = asserted.get(fold(rule.group));
    return {
      group: rule.group,
      role: rule.role,
      source: rule.source,
      matched: hit !== undefined,
      asserted: hit ?? null,
      decisive: matches.some((m) => m.decisive && m.source.path === rule.source.path),
    };
  });
}

function buildTrace(
  config: Config,
  org: OrganizationConfig,
  member: ExplainTrace['member'],
  groups: ExplainTrace['groups'],
  stored: ExplainTrace['stored'],
  decision: AccessDecision,
): ExplainTrace {
  const orgRules = ruleTraces(
    org,
    org.roles.map((r) => ({ group: r.group, role: ORG_ROLE_NAMES[r.role], source: r.source })),
    groups.used,
    decision.org.reason.matches,
  );
  const projects = org.projects.map((p) => {
    const d = decision.projects.find((x) => x.projectId === p.id);
    const reason: Reason = d?.reason ?? { kind: 'project_no_mapped_group', text: 'no decision', matches: [] };
    return {
      projectId: p.id,
      title: p.title,
      role: d?.role ?? null,
      roleSource: d?.roleSource ?? 'saml',
      reason,
      rules: ruleTraces(
        org,
        p.rules.map((r) => ({ group: r.group, role: PROJECT_MAPPING_ROLE_NAMES[r.role], source: r.source })),
        groups.used,
        reason.matches,
      ),
    };
  });
  const changes: RoleChange[] = [];
  const from = stored?.role ?? null;
  if (from !== decision.org.role || (stored?.roleSource ?? null) !== decision.org.roleSource) {
    changes.push({ scope: 'organization', projectId: null, from, to: decision.org.role, fromSource: stored?.roleSource ?? null, toSource: decision.org.roleSource });
  }
  for (const p of projects) {
    const held = stored?.projects.find((h) => h.projectId === p.projectId);
    if ((held?.role ?? null) !== p.role || (held !== undefined && p.role !== null && held.roleSource !== p.roleSource)) {
      changes.push({ scope: 'project', projectId: p.projectId, from: held?.role ?? null, to: p.role, fromSource: held?.roleSource ?? null, toSource: p.role === null ? null : p.roleSource });
    }
  }
  return {
    organization: { id: org.id, title: org.title },
    configRevision: config.revision,
    member,
    groups,
    stored,
    organizationRules: orgRules,
    decision: { org: decision.org, projects },
    changes,
  };
}

/**
 * The trace for a stored member: `user` is a user id or an email (case-insensitive). Reads only.
 * Throws ERR_NOT_FOUND for an unknown organization or member.
 */
export async function explainMember(db: DbOrTrx, config: Config, organizationId: number, user: number | string, now: Date = new Date()): Promise<ExplainTrace> {
  const org = orgOf(config, organizationId);
  const row = typeof user === 'number' ? await findUser(db, org.id, user) : await findUserByEmail(db, org.id, user.trim().toLowerCase());
  if (row === undefined) throw new RolegateError('ERR_NOT_FOUND', `no member ${String(user)} in organization ${org.id}`);
  const membership: MembershipRow | undefined = await findMembership(db, org.id, row.id);
  const held = await listProjectMemberships(db, org.projects.map((p) => p.id), { userIds: [row.id] });
  const g = await findMemberGroups(db, row.id);
  const lastAsserted = g?.groups ?? null;
  const eff = effectiveGroups({ groups: lastAsserted, assertedAt: g?.assertedAt ?? null }, org.guards.maxGroupAgeDays, now);
  const decision = decideAccess(org, {
    email: row.email,
    groups: eff.groups,
    current: membership === undefined ? null : { role: membership.role, roleSource: membership.roleSource },
    currentProjects: held.map((p) => ({ projectId: p.projectId, role: p.role, roleSource: p.roleSource })),
    ownership: ownershipFacts(org, await ownershipOf(db, org.id), row.id),
  });
  return buildTrace(
    config,
    org,
    { userId: row.id, email: row.email, hypothetical: false },
    { used: eff.groups, lastAsserted, assertedAt: g?.assertedAt?.toISOString() ?? null, assertionId: g?.assertionId ?? null, stale: eff.stale },
    membership === undefined
      ? null
      : {
          role: membership.role,
          roleSource: membership.roleSource,
          updatedAt: membership.updatedAt.toISOString(),
          reason: membership.reason,
          projects: held.map((p) => ({ projectId: p.projectId, role: p.role, roleSource: p.roleSource, reason: p.reason })),
        },
    decision,
  );
}

/** A hypothetical new member with these groups (`explain --groups`): no database involved. */
export function explainGroups(config: Config, organizationId: number, groups: readonly string[], email = 'hypothetical@explain.invalid'): ExplainTrace {
  const org = orgOf(config, organizationId);
  const decision = decideAccess(org, { email: email.toLowerCase(), groups, current: null, currentProjects: [], ownership: NO_TRANSFER });
  return buildTrace(
    config,
    org,
    { userId: null, email: email.toLowerCase(), hypothetical: true },
    { used: groups, lastAsserted: groups, assertedAt: null, assertionId: null, stale: false },
    null,
    decision,
  );
}

// ---- text -------------------------------------------------------------------------------------------------

const roleName = (r: OrgRole | null): string => (r === null ? '(none)' : ORG_ROLE_NAMES[r]);

function ruleLine(r: RuleTrace): string {
  const mark = r.decisive ? '✔ decisive' : r.matched ? '✔ matched ' : '✘ no match';
  return `    ${mark}  ${r.group} → ${r.role}  (line ${r.source.line}, ${r.source.path})${r.matched && r.asserted !== r.group ? ` [asserted as "${r.asserted}"]` : ''}`;
}

export function renderExplain(t: ExplainTrace): string {
  const out: string[] = [];
  out.push(`Organization ${t.organization.id} (${t.organization.title}), config revision ${t.configRevision.slice(0, 12)}`);
  out.push(t.member.hypothetical ? `Hypothetical member (no database): ${t.member.email}` : `Member ${t.member.email} (user id ${t.member.userId})`);
  const g = t.groups;
  if (t.member.hypothetical) out.push(`Groups: ${g.used === null || g.used.length === 0 ? '(none)' : g.used.join(', ')}`);
  else if (g.lastAsserted === null) out.push('Groups last asserted: never known (logins without a groups attribute only) — treated as unknown');
  else {
    out.push(`Groups last asserted ${g.assertedAt ?? '(time unknown)'}${g.assertionId === null ? '' : ` (assertion ${g.assertionId})`}: ${g.lastAsserted.length === 0 ? '(none)' : g.lastAsserted.join(', ')}`);
    if (g.stale) out.push('  stale: older than guards.max_group_age_days, so plan/apply treat them as unknown');
  }
  if (t.stored !== null) {
    out.push(`Stored: ${roleName(t.stored.role)} (source ${t.stored.roleSource}, since ${t.stored.updatedAt})`);
    for (const p of t.stored.projects) out.push(`  project ${p.projectId}: ${roleName(p.role)} (source ${p.roleSource})`);
  }
  out.push('');
  out.push('Organization rules:');
  if (t.organizationRules.length === 0) out.push('    (none configured)');
  for (const r of t.organizationRules) out.push(ruleLine(r));
  out.push(`  → ${roleName(t.decision.org.role)} (source ${t.decision.org.roleSource}): ${t.decision.org.reason.text}`);
  for (const p of t.decision.projects) {
    out.push('');
    out.push(`Project ${p.projectId} (${p.title}):`);
    if (p.rules.length === 0) out.push('    (no rules)');
    for (const r of p.rules) out.push(ruleLine(r));
    out.push(`  → ${p.role === null ? 'no membership' : roleName(p.role)}: ${p.reason.text}`);
  }
  out.push('');
  if (t.changes.length === 0) out.push(t.member.hypothetical ? 'A new member with these groups would get the roles above.' : 'If this member logged in now with these groups: no change.');
  else {
    out.push(t.member.hypothetical ? 'A new member with these groups would get:' : 'If this member logged in now with these groups:');
    for (const c of t.changes) {
      const where = c.scope === 'organization' ? 'organization' : `project ${c.projectId}`;
      out.push(`  ${where}: ${roleName(c.from)} → ${roleName(c.to)}`);
    }
  }
  return out.join('\n') + '\n';
}
