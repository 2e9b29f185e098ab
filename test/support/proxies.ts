/**
 * Real reverse proxies for the forward-auth tests: Debian's nginx and Caddy, each started as a foreground
 * child process on a free port with its own temporary prefix and configuration, and killed after the tests;
 * a small upstream that echoes the headers it receives; and a simulated Traefik (no Debian package exists)
 * that follows the documented ForwardAuth contract. The proxy configurations are rendered from the template
 * files under docs/forward-auth/, the very snippets docs/forward-auth.md shows.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

/** docs/forward-auth/ of the project (found upwards, so the compiled benchmark finds it too). */
function templatesDir(): string {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'docs/forward-auth');
    if (fs.existsSync(path.join(candidate, 'nginx.conf'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error('docs/forward-auth not found');
  }
}
export const TEMPLATES = templatesDir();

/** A template of docs/forward-auth/ with its {{PLACEHOLDERS}} filled in; every placeholder must be given. */
export function renderTemplate(file: string, vars: Record<string, string>): string {
  const text = fs.readFileSync(path.join(TEMPLATES, file), 'utf8');
  const out = text.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`template ${file}: no value for {{${name}}}`);
    return v;
  });
  return out;
}

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  /** Header names exactly as sent (case and spelling kept). */
  readonly rawNames: readonly string[];
}

export interface EchoUpstream {
  readonly url: string;
  readonly port: number;
  readonly requests: Recorded[];
  close(): Promise<void>;
}

/** The application behind the proxy: answers 200 with the request's headers as JSON, and records each request. */
export async function startEchoUpstream(): Promise<EchoUpstream> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const rawNames = req.rawHeaders.filter((_, i) => i % 2 === 0);
    const rec: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawNames };
    requests.push(rec);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ upstream: 'echo', url: rec.url, headers: req.headers }));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RunningProxy {
  readonly url: string;
  readonly dir: string;
  readonly pid: number | undefined;
  /** What the process wrote (error log), for failure messages. */
  output(): string;
  close(): Promise<void>;
}

const children = new Set<ChildProcess>();
// A test run that dies leaves no proxy behind.
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`proxy exited with ${child.exitCode}: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`proxy did not listen on ${port}: ${output()}`);
}

function runChild(command: string, args: readonly string[], dir: string, port: number, env: NodeJS.ProcessEnv = process.env): Promise<RunningProxy> {
  const child = spawn(command, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const output = (): string => {
    const log = path.join(dir, 'error.log');
    return out + (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
  };
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return waitForPort(port, child, output).then(
    () => ({ url: `http://127.0.0.1:${port}`, dir, pid: child.pid, output, close }),
    async (err: unknown) => {
      await close();
      throw err;
    },
  );
}

/**
 * Debian's nginx in the foreground (`daemon off`), with a temporary prefix holding its pid file, temp folders
 * and error log; `site` is a rendered server block (docs/forward-auth/nginx.conf). One process by default (the
 * tests); `workers: 'auto'` runs a master and one worker per core as Debian's own nginx.conf does (benchmarks).
 */
