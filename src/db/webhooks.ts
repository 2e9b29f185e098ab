/**
 * The webhook outbox and its deliveries. Events are inserted in the caller's transaction (the one that makes
 * the change), so an event exists exactly when its change was committed. The relay then claims deliveries
 * under a lease: on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several instances take disjoint batches
 * without waiting on each other; on SQLite the database's single writer makes the claim atomic. Either way a
 * claimed delivery carries `lease_until`, and nobody else takes it before then: one send at a time per
 * delivery, and a crashed sender's work is taken over once its lease runs out (at least once).
 */
import type { DbOrTrx } from './connect.js';
import { databaseKind, num, numOrNull, str, strOrNull, type Raw } from './rows.js';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NewEvent {
  readonly id: string;
  readonly organizationId: number;
  readonly type: string;
  readonly userId: number | null;
  readonly memberSeq: number | null;
  readonly body: string;
  /** Endpoint names that get this event. */
  readonly endpoints: readonly string[];
}

export interface ClaimedDelivery {
  readonly id: number;
  readonly eventId: string;
  readonly endpoint: string;
  /** Attempts already made in this round (0 for the first). */
  readonly attempts: number;
  readonly body: string;
}

export interface AttemptRecord {
  readonly startedAt: number;
  readonly durationMs: number;
  readonly statusCode: number | null;
  readonly errorCode: string | null;
  readonly error: string | null;
}

export type AttemptOutcome =
  | { readonly status: 'delivered' }
  | { readonly status: 'pending'; readonly nextAttemptAt: number }
  | { readonly status: 'failed' };

export interface DeliveryRow {
  readonly id: number;
  readonly eventId: string;
  readonly eventType: string;
  readonly organizationId: number;
  readonly userId: number | null;
  readonly memberSeq: number | null;
  readonly endpoint: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastStatusCode: number | null;
  readonly lastErrorCode: string | null;
  readonly lastError: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface AttemptRow extends AttemptRecord {
  readonly id: number;
  readonly deliveryId: number;
}

export interface EndpointState {
  readonly disabledAt: number;
  readonly reason: string;
}

function status(v: unknown): DeliveryStatus {
  if (v === 'pending' || v === 'delivered' || v === 'failed') return v;
  throw new TypeError(`unknown delivery status ${String(v)}`);
}

/**
 * Reserve `count` event numbers for each member: returns the last number reserved (the member's numbers run
 * 1, 2, 3…). One upsert on the members' counter rows, in user id order, so on PostgreSQL concurrent changes
 * of one member queue on its row (distinct, increasing numbers in commit order) and never deadlock.
 */
export async function reserveMemberSeqs(trx: DbOrTrx, counts: ReadonlyMap<number, number>): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (counts.size === 0) return out;
  const rows = [...counts].sort(([a], [b]) => a - b).map(([userId, count]) => ({ user_id: userId, seq: count }));
  for (let i = 0; i < rows.length; i += 200) {
    const returned = (await trx('webhook_member_seq')
      .insert(rows.slice(i, i + 200))
      .onConflict('user_id')
      .merge({ seq: trx.raw('?? + ??', ['webhook_member_seq.seq', 'excluded.seq']) })
      .returning(['user_id', 'seq'])) as Raw[];
    for (const r of returned) out.set(num(r['user_id']), num(r['seq']));
  }
  return out;
}

/**
 * A deleted member's personal data leaves the outbox too: the email is removed from the bodies of their
 * earlier events (a resend then sends the scrubbed body, signed anew). Returns how many bodies changed.
 */
export async function scrubMemberEmail(trx: DbOrTrx, userId: number): Promise<number> {
  const rows = (await trx('webhook_events').where({ user_id: userId }).select('id', 'body')) as Raw[];
  let changed = 0;
  for (const r of rows) {
    const body = JSON.parse(str(r['body'])) as { data?: { member?: { email?: unknown } } };
    const member = body.data?.member;
    if (member === undefined || member.email === null || member.email === undefined) continue;
    member.email = null;
    await trx('webhook_events').where({ id: str(r['id']) }).update({ body: JSON.stringify(body) });
    changed++;
  }
  return changed;
}

