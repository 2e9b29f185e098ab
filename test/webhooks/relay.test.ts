/**
 * The relay against a real receiver on 127.0.0.1 and a real database (SQLite, or PostgreSQL with
 * ROLEGATE_TEST_DATABASE=postgres). The clock is pinned (the relay's `now`), so back-off and Retry-After are
 * asserted as scheduled times, never as elapsed time.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/configuration/types.js';
import type { Db } from '../../src/db/connect.js';
import { enableEndpoint } from '../../src/db/webhooks.js';
import { silentLogger } from '../../src/log.js';
import { eventsForChange, recordEvents } from '../../src/webhooks/events.js';
import { Relay, backoffMs } from '../../src/webhooks/relay.js';
import { cleanup } from '../configuration/helpers.js';
import { openTestDatabase } from '../support/database.js';
import { Receiver, newSecret } from './receiver.js';
import { configWith, queueRoleChanges, type EndpointSpec } from './support.js';

afterAll(cleanup);

let db: Db;
let close: () => Promise<void>;
let receiver: Receiver;
let clock: number;
let relays: Relay[];

beforeEach(async () => {
  ({ db, close } = await openTestDatabase());
  receiver = await Receiver.start(newSecret());
  clock = Date.now();
  relays = [];
});
afterEach(async () => {
  await Promise.all(relays.map((r) => r.stop()));
  await receiver.down();
  await close();
});

function relayFor(config: Config): Relay {
  const relay = new Relay({ db, config: () => config, log: silentLogger, now: () => clock, random: () => 0.5 });
  relays.push(relay);
  return relay;
}

function endpoint(extra: Partial<EndpointSpec> = {}): EndpointSpec {
  return { name: 'sink', url: receiver.url, secret: receiver.secret, ...extra };
}

async function deliveries(): Promise<Record<string, unknown>[]> {
  return (await db('webhook_deliveries').orderBy('id')) as Record<string, unknown>[];
}

async function attempts(): Promise<Record<string, unknown>[]> {
  return (await db('webhook_attempts').orderBy('id')) as Record<string, unknown>[];
}

/** Run passes until one attempts nothing. */
async function drain(relay: Relay): Promise<void> {
  for (let i = 0; i < 1000 && (await relay.runOnce(50)) > 0; i++);
}

