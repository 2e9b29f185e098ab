/**
 * Applying a plan: batched transactions, one audit event per change (actor `config`, the new revision),
 * sessions ended at once for members demoted to Deactivated, the revision recorded.
 *
 * The plan says *who* to look at; each batch re-reads those members inside its transaction and decides
 * again with `decideAccess`, so a login that committed between the plan and the batch is never
 * overwritten with a decision computed from older groups. Batches are small and the event loop is
 * yielded between them, so logins keep being served during a large apply (SQLite has one writer).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config, OrganizationConfig } from '../configuration/types.js';
import type { AuditEvent } from '../db/audit.js';
import { appendAudit } from '../db/audit.js';
import type { Db } from '../db/connect.js';
import { deleteProjectMembership, saveProjectMembership } from '../db/members.js';
import { loadPlanMembers, updateMembershipRole } from '../db/plan.js';
import { syncOrganizations } from '../db/organizations.js';
import { recordRevision } from '../db/revisions.js';
import { destroyUserSessions } from '../db/sessions.js';
import type { Logger } from '../log.js';
import type { OrgChangeKind, Plan, ProjectChangeKind } from './compute.js';
import { refusal, refusalText, type RefusalKind } from './guards.js';
import { classify, decideForMember, effectiveGroups, guardsOf, isDemotion, orderForApply, zeroChangeCounts } from './compute.js';

export interface ApplyOptions {
  /** Apply even when the mass-demotion guard refuses the plan (`apply --force`). Never overrides the Owner and last-administrator guards. */
  readonly force?: boolean;
  /** Recorded with the revision and in audit reasons: 'apply', 'reload:SIGHUP', 'reload:file'. */
  readonly appliedBy: string;
  readonly log?: Logger;
  /** Members per transaction. Default 100: short transactions keep logins flowing on SQLite's single writer. */
  readonly batchSize?: number;
  readonly now?: () => Date;
}

export interface OrgApplySummary {
  readonly organizationId: number;
  readonly title: string;
  readonly counts: Record<OrgChangeKind | `project_${ProjectChangeKind}` | 'refused' | 'sessions_ended', number>;
  readonly refused: readonly { userId: number; email: string; from: string; to: string; refused: RefusalKind }[];
}

export type ApplyResult =
  | { readonly applied: false; readonly refusedByGuard: true; readonly plan: Plan }
  | { readonly applied: true; readonly revision: string; readonly forced: boolean; readonly organizations: readonly OrgApplySummary[]; readonly batches: number };

/** The file's text if it still hashes to the revision being applied (it may have changed since it was read). */
export function revisionContent(config: Config): string | null {
  try {
    const bytes = readFileSync(config.file);
    return createHash('sha256').update(bytes).digest('hex') === config.revision ? bytes.toString('utf8') : null;
  } catch {
    return null;
  }
}

