/**
 * The outbox writer registered on the write path: runs inside the transaction of every membership change,
 * with the final list of changes, and writes their events (events.ts). A deletion also removes the member's
 * email from their earlier events, as it is removed from the member row and the audit log. Throwing here rolls the change back,
 * so a change never commits without its events, and a change that rolls back leaves none.
 */
import type { Config } from '../configuration/types.js';
import { scrubMemberEmail } from '../db/webhooks.js';
import type { AppliedHook, ChangeHook, Reason, RoleChange } from '../members/write.js';
import { eventsForChange, mappingAppliedEvent, recordEvents, type DecidingRule, type EventDraft } from './events.js';

/** The rule that decided, from a mapping decision's reason (`matches[].decisive`); null for hand changes. */
export function decidingRule(reason: Reason): DecidingRule | null {
  const matches = reason['matches'];
  if (!Array.isArray(matches)) return null;
  for (const m of matches as unknown[]) {
    if (typeof m !== 'object' || m === null) continue;
    const match = m as { decisive?: unknown; group?: unknown; source?: { line?: unknown; path?: unknown } };
    if (match.decisive !== true) continue;
    const line = match.source?.line;
    const path = match.source?.path;
    if (typeof line === 'number' && typeof path === 'string') return { path, line, group: typeof match.group === 'string' ? match.group : null };
  }
  return null;
}

/** The member events of a list of changes (one apply's `mapping.applied` is told apart: webhookApplied). */
export function draftsFor(changes: readonly RoleChange[]): EventDraft[] {
  const drafts: EventDraft[] = [];
  for (const c of changes) {
    const ref = { organizationId: c.organizationId, userId: c.userId, email: c.email, source: c.source, actor: c.actor, rule: decidingRule(c.reason) };
    if (c.kind === 'org_role') drafts.push(...eventsForChange({ ...ref, kind: 'org_role', before: c.before?.role ?? null, after: c.after.role }));
    else if (c.kind === 'project_role') drafts.push(...eventsForChange({ ...ref, kind: 'project_role', projectId: c.projectId, before: c.before?.role ?? null, after: c.after?.role ?? null }));
    else drafts.push(...eventsForChange({ ...ref, kind: 'deleted', before: c.before.role }));
  }
  return drafts;
}

/**
 * Told after a transaction that wrote events has committed, so a relay in this process sends them at once
 * instead of at its next poll (relays of other instances find them by polling).
 */
const committed = new EventTarget();

export function onEventsCommitted(listener: () => void): () => void {
  committed.addEventListener('committed', listener);
  return () => committed.removeEventListener('committed', listener);
}

/** The hook, reading the configuration in force at each change (a reload may change the endpoints). */
export function webhookOutbox(current: () => Config): ChangeHook {
  return async (trx, changes, ctx) => {
    const webhooks = current().webhooks;
    // Before the deletion's own event is written, which still names the member (receivers act on it).
    for (const c of changes) if (c.kind === 'member_deleted') await scrubMemberEmail(trx, c.userId);
    if (webhooks.endpoints.length === 0) return;
    tellOnCommit(trx, await recordEvents(trx, webhooks, draftsFor(changes), ctx.now));
  };
}

/**
 * `mapping.applied`, once per apply and organization that changed members, written in the apply's final
 * transaction (after every batch has committed): an apply that stops half-way sends none.
 */
export function webhookApplied(current: () => Config): AppliedHook {
  return async (trx, applied) => {
    if (applied.membersChanged === 0) return;
    const webhooks = current().webhooks;
    if (webhooks.endpoints.length === 0) return;
    tellOnCommit(trx, await recordEvents(trx, webhooks, [mappingAppliedEvent(applied)], applied.now));
  };
}

function tellOnCommit(trx: unknown, ids: readonly string[]): void {
  const execution = (trx as { executionPromise?: Promise<unknown> }).executionPromise;
  if (ids.length > 0 && execution !== undefined) {
    execution.then(
      () => committed.dispatchEvent(new Event('committed')),
      () => undefined, // rolled back: its events are gone with it
    );
  }
}
