/**
 * The audit_events table: append-only events, and the queries of the admin surface (filters, a page, batches
 * for the CSV export). Nothing here deletes a row; the one update scrubs a deleted member's email.
 */
import type { Knex } from 'knex';
import type { DbOrTrx } from './connect.js';
import { HotInsert } from './hot.js';
import { toDate } from './rows.js';

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
  // In chunks: one statement per event list would pass SQLite's limit on bound parameters (32,766) past a
  // couple of thousand events, as a SCIM push of thousands of members makes.
  for (let i = 0; i < events.length; i += AUDIT_CHUNK) await insertAudit(db, events.slice(i, i + AUDIT_CHUNK), now);
}

/** Events per INSERT: 400 × 14 bound values, well inside SQLite's 32,766. */
const AUDIT_CHUNK = 400;

/** Every login and role change writes audit rows (hot.ts). */
const INSERT_AUDIT = new HotInsert('audit_events', [
  'at',
  'organization_id',
  'actor',
  'subject_user_id',
  'subject_email',
  'action',
  'outcome',
  'error_code',
  'before',
  'after',
  'reason',
  'config_revision',
  'assertion_id',
  'ip',
]);

async function insertAudit(db: DbOrTrx, events: readonly AuditEvent[], now: Date): Promise<void> {
  await INSERT_AUDIT.run(
    db,
    events.map((e) => [
      now,
      e.organizationId,
      e.actor,
      e.subjectUserId ?? null,
      e.subjectEmail ?? null,
      e.action,
      e.outcome,
      e.errorCode ?? null,
      e.before ?? null,
      e.after ?? null,
      e.reason === undefined ? null : JSON.stringify(e.reason),
      e.configRevision ?? null,
      e.assertionId ?? null,
      e.ip ?? null,
    ]),
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

// ---- queries of the admin surface ------------------------------------------------------------------------

export interface AuditQuery {
  readonly organizationId: number;
  /** Events where this member was the subject or the actor. */
  readonly userId?: number;
  readonly action?: string;
  readonly since?: Date;
  readonly until?: Date;
}

type Raw = Record<string, unknown>;

function toAudit(r: Raw): AuditRow {
  return {
    id: Number(r['id']),
    at: toDate(r['at']),
    organizationId: r['organization_id'] == null ? null : Number(r['organization_id']),
    actor: String(r['actor']),
    subjectUserId: r['subject_user_id'] == null ? null : Number(r['subject_user_id']),
    subjectEmail: typeof r['subject_email'] === 'string' ? r['subject_email'] : null,
    action: String(r['action']),
    outcome: String(r['outcome']),
    errorCode: typeof r['error_code'] === 'string' ? r['error_code'] : null,
    before: typeof r['before'] === 'string' ? r['before'] : null,
    after: typeof r['after'] === 'string' ? r['after'] : null,
    reason: parse(r['reason']),
    configRevision: typeof r['config_revision'] === 'string' ? r['config_revision'] : null,
    assertionId: typeof r['assertion_id'] === 'string' ? r['assertion_id'] : null,
    ip: typeof r['ip'] === 'string' ? r['ip'] : null,
  };
}

function parse(v: unknown): unknown {
  if (typeof v !== 'string') return null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

function filtered(db: DbOrTrx, q: AuditQuery): Knex.QueryBuilder {
  const query = db('audit_events').where('organization_id', q.organizationId);
  if (q.userId !== undefined) {
    const id = q.userId;
    query.andWhere((w) => {
      w.where('subject_user_id', id).orWhere('actor', `user:${id}`);
    });
  }
  if (q.action !== undefined) query.andWhere('action', q.action);
  if (q.since !== undefined) query.andWhere('at', '>=', q.since);
  if (q.until !== undefined) query.andWhere('at', '<=', q.until);
  return query;
}

/** Newest first. */
export async function queryAudit(db: DbOrTrx, q: AuditQuery, page: { offset: number; limit: number }): Promise<{ count: number; rows: AuditRow[] }> {
  const countRow = (await filtered(db, q).count({ n: '*' }).first()) as { n: number | string } | undefined;
  const rows = (await filtered(db, q).orderBy('id', 'desc').offset(page.offset).limit(page.limit)) as Raw[];
  return { count: countRow === undefined ? 0 : Number(countRow.n), rows: rows.map(toAudit) };
}

/** The whole filtered log, newest first, in batches (keyset on id), for a streamed export. */
export async function* auditBatches(db: DbOrTrx, q: AuditQuery, batchSize = 500): AsyncGenerator<AuditRow[]> {
  let below: number | undefined;
  for (;;) {
    const query = filtered(db, q).orderBy('id', 'desc').limit(batchSize);
    if (below !== undefined) query.andWhere('id', '<', below);
    const rows = ((await query) as Raw[]).map(toAudit);
    if (rows.length === 0) return;
    yield rows;
    below = rows[rows.length - 1]?.id;
    if (rows.length < batchSize) return;
  }
}
