/**
 * Webhook endpoints changed by a configuration reload: the real Reloader (validate → plan → swap → apply) on a
 * real file, the write path whose outbox reads the configuration in force, and the relay delivering to real
 * receivers that verify with standardwebhooks. SQLite, or PostgreSQL with ROLEGATE_TEST_DATABASE=postgres.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildMemberWriter } from '../../src/app.js';
import { loadConfig } from '../../src/configuration/index.js';
import type { Db } from '../../src/db/connect.js';
import { syncOrganizations } from '../../src/db/organizations.js';
import type { OrgRole } from '../../src/domain/roles.js';
import { silentLogger } from '../../src/log.js';
import type { MemberWriter } from '../../src/members/write.js';
import { Reloader } from '../../src/reload/reloader.js';
import { ConfigState } from '../../src/reload/state.js';
import { webhookServices } from '../../src/webhooks/admin.js';
import { Relay } from '../../src/webhooks/relay.js';
import { locate } from '../configuration/helpers.js';
import { openTestDatabase } from '../support/database.js';
import { NOW, cleanupDirs, populate, tempDir, yaml } from '../plan/support.js';
import { Receiver, newSecret } from './receiver.js';
import { webhooksYaml, type EndpointSpec } from './support.js';

afterAll(cleanupDirs);

let db: Db;
let close: () => Promise<void>;
let file: string;
let env: NodeJS.ProcessEnv;
let state: ConfigState;
let writer: MemberWriter;
let reloader: Reloader;
let relay: Relay;
let receivers: Receiver[];
/** Members whose groups are unknown: a reload's apply leaves them alone, so only the test's changes make events. */
let ids: number[];

function text(endpoints: readonly EndpointSpec[]): string {
  return yaml(path.dirname(file)) + webhooksYaml(endpoints);
}

/**
 * Write the file with these endpoints; the secrets go to the environment the reloader reads, or (`inline`)
 * into the file itself: a running process's environment does not change, so a secret rotated by a reload is
 * one written in the file.
 */
function writeEndpoints(endpoints: readonly EndpointSpec[], inline = false): string {
  let t = text(endpoints);
  if (inline) endpoints.forEach((e, i) => (t = t.replace(`\${WH_SECRET_${i}}`, e.secret)));
  fs.writeFileSync(file, t);
  endpoints.forEach((e, i) => (env[`WH_SECRET_${i}`] = e.secret));
  return t;
}

beforeEach(async () => {
  ({ db, close } = await openTestDatabase());
  file = path.join(tempDir(), 'rolegate.yaml');
  env = { ...process.env, NODE_ENV: 'test' };
  receivers = [await Receiver.start(newSecret()), await Receiver.start(newSecret())];
  writeEndpoints([spec('a')]);
  const config = loadConfig(file, { env });
  await syncOrganizations(db, config, NOW);
  ids = await populate(db, [{ count: 6, prefix: 'unknown', groups: null, role: 'AN' }, { count: 1, prefix: 'owner', groups: [], role: 'OW', roleSource: 'manual' }]);
  state = new ConfigState(config);
  writer = buildMemberWriter({ config, log: silentLogger, current: () => state.current() });
  reloader = new Reloader({ db, state, log: silentLogger, writer, env });
  relay = new Relay({ db, config: () => state.current(), log: silentLogger });
});
afterEach(async () => {
  await reloader.stop();
  await Promise.all(receivers.map((r) => r.down()));
  await close();
});

/** Endpoint `a` or `b`, at its receiver (the secret given, else the receiver's). */
function spec(name: 'a' | 'b', extra: Partial<EndpointSpec> = {}): EndpointSpec {
  const r = receivers[name === 'a' ? 0 : 1];
  if (r === undefined) throw new Error('no receiver');
  return { name, url: r.url, secret: r.secret, ...extra };
}

function member(i: number): number {
  const id = ids[i];
  if (id === undefined) throw new Error(`no member ${i}`);
  return id;
}

/** A hand change of a member's organization role through the write path (its events go to the outbox). */
async function change(userId: number, role: OrgRole): Promise<void> {
  await db.transaction((trx) =>
    writer.write(
      trx,
      { organizationId: 1, source: 'admin', actor: 'user:test', configRevision: state.current().revision, now: new Date(), ip: null, assertionId: null },
      [{ kind: 'org_role', userId, role, roleSource: 'manual', reason: { by: 'test' } }],
      { refusals: 'skip' },
    ),
  );
}

/** Rewrite the file with these endpoints and reload it; the reload must succeed. */
async function reloadWith(endpoints: readonly EndpointSpec[], inline = false): Promise<void> {
  writeEndpoints(endpoints, inline);
  const status = await reloader.reload('file');
  expect(status.ok, status.errors.join('\n')).toBe(true);
}

async function drain(): Promise<void> {
  for (let i = 0; i < 100 && (await relay.runOnce(50)) > 0; i++);
}

/** What a receiver got: [member id, type], verified. */
function got(r: Receiver | undefined): [number, string][] {
  return (r?.received ?? []).map((x) => [Number((x.payload?.data['member'] as { id?: number } | undefined)?.id), x.payload?.type ?? `unverified: ${x.verifyError ?? ''}`]);
}

