/**
 * `forward_auth.socket`: a REAL nginx (Debian's) asks rolegate over a Unix socket with the shipped snippet
 * (`ROLEGATE_ADDRESS` = `unix:/path`). TCP peers are not trusted in this configuration (trusted_proxies names
 * another address), so every allowed request below was decided over the socket. Also: what the socket serves,
 * its file mode, and what happens to a file already at its path.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, standardYaml, startApp } from '../support/app.js';
import { TEST_DATABASE } from '../support/database.js';
import type { TestApp } from '../support/app.js';
import { signIn } from '../support/flow.js';
import type { Browser } from '../support/http.js';
import { type EchoUpstream, type RunningProxy, renderTemplate, requireBinary, startEchoUpstream, startNginx } from '../support/proxies.js';
import { PEOPLE, codeOf, cookieHeader, forwardAuthYaml, rawRequest } from './support.js';

let app: TestApp;
let upstream: EchoUpstream;
let nginx: RunningProxy;
let origin = '';
let socketPath = '';
const browsers = new Map<'AD' | 'AN', Browser>();

/** Socket-only forward-auth: trusted_proxies names an address no test connects from. */
function socketYaml(dir: string, url: string, socket: string, mode?: string): string {
  const lines = `  socket: ${socket}\n${mode === undefined ? '' : `  socket_mode: "${mode}"\n`}`;
  return standardYaml({ dir, publicUrl: url }) + forwardAuthYaml([origin], lines).replace('trusted_proxies: [127.0.0.1]', 'trusted_proxies: [192.0.2.10]');
}

beforeAll(async () => {
  requireBinary('nginx');
  upstream = await startEchoUpstream();
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  app = await startApp({
    yaml: (dir, url) => {
      socketPath = path.join(dir, 'fa.sock');
      return socketYaml(dir, url, socketPath);
    },
  });
  nginx = await startNginx(port, renderTemplate('nginx.conf', { LISTEN: `127.0.0.1:${port}`, APP_ORIGIN: origin, ROLEGATE_ADDRESS: `unix:${socketPath}`, UPSTREAM_URL: upstream.url }));
  for (const role of ['AD', 'AN'] as const) {
    const b = app.browser();
    expect((await signIn(app, b, PEOPLE[role])).status).toBe(302);
    browsers.set(role, b);
  }
}, 30_000);

afterAll(async () => {
  await nginx?.close();
  await upstream?.close();
  await app?.close();
});

