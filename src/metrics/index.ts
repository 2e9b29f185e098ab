/**
 * Prometheus metrics (prom-client). One registry per process: counters and histograms are process-wide;
 * gauges that describe a running app (validation queue, database pool) are read at scrape time from the
 * sources each app registers, and summed when one process runs several apps (only tests do).
 *
 * Names (all prefixed `rolegate_`):
 *   logins_total{outcome, code}             ok | rejected, with the ERR_* code of a rejection ("" when ok)
 *   saml_validation_seconds{mode}           time to validate one Response (inline | worker), queue wait excluded
 *   saml_queue_depth / saml_in_flight / saml_queue_limit / saml_workers
 *   saml_rejected_busy_total                Responses refused with 503 because the queue was full
 *   role_changes_total{kind, source}        member_created | role_change | project_role_change (committed), by the
 *                                           writer: login | apply | reload | admin | cli | scim
 *   db_pool_connections{state}              used | free | pending (waiting for a connection)
 *   config_reloads_total{outcome}           applied | refused (details: the log and GET /healthz/details)
 *   forward_auth_decisions_total{mode, status}  nginx | forward, by the answer's status (200 = allowed)
 *   process_* / nodejs_*                    prom-client's default process metrics (RSS, event-loop lag, …)
 */
import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry, prefix: 'rolegate_' });

export const loginsTotal = new client.Counter({
  name: 'rolegate_logins_total',
  help: 'Logins at the ACS by outcome (ok, rejected) and error code',
  labelNames: ['outcome', 'code'] as const,
  registers: [registry],
});

export const validationSeconds = new client.Histogram({
  name: 'rolegate_saml_validation_seconds',
  help: 'Time to validate one SAML Response (signature, XML checks, normalising), excluding the wait for a worker',
  labelNames: ['mode'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const rejectedBusyTotal = new client.Counter({
  name: 'rolegate_saml_rejected_busy_total',
  help: 'SAML Responses refused with 503 ERR_UNAVAILABLE because the validation queue was full',
  registers: [registry],
});

export const roleChangesTotal = new client.Counter({
  name: 'rolegate_role_changes_total',
  help: 'Committed membership changes by kind (member_created, role_change, project_role_change)',
  labelNames: ['kind', 'source'] as const,
  registers: [registry],
});

export const configReloadsTotal = new client.Counter({
  name: 'rolegate_config_reloads_total',
  help: 'Configuration reload attempts by outcome (applied, refused); why a reload was refused is in the log and GET /healthz/details',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** Count a reload attempt (the reason of a refusal goes to the log, never into a label). */
export function recordReloadOutcome(ok: boolean): void {
  configReloadsTotal.inc({ outcome: ok ? 'applied' : 'refused' });
}

/** What a running validation pool reports at scrape time. */
export interface QueueSource {
  readonly workers: number;
  readonly queueLimit: number;
  /** Responses waiting for a worker. */
  queued(): number;
  /** Responses being validated or waiting. */
  inFlight(): number;
}

/** A knex pool (tarn) as far as the gauges need it. */
export interface PoolSource {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

const queues = new Set<QueueSource>();
const pools = new Set<PoolSource>();

/** Register an app's queue and database pool; returns the function that unregisters them (app close). */
export function registerSources(sources: { queue?: QueueSource; pool?: PoolSource }): () => void {
  if (sources.queue !== undefined) queues.add(sources.queue);
  if (sources.pool !== undefined) pools.add(sources.pool);
  return () => {
    if (sources.queue !== undefined) queues.delete(sources.queue);
    if (sources.pool !== undefined) pools.delete(sources.pool);
  };
}

const sum = <T>(items: Iterable<T>, f: (item: T) => number): number => {
  let total = 0;
  for (const item of items) total += f(item);
  return total;
};

new client.Gauge({
  name: 'rolegate_saml_queue_depth',
  help: 'SAML Responses waiting for a validation worker',
  registers: [registry],
  collect() {
    this.set(sum(queues, (q) => q.queued()));
  },
});
new client.Gauge({
  name: 'rolegate_saml_in_flight',
  help: 'SAML Responses being validated or waiting for a worker',
  registers: [registry],
  collect() {
    this.set(sum(queues, (q) => q.inFlight()));
  },
});
new client.Gauge({
  name: 'rolegate_saml_queue_limit',
  help: 'saml.queue_limit: waiting Responses beyond which the ACS answers 503',
  registers: [registry],
  collect() {
    this.set(sum(queues, (q) => q.queueLimit));
  },
});
new client.Gauge({
  name: 'rolegate_saml_workers',
  help: 'saml.workers: validation threads (0 = inline on the main thread)',
  registers: [registry],
  collect() {
    this.set(sum(queues, (q) => q.workers));
  },
});
new client.Gauge({
  name: 'rolegate_db_pool_connections',
  help: 'Database pool connections by state (used, free, pending = requests waiting for a connection)',
  labelNames: ['state'] as const,
  registers: [registry],
  collect() {
    this.set({ state: 'used' }, sum(pools, (p) => p.numUsed()));
    this.set({ state: 'free' }, sum(pools, (p) => p.numFree()));
    this.set({ state: 'pending' }, sum(pools, (p) => p.numPendingAcquires()));
  },
});

export const forwardAuthDecisionsTotal = new client.Counter({
  name: 'rolegate_forward_auth_decisions_total',
  help: 'Forward-auth checks by route (nginx, forward) and answer status (200 allowed, 302/401 sign in, 403 denied or refused)',
  labelNames: ['mode', 'status'] as const,
  registers: [registry],
});

/** Count a finished forward-auth check (allowed ones are counted, not logged line by line). */
export function recordForwardAuthDecision(mode: 'nginx' | 'forward', status: number): void {
  forwardAuthDecisionsTotal.inc({ mode, status: String(status) });
}

/** Count a finished ACS request. */
export function recordLogin(code: string | null): void {
  loginsTotal.inc(code === null ? { outcome: 'ok', code: '' } : { outcome: 'rejected', code });
}

/** Count committed role changes from a login's (or an admin operation's) audit actions. */
export function recordRoleChanges(changes: Iterable<{ readonly kind: string; readonly source: string }>): void {
  for (const { kind, source } of changes) {
    if (kind === 'member_created' || kind === 'role_change' || kind === 'project_role_change') roleChangesTotal.inc({ kind, source });
  }
}

export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
