/**
 * `npm run bench`: the login benchmark, in one run on this machine.
 *
 *  1. baseline: stock node-saml's validatePostResponseAsync with rolegate's pinned options, one thread,
 *     warmed by passes until two agree within 5 % and then measured in passes of ROLEGATE_BENCH_BASELINE_SECONDS (default 10 s)
 *     interleaved with the rolegate runs: each run's ratio is to the mean of the passes just before and after
 *     it, so that the load other users put on a shared machine hits both sides alike. The same Responses
 *     through rolegate's fast path and its stock pipeline in this process, and through SimpleSAMLphp 1.19
 *     (bench/simplesamlphp.php) when PHP and Debian's simplesamlphp are installed;
 *  2. rolegate over HTTP (`rolegate serve` in a child process: validation, mapping, one db transaction,
 *     session): logins/s with 1 worker and each pool size up to one per core on SQLite (and 1 worker and the
 *     default pool on PostgreSQL, unless ROLEGATE_BENCH_PG=0), at 20 and 500 groups; the server's CPU per login
 *     per thread (Linux /proc: the main thread, the validation threads, the rest); /healthz and a
 *     members-list page probed for p50/p99 meanwhile; RSS from /metrics;
 *  3. micro-benchmarks (skipped with ROLEGATE_BENCH_LOGIN_ONLY=1): the mapping decision (500 groups against
 *     2,000 rules) and a filtered members-list page at 100,000 members on SQLite and PostgreSQL.
 *
 * Every Response is freshly signed with a unique assertion id (IdP-initiated, allowed in the bench org), and
 * every HTTP run gets a database of its own. Every printed row carries the load average at that moment.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { SAML } from '@node-saml/node-saml';
import { loadConfig } from '../src/configuration/index.js';
import { resolvedSamlSettings } from '../src/configuration/defaults.js';
import type { OrganizationConfig } from '../src/configuration/types.js';
import { listMemberships } from '../src/admin/members.js';
import { openDatabase } from '../src/db/connect.js';
import type { Db } from '../src/db/connect.js';
import { NO_TRANSFER, decideAccess } from '../src/mapping/index.js';
import { nodeSamlOptions } from '../src/saml/node-saml-options.js';
import { createResponseVerifiers } from '../src/saml/provider.js';
import { PG_URL, ROOT, cpuBetween, createPgDatabase, findWrk, processCpuMs, promValue, ratePass, signedBenchResponse, startServer, statCpuMs, summary, threadCpuMs } from './lib.js';

const PUBLIC_URL = 'http://bench.rolegate.test';
const IDP_ENTITY_ID = 'https://idp.bench.example/metadata';
const METRICS_TOKEN = 'bench-metrics-token-0123456789';
const IDP_KEY = fs.readFileSync(path.join(ROOT, 'fixtures/keys/idp.key'), 'utf8');
const DEFAULT_WORKERS = os.availableParallelism();
const QUICK = process.env['ROLEGATE_BENCH_QUICK'] === '1';

const GROUP_COUNTS = [20, 500] as const;
/** Logins per measured phase of an HTTP run (first logins, then the same people returning). */
const LOGINS: Record<(typeof GROUP_COUNTS)[number], number> = QUICK ? { 20: 200, 500: 30 } : { 20: 2500, 500: 300 };
/**
 * The warm-up's size (see `warmUp`: three logins per person, not measured), as the baseline is warmed: V8 has by
 * then compiled and settled both paths (a warm-up of first logins only left the returning path, and the write
 * path's feedback for it, to be compiled inside the measured phase: ~0.5 ms of compiler threads per login in
 * an 800-login phase).
 */
const WARM_LOGINS: Record<(typeof GROUP_COUNTS)[number], number> = QUICK ? { 20: 100, 500: 15 } : { 20: 600, 500: 150 };
/**
 * The RSS-trend run (default pool, SQLite, 20 groups) is longer. About 180 logins/s here: 3,000 logins is ~16 s;
 * ROLEGATE_BENCH_SOAK_LOGINS=11000 gives a full 60 s of load (signing the bodies first takes ~1 min).
 */
/** Logins in flight (ROLEGATE_BENCH_CONCURRENCY); default 2 per worker + 2 (4 for 1 worker). */
const CONCURRENCY = process.env['ROLEGATE_BENCH_CONCURRENCY'] === undefined ? undefined : Number(process.env['ROLEGATE_BENCH_CONCURRENCY']);
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
    out.push(signedBenchResponse({ publicUrl: PUBLIC_URL, issuer: IDP_ENTITY_ID, privateKey: IDP_KEY, email, lastName: `User ${i}`, groups: names, now }));
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

