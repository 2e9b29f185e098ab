/**
 * `npm run bench`: the login benchmark, in one run on this machine.
 *
 *  1. baseline: node-saml's validatePostResponseAsync alone, one thread, with rolegate's pinned options;
 *  2. rolegate over HTTP (`rolegate serve` in a child process: validation, mapping, one db transaction,
 *     session): logins/s with 1 worker and with the default pool, on SQLite and PostgreSQL, at 20 and 500
 *     groups; meanwhile /healthz (HTTP) and a members-list page (the admin API's listMemberships, run from
 *     this process against the same database) are probed for p50/p99; RSS from /metrics at start and end;
 *  3. micro-benchmarks: the mapping decision (500 groups against 2,000 rules) and a filtered members-list
 *     page at 100,000 members on SQLite and PostgreSQL.
 *
 * Every Response is freshly signed with a unique assertion id (IdP-initiated, allowed in the bench org), and
 * every HTTP run gets a database of its own. A 60 s load is shortened to a fixed number of
 * logins per run (about 5–15 s each) so the whole bench stays under ~10 minutes on 2 cores; the RSS trend is
 * sampled through the longest run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SAML } from '@node-saml/node-saml';
import { loadConfig } from '../src/configuration/index.js';
import { resolvedSamlSettings } from '../src/configuration/defaults.js';
import type { OrganizationConfig } from '../src/configuration/types.js';
import { listMemberships } from '../src/admin/members.js';
import { openDatabase } from '../src/db/connect.js';
import type { Db } from '../src/db/connect.js';
import { buildSignedResponse, encodePostBinding } from '../src/devidp/response.js';
import { NO_TRANSFER, decideAccess } from '../src/mapping/index.js';
import { nodeSamlOptions } from '../src/saml/node-saml-options.js';
import { createServiceProvider } from '../src/saml/index.js';
import { PG_URL, ROOT, createPgDatabase, promValue, startServer, summary } from './lib.js';

const PUBLIC_URL = 'http://bench.rolegate.test';
const IDP_ENTITY_ID = 'https://idp.bench.example/metadata';
const METRICS_TOKEN = 'bench-metrics-token-0123456789';
const IDP_KEY = fs.readFileSync(path.join(ROOT, 'fixtures/keys/idp.key'), 'utf8');
const DEFAULT_WORKERS = os.availableParallelism();
const QUICK = process.env['ROLEGATE_BENCH_QUICK'] === '1';

const GROUP_COUNTS = [20, 500] as const;
/** Logins per HTTP run (after 5 warm-up logins). */
const LOGINS: Record<(typeof GROUP_COUNTS)[number], number> = QUICK ? { 20: 60, 500: 16 } : { 20: 400, 500: 60 };
/**
 * The RSS-trend run (default pool, SQLite, 20 groups) is longer. About 180 logins/s here: 3,000 logins is ~16 s;
 * ROLEGATE_BENCH_SOAK_LOGINS=11000 gives a full 60 s of load (signing the bodies first takes ~1 min).
 */
const SOAK_LOGINS = Number(process.env['ROLEGATE_BENCH_SOAK_LOGINS'] ?? (QUICK ? 120 : 3000));

const group = (i: number): string => `Team-${String(i).padStart(4, '0')}`;

function benchYaml(workers: number) {
  return (port: number, dir: string, databaseUrl: string): string => `
server:
  public_url: ${PUBLIC_URL}
  host: 127.0.0.1
  port: ${port}
  session_secret: bench-secret-0123456789abcdef
  data_dir: ${dir}/data
  metrics_token: ${METRICS_TOKEN}
  # One client address sends every login here: the per-address limit of /saml/* would throttle it.
  rate_limits:
    per_ip_per_minute: 1000000
    per_organization_per_minute: 1000000
database:
  url: "${databaseUrl}"
saml:
  workers: ${workers}
  queue_limit: 256
organizations:
  - id: 1
    title: Bench
    owner: owner@bench.example
    sso:
      idp_entity_id: ${IDP_ENTITY_ID}
      idp_sso_url: https://idp.bench.example/sso
      idp_cert_file: ${ROOT}/fixtures/keys/idp.crt
      allow_idp_initiated: true
    roles:
${Array.from({ length: 40 }, (_, i) => `      ${group(i)}: ${['Annotator', 'Reviewer', 'Manager', 'Administrator'][i % 4]}`).join('\n')}
    projects:
${Array.from({ length: 5 }, (_, p) => `      - id: ${100 + p}\n        title: Project ${p}\n        groups:\n${Array.from({ length: 8 }, (_, i) => `          ${group(1000 + p * 8 + i)}: ${['Annotator', 'Reviewer', 'Inherit'][i % 3]}`).join('\n')}`).join('\n')}
`;
}

