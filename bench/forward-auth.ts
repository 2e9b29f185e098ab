/**
 * `npm run bench:forward-auth`: forward-auth decisions per second through a real nginx, against a baseline of
 * the same nginx serving the same upstream without auth, measured in the same run.
 *
 * One nginx (Debian's, a master and one worker per core as Debian's own nginx.conf runs it) holds five server
 * blocks: the baseline (`proxy_pass` only), and docs/forward-auth/nginx.conf four times: in front of rolegate
 * over TCP and over its Unix socket (`forward_auth.socket`), and in front of a bare Node checker over each (a
 * Node server answering every check 200 with the identity headers at once: what any checker built on Node's
 * HTTP server costs through this snippet, whatever it decides). rolegate runs as `rolegate serve` in a child
 * process on SQLite; the upstream is a tiny Node server in another child process. One signed-in member (a
 * really signed SAML Response at the ACS) asks for `/projects/42/tasks` again and again over keep-alive
 * connections; every request through a rolegate block is a full decision: session and member read from the
 * database, policy, the assertion (a fresh ES256 signature, or the same one while it is young and the claims
 * are unchanged). Throughput phases alternate the five blocks twice at CONCURRENCY connections; then one
 * connection each gives latency without queueing. The load generator is Debian's `wrk` when installed (else a
 * Node client in this process; the report says which). The report gives each phase, the ratio of the summed
 * rates (target ≥ 0.5) and the p99 (target < 5 ms), with the load average of the machine.
 *
 * ROLEGATE_BENCH_FA_SECONDS (default 5) sets each phase's length; ROLEGATE_BENCH_FA_CONCURRENCY (default 8)
 * the connections; ROLEGATE_BENCH_FA_LOADGEN=node forces the Node client.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { buildSignedResponse, encodePostBinding } from '../src/devidp/response.js';
import { renderTemplate, startNginx } from '../test/support/proxies.js';
import { ROOT, findWrk, freePort, startServer, summary, threadCpuMs } from './lib.js';

const SECONDS = Number(process.env['ROLEGATE_BENCH_FA_SECONDS'] ?? 5);
const CONCURRENCY = Number(process.env['ROLEGATE_BENCH_FA_CONCURRENCY'] ?? 8);
const IDP_ENTITY_ID = 'https://idp.bench.example/metadata';
const IDP_KEY = fs.readFileSync(path.join(ROOT, 'fixtures/keys/idp.key'), 'utf8');

/** The upstream application: 200 and a short body, in a process of its own. */
function startUpstream(): Promise<{ url: string; address: string; stop(): void }> {
  return startNodeServer(`(q, s) => { s.writeHead(200, { 'content-type': 'text/plain' }); s.end('ok'); }`);
}

/**
 * The bare Node checker: answers every check 200 with eight identity headers of rolegate's sizes (the assertion
 * ~480 bytes), deciding nothing. nginx in front of it with the same snippet shows what the extra hop costs with
 * a checker on Node's HTTP server. `socket`: on that Unix socket instead of a TCP port.
 */
function startBareChecker(socket?: string): Promise<{ url: string; address: string; stop(): void }> {
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
  return startNodeServer(`(q, s) => { s.writeHead(200, ${JSON.stringify(headers)}); s.end(); }`, socket);
}