describe('the relay', () => {
  it('delivers each event with Standard Webhooks headers that the standardwebhooks package verifies', async () => {
    const config = configWith([endpoint()], '  retry:\n    initial_delay_ms: 1000\n');
    const ids = await queueRoleChanges(db, config, 3, 7, new Date(clock));
    await drain(relayFor(config));

    expect(receiver.received.map((r) => r.verifyError)).toEqual([undefined, undefined, undefined]);
    expect(receiver.received.map((r) => r.id).sort()).toEqual([...ids].sort());
    const first = receiver.received.find((r) => r.id === ids[0]);
    expect(first?.timestamp).toBe(String(Math.floor(clock / 1000)));
    expect(first?.payload).toEqual({
      type: 'member.role_changed',
      timestamp: expect.any(String),
      data: {
        organization: { id: 1 },
        member: { id: 7, email: 'u7@acme.example' },
        old: 'AN',
        new: 'RE',
        source: 'saml',
        actor: 'saml',
        rule: { path: 'organizations[0].roles.LS-Admins', line: 12, group: 'LS-Admins' },
        sequence: 1,
      },
    });
    // The per-member sequence follows commit order.
    const seqs = receiver.received.map((r) => r.payload?.data['sequence']).sort();
    expect(seqs).toEqual([1, 2, 3]);
    expect((await deliveries()).map((d) => d['status'])).toEqual(['delivered', 'delivered', 'delivered']);
    const recorded = await attempts();
    expect(recorded.map((a) => [Number(a['status_code']), a['error_code']])).toEqual([
      [204, null],
      [204, null],
      [204, null],
    ]);
  });

  it('a tampered body or a signature under another secret fails the independent verification', async () => {
    const config = configWith([endpoint({ secret: newSecret() })]);
    await queueRoleChanges(db, config, 1, 7, new Date(clock));
    await drain(relayFor(config));
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.verifyError).toBeDefined();
    expect(receiver.received[0]?.payload).toBeUndefined();
  });

  it('writes no event for a change that rolled back', async () => {
    const config = configWith([endpoint()]);
    await expect(
      db.transaction(async (trx) => {
        await trx('organizations').insert({ id: 99, title: 'Rolled back', created_at: new Date() });
        await recordEvents(trx, config.webhooks, eventsForChange({ kind: 'deleted', organizationId: 1, userId: 3, email: null, before: 'AN', source: 'admin', actor: 'user:1', rule: null }), new Date(clock));
        throw new Error('the change fails after its event was written');
      }),
    ).rejects.toThrow('the change fails');
    expect(await db('organizations').where({ id: 99 })).toEqual([]);
    expect(await db('webhook_events')).toEqual([]);
    expect(await deliveries()).toEqual([]);
    expect(await db('webhook_member_seq')).toEqual([]);
    expect(await relayFor(config).runOnce()).toBe(0);
  });

  it('records nothing when no endpoint is configured', async () => {
    const config = configWith([]);
    await queueRoleChanges(db, config, 2, 7, new Date(clock));
    expect(await db('webhook_events')).toEqual([]);
  });

  it('a receiver that is down for a while, then up, gets every event exactly once after deduplication by id', async () => {
    const config = configWith([endpoint()], '  retry:\n    max_attempts: 20\n    initial_delay_ms: 1000\n    max_delay_ms: 8000\n');
    await receiver.down();
    const ids = await queueRoleChanges(db, config, 25, 7, new Date(clock));
    const relay = relayFor(config);
    // Three rounds while it is down: every attempt fails with a network error and is rescheduled.
    for (let round = 0; round < 3; round++) {
      await drain(relay);
      clock += 10_000;
    }
    const failed = await attempts();
    expect(failed.length).toBe(75);
    expect(new Set(failed.map((a) => a['error_code']))).toEqual(new Set(['ERR_WEBHOOK_NETWORK']));
    expect((await deliveries()).every((d) => d['status'] === 'pending')).toBe(true);

    await receiver.up();
    await drain(relay);
    expect(receiver.uniqueIds().sort()).toEqual([...ids].sort());
    expect(receiver.received).toHaveLength(25);
    expect(receiver.received.every((r) => r.verifyError === undefined)).toBe(true);
    expect((await deliveries()).every((d) => d['status'] === 'delivered')).toBe(true);
    clock += 60_000;
    expect(await relay.runOnce()).toBe(0);
  });

  it('retries with doubling back-off and jitter, then gives up after max_attempts', async () => {
    const config = configWith([endpoint()], '  retry:\n    max_attempts: 3\n    initial_delay_ms: 1000\n    max_delay_ms: 60000\n');
    receiver.answer = () => ({ status: 500, body: 'boom' });
    await queueRoleChanges(db, config, 1, 7, new Date(clock));
    const relay = relayFor(config);
    const start = clock;
    await relay.runOnce();
    let d = (await deliveries())[0];
    // random() = 0.5: half the base plus a quarter of it.
    expect(Number(d?.['next_attempt_at'])).toBe(start + backoffMs(config.webhooks.retry, 1, 0.5));
    expect(backoffMs(config.webhooks.retry, 1, 0.5)).toBe(750);
    expect(await relay.runOnce()).toBe(0); // not due yet
    clock = Number(d?.['next_attempt_at']);
    await relay.runOnce();
    d = (await deliveries())[0];
    expect(Number(d?.['next_attempt_at'])).toBe(clock + 1500);
    clock = Number(d?.['next_attempt_at']);
    await relay.runOnce();
    d = (await deliveries())[0];
    expect(d?.['status']).toBe('failed');
    expect(d?.['last_error']).toBe('HTTP 500: boom');
    expect((await attempts()).map((a) => a['error_code'])).toEqual(['ERR_WEBHOOK_STATUS', 'ERR_WEBHOOK_STATUS', 'ERR_WEBHOOK_STATUS']);
    clock += 3_600_000;
    expect(await relay.runOnce()).toBe(0);
    expect(receiver.received).toHaveLength(3);
  });

  it('honours Retry-After (seconds and HTTP date) over a shorter back-off, for the endpoint as a whole', async () => {
    const config = configWith([endpoint()], '  retry:\n    initial_delay_ms: 1000\n');
    receiver.answer = (_r, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '120' } } : n === 2 ? { status: 503, headers: { 'retry-after': new Date(clock + 90_000).toUTCString() } } : { status: 200 });
    await queueRoleChanges(db, config, 2, 7, new Date(clock));
    const relay = relayFor(config);
    expect(await relay.runOnce(1)).toBe(1);
    const start = clock;
    expect(Number((await deliveries())[0]?.['next_attempt_at'])).toBe(start + 120_000);
    // The endpoint asked to wait: the second event is not sent either.
    expect(await relay.runOnce()).toBe(0);
    clock = start + 119_999;
    expect(await relay.runOnce()).toBe(0);
    expect(receiver.received).toHaveLength(1);
    clock = start + 120_000;
    expect(await relay.runOnce(1)).toBe(1); // the first event again, oldest first
    const first = (await deliveries())[0];
    // HTTP-date form: 90 s after the pinned time it was written at (header dates have whole seconds).
    expect(Number(first?.['next_attempt_at'])).toBeGreaterThan(clock + 89_000);
    expect(Number(first?.['next_attempt_at'])).toBeLessThanOrEqual(clock + 90_000);
    expect(await relay.runOnce()).toBe(0);
    expect(receiver.received).toHaveLength(2);
    clock += 200_000;
    await drain(relay);
    expect((await deliveries()).map((d) => d['status'])).toEqual(['delivered', 'delivered']);
  });

  it('stops on 410 Gone: the delivery fails, the endpoint is disabled and recorded, nothing more is sent until re-enabled', async () => {
    const config = configWith([endpoint()], '  retry:\n    initial_delay_ms: 1000\n');
    receiver.answer = (_r, n) => (n === 1 ? { status: 410 } : { status: 200 });
    await queueRoleChanges(db, config, 3, 7, new Date(clock));
    const relay = relayFor(config);
    await relay.runOnce(1);
    expect((await deliveries()).map((d) => d['status'])).toEqual(['failed', 'pending', 'pending']);
    expect((await attempts())[0]?.['error_code']).toBe('ERR_WEBHOOK_GONE');
    const state = (await db('webhook_endpoint_state').where({ name: 'sink' }).first()) as Record<string, unknown>;
    expect(Number(state['disabled_at'])).toBe(clock);
    expect(state['disabled_reason']).toContain('410');
    clock += 3_600_000;
    expect(await relay.runOnce()).toBe(0);
    expect(receiver.received).toHaveLength(1);
    expect(await enableEndpoint(db, 'sink')).toBe(true);
    // A relay re-reads the disabled endpoints once per poll interval.
    clock += config.webhooks.pollIntervalMs;
    await drain(relay);
    expect((await deliveries()).map((d) => d['status'])).toEqual(['failed', 'delivered', 'delivered']);
  });

  it('ends an attempt that gets no answer at the timeout, and reads at most max_response_bytes of an answer', async () => {
    const config = configWith([endpoint()], '  timeout_seconds: 1\n  max_response_bytes: 1024\n  retry:\n    initial_delay_ms: 1000\n');
    receiver.answer = (_r, n) => (n === 1 ? { status: 200, hang: true } : n === 2 ? { status: 500, body: 'x'.repeat(300_000) } : { status: 200, body: 'y'.repeat(300_000) });
    await queueRoleChanges(db, config, 1, 7, new Date(clock));
    const relay = relayFor(config);
    await relay.runOnce();
    clock += 60_000;
    await relay.runOnce();
    clock += 60_000;
    await relay.runOnce();
    const rows = await attempts();
    expect(rows.map((a) => a['error_code'])).toEqual(['ERR_WEBHOOK_TIMEOUT', 'ERR_WEBHOOK_RESPONSE_TOO_LARGE', null]);
    expect(rows.map((a) => (a['status_code'] === null ? null : Number(a['status_code'])))).toEqual([null, 500, 200]);
    expect((await deliveries())[0]?.['status']).toBe('delivered');
  });

  it('purges settled events after retention_days, keeping any with a pending delivery', async () => {
    const config = configWith([endpoint()], '  retention_days: 30\n');
    const ids = await queueRoleChanges(db, config, 3, 7, new Date(clock));
    const relay = relayFor(config);
    expect(await relay.runOnce(2)).toBe(2); // the third stays pending
    clock += 30 * 86_400_000;
    expect(await relay.purge()).toBe(0); // not older than 30 days yet
    clock += 1;
    expect(await relay.purge()).toBe(2);
    expect((await db('webhook_events')).map((e: { id: string }) => e.id)).toEqual([ids[2]]);
    expect((await deliveries()).map((d) => d['status'])).toEqual(['pending']);
    expect(await attempts()).toEqual([]);
  });

  it('several relays on one database never send one event twice at once', async () => {
    const config = configWith([endpoint()], '  concurrency: 4\n');
    const ids = await queueRoleChanges(db, config, 120, 7, new Date(clock));
    const a = relayFor(config);
    const b = relayFor(config);
    const c = relayFor(config);
    await Promise.all([drain(a), drain(b), drain(c)]);
    // The receiver always answers 2xx, so any second send of an id would be a double send.
    expect(receiver.received).toHaveLength(120);
    expect(receiver.uniqueIds().sort()).toEqual([...ids].sort());
    expect(await attempts()).toHaveLength(120);
  });
});

