/**
 * The relay: takes due deliveries from the outbox under a lease, signs and POSTs them, and records every
 * attempt. At least once: a delivery is marked delivered only after a 2xx, so a crash between sending and
 * recording means it is sent again when its lease runs out (receivers deduplicate on `webhook-id`).
 *
 * Outcomes of an attempt:
 *   2xx              → delivered;
 *   410 Gone         → failed, and the endpoint is disabled (recorded; re-enabled from the Organization page);
 *   anything else    → retried after exponential back-off with jitter (initial_delay_ms doubling up to
 *                      max_delay_ms), never sooner than a `Retry-After` asks (which also pauses the endpoint on
 *                      this instance), until max_attempts, then failed (a resend starts a new round).
 *
 * Up to `concurrency` deliveries are in flight per instance, and up to three times as many more claimed
 * ahead; a lease (four timeouts plus a margin) covers the wait for a slot and the attempt. With several
 * endpoints, each has an equal share of the slots and claims only its own share ahead, so a slow endpoint
 * cannot starve the others (nor hold claimed deliveries past their lease). Outcomes are recorded in batches (one commit
 * for all the attempts that finished while the previous batch was being written): a crash before the commit
 * only means those deliveries are sent again.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Config, WebhookEndpointConfig, WebhooksConfig } from '../configuration/types.js';
import type { Db } from '../db/connect.js';
import {
  claimDeliveries,
  disableEndpoint,
  failRemovedEndpointDeliveries,
  purgeSettledEvents,
  disabledEndpoints,
  finishAttempts,
  releaseLeases,
  type AttemptOutcome,
  type ClaimedDelivery,
  type EndpointState,
  type FinishedAttempt,
} from '../db/webhooks.js';
import type { Logger } from '../log.js';
import { onEventsCommitted } from './outbox.js';
import { sendWebhook, type SendResult } from './send.js';
import { secretKey, signedHeaders } from './signing.js';

export interface RelayOptions {
  readonly db: Db;
  /** The configuration in force (a reload may change endpoints). */
  readonly config: () => Config;
  readonly log: Logger;
  /** The clock for timestamps and scheduling (tests pin it). Default Date.now. */
  readonly now?: () => number;
  /** Jitter source in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

/** Deliveries claimed per slot at most (in flight and waiting); the lease covers that many attempts. */
const CLAIM_AHEAD = 4;
/** Lease beyond the attempts' own timeouts, for recording the outcome. */
const LEASE_MARGIN_MS = 5000;

/**
 * Deliveries one endpoint may have in flight on an instance: all of them when it is the only endpoint, else an
 * equal share (at least one), so that an endpoint that answers slowly, or not at all until the timeout, leaves
 * the others their slots (keep `concurrency` at least the number of endpoints).
 */
export function endpointSlots(cfg: WebhooksConfig): number {
  return cfg.endpoints.length <= 1 ? cfg.concurrency : Math.max(1, Math.floor(cfg.concurrency / cfg.endpoints.length));
}

/** Delay before the next attempt after `attempts` failed ones: doubling, capped, half of it random. */
export function backoffMs(retry: WebhooksConfig['retry'], attempts: number, random: number): number {
  const base = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.min(attempts - 1, 40));
  return Math.round(base / 2 + (random * base) / 2);
}

export class Relay {
  readonly owner = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly inFlight = new Set<Promise<void>>();
  /** Claimed (leased) deliveries waiting for a free slot. */
  private readonly queue: ClaimedDelivery[] = [];
  /** Per endpoint: deliveries claimed and not finished (queued or in flight), and those in flight. */
  private readonly outstanding = new Map<string, number>();
  private readonly inFlightBy = new Map<string, number>();
  /** Endpoints that asked to wait (Retry-After), until when: nothing is sent to them before then from here. */
  private readonly pausedUntil = new Map<string, number>();
  /** Finished attempts waiting to be recorded, and the write in progress. */
  private unrecorded: FinishedAttempt[] = [];
  private recording: Promise<void> | undefined;
  /** Endpoints disabled by a 410 (any instance), re-read at most once per poll interval. */
  private disabled: { readonly at: number; readonly names: ReadonlyMap<string, EndpointState> } | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private stopListening: (() => void) | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  /** The endpoint names whose removed predecessors' deliveries were last marked failed (see sweepRemoved). */
  private swept: string | undefined;
  /** A nudge that came while the loop was busy: look again before waiting. */
  private nudged = false;

  constructor(private readonly opts: RelayOptions) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  /** Start the delivery loop (serve does this). */
  start(): void {
    if (this.running !== undefined) return;
    this.stopping = false;
    this.stopListening = onEventsCommitted(() => this.nudge());
    const purge = (): void => {
      this.purge().catch((err: unknown) => this.opts.log('error', 'webhook purge failed', { cause: String(err) }));
    };
    this.purgeTimer = setInterval(purge, 3_600_000);
    this.purgeTimer.unref();
    this.running = this.loop().catch((err: unknown) => this.opts.log('error', 'webhook relay stopped', { cause: String(err) }));
  }