/** A Node server in a child process; `address` is how nginx names it (host:port or unix:/path). */
async function startNodeServer(handler: string, socket?: string): Promise<{ url: string; address: string; stop(): void }> {
  const port = socket === undefined ? await freePort() : 0;
  const listen = socket === undefined ? `${port}, '127.0.0.1'` : `${JSON.stringify(socket)}, () => require('node:fs').chmodSync(${JSON.stringify(socket)}, 0o660)`;
  const child = spawn(process.execPath, ['-e', `require('node:http').createServer(${handler}).listen(${listen})`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if (socket === undefined) await fetch(url);
      else if (!fs.existsSync(socket) || (fs.statSync(socket).mode & 0o777) !== 0o660) throw new Error('not yet');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, address: socket === undefined ? `127.0.0.1:${port}` : `unix:${socket}`, stop: () => child.kill('SIGTERM') };
}

interface Phase {
  readonly name: string;
  readonly requests: number;
  readonly seconds: number;
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/**
 * The load generator. Debian's `wrk` when it is installed (one thread: a C event loop that leaves the servers
 * the rest of the machine and measures latency without a JavaScript event loop's own queueing); otherwise the
 * Node client below, in this process. The report names the one used: on 2 cores the Node client takes most
 * of a core, so its rates are lower and its latencies include its own waiting.
 */
const WRK = findWrk(process.env['ROLEGATE_BENCH_FA_LOADGEN'] === 'node');

/** `connections` keep-alive connections, each sending GETs back to back for SECONDS. */
function load(name: string, url: string, headers: Record<string, string>, connections = CONCURRENCY): Promise<Phase> {
  return WRK === undefined ? loadNode(name, url, headers, connections) : loadWrk(WRK, name, url, headers, connections);
}

// wrk's summary as one JSON line (latencies in microseconds); `summary.errors.status` counts non-2xx/3xx.
const WRK_REPORT = `done = function(s, latency, requests)
  io.write(string.format('\\n{"requests":%d,"us":%d,"status":%d,"socket":%d,"p50":%d,"p99":%d}\\n',
    s.requests, s.duration, s.errors.status, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

async function loadWrk(wrk: string, name: string, url: string, headers: Record<string, string>, connections: number): Promise<Phase> {
  const script = path.join(os.tmpdir(), `rolegate-bench-wrk-${process.pid}.lua`);
  fs.writeFileSync(script, WRK_REPORT);
  const args = ['-t1', `-c${connections}`, `-d${SECONDS}s`, '--timeout', '5s', '-s', script];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text}`))));
  });
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
  if (line === undefined) throw new Error(`no report from wrk: ${out}`);
  const r = JSON.parse(line) as { requests: number; us: number; status: number; socket: number; p50: number; p99: number };
  const seconds = r.us / 1e6;
  return { name, requests: r.requests, seconds, rate: r.requests / seconds, p50: r.p50 / 1000, p99: r.p99 / 1000, errors: r.status + r.socket };
}

async function loadNode(name: string, url: string, headers: Record<string, string>, connections: number): Promise<Phase> {
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
  const s = summary(latencies);
  return { name, requests: latencies.length, seconds, rate: latencies.length / seconds, p50: s.p50, p99: s.p99, errors };
}

/** One auth server block of the run: the snippet in front of a checker over one transport. */
interface Block {
  readonly label: string;
  readonly origin: string;
  readonly port: number;
  readonly site: string;
}

async function main(): Promise<void> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-bench-fa-'));
  const upstream = await startUpstream();
  const bareTcp = await startBareChecker();
  const bareUnix = await startBareChecker(path.join(scratch, 'bare.sock'));
  const basePort = await freePort();
  const ports = { bareTcp: await freePort(), rolegateTcp: await freePort(), bareUnix: await freePort(), rolegateUnix: await freePort() };
  const origin = (port: number): string => `http://127.0.0.1:${port}`;
  const rolegateSocket = path.join(scratch, 'rolegate.sock');
  const upstreamYaml = (port: number): string => `    - origin: ${origin(port)}
      organization: 1
      rules:
        - path: /
          min_role: Annotator
        - path: /projects/42
          project: 42
          min_project_role: Reviewer
`;
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
  socket: ${rolegateSocket}
  upstreams:
