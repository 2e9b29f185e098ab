/**
 * `npm run bench:scim`: SCIM provisioning at scale, on SQLite and on PostgreSQL (BENCH_DB=sqlite|postgres|both).
 *
 * An organization of 100,000 members (BENCH_MEMBERS) with SCIM on. Measured, each in the running service
 * through real HTTP:
 *   - one PATCH adding 10,000 members (BENCH_PUSH) to a group mapped to Annotator, and one removing them
 *     (Entra's "Remove with a value list"): each member decided again, written through the write path,
 *     audited; the removal takes them from Annotator to Not Activated, so their sessions and tokens end;
 *   - GET /healthz latency while each PATCH runs (two clients in a loop), against its idle latency measured
 *     in the same run just before;
 *   - GET /Users?filter=userName eq "…" among the 100,000 members, against GET /ServiceProviderConfig (the
 *     same authentication and routing without the query) in the same run;
 *   - a 100-member PATCH, for the per-member cost at a small size.
 * Ratios are against baselines of this run, so they mean the same on a faster or slower machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/configuration/index.js';
import { syncOrganizations } from '../src/db/organizations.js';
import { jsonLogger, silentLogger } from '../src/log.js';
import { serve } from '../src/main.js';
import { createScimToken } from '../src/scim/tokens.js';
import { insertSyntheticMembers, type SyntheticMember } from '../test/support/synthetic.js';
import { createPgDatabase, freePort, summary } from './lib.js';

const MEMBERS = Number(process.env['BENCH_MEMBERS'] ?? 100_000);
const PUSH = Number(process.env['BENCH_PUSH'] ?? 10_000);
const FILTER_QUERIES = Number(process.env['BENCH_FILTER_QUERIES'] ?? 1000);
const DATABASES = (process.env['BENCH_DB'] ?? 'both') === 'both' ? (['sqlite', 'postgres'] as const) : ([process.env['BENCH_DB'] === 'postgres' ? 'postgres' : 'sqlite'] as const);
const ROOT = path.resolve(import.meta.dirname, '..', fs.existsSync(path.resolve(import.meta.dirname, '../fixtures')) ? '' : '..');

function yaml(dir: string, port: number, databaseUrl: string): string {
  return `server:
  public_url: http://127.0.0.1:${port}
  port: ${port}
  session_secret: bench-secret-0123456789abcdef
  data_dir: ${dir}/data
database:
  url: ${databaseUrl}
saml:
  workers: 0
# A push of 10,000 removals is the point of this benchmark, not a mistake: lift the mass-demotion guard.
guards:
  max_demotions: 1000000
  max_demotion_percent: 100
organizations:
  - id: 1
    title: Bench
    owner: owner@bench.example
    sso:
      idp_entity_id: https://idp.test/metadata
      idp_sso_url: https://idp.test/sso
      idp_cert_file: ${path.join(ROOT, 'fixtures/keys/idp.crt')}
    scim:
      enabled: true
    roles:
      Bench-Admins: Administrator
      Bench-Annotators: Annotator
    projects:
      - id: 1
        title: Bench project
        groups:
          Bench-Annotators: Inherit
`;
}

function member(j: number): SyntheticMember {
  return { email: `m${j}@bench.example`, role: j === 0 ? 'AD' : 'NO', roleSource: 'saml', groups: j === 0 ? ['Bench-Admins'] : [], assertedAt: new Date(), projects: [] };
}

interface Client {
  readonly url: string;
  readonly key: string;
}

async function scim(c: Client, method: string, p: string, body?: unknown): Promise<{ status: number; ms: number; json: unknown }> {
  const started = performance.now();
  const res = await fetch(`${c.url}/scim/v2${p}`, {
    method,
    headers: { authorization: `Bearer ${c.key}`, accept: 'application/scim+json', ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  return { status: res.status, ms, json: text === '' ? null : (JSON.parse(text) as unknown) };
}

async function healthz(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/healthz`);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`healthz ${res.status}`);
  return performance.now() - started;
}

/**
 * /healthz every 20 ms from two clients (as a monitor and a few users would), until `until` settles (or
 * `count` requests when given). Paced rather than flat out, so the probe measures the service without
 * starving the push it runs beside.
 */