/** A GET over the Unix socket, as the proxy sends it. */
function overSocket(
  pathAndQuery: string,
  headers: Record<string, string>,
  method = 'GET',
  socket = socketPath,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path: pathAndQuery, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('nginx asking over forward_auth.socket', () => {
  it('decides every request: the role rule, the identity headers, sign-in for a browser without a session', async () => {
    const admin = browsers.get('AD');
    const annotator = browsers.get('AN');
    if (admin === undefined || annotator === undefined) throw new Error('signed in');
    const before = upstream.requests.length;
    const allowed = await admin.get(`${origin}/admin/users`);
    expect(allowed.status).toBe(200);
    const seen = upstream.requests.at(-1)?.headers ?? {};
    expect([seen['x-rolegate-email'], seen['x-rolegate-org-role']]).toEqual([PEOPLE.AD.email, 'AD']);
    expect(String(seen['x-rolegate-assertion']).split('.')).toHaveLength(3);
    const refused = await annotator.get(`${origin}/admin/users`);
    expect([refused.status, upstream.requests.length]).toEqual([403, before + 1]);
    const signedOut = await app.browser().get(`${origin}/projects/43/tasks`);
    expect(signedOut.status).toBe(302);
    expect(signedOut.location).toBe(`${app.url}/auth/signin?rd=${encodeURIComponent(`${origin}/projects/43/tasks`)}`);
    // A client's own identity header is refused over the socket as over TCP.
    const forged = await annotator.get(`${origin}/`, { 'X-Rolegate-Org-Role': 'OW' });
    expect([forged.status, upstream.requests.length]).toEqual([403, before + 1]);
  });

  it('a TCP peer outside trusted_proxies is still refused on the port (the socket trusts only its own connections)', async () => {
    const admin = browsers.get('AD');
    if (admin === undefined) throw new Error('signed in');
    const res = await rawRequest(`${app.url}/auth/nginx`, { cookie: cookieHeader(admin), 'X-Original-URL': `${origin}/admin`, 'X-Original-Method': 'GET' });
    expect([res.status, codeOf(res), res.headers['x-rolegate-email']]).toEqual([403, 'ERR_FORWARD_AUTH_UNTRUSTED_PEER', undefined]);
  });

  it('serves only the check routes: anything else on the socket is a 404, and the file is rw for owner and group only', async () => {
    const admin = browsers.get('AD');
    if (admin === undefined) throw new Error('signed in');
    const cookie = cookieHeader(admin);
    const direct = await overSocket('/auth/nginx', { cookie, 'X-Original-URL': `${origin}/admin`, 'X-Original-Method': 'GET' });
    expect([direct.status, direct.headers['x-rolegate-email'], direct.headers['cache-control']]).toEqual([200, PEOPLE.AD.email, 'no-store']);
    for (const [method, target] of [
      ['GET', '/api/current-user/whoami'],
      ['GET', '/auth/signin?rd=/'],
      ['GET', '/.well-known/jwks.json'],
      ['POST', '/auth/nginx'],
      ['GET', '/auth/nginxx'],
    ] as const) {
      const res = await overSocket(target, { cookie }, method);
      expect([method, target, res.status, JSON.parse(res.body).code]).toEqual([method, target, 404, 'ERR_NOT_FOUND']);
    }
    expect(fs.statSync(socketPath).mode & 0o777).toBe(0o660);
  });
});

describe('a reload', () => {
  it.runIf(TEST_DATABASE === 'sqlite')('that moves the socket is refused as needing a restart; the socket stays where it is', async () => {
    const status = await app.reconfigure((yaml) => yaml.replace(`socket: ${socketPath}`, `socket: ${socketPath}.new`));
    expect([status.ok, status.errors]).toEqual([false, ['forward_auth.socket: changing it needs a restart']]);
    expect(fs.lstatSync(socketPath).isSocket()).toBe(true);
    expect(fs.existsSync(`${socketPath}.new`)).toBe(false);
  });
});

describe('the socket file at start and stop', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-sock-'));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  const start = (socket: string, mode?: string): Promise<TestApp> => startApp({ yaml: (dir, url) => socketYaml(dir, url, socket, mode) });

  it('creates the file with socket_mode exactly', async () => {
    const own = path.join(scratch, 'owner-only.sock');
    const started = await start(own, '0600');
    try {
      expect(fs.statSync(own).mode & 0o777).toBe(0o600);
    } finally {
      await started.close();
    }
  });

  it('refuses to start over a file that is not a socket, and leaves it as it was', async () => {
    const file = path.join(scratch, 'not-a-socket');
    fs.writeFileSync(file, 'keep me');
    await expect(start(file)).rejects.toThrow(`forward_auth.socket ${file} exists and is not a socket; rolegate does not remove it`);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('refuses a socket another process still answers on', async () => {
    const live = path.join(scratch, 'live.sock');
    const other = http.createServer().listen(live);
    await new Promise((r) => other.once('listening', r));
    try {
      await expect(start(live)).rejects.toThrow(`forward_auth.socket ${live} is in use by another process`);
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it('replaces a socket left by a process that was killed, and removes its own on stop', async () => {
    const stale = path.join(scratch, 'stale.sock');
    // A listener killed with SIGKILL leaves its socket file behind.
    const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(fs.lstatSync(stale).isSocket()).toBe(true);
    const second = await start(stale);
    try {
      // The new rolegate answers there now (a 404: /healthz is not a check route).
      expect((await overSocket('/healthz', {}, 'GET', stale)).status).toBe(404);
      expect(fs.statSync(stale).mode & 0o777).toBe(0o660);
    } finally {
      await second.close();
    }
    expect(fs.existsSync(stale)).toBe(false);
  });
});