/** Fresh signed Responses (unique assertion ids, distinct people), valid for 30 minutes. */
function responses(count: number, groups: number, tag: string): string[] {
  const now = new Date();
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    // Each person holds one mapped org group and one project group among `groups` names.
    const names = Array.from({ length: groups }, (_, g) => group(g === 0 ? i % 40 : g === 1 ? 1000 + (i % 40) : 2000 + g));
    const email = `${tag}-${i}@bench.example`;
    out.push(
      encodePostBinding(
        buildSignedResponse({
          issuer: IDP_ENTITY_ID,
          acsUrl: `${PUBLIC_URL}/saml/1/acs`,
          audience: `${PUBLIC_URL}/saml/1/metadata`,
          nameId: email,
          attributes: { Email: [email], FirstName: ['Bench'], LastName: [`User ${i}`], Groups: names },
          privateKey: IDP_KEY,
          now,
          notOnOrAfter: new Date(now.getTime() + 30 * 60_000),
        }),
      ),
    );
  }
  return out;
}

function benchOrg(): OrganizationConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-bench-cfg-'));
  const file = path.join(dir, 'rolegate.yaml');
  fs.writeFileSync(file, benchYaml(1)(8080, dir, 'sqlite::memory:'));
  const config = loadConfig(file, { env: {} });
  fs.rmSync(dir, { recursive: true, force: true });
  const org = config.organizations[0];
  if (org === undefined) throw new Error('no org');
  return org;
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const rows: string[][] = [];
function row(...cells: (string | number)[]): void {
  const r = cells.map(String);
  rows.push(r);
  console.log(r.join(' | '));
}
const ratio = (value: number, base: number, target: number, higherIsBetter = true): string => {
  const r = value / base;
  const ok = higherIsBetter ? r >= target : r <= target;
  return `${fmt(r, 2)}× (target ${higherIsBetter ? '≥' : '≤'} ${target}×) ${ok ? 'met' : 'MISSED'}`;
};

// ---- 1. baseline ------------------------------------------------------------------------------------------

async function baseline(org: OrganizationConfig, samples: readonly string[]): Promise<{ raw: number; rolegate: number }> {
  const idp = org.sso.idp.kind === 'external' ? org.sso.idp : undefined;
  if (idp === undefined) throw new Error('external IdP expected');
  const trust = { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certs: idp.certs };
  const saml = resolvedSamlSettings({ workers: 0 });
  const raw = new SAML(nodeSamlOptions(org, saml, trust, false));
  for (const r of samples.slice(0, 5)) await raw.validatePostResponseAsync({ SAMLResponse: r });
  let t = performance.now();
  for (const r of samples) await raw.validatePostResponseAsync({ SAMLResponse: r });
  const rawRate = samples.length / ((performance.now() - t) / 1000);
  // rolegate's whole trust boundary in-process (node-saml + its own strict parse and assertion checks): a diagnostic.
  const sp = createServiceProvider(org, saml, trust);
  for (const r of samples.slice(0, 5)) await sp.verifyPostResponse({ SAMLResponse: r });
  t = performance.now();
  for (const r of samples) await sp.verifyPostResponse({ SAMLResponse: r });
  return { raw: rawRate, rolegate: samples.length / ((performance.now() - t) / 1000) };
}

// ---- 2. HTTP runs -----------------------------------------------------------------------------------------

interface HttpResult {
  readonly loginsPerSecond: number;
  readonly errors: number;
  readonly healthz: ReturnType<typeof summary>;
  readonly members: ReturnType<typeof summary>;
  readonly rssStartMb: number;
  readonly rssEndMb: number;
  readonly rssTrendMb: readonly number[];
}

async function metricsOf(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  return res.text();
}

