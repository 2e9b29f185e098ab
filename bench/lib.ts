/** Benchmark plumbing: statistics, a rolegate server in a child process, PostgreSQL scratch databases. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildSignedResponse, encodePostBinding } from '../src/devidp/response.js';
import knexFactory from 'knex';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const PG_URL = process.env['ROLEGATE_BENCH_PG_URL'] ?? process.env['ROLEGATE_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Debian's `wrk` (a C load generator: one thread, an event loop, a few µs per request) when it is on the PATH
 * and `optOut` is not set; undefined otherwise (the benches then use a Node client in their own process).
 */
export function findWrk(optOut: boolean): string | undefined {
  if (optOut) return undefined;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'wrk');
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * User and system CPU time (ms) from a Linux /proc `stat` file (a process's or one thread's); undefined once it
 * has gone. After "(comm) " the state is field 3; utime and stime are fields 14 and 15, in USER_HZ (100) ticks.
 */
export function statCpuMs(file: string): { user: number; system: number } | undefined {
  try {
    const stat = fs.readFileSync(file, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(rest[11]) * 10, system: Number(rest[12]) * 10 };
  } catch {
    return undefined;
  }
}

/** A process's CPU time so far (user + system, ms; Linux /proc), NaN once it has gone. */
export function processCpuMs(pid: number): number {
  const t = statCpuMs(`/proc/${pid}/stat`);
  return t === undefined ? Number.NaN : t.user + t.system;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

export function summary(samples: readonly number[]): { p50: number; p99: number; mean: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean, n: sorted.length };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A scratch PostgreSQL database (rolegate serve has no schema option: a database of its own). */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `rg_bench_${randomBytes(5).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: { connectionString: PG_URL }, pool: { min: 0, max: 1 } });
  await admin.raw('CREATE DATABASE ??', [name]);
  await admin.destroy();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const a = knexFactory({ client: 'pg', connection: { connectionString: PG_URL }, pool: { min: 0, max: 1 } });
      try {
        await a.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
      } finally {
        await a.destroy();
      }
    },
  };
}

export interface BenchServer {
  readonly url: string;
  /** The server process (its main thread's id is the pid; Linux /proc gives every thread's CPU time). */
  readonly pid: number;
  readonly dir: string;
  readonly databaseUrl: string;
  stop(): Promise<void>;
}

/**
 * `rolegate serve` (the built CLI, as in production) in a child process, so that its event loop, threads and
 * RSS are its own and not the load generator's.
 */
export async function startServer(opts: { yaml: (port: number, dir: string, databaseUrl: string) => string; database: 'sqlite' | 'postgres' }): Promise<BenchServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-bench-'));
  const port = await freePort();
  const pg = opts.database === 'postgres' ? await createPgDatabase() : undefined;
  const databaseUrl = pg?.url ?? `sqlite:${dir}/rolegate.db`;
  const file = path.join(dir, 'rolegate.yaml');
  fs.writeFileSync(file, opts.yaml(port, dir, databaseUrl));
  // ROLEGATE_BENCH_PROFILE=<dir>: a V8 CPU profile of each server (main thread and workers) for where the time goes.
  const profile = process.env['ROLEGATE_BENCH_PROFILE'];
  // ROLEGATE_BENCH_NODE_ARGS: more node/V8 flags for the server (e.g. --single-threaded-gc, to see what the
  // "other threads" do).
  const extra = (process.env['ROLEGATE_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const nodeArgs = [...extra, ...(profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`])];
  // ROLEGATE_BENCH_SERVER_STDOUT=<file>: the server's stdout (its log lines, and V8's traces such as
  // --trace-opt --trace-deopt given in ROLEGATE_BENCH_NODE_ARGS) into a file instead of nowhere.
  const stdoutFile = process.env['ROLEGATE_BENCH_SERVER_STDOUT'];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin/rolegate.js'), 'serve', '--config', file], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', stdoutFile === undefined ? 'ignore' : fs.openSync(stdoutFile, 'w'), 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rolegate exited (${child.exitCode}): ${stderr}`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`rolegate did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid ?? 0,
    dir,
    databaseUrl,
    async stop() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await pg?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A value of a Prometheus text exposition (first sample of a metric name, labels included in `name`). */
export function promValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** CPU time (user + system, ms) of each thread of a process, by thread id (Linux /proc; empty elsewhere). */
export function threadCpuMs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const t = statCpuMs(`/proc/${pid}/task/${tid}/stat`);
    if (t !== undefined) out.set(Number(tid), t.user + t.system); // else the thread ended
  }
  return out;
}

/**
 * Per-thread CPU spent between two snapshots: the main thread (tid = pid), the `workers` busiest other threads
 * (the validation threads; Node names every thread "node", so they are told apart by how busy they are) and
 * the rest (V8's GC and compiler helpers, libuv).
 */
export function cpuBetween(pid: number, before: Map<number, number>, after: Map<number, number>, workers: number): { mainMs: number; workerMs: number[]; otherMs: number } {
  const delta = [...after].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)] as const);
  const mainMs = delta.find(([tid]) => tid === pid)?.[1] ?? Number.NaN;
  const others = delta.filter(([tid]) => tid !== pid).map(([, ms]) => ms).sort((a, b) => b - a);
  return { mainMs, workerMs: others.slice(0, workers), otherMs: others.slice(workers).reduce((a, b) => a + b, 0) };
}

/** One really signed IdP-initiated Response to the bench organization's ACS (organization 1), valid 30 minutes. */
export function signedBenchResponse(o: {
  readonly publicUrl: string;
  readonly issuer: string;
  readonly privateKey: string;
  readonly email: string;
  readonly lastName: string;
  readonly groups: readonly string[];
  readonly now: Date;
}): string {
  return encodePostBinding(
    buildSignedResponse({
      issuer: o.issuer,
      acsUrl: `${o.publicUrl}/saml/1/acs`,
      audience: `${o.publicUrl}/saml/1/metadata`,
      nameId: o.email,
      attributes: { Email: [o.email], FirstName: ['Bench'], LastName: [o.lastName], Groups: [...o.groups] },
      privateKey: o.privateKey,
      now: o.now,
      notOnOrAfter: new Date(o.now.getTime() + 30 * 60_000),
    }),
  );
}

/** Validations per second of `validate` over `samples` (round robin) for at least `seconds`, and CPU ms per validation. */
export async function ratePass(validate: (body: string) => Promise<unknown>, samples: readonly string[], seconds: number): Promise<{ rate: number; cpuMs: number; n: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < seconds * 1000) {
    await validate(samples[n % samples.length] as string);
    n += 1;
  }
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { rate: n / elapsed, cpuMs: (used.user + used.system) / 1000 / n, n };
}