export async function startNginx(port: number, site: string, opts: { workers?: 'auto' } = {}): Promise<RunningProxy> {
  // A master started as root runs its workers as `nobody`, who could not connect to the benchmark's Unix
  // sockets (rolegate's user and group only); workers stay root here.
  const rootWorkers = process.getuid?.() === 0 ? 'user root root;' : '';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-nginx-'));
  fs.writeFileSync(path.join(dir, 'site.conf'), site);
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `daemon off;
${opts.workers === 'auto' ? `worker_processes auto;\n${rootWorkers}` : 'master_process off;\nworker_processes 1;'}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${dir}/site.conf;
}
`,
  );
  return runChild('nginx', ['-p', `${dir}/`, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`], dir, port);
}

/** Debian's Caddy in the foreground (`caddy run`), admin API and automatic HTTPS off, state in a temporary folder. */
export async function startCaddy(port: number, site: string): Promise<RunningProxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-caddy-'));
  const file = path.join(dir, 'Caddyfile');
  fs.writeFileSync(
    file,
    `{
	admin off
	auto_https off
	storage file_system ${dir}/data
	http_port ${port}
}
${site}`,
  );
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: path.join(dir, 'data'), XDG_CONFIG_HOME: path.join(dir, 'config') };
  return runChild('caddy', ['run', '--config', file, '--adapter', 'caddyfile'], dir, port, env);
}

/** Headers a proxy does not forward (RFC 9110 §7.6.1 connection-specific fields). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);

/**
 * A SIMULATED Traefik: Traefik has no Debian package, so this small proxy reads the ForwardAuth dynamic
 * configuration (docs/forward-auth/traefik.yml, rendered) and follows the contract Traefik documents for
 * ForwardAuth: a GET to `address` with the original request's headers plus X-Forwarded-Method/-Proto/-Host/
 * -Uri/-For written by the proxy itself (`trustForwardHeader: false`); on 2xx, first remove every request
 * header matching `authResponseHeadersRegex`, then copy the matching headers of the answer, then forward to
 * the service; on any other status, hand the answer (status, headers, body) to the client.
 */
export async function startSimulatedTraefik(port: number, dynamicYaml: string): Promise<RunningProxy> {
  const conf = parseYaml(dynamicYaml) as {
    http: {
      routers: Record<string, { rule: string; middlewares: string[]; service: string }>;
      middlewares: Record<string, { forwardAuth: { address: string; trustForwardHeader: boolean; authResponseHeadersRegex: string } }>;
      services: Record<string, { loadBalancer: { servers: { url: string }[] } }>;
    };
  };
  const [router] = Object.values(conf.http.routers);
  if (router === undefined) throw new Error('no router');
  const host = /^Host\(`([^`]+)`\)$/.exec(router.rule)?.[1];
  const fa = conf.http.middlewares[router.middlewares[0] ?? '']?.forwardAuth;
  const service = conf.http.services[router.service]?.loadBalancer.servers[0]?.url;
  if (host === undefined || fa === undefined || service === undefined || fa.trustForwardHeader !== false) throw new Error('unexpected traefik configuration');
  const regex = new RegExp(fa.authResponseHeadersRegex, 'i');

  const server = http.createServer((req, res) => {
    void (async () => {
      // Traefik's Host matcher compares the host name without the port.
      const reqHost = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (reqHost !== host) {
        res.writeHead(404).end('404 page not found\n');
        return;
      }
      const original: Record<string, string> = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i] ?? '';
        if (HOP_BY_HOP.has(name.toLowerCase())) continue;
        original[name] = req.rawHeaders[i + 1] ?? '';
      }
      const forwardHeaders: Record<string, string> = { ...original };
      for (const k of Object.keys(forwardHeaders)) if (/^x-forwarded-/i.test(k)) delete forwardHeaders[k];
      Object.assign(forwardHeaders, {
        'X-Forwarded-Method': req.method ?? 'GET',
        'X-Forwarded-Proto': 'http',
        'X-Forwarded-Host': req.headers.host ?? '',
        'X-Forwarded-Uri': req.url ?? '/',
        'X-Forwarded-For': req.socket.remoteAddress ?? '',
      });
      const auth = await fetch(fa.address, { method: 'GET', headers: forwardHeaders, redirect: 'manual' });
      const authBody = Buffer.from(await auth.arrayBuffer());
      if (auth.status < 200 || auth.status > 299) {
        const out: Record<string, string | string[]> = {};
        auth.headers.forEach((v, k) => {
          if (!HOP_BY_HOP.has(k) && k !== 'set-cookie' && k !== 'content-encoding') out[k] = v;
        });
        const cookies = auth.headers.getSetCookie();
        if (cookies.length > 0) out['set-cookie'] = cookies;
        res.writeHead(auth.status, out).end(authBody);
        return;
      }
      const upstreamHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries(original)) if (!regex.test(k)) upstreamHeaders[k] = v;
      auth.headers.forEach((v, k) => {
        if (regex.test(k)) upstreamHeaders[k] = v;
      });
      const body = await new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve(Buffer.concat(chunks)));
      });
      const up = await fetch(service + (req.url ?? '/'), {
        method: req.method ?? 'GET',
        headers: { ...upstreamHeaders, 'X-Forwarded-Host': req.headers.host ?? '', 'X-Forwarded-Proto': 'http' },
        ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
        redirect: 'manual',
      });
      const out: Record<string, string> = {};
      up.headers.forEach((v, k) => {
        if (!HOP_BY_HOP.has(k) && k !== 'content-encoding') out[k] = v;
      });
      res.writeHead(up.status, out).end(Buffer.from(await up.arrayBuffer()));
    })().catch((err: unknown) => {
      res.writeHead(502).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    dir: '',
    pid: undefined,
    output: () => '',
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The proxy binaries are there (installed by .ci/run); a missing one is a failure, never a skip. */
export function requireBinary(name: string): void {
  const found = (process.env['PATH'] ?? '').split(':').some((d) => d !== '' && fs.existsSync(path.join(d, name)));
  if (!found && !fs.existsSync(`/usr/sbin/${name}`)) throw new Error(`${name} is not installed (apt-get install ${name}; .ci/run does it)`);
}