async function deliveriesTo(endpoint: string): Promise<{ user_id: number; type: string; status: string; last_error_code: string | null }[]> {
  const rows = (await db('webhook_deliveries as d')
    .join('webhook_events as e', 'e.id', 'd.event_id')
    .where('d.endpoint', endpoint)
    .orderBy('d.id')
    .select('e.user_id', 'e.type', 'd.status', 'd.last_error_code')) as { user_id: number | string; type: string; status: string; last_error_code: string | null }[];
  return rows.map((r) => ({ ...r, user_id: Number(r.user_id) }));
}

describe('webhook endpoints changed by a reload', () => {
  it('an endpoint added by a reload gets the events queued after it, not those queued before', async () => {
    await change(member(0), 'RE');
    await reloadWith([spec('a'), spec('b')]);
    await change(member(1), 'RE');
    await drain();
    expect(got(receivers[0])).toEqual([
      [member(0), 'member.role_changed'],
      [member(1), 'member.role_changed'],
    ]);
    expect(got(receivers[1])).toEqual([[member(1), 'member.role_changed']]);
  });

  it('an endpoint removed by a reload: its undelivered events are marked failed (ERR_WEBHOOK_ENDPOINT_REMOVED) and shown, never sent; later events are not queued for it', async () => {
    await reloadWith([spec('a'), spec('b')]);
    await change(member(0), 'RE'); // queued for a and b, not sent yet
    await reloadWith([spec('a')]);
    await change(member(1), 'RE');
    await drain();
    expect(got(receivers[0])).toEqual([
      [member(0), 'member.role_changed'],
      [member(1), 'member.role_changed'],
    ]);
    expect(receivers[1]?.received).toEqual([]);
    expect(await deliveriesTo('b')).toEqual([{ user_id: member(0), type: 'member.role_changed', status: 'failed', last_error_code: 'ERR_WEBHOOK_ENDPOINT_REMOVED' }]);
    // The Webhooks tab's data: b's failure is counted and listed with its code.
    const view = await webhookServices(db).overview(1, { recent: 50, failures: 20 });
    expect(view.counts.get('b')).toEqual({ pending: 0, delivered: 0, failed: 1 });
    expect(view.failures.map((d) => [d.endpoint, d.lastErrorCode])).toEqual([['b', 'ERR_WEBHOOK_ENDPOINT_REMOVED']]);
  });

  it('a changed secret: deliveries still queued and those queued after the reload are signed with the new one', async () => {
    const b = receivers[1];
    if (b === undefined) throw new Error('no receiver');
    // Endpoint a points at receiver b, which only accepts b's secret (and answers 400 otherwise); the file
    // still has a's.
    b.answer = (r) => ({ status: r.verifyError === undefined ? 204 : 400 });
    await reloadWith([spec('a', { url: b.url })], true);
    await change(member(0), 'RE');
    await drain();
    expect(b.received.map((r) => r.verifyError === undefined)).toEqual([false]); // the old secret does not verify
    await change(member(1), 'RE'); // queued under the old secret, not sent yet
    await reloadWith([spec('a', { url: b.url, secret: b.secret })], true);
    await change(member(2), 'RE');
    await db('webhook_deliveries').update({ next_attempt_at: 0 }); // the refused first attempt's retry is due now
    await drain();
    expect(await deliveriesTo('a')).toHaveLength(3);
    expect((await deliveriesTo('a')).map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);
    const verified = b.received.filter((r) => r.verifyError === undefined).map((r) => (r.payload?.data['member'] as { id: number }).id);
    expect(verified.sort((x, y) => x - y)).toEqual([member(0), member(1), member(2)]);
  });

  it('a changed event list decides for events queued after the reload; deliveries queued before are still sent', async () => {
    await reloadWith([spec('a', { events: ['member.role_changed'] })]);
    await change(member(0), 'DI'); // member.role_changed + member.deactivated: a wants the first only
    await reloadWith([spec('a', { events: ['member.deactivated'] })]);
    await change(member(1), 'DI');
    await drain();
    expect(got(receivers[0])).toEqual([
      [member(0), 'member.role_changed'],
      [member(1), 'member.deactivated'],
    ]);
  });

  it('a broken webhooks section is refused, naming file, line and field; the last good endpoints keep receiving', async () => {
    const started = state.current().revision;
    const t = writeEndpoints([spec('a', { events: ['member.created', 'member.deactivate'] })]);
    const status = await reloader.reload('file');
    expect(status.ok).toBe(false);
    const { line, col } = locate(t, '[member.created, member.deactivate]', 'member.deactivate]');
    expect(status.errors).toHaveLength(1);
    expect(status.errors[0]).toContain(`${file}:${line}:${col} webhooks.endpoints[0].events[1]: `);
    expect(status.errors[0]).toContain('did you mean "member.deactivated"');
    expect(state.current().revision).toBe(started);

    // A secret that is not a Standard Webhooks secret: refused too, and never echoed.
    const secretText = writeEndpoints([spec('a', { secret: 'whsec_c2hvcnQ=' })]);
    const refused = await reloader.reload('file');
    expect(refused.ok).toBe(false);
    const at = locate(secretText, 'secret: ${WH_SECRET_0}', '${WH_SECRET_0}');
    expect(refused.errors[0]).toContain(`${file}:${at.line}:${at.col} webhooks.endpoints[0].secret: `);
    expect(refused.errors.join('\n')).not.toContain('c2hvcnQ');
    expect(state.current().revision).toBe(started);

    await change(member(0), 'RE');
    await drain();
    expect(got(receivers[0])).toEqual([[member(0), 'member.role_changed']]);
  });
});