  /** Look for due deliveries now rather than at the next poll. */
  nudge(): void {
    if (this.wake !== undefined) this.wake();
    else this.nudged = true;
  }

  /** Stop claiming, let the attempts in flight finish (each bounded by the timeout), then return. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopListening?.();
    this.stopListening = undefined;
    clearInterval(this.purgeTimer);
    this.wake?.();
    await this.running;
    this.running = undefined;
    await Promise.all([...this.inFlight]);
    await this.flush();
  }

  /**
   * One pass: claim what is due (up to `limit`, default the configured concurrency), attempt it all, return
   * how many were attempted. Tests drive the relay with this and a pinned clock.
   */
  async runOnce(limit?: number): Promise<number> {
    const cfg = this.opts.config().webhooks;
    const claimed = await this.claim(cfg, limit ?? cfg.concurrency);
    await Promise.all(claimed.map((d) => this.attempt(d, cfg)));
    await this.flush();
    return claimed.length;
  }

  /** Remove settled events older than `retention_days` (serve does it hourly); how many went. */
  async purge(): Promise<number> {
    const cfg = this.opts.config().webhooks;
    const before = this.now() - cfg.retentionDays * 86_400_000;
    let total = 0;
    for (;;) {
      const n = await purgeSettledEvents(this.opts.db, before);
      total += n;
      if (n === 0) return total;
    }
  }

  /** Record every finished attempt now. */
  async flush(): Promise<void> {
    while (this.recording !== undefined || this.unrecorded.length > 0) {
      if (this.recording === undefined) this.record();
      await this.recording;
    }
  }

  private record(): void {
    if (this.recording !== undefined || this.unrecorded.length === 0) return;
    this.recording = (async () => {
      while (this.unrecorded.length > 0) {
        const batch = this.unrecorded;
        this.unrecorded = [];
        try {
          await finishAttempts(this.opts.db, this.owner, batch, this.now());
        } catch (err) {
          // The leases run out and the deliveries are sent again: at least once still holds.
          this.opts.log('error', 'webhook attempts could not be recorded', { deliveries: batch.length, cause: String(err) });
        }
      }
    })().finally(() => {
      this.recording = undefined;
    });
  }

  /**
   * When the configured endpoints differ from the last pass (start-up, a reload): deliveries still pending for
   * an endpoint that is gone are marked failed (ERR_WEBHOOK_ENDPOINT_REMOVED) instead of waiting for nobody.
   */
  private async sweepRemoved(cfg: WebhooksConfig): Promise<void> {
    const names = cfg.endpoints.map((e) => e.name).sort();
    const key = JSON.stringify(names);
    if (this.swept === key) return;
    const n = await failRemovedEndpointDeliveries(this.opts.db, names, this.now());
    this.swept = key;
    if (n > 0) this.opts.log('warn', 'webhook deliveries to removed endpoints marked failed', { deliveries: n, configured: names });
  }

  private async claim(cfg: WebhooksConfig, limit: number): Promise<ClaimedDelivery[]> {
    await this.sweepRemoved(cfg);
    if (cfg.endpoints.length === 0 || limit <= 0) return [];
    const now = this.now();
    if (this.disabled === undefined || now - this.disabled.at >= cfg.pollIntervalMs || now < this.disabled.at) {
      this.disabled = { at: now, names: await disabledEndpoints(this.opts.db) };
    }
    const disabled = this.disabled.names;
    const names = cfg.endpoints.map((e) => e.name).filter((n) => !disabled.has(n) && (this.pausedUntil.get(n) ?? 0) <= now);
    const leaseMs = CLAIM_AHEAD * cfg.timeoutSeconds * 1000 + LEASE_MARGIN_MS;
    if (cfg.endpoints.length === 1) return claimDeliveries(this.opts.db, { owner: this.owner, now, leaseMs, limit, endpoints: names });
    // Several endpoints: each gets its own share, so one that answers slowly cannot take every slot.
    const share = CLAIM_AHEAD * endpointSlots(cfg);
    const out: ClaimedDelivery[] = [];
    for (const name of names) {
      const room = Math.min(share - (this.outstanding.get(name) ?? 0), limit - out.length);
      if (room > 0) out.push(...(await claimDeliveries(this.opts.db, { owner: this.owner, now, leaseMs, limit: room, endpoints: [name] })));
    }
    return out.sort((a, b) => a.id - b.id);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const cfg = this.opts.config().webhooks;
      // Claimed ahead, up to four times the concurrency outstanding: claims (each a commit) are made in
      // batches, and the slots keep working while the database commits (SQLite has one connection). A claimed
      // delivery waits at most three attempts for a slot, which the lease (four timeouts) covers.
      const outstanding = this.queue.length + this.inFlight.size;
      let claimedAll = false;
      if (outstanding <= (CLAIM_AHEAD / 2) * cfg.concurrency) {
        const want = CLAIM_AHEAD * cfg.concurrency - outstanding;
        try {
          const batch = await this.claim(cfg, want);
          this.queue.push(...batch);
          for (const d of batch) this.outstanding.set(d.endpoint, (this.outstanding.get(d.endpoint) ?? 0) + 1);
          claimedAll = batch.length === want;
        } catch (err) {
          this.opts.log('error', 'webhook relay could not read the outbox', { cause: String(err) });
        }
      }
      const slots = endpointSlots(cfg);
      for (let i = 0; i < this.queue.length && this.inFlight.size < cfg.concurrency && !this.stopping; ) {
        const d = this.queue[i];
        if (d === undefined || (this.inFlightBy.get(d.endpoint) ?? 0) >= slots) {
          i++;
          continue;
        }
        this.queue.splice(i, 1);
        this.launch(d, cfg);
      }
      if (claimedAll && this.inFlight.size < cfg.concurrency) continue;
      if (this.nudged) {
        this.nudged = false;
        continue;
      }
      // A stop() that came while this pass was claiming found no wake to call: do not sleep a whole poll
      // interval before noticing it (a SIGTERM would wait that long).
      if (this.stopping) break;
      // Full, or nothing more is due: wait for a slot, a nudge, stop, or the next poll.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, cfg.pollIntervalMs);
        timer.unref();
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    // Claimed but never started: give them back at once rather than when their lease runs out.
    const unstarted = this.queue.splice(0);
    for (const d of unstarted) this.outstanding.set(d.endpoint, (this.outstanding.get(d.endpoint) ?? 1) - 1);
    await releaseLeases(this.opts.db, this.owner, unstarted.map((d) => d.id));
  }