/** Outbox write: events and their pending deliveries, in the caller's transaction. */
export async function insertEvents(trx: DbOrTrx, events: readonly NewEvent[], now: number): Promise<void> {
  if (events.length === 0) return;
  await insertChunked(
    trx,
    'webhook_events',
    events.map((e) => ({
      id: e.id,
      organization_id: e.organizationId,
      type: e.type,
      user_id: e.userId,
      member_seq: e.memberSeq,
      body: e.body,
      created_at: now,
    })),
  );
  const deliveries = events.flatMap((e) =>
    e.endpoints.map((endpoint) => ({
      event_id: e.id,
      organization_id: e.organizationId,
      endpoint,
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      updated_at: now,
    })),
  );
  await insertChunked(trx, 'webhook_deliveries', deliveries);
}

/** Chunks keep each statement under SQLite's bound-parameter limit. */
async function insertChunked(trx: DbOrTrx, table: string, rows: readonly Raw[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) await trx(table).insert(rows.slice(i, i + 200));
}

/**
 * Take up to `limit` due deliveries of the given endpoints for `leaseMs`. Oldest first, so that one member's
 * events usually leave in the order they happened (the per-member sequence number lets receivers order the rest).
 */
export async function claimDeliveries(
  db: DbOrTrx,
  opts: { readonly owner: string; readonly now: number; readonly leaseMs: number; readonly limit: number; readonly endpoints: readonly string[] },
): Promise<ClaimedDelivery[]> {
  if (opts.endpoints.length === 0 || opts.limit <= 0) return [];
  const due = db('webhook_deliveries')
    .select('id')
    .where('status', 'pending')
    .andWhere('next_attempt_at', '<=', opts.now)
    .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<=', opts.now))
    .whereIn('endpoint', [...opts.endpoints])
    .orderBy('id')
    .limit(opts.limit);
  // PostgreSQL: rows another instance is claiming right now are skipped, not waited for (and not double-taken).
  if (databaseKind(db) === 'postgres') due.forUpdate().skipLocked();
  const claimed = (await db('webhook_deliveries')
    .whereIn('id', due)
    .update({ lease_owner: opts.owner, lease_until: opts.now + opts.leaseMs })
    .returning(['id', 'event_id', 'endpoint', 'attempts'])) as Raw[];
  if (claimed.length === 0) return [];
  const bodies = new Map<string, string>();
  const ids = [...new Set(claimed.map((c) => str(c['event_id'])))];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = (await db('webhook_events').whereIn('id', ids.slice(i, i + 500)).select('id', 'body')) as Raw[];
    for (const r of rows) bodies.set(str(r['id']), str(r['body']));
  }
  return claimed
    .map((c) => ({ id: num(c['id']), eventId: str(c['event_id']), endpoint: str(c['endpoint']), attempts: num(c['attempts']), body: bodies.get(str(c['event_id'])) ?? '' }))
    .sort((a, b) => a.id - b.id);
}

export interface FinishedAttempt {
  readonly deliveryId: number;
  readonly attempt: AttemptRecord;
  readonly outcome: AttemptOutcome;
}

/**
 * Record attempts and their outcomes, in one transaction (under load the relay records them in batches: one
 * commit for many deliveries). A delivery row changes only while this sender still holds its lease: a sender
 * whose lease ran out (and whose delivery someone else took over) leaves the row to the new holder, but its
 * attempt is still recorded.
 */