describe('stopping', () => {
  it('a stop that arrives while the loop is claiming does not wait for the next poll', async () => {
    // The longest poll (60 s): if stop() were missed while the first claim is running, the loop would sleep that long.
    const config = configWith([endpoint()], '  poll_interval_ms: 60000\n');
    const relay = relayFor(config);
    relay.start(); // the loop is now inside its first claim (an await on the database)
    const stopped = relay.stop().then(() => 'stopped' as const);
    const hung = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000).unref());
    expect(await Promise.race([stopped, hung])).toBe('stopped');
  });
});

describe('several endpoints', () => {
  it('one that never answers does not hold up another: each has its share of the slots', async () => {
    const slow = await Receiver.start(newSecret());
    slow.answer = () => ({ status: 200, hang: true });
    try {
      const config = configWith(
        [
          { name: 'slow', url: slow.url, secret: slow.secret },
          { name: 'fast', url: receiver.url, secret: receiver.secret },
        ],
        '  concurrency: 2\n  timeout_seconds: 5\n  poll_interval_ms: 20\n',
      );
      // Oldest first: the slow endpoint's four deliveries come before the fast one's four.
      await queueRoleChanges(db, configWith([{ name: 'slow', url: slow.url, secret: slow.secret }]), 4, 7, new Date(clock));
      await queueRoleChanges(db, configWith([{ name: 'fast', url: receiver.url, secret: receiver.secret }]), 4, 8, new Date(clock));
      const relay = new Relay({ db, config: () => config, log: silentLogger });
      relays.push(relay);
      relay.start();
      for (let i = 0; i < 400 && receiver.received.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
      expect(receiver.received).toHaveLength(4);
      // The slow endpoint holds its one slot; none of its attempts has reached the timeout yet.
      expect(slow.received).toHaveLength(1);
      expect(await db('webhook_attempts').where({ error_code: 'ERR_WEBHOOK_TIMEOUT' })).toEqual([]);
    } finally {
      await Promise.all(relays.splice(0).map((r) => r.stop()));
      await slow.down();
    }
  }, 30_000);
});
