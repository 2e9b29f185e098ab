/** Plans and apply summaries as text for people (the CLI, the service log, a refused reload). */
import { ORG_ROLE_NAMES, isOrgRole, type ActiveOrgRole, type OrgRole } from '../domain/roles.js';
import type { ApplyResult } from './apply.js';
import { refusalText } from '../members/invariants.js';
import type { MemberChange, OrgPlan, Plan } from './compute.js';

const name = (role: OrgRole | ActiveOrgRole | null): string => (role === null ? '(none)' : ORG_ROLE_NAMES[role]);
const short = (rev: string | null): string => (rev === null ? 'none recorded' : rev.slice(0, 12));

export interface RenderOptions {
  /** Lines listed per section; 0 = all. Default 20. */
  readonly limit?: number;
  /** List stale members (`plan --stale`). */
  readonly stale?: boolean;
}

function section<T>(out: string[], title: string, items: readonly T[], limit: number, line: (item: T) => string): void {
  if (items.length === 0) return;
  out.push(`  ${title} (${items.length})`);
  const shown = limit > 0 ? items.slice(0, limit) : items;
  for (const item of shown) out.push(`    ${line(item)}`);
  if (shown.length < items.length) out.push(`    … and ${items.length - shown.length} more (--limit 0 or --json lists all)`);
}

function why(c: MemberChange): string {
  const decisive = c.reason.matches.find((m) => m.decisive);
  if (decisive !== undefined) return `${decisive.asserted} → ${isOrgRole(decisive.role) ? ORG_ROLE_NAMES[decisive.role] : decisive.role} (line ${decisive.source.line})`;
  return c.reason.text;
}

export function renderOrgPlan(o: OrgPlan, opts: RenderOptions = {}): string[] {
  const limit = opts.limit ?? 20;
  const out: string[] = [];
  const c = o.counts;
  out.push(`Organization ${o.organizationId} (${o.title}): ${o.members} member(s), ${o.activeMembers} active`);
  out.push(
    `  ${c.promoted} promoted, ${c.demoted} demoted, ${c.deactivated} deactivated, ${c.activated} activated, ${c.source_changed} source changed; ` +
      `projects: ${c.project_added} added, ${c.project_removed} removed, ${c.project_changed} changed; ` +
      `${c.refused} refused by guard; ${c.unknown} with groups unknown, ${c.stale} stale (no change)`,
  );
  const active = o.changes.filter((x) => x.refused === undefined);
  for (const kind of ['promoted', 'demoted', 'deactivated', 'activated', 'source_changed'] as const) {
    section(out, kind.replace('_', ' '), active.filter((x) => x.kind === kind), limit, (x) =>
      `${x.email}: ${name(x.from.role)} → ${name(x.to.role)}${x.from.roleSource !== x.to.roleSource ? ` (source ${x.from.roleSource} → ${x.to.roleSource})` : ''} — ${why(x)}`,
    );
  }
  for (const kind of ['added', 'removed', 'changed'] as const) {
    section(out, `project ${kind}`, o.projectChanges.filter((p) => p.kind === kind), limit, (p) =>
      `${p.email}: project ${p.projectId} (${p.projectTitle}) ${name(p.from)} → ${name(p.to)}`,
    );
  }
  section(out, 'refused by guard', o.changes.filter((x) => x.refused !== undefined), limit, (x) =>
    `${x.email}: ${name(x.from.role)} → ${name(x.to.role)} refused: ${refusalText(x.refused ?? 'last_admin')}`,
  );
  if (opts.stale === true) {
    section(out, 'stale (groups older than max_group_age_days; treated as unknown)', o.stale, limit, (s) => `${s.email}: groups asserted ${s.assertedAt} (${s.ageDays} days ago)`);
  }
  const g = o.guard;
  out.push(
    `  guard: ${g.demotions} demotion(s) of ${g.activeMembers} active (limits ${g.maxDemotions} and ${g.maxDemotionPercent} %): ${g.exceeded ? 'EXCEEDED — refused unless apply --force' : 'ok'}`,
  );
  return out;
}

export function renderPlan(plan: Plan, opts: RenderOptions = {}): string {
  const out: string[] = [];
  out.push(`Plan for ${plan.file}`);
  out.push(`  revision ${short(plan.revision)} (currently applied: ${short(plan.currentRevision)})${plan.revision === plan.currentRevision ? ' — already applied' : ''}`);
  out.push('');
  for (const o of plan.organizations) {
    out.push(...renderOrgPlan(o, opts));
    out.push('');
  }
  const total = plan.organizations.reduce(
    (n, o) => n + o.changes.filter((c) => c.refused === undefined).length + o.projectChanges.length,
    0,
  );
  out.push(total === 0 ? 'No changes.' : `${total} change(s) in all.`);
  if (plan.refused) {
    for (const o of plan.organizations) if (o.guard.message !== null) out.push(`Refused: ${o.guard.message}.`);
    out.push('Re-run with `rolegate apply --force` to apply anyway.');
  }
  return out.join('\n') + '\n';
}

export function renderApplyResult(result: ApplyResult): string {
  if (!result.applied) return `${renderPlan(result.plan)}Nothing applied: the plan exceeds the mass-demotion guard.\n`;
  const out: string[] = [`Applied revision ${short(result.revision)}${result.forced ? ' (forced past the mass-demotion guard)' : ''} in ${result.batches} batch(es):`];
  for (const o of result.organizations) {
    const c = o.counts;
    out.push(
      `  organization ${o.organizationId} (${o.title}): ${c.promoted} promoted, ${c.demoted} demoted, ${c.deactivated} deactivated, ${c.activated} activated, ${c.source_changed} source changed; ` +
        `projects ${c.project_added} added, ${c.project_removed} removed, ${c.project_changed} changed; ${c.refused} refused; ${c.sessions_ended} session(s) ended`,
    );
    for (const r of o.refused) out.push(`    refused: ${r.email} ${name(r.from as OrgRole)} → ${name(r.to as OrgRole)}: ${refusalText(r.refused)}`);
  }
  return out.join('\n') + '\n';
}