// ---- 1. baselines: stock node-saml, rolegate in-process, SimpleSAMLphp -----------------------------------

const BASELINE_SECONDS = Number(process.env['ROLEGATE_BENCH_BASELINE_SECONDS'] ?? (QUICK ? 3 : 10));

function trustOf(org: OrganizationConfig): { entityId: string; ssoUrl: string; certs: readonly string[] } {
  const idp = org.sso.idp.kind === 'external' ? org.sso.idp : undefined;
  if (idp === undefined) throw new Error('external IdP expected');
  return { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certs: idp.certs };
}

const BENCH_SAML = resolvedSamlSettings({ workers: 0 });


/** The baseline: stock node-saml's validatePostResponseAsync with rolegate's pinned options, one thread. */
function stockNodeSaml(org: OrganizationConfig): (body: string) => Promise<unknown> {
  const raw = new SAML(nodeSamlOptions(org, BENCH_SAML, trustOf(org), false));
  return (body) => raw.validatePostResponseAsync({ SAMLResponse: body });
}

/** SimpleSAMLphp's rate on the same Responses (bench/simplesamlphp.php), or null without PHP + simplesamlphp. */
function simpleSamlPhpRate(org: OrganizationConfig, samples: readonly string[], seconds: number): { rate: number; n: number } | null {
  if (!fs.existsSync('/usr/share/simplesamlphp/lib/_autoload.php')) return null;
  try {
    execFileSync('php', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-bench-ssp-'));
  try {
    const acs = new URL(org.sso.acsUrl);
    fs.mkdirSync(path.join(dir, 'config'));
    fs.mkdirSync(path.join(dir, 'tmp'));
    fs.writeFileSync(
      path.join(dir, 'config/config.php'),
      `<?php\n$config = ['baseurlpath' => 'simplesaml/', 'application' => ['baseURL' => '${acs.origin}/'], 'tempdir' => '${dir}/tmp', 'secretsalt' => 'bench-salt-0123456789', 'logging.level' => SimpleSAML\\Logger::ERR, 'logging.handler' => 'errorlog', 'store.type' => 'phpsession', 'timezone' => 'UTC'];\n`,
    );
    fs.writeFileSync(path.join(dir, 'responses.txt'), samples.join('\n'));
    const idp = trustOf(org);
    fs.writeFileSync(path.join(dir, 'idp.crt'), idp.certs[0] ?? '');
    const out = execFileSync(
      'php',
      [path.join(ROOT, 'bench/simplesamlphp.php'), path.join(dir, 'responses.txt'), path.join(dir, 'idp.crt'), org.sso.spEntityId, org.sso.acsUrl, idp.entityId, String(seconds)],
      { env: { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: path.join(dir, 'config') }, encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { rate?: number; validated?: number };
    return typeof result.rate === 'number' ? { rate: result.rate, n: result.validated ?? 0 } : null;
  } catch (err) {
    console.log(`  SimpleSAMLphp run failed: ${String(err).slice(0, 300)}`);
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
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
  /** Server CPU per login (ms): its main thread, each validation thread, everything else (GC helpers, libuv). */
  readonly cpu: { readonly mainMs: number; readonly workerMs: readonly number[]; readonly otherMs: number };
  readonly logins: number;
  /** The bench process's CPU per login (the probes, and the load generator when it is the Node client). */
  readonly clientMs: number;
  /** wrk's CPU per login (0 with the Node client, counted in clientMs). */
  readonly loadgenMs: number;
}

/**
 * One GET on a kept-alive connection of its own, answered and read to the end: the /healthz probe, every 20 ms
 * through the measured phase (fetch cost the bench process several times as much CPU per probe, on the same
 * two cores as the server).
 */
const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function probeGet(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: probeAgent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

async function metricsOf(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  return res.text();
}

/** What driving one phase of logins gave. */
interface Driven {
  /** Logins not answered 302. */
  readonly errors: number;
  /** From the first login sent to the last one answered. */
  readonly seconds: number;
  /** The load generator's CPU (ms) over those seconds when it is a process of its own (wrk); 0 when it runs in this process. */
  readonly loadgenMs: number;
  /** This process's CPU (ms) over those seconds: the probes, and the Node client when it is the load generator. */
  readonly benchMs: number;
}

/** This process's CPU (ms) since `from` (a `process.cpuUsage()`). */
const benchCpuSince = (from: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
};

/** Sends a phase's logins, `concurrency` at a time, over keep-alive connections. */
interface LoginDriver {
  /** For the report: which load generator. */
  readonly name: string;
  drive(bodies: readonly Buffer[]): Promise<Driven>;
  /** The first refused login's status and the start of its body, if any. */
  firstError(): string | undefined;
  close(): void;
}

/**
 * The load generator. Debian's `wrk` when installed (ROLEGATE_BENCH_LOGIN_LOADGEN=node for the other): a C
 * client that takes ~0.02 ms of CPU per login where the Node client below took ~0.3 ms, on the same two cores
 * as the server. Either way the bodies are encoded before the clock starts.
 */
const WRK = findWrk(process.env['ROLEGATE_BENCH_LOGIN_LOADGEN'] === 'node');

function loginDriver(url: string, concurrency: number): LoginDriver {
  return WRK === undefined ? nodeDriver(url, concurrency) : wrkDriver(WRK, url, concurrency);
}

/** node:http with keep-alive connections, in this process. */
function nodeDriver(url: string, concurrency: number): LoginDriver {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(`${url}/saml/1/acs`);
  let first: string | undefined;
  const post = (form: Buffer): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        target,
        { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': form.length, accept: 'application/json' } },
        (res) => {
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          if (status !== 302) res.on('data', (c: Buffer) => chunks.push(c));
          else res.resume();
          res.on('end', () => {
            if (status !== 302 && first === undefined) first = `${status} ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`;
            resolve(status);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(form);
    });
  const drive = async (bodies: readonly Buffer[]): Promise<Driven> => {
    let next = 0;
    let errors = 0;
    const started = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++];
          if (body === undefined) break;
          if ((await post(body)) !== 302) errors++;
        }
      }),
    );
    return { errors, seconds: (performance.now() - started) / 1000, loadgenMs: 0, benchMs: benchCpuSince(cpu) };
  };
  return { name: 'Node http client (in the bench process)', drive, firstError: () => first, close: () => agent.destroy() };
}

/**
 * wrk with a script that posts each body once (read from a file, one per line), then sends GET /healthz on a
 * connection that has no login left until it is stopped; it writes "start" when it sends the first login
 * and "done <ok> <failed>" when the last login is answered: the phase is timed between the two marks.
 */
const WRK_LOGINS = `local bodies, n, sent, ok, failed, checked = {}, 0, 0, 0, 0, false
function init(args)
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Accept"] = "application/json" }
  for line in io.lines(args[1]) do n = n + 1; bodies[n] = wrk.format("POST", "/saml/1/acs", headers, line) end
  bodies[n + 1] = wrk.format("GET", "/healthz")
end
function request()
  -- wrk (Debian's 4.1) calls request() once before the run to check what it returns: that call sends
  -- nothing. (Were it sent, the first body would go twice and its replay show as one error.)
  if not checked then checked = true; return bodies[1] end
  sent = sent + 1
  if sent == 1 then io.write("start\\n"); io.flush() end
  if sent > n then return bodies[n + 1] end
  return bodies[sent]
end
function response(status, headers, body)
  if status == 200 then return end -- a /healthz sent after the last login (a login is answered 302 or an error)
  if status == 302 then ok = ok + 1 else
    failed = failed + 1
    if failed == 1 then io.write("error " .. status .. " " .. (string.gsub(string.sub(body or "", 1, 200), "\\n", " ")) .. "\\n") end
  end
  if ok + failed == n then io.write("done " .. ok .. " " .. failed .. "\\n"); io.flush() end
end
`;

/** The longest a phase may take under wrk (a full phase takes seconds). */
const WRK_PHASE_LIMIT_S = 600;

function wrkDriver(wrk: string, url: string, concurrency: number): LoginDriver {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-bench-wrk-'));
  const script = path.join(dir, 'logins.lua');
  fs.writeFileSync(script, WRK_LOGINS);
  let first: string | undefined;
  const drive = (bodies: readonly Buffer[]): Promise<Driven> => {
    const file = path.join(dir, 'bodies.txt');
    fs.writeFileSync(file, Buffer.concat(bodies.flatMap((b) => [b, Buffer.from('\n')])));
    return new Promise((resolve, reject) => {
      const child = spawn(wrk, ['-t1', `-c${concurrency}`, '-d3600s', '--timeout', '30s', '-s', script, url, '--', file], { stdio: ['ignore', 'pipe', 'inherit'] });
      // Counted from wrk's first send: writing the bodies file and wrk reading it are not the phase's.
      let started = 0;
      let cpu = process.cpuUsage();
      let wrkCpuAtStart = 0;
      let pending = '';
      let settled = false;
      // A login wrk gave up on (its --timeout) is never answered: the phase fails instead of waiting forever.
      const deadline = setTimeout(() => finish(new Error(`wrk: not every login was answered within ${WRK_PHASE_LIMIT_S} s`)), WRK_PHASE_LIMIT_S * 1000);
      const finish = (err: Error | undefined, value?: Driven): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        child.kill('SIGKILL');
        if (err !== undefined) reject(err);
        else resolve(value!);
      };
      child.stdout.on('data', (chunk: Buffer) => {
        const now = performance.now();
        pending += chunk.toString();
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line === 'start') {
            started = now;
            cpu = process.cpuUsage();
            wrkCpuAtStart = processCpuMs(child.pid!);
          }
          else if (line.startsWith('error ')) first ??= line.slice('error '.length);
          else if (line.startsWith('done ')) {
            const [, ok, failed] = line.split(' ').map(Number);
            if (ok! + failed! !== bodies.length) finish(new Error(`wrk answered ${ok! + failed!} of ${bodies.length} logins`));
            else finish(undefined, { errors: failed!, seconds: (now - started) / 1000, loadgenMs: processCpuMs(child.pid!) - wrkCpuAtStart, benchMs: benchCpuSince(cpu) });
          }
        }
      });
      child.on('error', (err) => finish(err));
      child.on('exit', (code) => finish(new Error(`wrk exited (${code}) before the last login was answered`)));
    });
  };
  return { name: 'wrk, one thread', drive, firstError: () => first, close: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A login's POST body, encoded ahead of the measured phase. */
const formOf = (samlResponse: string): Buffer => Buffer.from(new URLSearchParams({ SAMLResponse: samlResponse }).toString());

/**
 * The warm-up: `people` first logins, then those people returning interleaved with as many new people's first
 * logins, as a server that has run a while sees them mixed (a warm-up of one kind, then the other, left V8
 * recompiling the login path at each switch, inside the measured phase).
 */
function warmUp(people: number, groups: number, tag: string): Buffer[] {
  const first = responses(people, groups, tag).map(formOf);
  const returning = responses(people, groups, tag).map(formOf);
  const others = responses(people, groups, `${tag}n`).map(formOf);
  return [...first, ...returning.flatMap((r, i) => [r, others[i]!])];
}

/** The Responses of one HTTP run: a warm-up, then first logins of new people, then their returning logins. */
interface LoginSets {
  /** Other people's first and returning logins (see `warmUp`), not measured: JIT, worker start, connections, caches (the baseline is warmed too). */
  readonly warm: readonly Buffer[];
  /** People who never logged in: their member rows are created. */
  readonly first: readonly Buffer[];
  /** The same people again, with fresh assertions: the everyday login. */
  readonly returning: readonly Buffer[];
}

function loginSets(groups: number, counts: { warm: number; logins: number }, tag: string): LoginSets {
  return {
    warm: warmUp(counts.warm, groups, `${tag}w`),
    first: responses(counts.logins, groups, tag).map(formOf),
    returning: responses(counts.logins, groups, tag).map(formOf),
  };
}

async function httpRun(database: 'sqlite' | 'postgres', workers: number, sets: LoginSets, org: OrganizationConfig): Promise<{ first: HttpResult; returning: HttpResult }> {
  const server = await startServer({ yaml: benchYaml(workers), database });
  let db: Db | undefined;
  const concurrency = CONCURRENCY ?? Math.max(2, workers * 2 + 2);
  const client = loginDriver(server.url, concurrency);
  try {
    await client.drive(sets.warm);
    db = await openDatabase(
      database === 'sqlite'
        ? { client: 'sqlite', url: server.databaseUrl, filename: server.databaseUrl.slice('sqlite:'.length) }
        : { client: 'pg', url: server.databaseUrl, connectionString: server.databaseUrl },
    );
    const measure = async (bodies: readonly Buffer[]): Promise<HttpResult> => {
      const rssStartMb = promValue(await metricsOf(server.url), 'rolegate_process_resident_memory_bytes') / 2 ** 20;
      let done = false;
      const healthz: number[] = [];
      const members: number[] = [];
      const rssTrendMb: number[] = [];
      const cpuBefore = threadCpuMs(server.pid);
      const drivenP = client.drive(bodies);
      // /healthz every 20 ms; the members-list page (a query the bench runs on the database file itself,
      // in this process) every 250 ms: a probe must not become the load it measures.
      const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
      const probes = Promise.all([
        (async () => {
          let lastRss = performance.now();
          while (!done) {
            const t = performance.now();
            await probeGet(`${server.url}/healthz`);
            healthz.push(performance.now() - t);
            if (performance.now() - lastRss > 2000) {
              lastRss = performance.now();
              rssTrendMb.push(promValue(await metricsOf(server.url), 'rolegate_process_resident_memory_bytes') / 2 ** 20);
            }
            await sleep(20);
          }
        })(),
        (async () => {
          while (!done) {
            const t = performance.now();
            await listMemberships(db!, org, { offset: 0, limit: 30, roles: ['AN', 'RE'], search: 'user 1', ordering: { field: 'email', desc: false }, deleted: false });
            members.push(performance.now() - t);
            await sleep(250);
          }
        })(),
      ]);
      const { errors, seconds: elapsed, loadgenMs, benchMs } = await drivenP;
      const cpuAfter = threadCpuMs(server.pid);
      done = true;
      await probes;
      const used = cpuBetween(server.pid, cpuBefore, cpuAfter, Math.max(1, workers));
      const n = bodies.length;
      const cpu = { mainMs: used.mainMs / n, workerMs: used.workerMs.map((ms) => ms / n), otherMs: used.otherMs / n };
      const rssEndMb = promValue(await metricsOf(server.url), 'rolegate_process_resident_memory_bytes') / 2 ** 20;
      const clientMs = benchMs / n;
      return { loginsPerSecond: n / elapsed, logins: n, errors, healthz: summary(healthz), members: summary(members), rssStartMb, rssEndMb, rssTrendMb, cpu, clientMs, loadgenMs: loadgenMs / n };
    };
    const first = await measure(sets.first);
    const returning = await measure(sets.returning);
    const firstError = client.firstError();
    if (firstError !== undefined) console.log(`  first error: ${firstError}`);
    return { first, returning };
  } finally {
    client.close();
    probeAgent.destroy();
    await db?.destroy();
    await server.stop();
  }
}

/**
 * ROLEGATE_BENCH_CPU=1: main-thread CPU per login after the JIT has warmed up (a quick run's 200 logins are
 * mostly warm-up). One 1-worker SQLite server per group count: W first logins to warm up, then N first logins
 * (distinct people) and N returning logins of the same people (fresh assertions), each measured on its own.
 */
/** The main thread's CPU time in the kernel (ms; Linux /proc): syscalls such as socket and file writes. */
function mainSystemMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`)?.system ?? Number.NaN;
}

async function cpuRuns(groups: number): Promise<void> {
  const warmCount = groups >= 100 ? 100 : 600;
  const n = groups >= 100 ? 150 : 800;
  const t = performance.now();
  const warm = warmUp(warmCount, groups, `warm${groups}`);
  const first = responses(n, groups, `cpu${groups}`).map(formOf);
  const again = responses(n, groups, `cpu${groups}`).map(formOf);
  console.log(`\n== CPU per login, ${groups} groups, 1 worker, SQLite (${warm.length + first.length + again.length} Responses signed in ${fmt((performance.now() - t) / 1000)} s)`);
  const server = await startServer({ yaml: benchYaml(1), database: 'sqlite' });
  const client = loginDriver(server.url, CONCURRENCY ?? 4);
  try {
    const measure = async (label: string, bodies: readonly Buffer[]): Promise<void> => {
      const sysBefore = mainSystemMs(server.pid);
      const before = threadCpuMs(server.pid);
      const { errors, seconds: elapsed, loadgenMs, benchMs } = await client.drive(bodies);
      const used = cpuBetween(server.pid, before, threadCpuMs(server.pid), 1);
      const sys = mainSystemMs(server.pid) - sysBefore;
      const per = (ms: number): string => fmt(ms / bodies.length, 2);
      row(
        `CPU, ${groups} groups, ${label}`,
        `${bodies.length} logins, ${errors} errors, ${fmt(bodies.length / elapsed)}/s`,
        `main ${per(used.mainMs)} ms (of which kernel ${per(sys)}), worker ${per(used.workerMs[0] ?? Number.NaN)} ms, other threads ${per(used.otherMs)} ms, load generator (${client.name}) ${per(loadgenMs + benchMs)} ms`,
        `load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
      );
    };
    await measure('warm-up (first and returning logins, mixed)', warm);
    await measure('first logins', first);
    await measure('returning logins', again);
    const firstError = client.firstError();
    if (firstError !== undefined) console.log(`  first error: ${firstError}`);
  } finally {
    client.close();
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
  if (process.env['ROLEGATE_BENCH_CPU'] === '1') {
    for (const groups of GROUP_COUNTS) if (process.env['ROLEGATE_BENCH_CPU_GROUPS'] === undefined || process.env['ROLEGATE_BENCH_CPU_GROUPS'] === String(groups)) await cpuRuns(groups);
    return;
  }
  if (process.env['ROLEGATE_BENCH_PROFILE'] !== undefined) {
    // Profile mode (ROLEGATE_BENCH_PROFILE=<dir>): one run, 1 worker, SQLite, 20 groups (or
    // ROLEGATE_BENCH_PROFILE_GROUPS) and 305 logins (or ROLEGATE_BENCH_PROFILE_LOGINS), V8 CPU profiles of
    // the server's threads in <dir>.
    const groups = Number(process.env['ROLEGATE_BENCH_PROFILE_GROUPS'] ?? '20');
    const logins = Number(process.env['ROLEGATE_BENCH_PROFILE_LOGINS'] ?? (groups >= 100 ? 65 : 305));
    const r = await httpRun('sqlite', 1, loginSets(groups, { warm: 5, logins }, 'prof'), org);
    console.log(`profiled run: first logins ${fmt(r.first.loginsPerSecond)}/s, returning ${fmt(r.returning.loginsPerSecond)}/s`);
    return;
  }

  const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const loginRows: string[] = [];
  for (const groups of GROUP_COUNTS) {
    const t = performance.now();
    const sets = loginSets(groups, { warm: WARM_LOGINS[groups], logins: LOGINS[groups] }, `g${groups}`);
    // The RSS-trend run (the largest pool at 20 groups) logs in more people first.
    const soakSets: LoginSets =
      groups === 20 && SOAK_LOGINS > LOGINS[groups] ? { ...sets, first: [...sets.first, ...responses(SOAK_LOGINS - LOGINS[groups], groups, `g${groups}s`).map(formOf)] } : sets;
    // Validation-only passes reuse a fixed set (nothing there keeps a replay cache); HTTP runs use fresh ones.
    const samples = responses(groups === 20 ? 200 : 60, groups, `v${groups}`);
    const signed = samples.length + sets.warm.length + sets.first.length + sets.returning.length + (soakSets.first.length - sets.first.length);
    console.log(`\n== ${groups} groups: ${signed} Responses signed in ${fmt((performance.now() - t) / 1000)} s (load ${load()})`);
    const stock = stockNodeSaml(org);
    const both = createResponseVerifiers(org, BENCH_SAML, trustOf(org));
    const verifiers = {
      fast: (body: string) => both.fast({ SAMLResponse: body }),
      stock: (body: string) => both.stock({ SAMLResponse: body }),
    };

    // Baseline passes of at least BASELINE_SECONDS each, interleaved with the rolegate runs; each rolegate
    // run is compared with the mean of the passes just before and after it (the machine's load drifts).
    // Warm-up passes as long as a measured one, until two in a row agree within 5 % (at most four): JIT,
    // caches, and the collector done with the signing's garbage. One warm-up pass still left the first
    // measured pass ~20 % slower than the later ones in two of four full runs (CPU per validation 7.1
    // against 5.8–6.0 ms), which flattered the run compared with it.
    const warmRates: number[] = [];
    for (let i = 0; i < 4; i++) {
      warmRates.push((await ratePass(stock, samples, BASELINE_SECONDS)).rate);
      const [a, b] = warmRates.slice(-2);
      if (a !== undefined && b !== undefined && Math.abs(a - b) <= 0.05 * Math.max(a, b)) break;
    }
    console.log(`baseline warm-up passes, ${groups} groups: ${warmRates.map((r) => fmt(r)).join(', ')} responses/s`);
    const passes: number[] = [];
    const baselinePass = async (): Promise<number> => {
      const b = await ratePass(stock, samples, BASELINE_SECONDS);
      passes.push(b.rate);
      row(`baseline stock node-saml validatePostResponseAsync, 1 thread, ${groups} groups, pass ${passes.length}`, `${fmt(b.rate)} responses/s (${b.n} in ${BASELINE_SECONDS} s)`, `CPU ${fmt(b.cpuMs, 2)} ms/response`, `load ${load()}`);
      return b.rate;
    };
    const around = (before: number, after: number) => ({ mean: (before + after) / 2, faster: Math.max(before, after) });

    const b1 = await baselinePass();
    // The trust boundary alone, in this process: the fast path, and the stock pipeline it replaces.
    await ratePass(verifiers.fast, samples, 1);
    const fast = await ratePass(verifiers.fast, samples, BASELINE_SECONDS / 2);
    await ratePass(verifiers.stock, samples, 1);
    const slow = await ratePass(verifiers.stock, samples, BASELINE_SECONDS / 2);
    row(`rolegate fast path in-process (all of rolegate's checks), ${groups} groups`, `${fmt(fast.rate)} responses/s`, `${fmt(fast.rate / b1, 2)}× baseline`, `CPU ${fmt(fast.cpuMs, 2)} ms/response`, `load ${load()}`);
    row(`rolegate stock pipeline in-process (node-saml + rolegate's checks), ${groups} groups`, `${fmt(slow.rate)} responses/s`, `${fmt(slow.rate / b1, 2)}× baseline`, `CPU ${fmt(slow.cpuMs, 2)} ms/response`, `load ${load()}`);

    /** The passes just before and after a run: their mean is the run's baseline; the faster one gives the cautious ratio. */
    interface Around {
      readonly mean: number;
      readonly faster: number;
    }
    const httpRow = (database: 'sqlite' | 'postgres', workers: number, kind: 'first' | 'returning', r: HttpResult, around: Around, target: number | null): void => {
      const base = around.mean;
      const label = `rolegate HTTP ${database}, ${workers} worker${workers === 1 ? '' : 's'}, ${groups} groups, ${kind} logins`;
      const worker = r.cpu.workerMs.map((x) => fmt(x, 2)).join(' + ');
      row(
        label,
        `${fmt(r.loginsPerSecond)} logins/s (${r.logins} logins, ${r.errors} errors)`,
        `${target === null ? `${fmt(r.loginsPerSecond / base, 2)}× baseline` : ratio(r.loginsPerSecond, base, target)} (÷ the faster adjacent pass: ${fmt(r.loginsPerSecond / around.faster, 2)}×)`,
        `CPU per login: main ${fmt(r.cpu.mainMs, 2)} ms${workers === 1 ? ` (≤ 1.5: ${r.cpu.mainMs <= 1.5 ? 'met' : 'MISSED'})` : ''}, worker ${worker} ms${workers === 1 && groups === 20 ? ` (≤ 3: ${(r.cpu.workerMs[0] ?? Infinity) <= 3 ? 'met' : 'MISSED'})` : ''}, other threads ${fmt(r.cpu.otherMs, 2)} ms; ${WRK === undefined ? `bench process (load generator, probes) ${fmt(r.clientMs, 2)} ms` : `load generator (wrk) ${fmt(r.loadgenMs, 2)} ms, bench process (probes) ${fmt(r.clientMs, 2)} ms`}`,
        `healthz p50 ${fmt(r.healthz.p50)} / p99 ${fmt(r.healthz.p99)} ms (≤ 20: ${r.healthz.p99 <= 20 ? 'met' : 'MISSED'})`,
        `members list p50 ${fmt(r.members.p50)} / p99 ${fmt(r.members.p99)} ms (n ${r.members.n})`,
        `RSS ${fmt(r.rssStartMb, 0)} → ${fmt(r.rssEndMb, 0)} MB${r.rssTrendMb.length > 1 ? ` (every 2 s: ${r.rssTrendMb.map((x) => fmt(x, 0)).join(', ')})` : ''}`,
        `load ${load()}`,
      );
      loginRows.push(
        `| ${label} | ${fmt(r.loginsPerSecond)} | ${fmt(r.loginsPerSecond / base, 2)}× (${fmt(r.loginsPerSecond / around.faster, 2)}×)${target === null ? '' : ` (≥ ${target})`} | ${fmt(r.cpu.mainMs, 2)} | ${worker} | ${fmt(r.healthz.p50)} / ${fmt(r.healthz.p99)} | ${load()} |`,
      );
    };

    const target = groups === 20 ? 3 : 2.5;
    const runRows = (database: 'sqlite' | 'postgres', workers: number, r: { first: HttpResult; returning: HttpResult }, base: Around, withTarget: boolean): void => {
      httpRow(database, workers, 'first', r.first, base, withTarget ? target : null);
      httpRow(database, workers, 'returning', r.returning, base, withTarget ? target : null);
    };
    const both1 = await httpRun('sqlite', 1, sets, org);
    const b2 = await baselinePass();
    runRows('sqlite', 1, both1, around(b1, b2), true);
    const one = both1.first;

    // The pool: each size up to one thread per core; the best rate whose /healthz p99 stays within 20 ms
    // (first logins: the heavier kind).
    const pool: Array<{ workers: number; r: HttpResult }> = [{ workers: 1, r: one }];
    let before = b2;
    for (let workers = 2; workers <= DEFAULT_WORKERS; workers += 1) {
      const soak = groups === 20 && workers === DEFAULT_WORKERS;
      const r = await httpRun('sqlite', workers, soak ? soakSets : sets, org);
      const after = await baselinePass();
      runRows('sqlite', workers, r, around(before, after), false);
      pool.push({ workers, r: r.first });
      before = after;
    }
    const withinSlo = pool.filter((p) => p.r.healthz.p99 <= 20).sort((a, b) => b.r.loginsPerSecond - a.r.loginsPerSecond)[0];
    const fastest = [...pool].sort((a, b) => b.r.loginsPerSecond - a.r.loginsPerSecond)[0];
    row(
      `pool, SQLite, ${groups} groups: best with /healthz p99 ≤ 20 ms`,
      withinSlo === undefined ? 'none of the pool sizes kept p99 ≤ 20 ms' : `${withinSlo.workers} worker(s): ${fmt(withinSlo.r.loginsPerSecond)} logins/s, p99 ${fmt(withinSlo.r.healthz.p99)} ms`,
      fastest === undefined ? '' : `fastest: ${fastest.workers} worker(s): ${fmt(fastest.r.loginsPerSecond)} logins/s, p99 ${fmt(fastest.r.healthz.p99)} ms`,
    );

    if (process.env['ROLEGATE_BENCH_PG'] !== '0') {
      for (const workers of [1, DEFAULT_WORKERS]) {
        const r = await httpRun('postgres', workers, sets, org);
        const after = await baselinePass();
        runRows('postgres', workers, r, around(before, after), false);
        before = after;
      }
    }

    const mean = passes.reduce((a, b) => a + b, 0) / passes.length;
    const spread = `${fmt(Math.min(...passes))}–${fmt(Math.max(...passes))}`;
    loginRows.push(`| baseline stock node-saml, 1 thread, ${groups} groups (${passes.length} passes of ${BASELINE_SECONDS} s: ${spread}/s) | ${fmt(mean)} | 1.00× | | | | |`);
    loginRows.push(`| rolegate fast path in-process, ${groups} groups (stock pipeline: ${fmt(slow.rate)}/s) | ${fmt(fast.rate)} | ${fmt(fast.rate / b1, 2)}× | | ${fmt(fast.cpuMs, 2)} (whole process) | | |`);
    const php = simpleSamlPhpRate(org, samples, BASELINE_SECONDS);
    if (php === null) row(`SimpleSAMLphp, ${groups} groups`, 'not installed (php + Debian simplesamlphp): skipped');
    else {
      row(`SimpleSAMLphp 1.19 processResponse, 1 thread, ${groups} groups`, `${fmt(php.rate)} responses/s (${php.n})`, `${fmt(php.rate / mean, 2)}× baseline`, `rolegate 1 worker ÷ SimpleSAMLphp: ${fmt(one.loginsPerSecond / php.rate, 2)}×`, `load ${load()}`);
      loginRows.push(`| SimpleSAMLphp 1.19 validating the same Responses, 1 thread, ${groups} groups | ${fmt(php.rate)} | ${fmt(php.rate / mean, 2)}× | | | | ${load()} |`);
    }
  }
  summaryRows.push(...loginRows);
  if (process.env['ROLEGATE_BENCH_LOGIN_ONLY'] === '1') {
    console.log('\n== Markdown (docs/performance.md)');
    console.log('| run | logins/s | ÷ baseline: mean of the adjacent passes (÷ the faster one) (target) | main-thread CPU ms/login | worker CPU ms/login | /healthz p50 / p99 ms | load average |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of summaryRows) console.log(r);
    console.log(`\nbench finished in ${fmt((Date.now() - startedAt) / 1000, 0)} s`);
    return;
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
  console.log('| run | logins/s | ÷ baseline: mean of the adjacent passes (÷ the faster one) (target) | main-thread CPU ms/login | worker CPU ms/login | /healthz p50 / p99 ms | load average |');
  console.log('|---|---|---|---|---|---|---|');
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