export async function finishAttempts(db: DbOrTrx, owner: string, items: readonly FinishedAttempt[], now: number): Promise<void> {
  if (items.length === 0) return;
  await db.transaction(async (trx) => {
    await insertChunked(
      trx,
      'webhook_attempts',
      items.map((f) => ({
        delivery_id: f.deliveryId,
        started_at: f.attempt.startedAt,
        duration_ms: f.attempt.durationMs,
        status_code: f.attempt.statusCode,
        error_code: f.attempt.errorCode,
        error: f.attempt.error,
      })),
    );
    // Deliveries with the same outcome and answer are updated together (the common case: many 2xx).
    const groups = new Map<string, { ids: number[]; f: FinishedAttempt }>();
    for (const f of items) {
      const key = JSON.stringify([f.outcome, f.attempt.statusCode, f.attempt.errorCode, f.attempt.error]);
      const g = groups.get(key);
      if (g === undefined) groups.set(key, { ids: [f.deliveryId], f });
      else g.ids.push(f.deliveryId);
    }
    for (const { ids, f } of groups.values()) {
      for (let i = 0; i < ids.length; i += 500) {
        await trx('webhook_deliveries')
          .whereIn('id', ids.slice(i, i + 500))
          .andWhere('lease_owner', owner)
          .update({
            status: f.outcome.status,
            attempts: trx.raw('attempts + 1'),
            ...(f.outcome.status === 'pending' ? { next_attempt_at: f.outcome.nextAttemptAt } : {}),
            lease_owner: null,
            lease_until: null,
            last_status_code: f.attempt.statusCode,
            last_error_code: f.attempt.errorCode,
            last_error: f.attempt.error,
            updated_at: now,
          });
      }
    }
  });
}

/**
 * Remove settled events created before `before` (epoch ms): events none of whose deliveries is still
 * pending, with their deliveries and attempts. Returns how many events went.
 */
export async function purgeSettledEvents(db: DbOrTrx, before: number, limit = 1000): Promise<number> {
  return db.transaction(async (trx) => {
    const pending = trx('webhook_deliveries').select('event_id').where('status', 'pending');
    const ids = ((await trx('webhook_events').where('created_at', '<', before).whereNotIn('id', pending).orderBy('created_at').limit(limit).select('id')) as Raw[]).map((r) => str(r['id']));
    if (ids.length === 0) return 0;
    const deliveries = trx('webhook_deliveries').select('id').whereIn('event_id', ids);
    await trx('webhook_attempts').whereIn('delivery_id', deliveries).delete();
    await trx('webhook_deliveries').whereIn('event_id', ids).delete();
    await trx('webhook_events').whereIn('id', ids).delete();
    return ids.length;
  });
}

/** Give back claimed deliveries that were not attempted (shutdown): due again at once, for anyone. */
export async function releaseLeases(db: DbOrTrx, owner: string, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db('webhook_deliveries').whereIn('id', [...ids]).andWhere('lease_owner', owner).update({ lease_owner: null, lease_until: null });
}

/** Endpoints switched off by a 410 Gone, by name. */
export async function disabledEndpoints(db: DbOrTrx): Promise<Map<string, EndpointState>> {
  const rows = (await db('webhook_endpoint_state').whereNotNull('disabled_at')) as Raw[];
  return new Map(rows.map((r) => [str(r['name']), { disabledAt: num(r['disabled_at']), reason: strOrNull(r['disabled_reason']) ?? '' }]));
}

export async function disableEndpoint(db: DbOrTrx, name: string, reason: string, now: number): Promise<void> {
  await db('webhook_endpoint_state')
    .insert({ name, disabled_at: now, disabled_reason: reason })
    .onConflict('name')
    .merge(['disabled_at', 'disabled_reason']);
}

export async function enableEndpoint(db: DbOrTrx, name: string): Promise<boolean> {
  return (await db('webhook_endpoint_state').where({ name }).whereNotNull('disabled_at').update({ disabled_at: null, disabled_reason: null })) > 0;
}

function toDelivery(r: Raw): DeliveryRow {
  return {
    id: num(r['id']),
    eventId: str(r['event_id']),
    eventType: str(r['type']),
    organizationId: num(r['organization_id']),
    userId: numOrNull(r['user_id']),
    memberSeq: numOrNull(r['member_seq']),
    endpoint: str(r['endpoint']),
    status: status(r['status']),
    attempts: num(r['attempts']),
    nextAttemptAt: num(r['next_attempt_at']),
    lastStatusCode: numOrNull(r['last_status_code']),
    lastErrorCode: strOrNull(r['last_error_code']),
    lastError: strOrNull(r['last_error']),
    createdAt: num(r['created_at']),
    updatedAt: num(r['updated_at']),
  };
}

const DELIVERY_COLUMNS = [
  'd.id',
  'd.event_id',
  'e.type',
  'd.organization_id',
  'e.user_id',
  'e.member_seq',
  'd.endpoint',
  'd.status',
  'd.attempts',
  'd.next_attempt_at',
  'd.last_status_code',
  'd.last_error_code',
  'd.last_error',
  'e.created_at',
  'd.updated_at',
] as const;