${upstreamYaml(ports.rolegateTcp)}${upstreamYaml(ports.rolegateUnix)}`,
  });
  const baseline = `server {
    listen 127.0.0.1:${basePort};
    location / {
        proxy_set_header Host $http_host;
        proxy_pass ${upstream.url};
    }
}
`;
  // The shipped snippet, once per block; its `upstream rolegate` block renamed per block (one nginx holds all).
  const block = (label: string, name: string, port: number, checker: string): Block => ({
    label,
    origin: origin(port),
    port,
    site: renderTemplate('nginx.conf', { LISTEN: `127.0.0.1:${port}`, APP_ORIGIN: origin(port), ROLEGATE_ADDRESS: checker, UPSTREAM_URL: upstream.url })
      .replace('upstream rolegate {', `upstream ${name} {`)
      .replace('http://rolegate/', `http://${name}/`),
  });
  const blocks = [
    block('bare Node checker, TCP', 'bare_tcp', ports.bareTcp, bareTcp.address),
    block('rolegate, TCP', 'rolegate_tcp', ports.rolegateTcp, new URL(server.url).host),
    block('bare Node checker, Unix socket', 'bare_unix', ports.bareUnix, bareUnix.address),
    block('rolegate, Unix socket', 'rolegate_unix', ports.rolegateUnix, `unix:${rolegateSocket}`),
  ];
  // startNginx waits for the first port; every server block is in one configuration.
  const nginx = await startNginx(ports.rolegateTcp, [baseline, ...blocks.map((b) => b.site)].join('\n'), { workers: 'auto' });
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
    const target = (b: Block): string => `${b.origin}/projects/42/tasks`;
    for (const b of blocks) {
      const check = await fetch(target(b), { headers: { cookie } });
      if (check.status !== 200) throw new Error(`a request through "${b.label}" answered ${check.status}`);
    }

    const loadBefore = os.loadavg();
    // Warm-up (JIT, connections), then alternate so that drift in the machine's load hits every block alike.
    await load('warm-up', `http://127.0.0.1:${basePort}/`, {});
    for (const b of blocks) await load('warm-up', target(b), { cookie });
    const phases: Phase[] = [];
    // rolegate's own CPU (every thread of its process) over its phases: the cost of a decision, per transport.
    const cpuMs = new Map<string, number>();
    const cpuTotal = (): number => [...threadCpuMs(server.pid).values()].reduce((a, b) => a + b, 0);
    for (let round = 0; round < 2; round++) {
      phases.push(await load('baseline (nginx → upstream)', `http://127.0.0.1:${basePort}/projects/42/tasks`, { cookie }));
      for (const b of blocks) {
        const cpu0 = cpuTotal();
        phases.push(await load(b.label, target(b), { cookie }));
        cpuMs.set(b.label, (cpuMs.get(b.label) ?? 0) + cpuTotal() - cpu0);
      }
    }
    // Latency without queueing: one request at a time (at CONCURRENCY connections p50 is mostly waiting in line).
    const [, rolegateTcp, , rolegateUnix] = blocks as [Block, Block, Block, Block];
    const serial = [
      await load('one at a time: baseline', `http://127.0.0.1:${basePort}/projects/42/tasks`, { cookie }, 1),
      await load('one at a time: rolegate, TCP', target(rolegateTcp), { cookie }, 1),
      await load('one at a time: rolegate, Unix socket', target(rolegateUnix), { cookie }, 1),
      // The decision alone: rolegate asked directly as nginx asks it, over a kept-alive connection.
      await load('one at a time: rolegate /auth/nginx directly', `${server.url}/auth/nginx`, { cookie, 'X-Original-URL': target(rolegateTcp), 'X-Original-Method': 'GET' }, 1),
    ];
    const loadAfter = os.loadavg();

    // Summed over the phases of one kind; p99 is the worst phase's (wrk gives percentiles, not samples).
    const sum = (label: string): { rate: number; p99: number; requests: number } => {
      const ps = phases.filter((p) => p.name === label);
      const requests = ps.reduce((n, p) => n + p.requests, 0);
      const seconds = ps.reduce((n, p) => n + p.seconds, 0);
      return { rate: requests / seconds, p99: Math.max(...ps.map((p) => p.p99)), requests };
    };
    const base = sum('baseline (nginx → upstream)');
    console.log(
      `\nforward-auth through nginx: ${SECONDS} s phases, ${CONCURRENCY} connections, load generator ${WRK === undefined ? 'Node http client (in the bench process)' : 'wrk (one thread)'}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? ''}), Node ${process.version}`,
    );
    console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}\n`);
    console.log('| phase | requests | req/s | p50 ms | p99 ms | non-200 |');
    console.log('|---|---|---|---|---|---|');
    for (const p of [...phases, ...serial]) console.log(`| ${p.name} | ${p.requests} | ${p.rate.toFixed(0)} | ${p.p50.toFixed(2)} | ${p.p99.toFixed(2)} | ${p.errors} |`);
    console.log(`\nbaseline (nginx → upstream, no auth): ${base.rate.toFixed(0)} req/s, p99 ${base.p99.toFixed(2)} ms\n`);
    console.log('| through the snippet | req/s | ÷ baseline (target ≥ 0.5) | p99 ms at load (worst phase) | ÷ the bare checker | rolegate CPU per decision |');
    console.log('|---|---|---|---|---|---|');
    for (const [rg, bare] of [
      [blocks[1], blocks[0]],
      [blocks[3], blocks[2]],
    ] as Array<[Block, Block]>) {
      for (const b of [bare, rg]) {
        const r = sum(b.label);
        const ratio = r.rate / base.rate;
        const own = b === rg ? `${(r.rate / sum(bare.label).rate).toFixed(2)}` : '';
        const cpu = b === rg ? `${((cpuMs.get(b.label) ?? 0) / r.requests).toFixed(3)} ms` : '';
        console.log(`| ${b.label} | ${r.rate.toFixed(0)} | ${ratio.toFixed(2)}${b === rg ? (ratio >= 0.5 ? ' met' : ' NOT met') : ''} | ${r.p99.toFixed(2)} | ${own} | ${cpu} |`);
      }
    }
    console.log('');
    for (const p of serial.slice(1, 3)) console.log(`${p.name}: p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms (target < 5 ms: ${p.p99 < 5 ? 'met' : 'NOT met'})`);
    console.log(`${serial[0]?.name ?? ''}: p99 ${(serial[0]?.p99 ?? Number.NaN).toFixed(2)} ms`);
  } finally {
    await nginx.close();
    await server.stop();
    upstream.stop();
    bareTcp.stop();
    bareUnix.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
