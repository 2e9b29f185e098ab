/**
 * Killing rolegate in the middle of deliveries loses nothing: a real `rolegate serve` child process (dist/)
 * is SIGKILLed while it delivers a queued outbox; a second process on the same database takes over once the
 * dead one's leases run out, and the receiver ends up with every event (deduplicated by webhook-id).
 * SIGTERM, by contrast, stops the relay cleanly: the process exits 0 with nothing left leased.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/configuration/index.js';
import { openDatabase } from '../../src/db/connect.js';
import { BASE, ROOT, cleanup, tempDir } from '../configuration/helpers.js';
import { freePort } from '../support/app.js';
import { Receiver, newSecret } from './receiver.js';
import { queueRoleChanges, secretsEnv, webhooksYaml } from './support.js';

afterAll(cleanup);

const children: ChildProcess[] = [];
let receiver: Receiver | undefined;
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await receiver?.down();
});

async function setUp(events: number): Promise<{ file: string; env: NodeJS.ProcessEnv; ids: string[]; dbFile: string }> {
  receiver = await Receiver.start(newSecret());
  const dir = tempDir();
  const dbFile = path.join(dir, 'rolegate.db');
  const endpoints = [{ name: 'sink', url: receiver.url, secret: receiver.secret }];
  const yaml = BASE.replace('session_secret: test-secret-0123456789\n', `session_secret: test-secret-0123456789\n  port: ${await freePort()}\n  data_dir: ${dir}/data\ndatabase:\n  url: sqlite:${dbFile}\n`) +
    webhooksYaml(endpoints, '  timeout_seconds: 1\n  concurrency: 4\n  poll_interval_ms: 50\n  retry:\n    initial_delay_ms: 100\n    max_delay_ms: 500\n');
  const file = path.join(dir, 'rolegate.yaml');
  fs.writeFileSync(file, yaml);
  const env = { ...process.env, ...secretsEnv(endpoints), NODE_ENV: 'test' };
  const config = loadConfig(file, { env });
  // The outbox is filled before rolegate starts, as if a burst of changes had just been committed.
  const db = await openDatabase(config.database);
  const ids = await queueRoleChanges(db, config, events);
  await db.destroy();
  return { file, env, ids, dbFile };
}

function startServe(file: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/rolegate.js'), 'serve', '--config', file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  return child;
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting: ${what}`);
}

async function statuses(dbFile: string): Promise<Record<string, number>> {
  const db = await openDatabase({ client: 'sqlite', url: `sqlite:${dbFile}`, filename: dbFile });
  try {
    const rows = (await db('webhook_deliveries').groupBy('status').select('status').count({ n: '*' })) as { status: string; n: number }[];
    const leased = (await db('webhook_deliveries').whereNotNull('lease_owner').count({ n: '*' })) as { n: number }[];
    return { ...Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])), leased: Number(leased[0]?.n ?? 0) };
  } finally {
    await db.destroy();
  }
}

describe('a rolegate process killed while delivering', () => {
  it('loses no event: after SIGKILL, the next process delivers everything that was not acknowledged', async () => {
    const { file, env, ids, dbFile } = await setUp(150);
    const r = receiver as Receiver;
    r.answer = () => ({ status: 200, delayMs: 15 });
    const first = startServe(file, env);
    await until(() => r.received.length >= 30, 'the first process to deliver 30 events');
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const queued = new Set(ids);
    const arrived = (): number => r.uniqueIds().filter((id) => queued.has(id)).length;
    expect(arrived()).toBeLessThan(ids.length);
    const mid = await statuses(dbFile);
    expect(mid['pending']).toBeGreaterThan(0);

    const second = startServe(file, env);
    // (The processes may send events of their own start-up too: only the queued ones are counted.)
    await until(() => arrived() === ids.length, 'every queued event to arrive');
    expect(ids.every((id) => r.uniqueIds().includes(id))).toBe(true);
    expect(r.received.every((x) => x.verifyError === undefined)).toBe(true);
    await until(async () => (await statuses(dbFile))['pending'] === undefined, 'every delivery recorded as delivered');

    second.kill('SIGTERM');
    const code = await new Promise((resolve) => second.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    const end = await statuses(dbFile);
    expect(end['delivered']).toBeGreaterThanOrEqual(ids.length);
    expect(end).toEqual({ delivered: end['delivered'], leased: 0 });
  }, 60_000);
});

describe('what a commit promises on SQLite', () => {
  it('a file database runs WAL with synchronous = NORMAL, as docs/operations.md says (atomic, survives a crash of the process)', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'durability.db');
    const db = await openDatabase({ client: 'sqlite', url: `sqlite:${file}`, filename: file });
    try {
      expect(await db.raw('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      // 1 = NORMAL (2 would be FULL: an fsync per commit).
      expect(await db.raw('PRAGMA synchronous')).toEqual([{ synchronous: 1 }]);
    } finally {
      await db.destroy();
    }
  });
});
