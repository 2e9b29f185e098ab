/**
 * `npm run bench:forward-auth`: forward-auth decisions per second through a real nginx, against a baseline of
 * the same nginx serving the same upstream without auth, measured in the same run.
 *
 * One nginx (Debian's, one foreground process) holds three server blocks: the baseline (`proxy_pass` only),
 * docs/forward-auth/nginx.conf (auth_request to rolegate, identity headers, assertion), and the same snippet
 * in front of a null checker (a bare Node server answering 200 with the identity headers at once: the ceiling
 * of any auth server behind this snippet). rolegate runs as
 * `rolegate serve` in a child process on SQLite; the upstream is a tiny Node server in another child process,
 * so that neither competes with the load generator's event loop. One signed-in member (a really signed SAML
 * Response at the ACS) asks for `/` again and again over keep-alive connections; every request through the
 * auth server block is a full decision: session and member read from the database, policy, a fresh ES256
 * assertion (or the same one while it is young and the claims are unchanged). Throughput phases alternate
 * baseline/auth twice at CONCURRENCY connections; then one connection each gives latency without queueing.
 * The report gives each phase, the ratio of the summed rates (target ≥ 0.5) and the p99 (target < 5 ms),
 * with the load average of the machine.
 *
 * ROLEGATE_BENCH_FA_SECONDS (default 5) sets each phase's length; ROLEGATE_BENCH_FA_CONCURRENCY (default 8)
 * the connections.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { buildSignedResponse, encodePostBinding } from '../src/devidp/response.js';
import { renderTemplate, startNginx } from '../test/support/proxies.js';
import { ROOT, freePort, startServer, summary, threadCpuMs } from './lib.js';

const SECONDS = Number(process.env['ROLEGATE_BENCH_FA_SECONDS'] ?? 5);
const CONCURRENCY = Number(process.env['ROLEGATE_BENCH_FA_CONCURRENCY'] ?? 8);
const IDP_ENTITY_ID = 'https://idp.bench.example/metadata';
const IDP_KEY = fs.readFileSync(path.join(ROOT, 'fixtures/keys/idp.key'), 'utf8');

/** The upstream application: 200 and a short body, in a process of its own. */
function startUpstream(): Promise<{ url: string; stop(): void }> {
  return startNodeServer(`(q, s) => { s.writeHead(200, { 'content-type': 'text/plain' }); s.end('ok'); }`);
}

/**
 * The ceiling: an "auth server" that costs nothing, a bare Node server answering every check 200 with eight
 * identity headers of rolegate's sizes (the assertion ~480 bytes). nginx in front of it with the same snippet
 * shows what the extra hop itself costs, whatever the checker does.
 */
function startNullChecker(): Promise<{ url: string; stop(): void }> {
  const headers = {
    'X-Rolegate-User': '2',
    'X-Rolegate-Email': 'reviewer@bench.example',
    'X-Rolegate-Name': 'Rita Reviewer',
    'X-Rolegate-Org': '1',
    'X-Rolegate-Org-Role': 'RE',
    'X-Rolegate-Projects': '42:RE',
    'X-Rolegate-Groups': 'Bench-Reviewers,Bench-Project42',
    'X-Rolegate-Assertion': 'x'.repeat(480),
    'Cache-Control': 'no-store',
  };
  return startNodeServer(`(q, s) => { s.writeHead(200, ${JSON.stringify(headers)}); s.end(); }`);
}

async function startNodeServer(handler: string): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', `require('node:http').createServer(${handler}).listen(${port}, '127.0.0.1')`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, stop: () => child.kill('SIGTERM') };
}

interface Phase {
  readonly name: string;
  readonly requests: number;
  readonly seconds: number;
  readonly rate: number;
  readonly latencies: number[];
  readonly errors: number;
}