export async function applyPlan(db: Db, config: Config, plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
  if (plan.refused && options.force !== true) return { applied: false, refusedByGuard: true, plan };
  const clock = options.now ?? (() => new Date());
  const batchSize = options.batchSize ?? 100;
  const log = options.log;
  // New projects must exist before memberships can point at them.
  await syncOrganizations(db, config, clock());

  const summaries: OrgApplySummary[] = [];
  let batches = 0;
  for (const orgPlan of plan.organizations) {
    const org = config.organizations.find((o) => o.id === orgPlan.organizationId);
    if (org === undefined) continue;
    const ids: number[] = [];
    const seen = new Set<number>();
    for (const c of orderForApply(orgPlan.changes)) if (!seen.has(c.userId)) seen.add(c.userId), ids.push(c.userId);
    for (const p of orgPlan.projectChanges) if (!seen.has(p.userId)) seen.add(p.userId), ids.push(p.userId);
    const summary: OrgApplySummary = {
      organizationId: org.id,
      title: org.title,
      counts: {
        ...zeroChangeCounts(),
        refused: 0,
        sessions_ended: 0,
      },
      refused: [],
    };
    for (let i = 0; i < ids.length; i += batchSize) {
      await applyBatch(db, config, org, ids.slice(i, i + batchSize), summary, options.appliedBy, clock(), log);
      batches++;
      // Let queued logins have the connection between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    summaries.push(summary);
  }

  const now = clock();
  await db.transaction(async (trx) => {
    await recordRevision(trx, { hash: config.revision, content: revisionContent(config), file: config.file, appliedBy: options.appliedBy }, now);
    await appendAudit(
      trx,
      [
        {
          organizationId: null,
          actor: 'config',
          action: 'config_applied',
          outcome: 'ok',
          configRevision: config.revision,
          reason: {
            applied_by: options.appliedBy,
            forced: plan.refused && options.force === true,
            previous_revision: plan.currentRevision,
            organizations: summaries.map((s) => ({ id: s.organizationId, ...s.counts })),
          },
        },
      ],
      now,
    );
  });
  log?.('info', 'config applied', { revision: config.revision, applied_by: options.appliedBy, organizations: summaries.map((s) => ({ id: s.organizationId, ...s.counts })) });
  return { applied: true, revision: config.revision, forced: plan.refused && options.force === true, organizations: summaries, batches };
}

async function applyBatch(
  db: Db,
  config: Config,
  org: OrganizationConfig,
  ids: readonly number[],
  summary: OrgApplySummary,
  appliedBy: string,
  now: Date,
  log: Logger | undefined,
): Promise<void> {
  const guards = guardsOf(config, org);
  const refusedNow: OrgApplySummary['refused'][number][] = [];
  await db.transaction(async (trx) => {
    const byId = new Map((await loadPlanMembers(trx, org.id, ids)).map((m) => [m.userId, m]));
    const audit: AuditEvent[] = [];
    for (const id of ids) {
      const member = byId.get(id);
      if (member === undefined) continue; // deleted meanwhile
      const { groups } = effectiveGroups(member, guards, now);
      const decision = decideForMember(org, member, groups);
      const next = decision.org;
      const base = {
        organizationId: org.id,
        actor: 'config',
        subjectUserId: member.userId,
        subjectEmail: member.email,
        configRevision: config.revision,
        assertionId: member.assertionId,
      } as const;
      const stored = (previous: string | null, reason: unknown): unknown => ({
        decision: reason,
        groups,
        assertion_id: member.assertionId,
        asserted_at: member.assertedAt?.toISOString() ?? null,
        config_revision: config.revision,
        previous_role: previous,
        applied_by: appliedBy,
      });
      if (next.role !== member.role || next.roleSource !== member.roleSource) {
        const kind = classify(member.role, next.role);
        const refused = await refusal(trx, org.id, member.userId, member.role, next.role);
        if (refused !== null) {
          summary.counts.refused++;
          refusedNow.push({ userId: member.userId, email: member.email, from: member.role, to: next.role, refused });
          audit.push({
            ...base,
            action: 'role_change',
            outcome: 'refused',
            before: member.role,
            after: next.role,
            reason: { guard: refused, text: refusalText(refused), decision: next.reason, applied_by: appliedBy },
          });
          continue; // the member keeps the role, and the project roles that follow from it
        }
        await updateMembershipRole(trx, { organizationId: org.id, userId: member.userId, role: next.role, roleSource: next.roleSource, reason: stored(member.role, next.reason) }, now);
        summary.counts[kind]++;
        audit.push({ ...base, action: 'role_change', outcome: 'ok', before: member.role, after: next.role, reason: { ...next.reason, applied_by: appliedBy } });
        if (next.role === 'DI') {
          // Revocation now, not at the next login or session expiry.
          summary.counts.sessions_ended += await destroyUserSessions(trx, member.userId);
        }
        if (isDemotion(kind)) log?.('info', 'member demoted by config', { org: org.id, user_id: member.userId, before: member.role, after: next.role });
      }
      for (const p of decision.projects) {
        const held = member.projects.find((h) => h.projectId === p.projectId);
        const reason = { project_id: p.projectId, ...p.reason, applied_by: appliedBy };
        if (p.role === null) {
          if (held === undefined) continue;
          await deleteProjectMembership(trx, p.projectId, member.userId);
          summary.counts.project_removed++;
          audit.push({ ...base, action: 'project_role_change', outcome: 'ok', before: held.role, after: null, reason });
        } else if (held === undefined || held.role !== p.role || held.roleSource !== p.roleSource) {
          await saveProjectMembership(trx, { projectId: p.projectId, userId: member.userId, role: p.role, roleSource: p.roleSource, reason: stored(held?.role ?? null, p.reason) }, now);
          summary.counts[held === undefined ? 'project_added' : 'project_changed']++;
          audit.push({ ...base, action: 'project_role_change', outcome: 'ok', before: held?.role ?? null, after: p.role, reason });
        }
      }
    }
    await appendAudit(trx, audit, now);
  });
  for (const r of refusedNow) {
    (summary.refused as OrgApplySummary['refused'][number][]).push(r);
    log?.('warn', 'config change refused by guard', { org: org.id, user_id: r.userId, email: r.email, before: r.from, after: r.to, guard: r.refused });
  }
}

export { refusalText };