/** An organization's most recent deliveries, newest first; `status` narrows to one state. */
export async function listDeliveries(db: DbOrTrx, organizationId: number, opts: { readonly status?: DeliveryStatus; readonly limit: number }): Promise<DeliveryRow[]> {
  const q = db('webhook_deliveries as d')
    .join('webhook_events as e', 'e.id', 'd.event_id')
    .where('d.organization_id', organizationId)
    .orderBy('d.id', 'desc')
    .limit(opts.limit)
    .select([...DELIVERY_COLUMNS]);
  if (opts.status !== undefined) q.andWhere('d.status', opts.status);
  return ((await q) as Raw[]).map(toDelivery);
}

export async function findDelivery(db: DbOrTrx, organizationId: number, id: number): Promise<DeliveryRow | undefined> {
  const row = (await db('webhook_deliveries as d')
    .join('webhook_events as e', 'e.id', 'd.event_id')
    .where({ 'd.organization_id': organizationId, 'd.id': id })
    .first([...DELIVERY_COLUMNS])) as Raw | undefined;
  return row === undefined ? undefined : toDelivery(row);
}

/** Counts per endpoint and status for one organization. */
export async function deliveryCounts(db: DbOrTrx, organizationId: number): Promise<Map<string, Record<DeliveryStatus, number>>> {
  const rows = (await db('webhook_deliveries').where({ organization_id: organizationId }).groupBy('endpoint', 'status').select('endpoint', 'status').count({ c: '*' })) as Raw[];
  const out = new Map<string, Record<DeliveryStatus, number>>();
  for (const r of rows) {
    const counts = out.get(str(r['endpoint'])) ?? { pending: 0, delivered: 0, failed: 0 };
    counts[status(r['status'])] = num(r['c']);
    out.set(str(r['endpoint']), counts);
  }
  return out;
}

export async function attemptsOf(db: DbOrTrx, deliveryIds: readonly number[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  const rows = (await db('webhook_attempts').whereIn('delivery_id', [...deliveryIds]).orderBy('id')) as Raw[];
  return rows.map((r) => ({
    id: num(r['id']),
    deliveryId: num(r['delivery_id']),
    startedAt: num(r['started_at']),
    durationMs: num(r['duration_ms']),
    statusCode: numOrNull(r['status_code']),
    errorCode: strOrNull(r['error_code']),
    error: strOrNull(r['error']),
  }));
}

/** The last error of a delivery whose endpoint a reload (or a restart) removed from the configuration. */
export const ENDPOINT_REMOVED = 'ERR_WEBHOOK_ENDPOINT_REMOVED';

/**
 * Pending deliveries to endpoints that are no longer configured: marked failed with ENDPOINT_REMOVED (visible
 * on the Webhooks tab, purged with settled events, resendable if the endpoint comes back), rather than left
 * pending for nobody. A delivery leased right now is left to its sender. Returns how many were marked.
 */
export async function failRemovedEndpointDeliveries(db: DbOrTrx, configured: readonly string[], now: number): Promise<number> {
  const q = db('webhook_deliveries')
    .where({ status: 'pending' })
    .andWhere((w) => w.whereNull('lease_until').orWhere('lease_until', '<=', now));
  if (configured.length > 0) void q.whereNotIn('endpoint', [...configured]);
  return q.update({
    status: 'failed',
    last_error_code: ENDPOINT_REMOVED,
    last_error: 'the endpoint was removed from the configuration; not sent',
    lease_owner: null,
    lease_until: null,
    updated_at: now,
  });
}

/**
 * Send a delivery again: due now, with a fresh round of attempts. A delivery being sent right now (leased)
 * is left alone: the send in flight decides its outcome. Returns whether it was queued.
 */
export async function resendDelivery(db: DbOrTrx, organizationId: number, id: number, now: number): Promise<boolean> {
  const changed = await db('webhook_deliveries')
    .where({ id, organization_id: organizationId })
    .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<=', now))
    .update({ status: 'pending', attempts: 0, next_attempt_at: now, lease_owner: null, lease_until: null, updated_at: now });
  return changed > 0;
}