/** `connections` keep-alive connections, each sending GETs back to back for SECONDS. */
async function load(name: string, url: string, headers: Record<string, string>, connections = CONCURRENCY): Promise<Phase> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  const one = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = http.get(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          resolve(res.statusCode ?? 0);
        });
      });
      req.on('error', reject);
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        if ((await one()) !== 200) errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { name, requests: latencies.length, seconds, rate: latencies.length / seconds, latencies, errors };
}

async function main(): Promise<void> {
  const upstream = await startUpstream();
  const nullChecker = await startNullChecker();
  const basePort = await freePort();
  const ceilingPort = await freePort();
  const ceilingOrigin = `http://127.0.0.1:${ceilingPort}`;
  const authPort = await freePort();
  const authOrigin = `http://127.0.0.1:${authPort}`;
  const server = await startServer({
    database: 'sqlite',
    yaml: (port, dir, databaseUrl) => `server:
  public_url: http://127.0.0.1:${port}
  port: ${port}
  session_secret: bench-secret-0123456789abcdef
  data_dir: ${dir}/data
database:
  url: "${databaseUrl}"
saml:
  workers: 0
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
      Bench-Reviewers: Reviewer
    projects:
      - id: 42
        title: Radiology
        groups:
          Bench-Project42: Reviewer
forward_auth:
  trusted_proxies: [127.0.0.1]
  upstreams:
    - origin: ${authOrigin}
      organization: 1
      rules:
        - path: /
          min_role: Annotator
        - path: /projects/42
          project: 42
          min_project_role: Reviewer
`,
  });
  const baseline = `server {
    listen 127.0.0.1:${basePort};
    location / {
        proxy_set_header Host $http_host;
        proxy_pass ${upstream.url};
    }
}
`;
  const site = renderTemplate('nginx.conf', { LISTEN: `127.0.0.1:${authPort}`, APP_ORIGIN: authOrigin, ROLEGATE_ADDRESS: new URL(server.url).host, UPSTREAM_URL: upstream.url });
  // The same snippet in front of the null checker (its upstream block renamed: one nginx holds both).
  const ceiling = renderTemplate('nginx.conf', { LISTEN: `127.0.0.1:${ceilingPort}`, APP_ORIGIN: ceilingOrigin, ROLEGATE_ADDRESS: new URL(nullChecker.url).host, UPSTREAM_URL: upstream.url })
    .replace('upstream rolegate {', 'upstream null_checker {')
    .replace('http://rolegate/', 'http://null_checker/');
  // startNginx waits for the first port; all three server blocks are in one configuration.
  const nginx = await startNginx(authPort, `${baseline}\n${ceiling}\n${site}`);
  try {
    const now = new Date();
    const acs = await fetch(`${server.url}/saml/1/acs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        SAMLResponse: encodePostBinding(
          buildSignedResponse({
            issuer: IDP_ENTITY_ID,
            acsUrl: `${server.url}/saml/1/acs`,
            audience: `${server.url}/saml/1/metadata`,
            nameId: 'reviewer@bench.example',
            attributes: { Email: ['reviewer@bench.example'], FirstName: ['Rita'], LastName: ['Reviewer'], Groups: ['Bench-Reviewers', 'Bench-Project42'] },
            privateKey: IDP_KEY,
            now,
          }),
        ),
      }).toString(),
      redirect: 'manual',
    });
    if (acs.status !== 302) throw new Error(`sign-in failed: ${acs.status} ${await acs.text()}`);
    const cookie = acs.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const check = await fetch(`${authOrigin}/projects/42/tasks`, { headers: { cookie } });
    if (check.status !== 200) throw new Error(`a request through the auth server block answered ${check.status}`);

    const loadBefore = os.loadavg();
    // Warm-up (JIT, connections), then alternate so that drift in the machine's load hits both sides.
    await load('warm-up', `http://127.0.0.1:${basePort}/`, {});
    await load('warm-up', `${authOrigin}/projects/42/tasks`, { cookie });
    const phases: Phase[] = [];
    // rolegate's own CPU (every thread of its process) over the forward-auth phases: the cost of a decision.
    let rolegateCpuMs = 0;
    const cpuTotal = (): number => [...threadCpuMs(server.pid).values()].reduce((a, b) => a + b, 0);
    for (let round = 0; round < 2; round++) {
      phases.push(await load('baseline (nginx → upstream)', `http://127.0.0.1:${basePort}/projects/42/tasks`, { cookie }));
      phases.push(await load('ceiling (nginx → null checker → upstream)', `${ceilingOrigin}/projects/42/tasks`, { cookie }));
      const cpu0 = cpuTotal();
      phases.push(await load('forward-auth (nginx → rolegate → upstream)', `${authOrigin}/projects/42/tasks`, { cookie }));
      rolegateCpuMs += cpuTotal() - cpu0;
    }
    // Latency without queueing: one request at a time (at CONCURRENCY connections p50 is mostly waiting in line).
    const serial = [
      await load('serial baseline', `http://127.0.0.1:${basePort}/projects/42/tasks`, { cookie }, 1),
      await load('serial forward-auth', `${authOrigin}/projects/42/tasks`, { cookie }, 1),
      // The decision alone: rolegate asked directly as nginx asks it, over a kept-alive connection.
      await load('serial rolegate /auth/nginx directly', `${server.url}/auth/nginx`, { cookie, 'X-Original-URL': `${authOrigin}/projects/42/tasks`, 'X-Original-Method': 'GET' }, 1),
    ];
    const loadAfter = os.loadavg();

    const rows = [...phases, ...serial].map((p) => {
      const s = summary(p.latencies);
      return `| ${p.name} | ${p.requests} | ${p.rate.toFixed(0)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${p.errors} |`;
    });
    const sum = (prefix: string): { rate: number; latencies: number[] } => {
      const ps = phases.filter((p) => p.name.startsWith(prefix));
      const requests = ps.reduce((n, p) => n + p.requests, 0);
      const seconds = ps.reduce((n, p) => n + p.seconds, 0);
      return { rate: requests / seconds, latencies: ps.flatMap((p) => p.latencies) };
    };
    const base = sum('baseline');
    const auth = sum('forward-auth');
    const nullCheck = sum('ceiling');
    const ratio = auth.rate / base.rate;
    const p99 = summary(auth.latencies).p99;
    const serialP99 = summary(serial[1]?.latencies ?? []).p99;
    console.log(`\nforward-auth through nginx ${SECONDS} s phases, ${CONCURRENCY} connections, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? ''}), Node ${process.version}`);
    console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}\n`);
    console.log('| phase | requests | req/s | p50 ms | p99 ms | non-200 |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log(`\nbaseline ${base.rate.toFixed(0)} req/s, forward-auth ${auth.rate.toFixed(0)} req/s: ratio ${ratio.toFixed(2)} (target ≥ 0.5: ${ratio >= 0.5 ? 'met' : 'NOT met'})`);
    console.log(`ceiling: the same snippet in front of a checker that costs nothing ${nullCheck.rate.toFixed(0)} req/s: ratio ${(nullCheck.rate / base.rate).toFixed(2)} (no auth server can do better through this snippet); rolegate reaches ${(auth.rate / nullCheck.rate).toFixed(2)} of it`);
    const decisions = phases.filter((p) => p.name.startsWith('forward-auth')).reduce((n, p) => n + p.requests, 0);
    console.log(`rolegate CPU per decision (all its threads, over the forward-auth phases): ${(rolegateCpuMs / decisions).toFixed(3)} ms`);
    console.log(`forward-auth p99 at ${CONCURRENCY} connections ${p99.toFixed(2)} ms; baseline p99 ${summary(base.latencies).p99.toFixed(2)} ms`);
    console.log(`forward-auth p99 one request at a time ${serialP99.toFixed(2)} ms (target < 5 ms: ${serialP99 < 5 ? 'met' : 'NOT met'}); baseline ${summary(serial[0]?.latencies ?? []).p99.toFixed(2)} ms`);
  } finally {
    await nginx.close();
    await server.stop();
    upstream.stop();
    nullChecker.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