async function healthLoop(url: string, until: Promise<unknown> | null, count = 0): Promise<number[]> {
  let done = false;
  void until?.then(
    () => (done = true),
    () => (done = true),
  );
  const samples: number[] = [];
  let left = count;
  await Promise.all(
    [0, 1].map(async () => {
      while (until !== null ? !done : left-- > 0) {
        samples.push(await healthz(url));
        await new Promise((r) => setTimeout(r, 20));
      }
    }),
  );
  return samples;
}

async function patchMembers(c: Client, group: string, op: 'add' | 'Remove', ids: readonly number[]): Promise<number> {
  const res = await scim(c, 'PATCH', `/Groups/${group}`, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op, path: 'members', value: ids.map((id) => ({ value: String(id) })) }],
  });
  if (res.status !== 204) throw new Error(`PATCH ${op}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.ms;
}

interface Row {
  readonly db: string;
  readonly addMs: number;
  readonly removeMs: number;
  readonly smallMs: number;
  readonly idle: ReturnType<typeof summary>;
  readonly duringAdd: ReturnType<typeof summary>;
  readonly duringRemove: ReturnType<typeof summary>;
  readonly filter: ReturnType<typeof summary>;
  readonly spc: ReturnType<typeof summary>;
  readonly roles: string;
}

async function runOn(kind: 'sqlite' | 'postgres'): Promise<Row> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-bench-scim-'));
  const pg = kind === 'postgres' ? await createPgDatabase() : undefined;
  try {
    const port = await freePort();
    const file = path.join(dir, 'rolegate.yaml');
    fs.writeFileSync(file, yaml(dir, port, pg?.url ?? `sqlite:${dir}/rolegate.db`));
    const config = loadConfig(file, { env: {} });
    const running = await serve(config, process.env['BENCH_LOG'] === '1' ? jsonLogger() : silentLogger);
    const url = `http://127.0.0.1:${port}`;
    try {
      const db = running.db;
      let t = performance.now();
      await syncOrganizations(db, config, new Date());
      const ids = await insertSyntheticMembers(db, 1, Array.from({ length: MEMBERS }, (_, j) => member(j)), new Date());
      console.log(`[${kind}] seeded ${MEMBERS.toLocaleString('en')} members in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      const { key } = await createScimToken(db, { organizationId: 1, name: 'bench', createdBy: 'cli', configRevision: null, ip: null }, new Date());
      const c: Client = { url, key };
      const created = await scim(c, 'POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Bench-Annotators', members: [] });
      if (created.status !== 201) throw new Error(`group: ${created.status}`);
      const group = (created.json as { id: string }).id;

      if (process.env['BENCH_QUERIES'] === '1') {
        const started = new Map<string, number>();
        const totals = new Map<string, { n: number; ms: number }>();
        db.on('query', (q: { __knexQueryUid: string }) => started.set(q.__knexQueryUid, performance.now()));
        db.on('query-response', (_r: unknown, q: { __knexQueryUid: string; sql: string }) => {
          const t0 = started.get(q.__knexQueryUid);
          if (t0 === undefined) return;
          const key = q.sql.replace(/\?(, \?)*/g, '?').slice(0, 140);
          const e = totals.get(key) ?? { n: 0, ms: 0 };
          e.n++;
          e.ms += performance.now() - t0;
          totals.set(key, e);
        });
        process.on('beforeExit', () => {
          for (const [k, v] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) console.log(v.n, v.ms.toFixed(0), k);
        });
      }
      const idle = await healthLoop(url, null, 400);

      // The per-member cost at a small size (100 members in, then out), outside the measured pushes.
      const small = ids.slice(1 + PUSH, 1 + PUSH + 100);
      const smallMs = await patchMembers(c, group, 'add', small);
      await patchMembers(c, group, 'Remove', small);

      const pushed = ids.slice(1, 1 + PUSH);
      t = performance.now();
      const adding = patchMembers(c, group, 'add', pushed);
      const duringAdd = await healthLoop(url, adding);
      const addMs = await adding;
      const roles = (await db('memberships').whereIn('role', ['AN']).count({ n: '*' })) as { n: number | string }[];

      const removing = patchMembers(c, group, 'Remove', pushed);
      const duringRemove = await healthLoop(url, removing);
      const removeMs = await removing;
      const after = (await db('memberships').whereIn('role', ['AN']).count({ n: '*' })) as { n: number | string }[];
      console.log(`[${kind}] add ${PUSH} members: ${(addMs / 1000).toFixed(2)} s (Annotators after: ${String(roles[0]?.n)}); remove: ${(removeMs / 1000).toFixed(2)} s (after: ${String(after[0]?.n)})`);

      // Lookups as Okta and Entra make them, each for a different member.
      const filterMs: number[] = [];
      const spcMs: number[] = [];
      for (let i = 0; i < FILTER_QUERIES; i++) {
        const j = 1 + ((i * 7919) % (MEMBERS - 1));
        const r = await scim(c, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "M${j}@bench.example"`)}`);
        const list = r.json as { totalResults: number };
        if (r.status !== 200 || list.totalResults !== 1) throw new Error(`filter: ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
        filterMs.push(r.ms);
        spcMs.push((await scim(c, 'GET', '/ServiceProviderConfig')).ms);
      }
      return {
        db: kind === 'sqlite' ? 'SQLite' : 'PostgreSQL',
        addMs,
        removeMs,
        smallMs,
        idle: summary(idle),
        duringAdd: summary(duringAdd),
        duringRemove: summary(duringRemove),
        filter: summary(filterMs),
        spc: summary(spcMs),
        roles: `${String(roles[0]?.n)} → ${String(after[0]?.n)}`,
      };
    } finally {
      await running.close();
    }
  } finally {
    await pg?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const kind of DATABASES) rows.push(await runOn(kind));
  const f = (n: number): string => n.toFixed(1);
  console.log('');
  console.log(`| measure (${MEMBERS.toLocaleString('en')} members, push of ${PUSH.toLocaleString('en')}) | ${rows.map((r) => r.db).join(' | ')} | target |`);
  console.log(`|---|${rows.map(() => '---').join('|')}|---|`);
  console.log(`| PATCH add ${PUSH.toLocaleString('en')} members to a mapped group | ${rows.map((r) => `${(r.addMs / 1000).toFixed(2)} s`).join(' | ')} | < 10 s |`);
  console.log(`| PATCH remove them (Annotator → Not Activated) | ${rows.map((r) => `${(r.removeMs / 1000).toFixed(2)} s`).join(' | ')} | < 10 s |`);
  console.log(`| per member, push of ${PUSH.toLocaleString('en')} vs push of 100 | ${rows.map((r) => `${f((r.addMs / PUSH) * 1000)} µs vs ${f((r.smallMs / 100) * 1000)} µs`).join(' | ')} | |`);
  console.log(`| /healthz p99 idle (baseline) | ${rows.map((r) => `${f(r.idle.p99)} ms`).join(' | ')} | |`);
  console.log(`| /healthz p99 during the add (× idle) | ${rows.map((r) => `${f(r.duringAdd.p99)} ms (× ${f(r.duringAdd.p99 / r.idle.p99)}, n=${r.duringAdd.n})`).join(' | ')} | served |`);
  console.log(`| /healthz p99 during the removal (× idle) | ${rows.map((r) => `${f(r.duringRemove.p99)} ms (× ${f(r.duringRemove.p99 / r.idle.p99)}, n=${r.duringRemove.n})`).join(' | ')} | served |`);
  console.log(`| GET /Users?filter=userName eq … p50 / p99 | ${rows.map((r) => `${f(r.filter.p50)} / ${f(r.filter.p99)} ms`).join(' | ')} | p99 < 20 ms |`);
  console.log(`| GET /ServiceProviderConfig p99 (baseline: auth and routing) | ${rows.map((r) => `${f(r.spc.p99)} ms (filter × ${f(r.filter.p99 / r.spc.p99)})`).join(' | ')} | |`);
  console.log(`| Annotators before → after the removal | ${rows.map((r) => r.roles).join(' | ')} | |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
