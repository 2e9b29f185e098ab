/**
 * `npm run bench:webhooks`: the webhook relay delivering 10,000 queued events to a local receiver.
 *
 * The receiver is a child process (its own event loop) that verifies every request with the
 * `standardwebhooks` package and answers 204. In the same run:
 *   - baseline: a plain HTTP client (keep-alive, the relay's concurrency) POSTing 10,000 signed bodies of the
 *     same size straight to the receiver: the rate of the receiver and the network path alone;
 *   - rolegate: 10,000 events committed to the outbox (one transaction per 100 events, per-member sequence
 *     numbers), then the relay (its real loop: claim under lease, sign, POST, record the attempt and outcome)
 *     until every delivery is recorded as delivered; on SQLite and, when reachable, PostgreSQL.
 * Reported: events per second and the ratio to the baseline. ROLEGATE_BENCH_WEBHOOK_EVENTS overrides 10,000.
 */
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { loadConfig } from '../src/configuration/index.js';
import type { Config } from '../src/configuration/types.js';
import { openDatabase, type Db } from '../src/db/connect.js';
import { silentLogger } from '../src/log.js';
import { eventsForChange, recordEvents, type EventDraft } from '../src/webhooks/events.js';
import { Relay } from '../src/webhooks/relay.js';
import { PG_URL, ROOT, freePort } from './lib.js';

const EVENTS = Number(process.env['ROLEGATE_BENCH_WEBHOOK_EVENTS'] ?? 10_000);
const CONCURRENCY = 8;
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

const RECEIVER_JS = `
const http = require('node:http');
const { Webhook } = require(${JSON.stringify(path.join(ROOT, 'node_modules/standardwebhooks'))});
const wh = new Webhook(process.env.SECRET);
let ok = 0, bad = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try { wh.verify(Buffer.concat(chunks).toString('utf8'), req.headers); ok++; } catch { bad++; }
    res.writeHead(204); res.end();
  });
});
server.keepAliveTimeout = 30000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\\n'));
process.on('message', (m) => { if (m === 'count') process.send({ ok, bad }); });
`;

interface ReceiverProc {
  readonly url: string;
  count(): Promise<{ ok: number; bad: number }>;
  stop(): void;
}

async function startReceiver(dir: string): Promise<ReceiverProc> {
  const file = path.join(dir, 'receiver.cjs');
  fs.writeFileSync(file, RECEIVER_JS);
  const port = await freePort();
  const child = spawn(process.execPath, [file], { env: { ...process.env, SECRET, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    count: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m as { ok: number; bad: number }));
        child.send('count');
      }),
    stop: () => child.kill('SIGTERM'),
  };
}

/** The baseline: the same number of signed POSTs with a plain keep-alive client, CONCURRENCY at a time. */
async function baseline(url: string, body: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const key = Buffer.from(SECRET.slice(6), 'base64');
  let next = 0;
  const post = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const id = `msg_baseline_${i}`;
      const ts = Math.floor(Date.now() / 1000);
      const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) await post(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return EVENTS / seconds;
}

function drafts(): EventDraft[] {
  const out: EventDraft[] = [];
  for (let i = 0; out.length < EVENTS; i++) {
    out.push(
      ...eventsForChange({
        kind: 'org_role',
        organizationId: 1,
        userId: 1 + (i % 1000),
        email: `member${i % 1000}@bench.example`,
        before: 'AN',
        after: 'RE',
        source: 'saml',
        actor: 'saml',
        rule: { path: 'organizations[0].roles.Bench-Reviewers', line: 14, group: 'Bench-Reviewers' },
      }),
    );
  }
  return out.slice(0, EVENTS);
}

async function relayRun(db: Db, config: Config): Promise<{ rate: number; queueSeconds: number }> {
  const all = drafts();
  const q0 = performance.now();
  for (let i = 0; i < all.length; i += 100) {
    await db.transaction((trx) => recordEvents(trx, config.webhooks, all.slice(i, i + 100), new Date()));
  }
  const queueSeconds = (performance.now() - q0) / 1000;
  const relay = new Relay({ db, config: () => config, log: silentLogger });
  const started = performance.now();
  relay.start();
  for (;;) {
    const row = (await db('webhook_deliveries').where({ status: 'delivered' }).count({ n: '*' })) as { n: number | string }[];
    if (Number(row[0]?.n ?? 0) >= EVENTS) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = (performance.now() - started) / 1000;
  await relay.stop();
  return { rate: EVENTS / seconds, queueSeconds };
}

function configFor(dir: string, receiverUrl: string): Config {
  const file = path.join(dir, 'rolegate.yaml');
  fs.writeFileSync(
    file,
    `server:
  public_url: http://127.0.0.1:8080
  session_secret: bench-secret-0123456789abcdef
  data_dir: ${dir}/data
database:
  url: sqlite:${dir}/rolegate.db
organizations:
  - id: 1
    title: Bench
    owner: owner@bench.example
    sso:
      development_idp: true
webhooks:
  concurrency: ${CONCURRENCY}
  poll_interval_ms: 20
  endpoints:
    - name: bench
      url: ${receiverUrl}
      secret: \${BENCH_SECRET}
      events: [member.role_changed]
      # The receiver is on this machine: loopback is refused unless allowed.
      allow_private_targets: true
`,
  );
  return loadConfig(file, { env: { BENCH_SECRET: SECRET, NODE_ENV: 'test' } });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-bench-webhooks-'));
  const receiver = await startReceiver(dir);
  try {
    const config = configFor(dir, receiver.url);
    const sampleBody = JSON.stringify({ type: 'member.role_changed', timestamp: new Date().toISOString(), data: { ...drafts()[0]?.data, sequence: 1 } });
    console.log(`webhook relay bench: ${EVENTS} events, concurrency ${CONCURRENCY}, body ${Buffer.byteLength(sampleBody)} bytes, receiver verifies with standardwebhooks`);
    const base = await baseline(receiver.url, sampleBody);
    console.log(`baseline  plain HTTP client → receiver      ${base.toFixed(0)} events/s   1.00×`);

    const sqlite = await openDatabase(config.database);
    const s = await relayRun(sqlite, config);
    await sqlite.destroy();
    console.log(`rolegate  relay, SQLite                      ${s.rate.toFixed(0)} events/s   ${(s.rate / base).toFixed(2)}×   (queueing ${EVENTS} events in 100-event transactions: ${s.queueSeconds.toFixed(2)} s)`);

    const schema = `rg_bench_wh_${randomBytes(4).toString('hex')}`;
    let pg: Db | undefined;
    try {
      pg = await openDatabase({ client: 'pg', url: PG_URL, connectionString: PG_URL }, { schema });
    } catch (err) {
      console.log(`rolegate  relay, PostgreSQL                  skipped (${String(err)})`);
    }
    if (pg !== undefined) {
      try {
        const p = await relayRun(pg, { ...config, database: { client: 'pg', url: PG_URL, connectionString: PG_URL } });
        console.log(`rolegate  relay, PostgreSQL                  ${p.rate.toFixed(0)} events/s   ${(p.rate / base).toFixed(2)}×   (queueing: ${p.queueSeconds.toFixed(2)} s)`);
      } finally {
        await pg.destroy();
        const admin = knexFactory({ client: 'pg', connection: { connectionString: PG_URL }, pool: { min: 0, max: 1 } });
        await admin.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
        await admin.destroy();
      }
    }
    const counted = await receiver.count();
    console.log(`receiver: ${counted.ok} verified, ${counted.bad} failed verification`);
  } finally {
    receiver.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