async function httpRun(database: 'sqlite' | 'postgres', workers: number, bodies: readonly string[], org: OrganizationConfig): Promise<HttpResult> {
  const server = await startServer({ yaml: benchYaml(workers), database });
  let db: Db | undefined;
  let firstError: string | undefined;
  try {
    const post = async (body: string): Promise<number> => {
      const res = await fetch(`${server.url}/saml/1/acs`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ SAMLResponse: body }).toString(),
        redirect: 'manual',
      });
      const text = await res.text();
      if (res.status !== 302 && firstError === undefined) firstError = `${res.status} ${text.slice(0, 200)}`;
      return res.status;
    };
    // Warm-up, concurrent so that every worker gets some: JIT, worker start, first connections.
    await Promise.all(bodies.slice(0, 5).map(post));
    const rssStartMb = promValue(await metricsOf(server.url), 'rolegate_process_resident_memory_bytes') / 2 ** 20;
    db = await openDatabase(
      database === 'sqlite'
        ? { client: 'sqlite', url: server.databaseUrl, filename: server.databaseUrl.slice('sqlite:'.length) }
        : { client: 'pg', url: server.databaseUrl, connectionString: server.databaseUrl },
    );
    const work = bodies.slice(5);
    let next = 0;
    let errors = 0;
    let done = false;
    const concurrency = Math.max(2, workers * 2 + 2);
    const started = performance.now();
    const clients = Array.from({ length: concurrency }, async () => {
      while (next < work.length) {
        const body = work[next++];
        if (body === undefined) break;
        if ((await post(body)) !== 302) errors++;
      }
    });
    const healthz: number[] = [];
    const members: number[] = [];
    const rssTrendMb: number[] = [];
    const probes = (async () => {
      let lastRss = performance.now();
      while (!done) {
        let t = performance.now();
        await (await fetch(`${server.url}/healthz`)).arrayBuffer();
        healthz.push(performance.now() - t);
        t = performance.now();
        await listMemberships(db!, org, { offset: 0, limit: 30, roles: ['AN', 'RE'], search: 'user 1', ordering: { field: 'email', desc: false }, deleted: false });
        members.push(performance.now() - t);
        if (performance.now() - lastRss > 2000) {
          lastRss = performance.now();
          rssTrendMb.push(promValue(await metricsOf(server.url), 'rolegate_process_resident_memory_bytes') / 2 ** 20);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await Promise.all(clients);
    const elapsed = (performance.now() - started) / 1000;
    done = true;
    await probes;
    const rssEndMb = promValue(await metricsOf(server.url), 'rolegate_process_resident_memory_bytes') / 2 ** 20;
    if (firstError !== undefined) console.log(`  first error: ${firstError}`);
    return { loginsPerSecond: work.length / elapsed, errors, healthz: summary(healthz), members: summary(members), rssStartMb, rssEndMb, rssTrendMb };
  } finally {
    await db?.destroy();
    await server.stop();
  }
}

// ---- 3. micro-benchmarks ----------------------------------------------------------------------------------

function mappingBench(): { meanUs: number; p99Us: number } {
  const rules = (n: number, offset: number, role: 'AN' | 'RE' | 'MA' | 'AD') =>
    Array.from({ length: n }, (_, i) => ({ group: group(offset + i), role, source: { line: 1, path: `roles.${group(offset + i)}` } }));
  // 1,000 organization rules + 20 projects × 50 rules = 2,000 rules.
  const org = {
    ...benchOrg(),
    roles: [...rules(500, 0, 'AN'), ...rules(300, 500, 'RE'), ...rules(150, 800, 'MA'), ...rules(50, 950, 'AD')],
    projects: Array.from({ length: 20 }, (_, p) => ({
      id: 1000 + p,
      title: `P${p}`,
      rules: Array.from({ length: 50 }, (_, i) => ({ group: group(5000 + p * 50 + i), role: (['AN', 'RE', 'Inherit'] as const)[i % 3], source: { line: 1, path: 'x' } })),
    })),
  } as unknown as OrganizationConfig;
  // 500 groups: 50 hit org rules, 50 hit project rules, 400 unmapped.
  const groups = [
    ...Array.from({ length: 50 }, (_, i) => group(i * 19)),
    ...Array.from({ length: 50 }, (_, i) => group(5000 + i * 19)),
    ...Array.from({ length: 400 }, (_, i) => `Unmapped-${i}`),
  ];
  const input = { email: 'someone@bench.example', groups, current: { role: 'AN' as const, roleSource: 'saml' as const }, currentProjects: [], ownership: NO_TRANSFER };
  for (let i = 0; i < 2000; i++) decideAccess(org, input);
  const samples: number[] = [];
  for (let i = 0; i < 20000; i++) {
    const t = process.hrtime.bigint();
    decideAccess(org, input);
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  const s = summary(samples);
  return { meanUs: s.mean, p99Us: s.p99 };
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Ken', 'Margaret', 'Linus', 'Frances'];
const LAST = ['Smith', 'Jones', 'Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Thompson', 'Hamilton', 'Allen', 'Torvalds'];
const ROLES = ['AN', 'AN', 'AN', 'AN', 'RE', 'RE', 'MA', 'AD', 'NO', 'DI'] as const;

async function seedMembers(db: Db, count: number): Promise<void> {
  const now = new Date();
  await db('organizations').insert({ id: 1, title: 'Bench', created_at: now }).onConflict('id').ignore();
  const chunk = 500;
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    await db.transaction(async (trx) => {
      const users = Array.from({ length: n }, (_, k) => {
        const i = start + k;
        return {
          organization_id: 1,
          email: `${(FIRST[i % 10] ?? 'x').toLowerCase()}.${(LAST[(i * 7) % 12] ?? 'y').toLowerCase()}${i}@bench.example`,
          first_name: FIRST[i % 10],
          last_name: LAST[(i * 7) % 12],
          date_joined: now,
          last_login_at: i % 3 === 0 ? null : now,
          is_deleted: false,
        };
      });
      const ids = (await trx('users').insert(users).returning('id')) as ({ id: number } | number)[];
      await trx('memberships').insert(
        ids.map((row, k) => ({
          organization_id: 1,
          user_id: typeof row === 'number' ? row : row.id,
          role: ROLES[(start + k) % ROLES.length],
          role_source: 'saml',
          reason: '{}',
          created_at: now,
          updated_at: now,
        })),
      );
    });
  }
}

async function membersBench(database: 'sqlite' | 'postgres', org: OrganizationConfig): Promise<Record<string, ReturnType<typeof summary>>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-bench-members-'));
  const pg = database === 'postgres' ? await createPgDatabase() : undefined;
  const db = await openDatabase(
    pg === undefined ? { client: 'sqlite', url: `sqlite:${dir}/m.db`, filename: `${dir}/m.db` } : { client: 'pg', url: pg.url, connectionString: pg.url },
  );
  try {
    await seedMembers(db, 100_000);
    // What autovacuum does on a live PostgreSQL (statistics and the visibility map for index-only scans).
    await db.raw(pg !== undefined ? 'VACUUM ANALYZE' : 'ANALYZE');
    const variants = {
      'role filter, by email': { roles: ['AN', 'RE'] as const, ordering: { field: 'email' as const, desc: false } },
      'role filter + search, by email': { roles: ['AN', 'RE'] as const, search: 'hopper', ordering: { field: 'email' as const, desc: false } },
      'search, by last activity, page 50': { search: 'ada', ordering: { field: 'last_activity' as const, desc: true }, offset: 1470 },
    };
    const out: Record<string, ReturnType<typeof summary>> = {};
    for (const [name, v] of Object.entries(variants)) {
      const opts = { offset: 'offset' in v ? v.offset : 0, limit: 30, deleted: false, ...('roles' in v ? { roles: [...v.roles] } : {}), ...('search' in v ? { search: v.search } : {}), ordering: v.ordering };
      for (let i = 0; i < 5; i++) await listMemberships(db, org, opts);
      const samples: number[] = [];
      for (let i = 0; i < (QUICK ? 20 : 100); i++) {
        const t = performance.now();
        await listMemberships(db, org, opts);
        samples.push(performance.now() - t);
      }
      out[name] = summary(samples);
    }
    return out;
  } finally {
    await db.destroy();
    await pg?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- main -------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = Date.now();
  console.log(`rolegate bench: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, availableParallelism ${DEFAULT_WORKERS}, node ${process.version}${QUICK ? ' (QUICK)' : ''}`);
  console.log(`PostgreSQL: ${PG_URL.replace(/\/\/[^@]*@/, '//')}`);
  const org = benchOrg();
  const summaryRows: string[] = [];
  if (process.env['ROLEGATE_BENCH_PROFILE'] !== undefined) {
    // Profile mode (ROLEGATE_BENCH_PROFILE=<dir>): one run, 1 worker, SQLite, 20 groups (or
    // ROLEGATE_BENCH_PROFILE_GROUPS), V8 CPU profiles of the server's threads in <dir>.
    const groups = Number(process.env['ROLEGATE_BENCH_PROFILE_GROUPS'] ?? '20');
    const r = await httpRun('sqlite', 1, responses(groups >= 100 ? 65 : 305, groups, 'prof'), org);
    console.log(`profiled run: ${fmt(r.loginsPerSecond)} logins/s`);
    return;
  }

  for (const groups of GROUP_COUNTS) {
    const t = performance.now();
    const needed = Math.max(LOGINS[groups] + 5, groups === 20 ? SOAK_LOGINS + 5 : 0);
    const bodies = responses(needed, groups, `g${groups}`);
    console.log(`\n== ${groups} groups: ${bodies.length} Responses signed in ${fmt((performance.now() - t) / 1000)} s`);
    const base = await baseline(org, bodies.slice(0, Math.min(groups === 20 ? 200 : 40, bodies.length)));
    row(`baseline node-saml validatePostResponseAsync, 1 thread, ${groups} groups`, `${fmt(base.raw)} responses/s`);
    row(`rolegate trust boundary in-process (node-saml + own checks), ${groups} groups`, `${fmt(base.rolegate)} responses/s`, `${fmt(base.rolegate / base.raw, 2)}× raw`);
    for (const database of ['sqlite', 'postgres'] as const) {
      for (const workers of [1, DEFAULT_WORKERS]) {
        const soak = groups === 20 && database === 'sqlite' && workers === DEFAULT_WORKERS;
        const set = bodies.slice(0, soak ? SOAK_LOGINS + 5 : LOGINS[groups] + 5);
        const r = await httpRun(database, workers, set, org);
        const target = workers === 1 ? 0.9 : 1.7;
        const label = `rolegate HTTP ${database}, ${workers} worker${workers === 1 ? '' : 's'}, ${groups} groups`;
        row(
          label,
          `${fmt(r.loginsPerSecond)} logins/s (${set.length - 5} logins, ${r.errors} errors)`,
          ratio(r.loginsPerSecond, base.raw, target),
          `healthz p50 ${fmt(r.healthz.p50)} / p99 ${fmt(r.healthz.p99)} ms (≤ 20: ${r.healthz.p99 <= 20 ? 'met' : 'MISSED'})`,
          `members list p50 ${fmt(r.members.p50)} / p99 ${fmt(r.members.p99)} ms`,
          `RSS ${fmt(r.rssStartMb, 0)} → ${fmt(r.rssEndMb, 0)} MB${r.rssTrendMb.length > 1 ? ` (every 2 s: ${r.rssTrendMb.map((x) => fmt(x, 0)).join(', ')})` : ''}`,
        );
        summaryRows.push(`| ${label} | ${fmt(r.loginsPerSecond)} | ${fmt(r.loginsPerSecond / base.raw, 2)}× (≥ ${target}) | ${fmt(r.healthz.p50)} / ${fmt(r.healthz.p99)} | ${fmt(r.members.p50)} / ${fmt(r.members.p99)} | ${fmt(r.rssStartMb, 0)} → ${fmt(r.rssEndMb, 0)} |`);
      }
    }
    summaryRows.push(`| baseline node-saml, 1 thread, ${groups} groups | ${fmt(base.raw)} | 1.00× | | | |`);
  }

  console.log('\n== mapping decision (500 groups vs 2,000 rules)');
  const m = mappingBench();
  row('mapping decision, 500 groups vs 2,000 rules', `mean ${fmt(m.meanUs)} µs, p99 ${fmt(m.p99Us)} µs`, `${fmt(m.meanUs / 50, 2)}× of the 50 µs target (mean) ${m.meanUs <= 50 ? 'met' : 'MISSED'}`);

  const memberRows: string[] = [];
  for (const database of ['sqlite', 'postgres'] as const) {
    console.log(`\n== members list, 100,000 members, ${database}`);
    const t = performance.now();
    const res = await membersBench(database, org);
    console.log(`(seeded and measured in ${fmt((performance.now() - t) / 1000)} s)`);
    for (const [name, s] of Object.entries(res)) {
      row(`members list ${database}: ${name}, 30 per page`, `p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms`, `${fmt(s.p99 / 50, 2)}× of the 50 ms target (p99) ${s.p99 <= 50 ? 'met' : 'MISSED'}`);
      memberRows.push(`| ${database} | ${name} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${s.p99 <= 50 ? 'met' : 'MISSED'} |`);
    }
  }

  console.log('\n== Markdown (docs/performance.md)');
  console.log('| run | logins/s | ÷ baseline (target) | /healthz p50 / p99 ms | members list p50 / p99 ms | RSS MB start → end |');
  console.log('|---|---|---|---|---|---|');
  for (const r of summaryRows) console.log(r);
  console.log(`\nmapping decision: mean ${fmt(m.meanUs)} µs, p99 ${fmt(m.p99Us)} µs (target ≤ 50 µs)\n`);
  console.log('| database | members list (100,000 members) | p50 ms | p99 ms | ≤ 50 ms |');
  console.log('|---|---|---|---|---|');
  for (const r of memberRows) console.log(r);
  console.log(`\nbench finished in ${fmt((Date.now() - startedAt) / 1000, 0)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