  private launch(d: ClaimedDelivery, cfg: WebhooksConfig): void {
    const count = (m: Map<string, number>, by: number): void => {
      const n = (m.get(d.endpoint) ?? 0) + by;
      if (n > 0) m.set(d.endpoint, n);
      else m.delete(d.endpoint);
    };
    count(this.inFlightBy, 1);
    const p = this.attempt(d, cfg)
      .catch((err: unknown) => this.opts.log('error', 'webhook attempt could not be recorded', { delivery_id: d.id, cause: String(err) }))
      .finally(() => {
        this.inFlight.delete(p);
        count(this.inFlightBy, -1);
        count(this.outstanding, -1);
        this.wake?.();
      });
    this.inFlight.add(p);
  }

  private async attempt(d: ClaimedDelivery, cfg: WebhooksConfig): Promise<void> {
    const { db, log } = this.opts;
    const endpoint = cfg.endpoints.find((e) => e.name === d.endpoint);
    if (endpoint === undefined) {
      // Removed by a reload since the claim: give it back, and the next pass marks it failed (sweepRemoved).
      await releaseLeases(db, this.owner, [d.id]);
      this.swept = undefined;
      return;
    }
    const startedAt = this.now();
    const t0 = performance.now();
    const result = await this.send(endpoint, d, cfg, startedAt);
    const durationMs = Math.round(performance.now() - t0);
    const now = this.now();
    const outcome = this.outcome(result, d, cfg, now);
    if (result.retryAfterMs !== null && outcome.status === 'pending') this.pausedUntil.set(endpoint.name, outcome.nextAttemptAt);
    if (result.errorCode === 'ERR_WEBHOOK_GONE') {
      await disableEndpoint(db, endpoint.name, `410 Gone answered for event ${d.eventId}`, now);
      this.disabled = undefined;
      log('warn', 'webhook endpoint disabled', { endpoint: endpoint.name, reason: '410 Gone', event_id: d.eventId });
    }
    this.unrecorded.push({ deliveryId: d.id, attempt: { startedAt, durationMs, statusCode: result.statusCode, errorCode: result.errorCode, error: result.error }, outcome });
    this.record();
    if (outcome.status !== 'delivered') {
      log('warn', 'webhook attempt failed', {
        endpoint: endpoint.name,
        event_id: d.eventId,
        delivery_id: d.id,
        attempt: d.attempts + 1,
        status: result.statusCode,
        code: result.errorCode,
        next: outcome.status === 'pending' ? new Date(outcome.nextAttemptAt).toISOString() : 'none',
      });
    }
  }

  private send(endpoint: WebhookEndpointConfig, d: ClaimedDelivery, cfg: WebhooksConfig, startedAt: number): Promise<SendResult> {
    const headers = signedHeaders(secretKey(endpoint.secret), d.eventId, Math.floor(startedAt / 1000), d.body);
    return sendWebhook({
      url: endpoint.url,
      headers: { ...headers },
      body: d.body,
      allowPrivateTargets: endpoint.allowPrivateTargets,
      timeoutMs: cfg.timeoutSeconds * 1000,
      maxResponseBytes: cfg.maxResponseBytes,
    }, this.now);
  }

  private outcome(result: SendResult, d: ClaimedDelivery, cfg: WebhooksConfig, now: number): AttemptOutcome {
    if (result.errorCode === null) return { status: 'delivered' };
    if (result.errorCode === 'ERR_WEBHOOK_GONE') return { status: 'failed' };
    const attempts = d.attempts + 1;
    if (attempts >= cfg.retry.maxAttempts) return { status: 'failed' };
    const wait = Math.max(backoffMs(cfg.retry, attempts, this.random()), Math.min(result.retryAfterMs ?? 0, cfg.retry.maxDelayMs));
    return { status: 'pending', nextAttemptAt: now + wait };
  }
}
