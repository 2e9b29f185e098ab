/** Append-only audit events. Nothing here updates or deletes a row. */
import type { DbOrTrx } from './connect.js';
import { recordRoleChanges } from '../metrics/index.js';

/**
 * Role changes for the metrics endpoint, counted from the audit events that describe them (every change is
 * audited, whoever makes it), once the transaction that writes them commits.
 */
function countRoleChanges(db: DbOrTrx, events: readonly AuditEvent[]): void {
  const actions = events.filter((e) => e.outcome === 'ok').map((e) => e.action);
  if (actions.length === 0) return;
  if (db.isTransaction === true) {
    (db as { executionPromise?: Promise<unknown> }).executionPromise?.then(
      () => recordRoleChanges(actions),
      () => {},
    );
  } else {
    recordRoleChanges(actions);
  }
}

export interface AuditEvent {
  readonly organizationId: number | null;
  /** 'saml' for a login, 'config', 'cli', or `user:<id>`. */
  readonly actor: string;
  readonly subjectUserId?: number | null;
  readonly subjectEmail?: string | null;
  /** e.g. login, login_rejected, role_change, project_role_change, groups_unknown */
  readonly action: string;
  readonly outcome: 'ok' | 'rejected' | 'warning' | 'refused';
  readonly errorCode?: string | null;
  readonly before?: string | null;
  readonly after?: string | null;
  readonly reason?: unknown;
  readonly configRevision?: string | null;
  readonly assertionId?: string | null;
  readonly ip?: string | null;
}

export async function appendAudit(db: DbOrTrx, events: readonly AuditEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  countRoleChanges(db, events);
  await db('audit_events').insert(
    events.map((e) => ({
      at: now,
      organization_id: e.organizationId,
      actor: e.actor,
      subject_user_id: e.subjectUserId ?? null,
      subject_email: e.subjectEmail ?? null,
      action: e.action,
      outcome: e.outcome,
      error_code: e.errorCode ?? null,
      before: e.before ?? null,
      after: e.after ?? null,
      reason: e.reason === undefined ? null : JSON.stringify(e.reason),
      config_revision: e.configRevision ?? null,
      assertion_id: e.assertionId ?? null,
      ip: e.ip ?? null,
    })),
  );
}

export interface AuditRow {
  readonly id: number;
  readonly at: Date;
  readonly organizationId: number | null;
  readonly actor: string;
  readonly subjectUserId: number | null;
  readonly subjectEmail: string | null;
  readonly action: string;
  readonly outcome: string;
  readonly errorCode: string | null;
  readonly before: string | null;
  readonly after: string | null;
  readonly reason: unknown;
  readonly configRevision: string | null;
  readonly assertionId: string | null;
  readonly ip: string | null;
}

export async function listAudit(
  db: DbOrTrx,
  filter: { organizationId?: number; subjectUserId?: number; action?: string; limit?: number },
): Promise<AuditRow[]> {
  const q = db('audit_events').orderBy('id', 'desc').limit(filter.limit ?? 100);
  if (filter.organizationId !== undefined) q.where('organization_id', filter.organizationId);
  if (filter.subjectUserId !== undefined) q.where('subject_user_id', filter.subjectUserId);
  if (filter.action !== undefined) q.where('action', filter.action);
  const rows = (await q) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: Number(r['id']),
    at: r['at'] instanceof Date ? r['at'] : new Date(r['at'] as string | number),
    organizationId: r['organization_id'] == null ? null : Number(r['organization_id']),
    actor: String(r['actor']),
    subjectUserId: r['subject_user_id'] == null ? null : Number(r['subject_user_id']),
    subjectEmail: (r['subject_email'] as string | null) ?? null,
    action: String(r['action']),
    outcome: String(r['outcome']),
    errorCode: (r['error_code'] as string | null) ?? null,
    before: (r['before'] as string | null) ?? null,
    after: (r['after'] as string | null) ?? null,
    reason: typeof r['reason'] === 'string' ? (JSON.parse(r['reason']) as unknown) : null,
    configRevision: (r['config_revision'] as string | null) ?? null,
    assertionId: (r['assertion_id'] as string | null) ?? null,
    ip: (r['ip'] as string | null) ?? null,
  }));
}

/**
 * The one update of audit rows: a deleted member's email leaves the events about them (they read "Deleted
 * User"). The events themselves (what happened) stay.
 */
export async function scrubAuditSubject(db: DbOrTrx, organizationId: number, userId: number, email: string | null): Promise<void> {
  await db('audit_events').where({ organization_id: organizationId, subject_user_id: userId }).update({ subject_email: null });
  if (email !== null) {
    await db('audit_events').where({ organization_id: organizationId, subject_email: email }).whereNull('subject_user_id').update({ subject_email: null });
  }
}
