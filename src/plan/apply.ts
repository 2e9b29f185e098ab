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
import { appendAudit } from '../db/audit.js';
import type { Db } from '../db/connect.js';
import { loadMembersWithGroups } from '../db/memberships.js';
import { syncOrganizations } from '../db/organizations.js';
import { ownershipOf } from '../db/ownership.js';
import { recordRevision } from '../db/revisions.js';
import type { Logger } from '../log.js';
import type { RefusalRule } from '../members/invariants.js';
import type { Intent, MemberWriter, WriteContext } from '../members/write.js';
import type { OrgChangeKind, Plan, ProjectChangeKind } from './compute.js';
import { effectiveGroups } from '../mapping/index.js';
import { decideForMember, isDemotion, orderForApply, withScimStates, zeroChangeCounts } from './compute.js';

export interface ApplyOptions {
  /** The write path every role change goes through. */
  readonly writer: MemberWriter;
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
  readonly refused: readonly { userId: number; email: string; from: string; to: string; refused: RefusalRule }[];
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
  // Members whose roles committed batches changed, per organization (for the one mapping.applied).
  const changedMembers = new Map<number, Set<number>>();
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
    const changed = new Set<number>();
    changedMembers.set(org.id, changed);
    for (let i = 0; i < ids.length; i += batchSize) {
      await applyBatch(db, options.writer, config, org, ids.slice(i, i + batchSize), summary, changed, options.appliedBy, clock(), log);
      batches++;
      // Let queued logins have the connection between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    summaries.push(summary);
  }

  const now = clock();
  const forced = plan.refused && options.force === true;
  // The apply's final transaction: the revision, the audit row and, per organization whose members changed,
  // the write path's `applied` hooks (one mapping.applied). It runs only once every batch has committed.
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
            forced,
            previous_revision: plan.currentRevision,
            organizations: summaries.map((s) => ({ id: s.organizationId, ...s.counts })),
          },
        },
      ],
      now,
    );
    for (const s of summaries) {
      const { refused, sessions_ended: _ended, ...changes } = s.counts;
      await options.writer.applied(trx, {
        organizationId: s.organizationId,
        configRevision: config.revision,
        previousRevision: plan.currentRevision,
        appliedBy: options.appliedBy,
        forced,
        membersChanged: changedMembers.get(s.organizationId)?.size ?? 0,
        changes,
        refused,
        now,
      });
    }
  });
  log?.('info', 'config applied', { revision: config.revision, applied_by: options.appliedBy, organizations: summaries.map((s) => ({ id: s.organizationId, ...s.counts })) });
  return { applied: true, revision: config.revision, forced, organizations: summaries, batches };
}

async function applyBatch(
  db: Db,
  writer: MemberWriter,
  config: Config,
  org: OrganizationConfig,
  ids: readonly number[],
  summary: OrgApplySummary,
  changed: Set<number>,
  appliedBy: string,
  now: Date,
  log: Logger | undefined,
): Promise<void> {
  const guards = org.guards;
  const refusedNow: OrgApplySummary['refused'][number][] = [];
  const changedNow: number[] = [];
  await db.transaction(async (trx) => {
    // Lock before reading, so that the decisions are made from what the write path will count.
    await writer.lock(trx, org.id);
    const ownership = await ownershipOf(trx, org.id);
    const members = await withScimStates(trx, org, await loadMembersWithGroups(trx, org.id, ids), false);
    const byId = new Map(members.map((m) => [m.userId, m]));
    const intents: Intent[] = [];
    for (const id of ids) {
      const member = byId.get(id);
      if (member === undefined) continue; // deleted meanwhile
      const { groups } = effectiveGroups(member, guards.maxGroupAgeDays, now);
      const decision = decideForMember(org, member, groups, ownership);
      const stored = (previous: string | null, reason: unknown): unknown => ({
        decision: reason,
        groups,
        assertion_id: member.assertionId,
        asserted_at: member.assertedAt?.toISOString() ?? null,
        config_revision: config.revision,
        previous_role: previous,
        applied_by: appliedBy,
      });
      const next = decision.org;
      intents.push({ kind: 'org_role', userId: id, role: next.role, roleSource: next.roleSource, reason: { ...next.reason, applied_by: appliedBy }, stored: stored(member.role, next.reason) });
      for (const p of decision.projects) {
        const held = member.projects.find((h) => h.projectId === p.projectId);
        intents.push({ kind: 'project_role', userId: id, projectId: p.projectId, role: p.role, roleSource: p.roleSource, reason: { ...p.reason, applied_by: appliedBy }, stored: stored(held?.role ?? null, p.reason) });
      }
    }
    const ctx: WriteContext = { organizationId: org.id, source: appliedBy.startsWith('reload') ? 'reload' : 'apply', actor: 'config', configRevision: config.revision, now, ip: null, assertionId: null };
    const result = await writer.write(trx, ctx, intents, { refusals: 'skip' });
    for (const r of result.refusals) {
      summary.counts.refused++;
      refusedNow.push({ userId: r.userId, email: r.email ?? '', from: r.from, to: r.to ?? 'deleted', refused: r.rule });
    }
    for (const c of result.changes) {
      changedNow.push(c.userId);
      if (c.kind === 'org_role' && c.before !== null) {
        const kind: OrgChangeKind = c.transition === 'created' ? 'activated' : c.transition;
        summary.counts[kind]++;
        if (isDemotion(kind)) log?.('info', 'member demoted by config', { org: org.id, user_id: c.userId, before: c.before.role, after: c.after.role });
      } else if (c.kind === 'project_role') {
        summary.counts[c.after === null ? 'project_removed' : c.before === null ? 'project_added' : 'project_changed']++;
      }
    }
    summary.counts.sessions_ended += result.sessionsEnded;
  });
  // Committed: these members count for the apply's mapping.applied.
  for (const id of changedNow) changed.add(id);
  for (const r of refusedNow) {
    (summary.refused as OrgApplySummary['refused'][number][]).push(r);
    log?.('warn', 'config change refused by guard', { org: org.id, user_id: r.userId, email: r.email, before: r.from, after: r.to, guard: r.refused });
  }
}
