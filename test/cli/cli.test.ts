import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { freePort, ROOT } from '../support/app.js';
import { TEST_DATABASE, TEST_PG_URL } from '../support/database.js';
import { getWithHost } from '../support/http.js';

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: { ...env } }, out, err };
}

function tempFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-cli-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('rolegate check-config', () => {
  it('says the shipped example configuration is valid (exit 0)', async () => {
    const t = io();
    const code = await runCli(['check-config', path.join(ROOT, 'config/rolegate.yaml')], t.io);
    expect(t.err.join('')).toBe('');
    expect(code).toBe(0);
    expect(t.out.join('')).toMatch(/rolegate\.yaml: valid \(1 organization\(s\), revision [0-9a-f]{12}\)/);
  });

  it('lists every error with file:line:col and path, and exits 2', async () => {
    const file = tempFile(
      'bad.yaml',
      `server:
  public_url: http://localhost:8080
  session_secret: 0123456789abcdef0123
organizations:
  - id: 1
    title: Acme
    owner: owner@acme.example
    sso:
      development_idp: true
    roles:
      LS-Admins: Adminstrator
      LS-Owners: Owner
`,
    );
    const t = io();
    const code = await runCli(['check-config', file], t.io);
    expect(code).toBe(2);
    const text = t.err.join('');
    expect(text).toContain(`${file}:11:18 organizations[0].roles.LS-Admins:`);
    expect(text).toContain('"Administrator"');
    expect(text).toContain(`${file}:12:18 organizations[0].roles.LS-Owners:`);
    expect(text).toContain('2 error(s)');
  });

  it('takes the file from ROLEGATE_CONFIG when none is given', async () => {
    const t = io({ ROLEGATE_CONFIG: path.join(ROOT, 'config/rolegate.yaml') });
    expect(await runCli(['check-config'], t.io)).toBe(0);
  });

  it('a missing file is an error, not a crash', async () => {
    const t = io();
    expect(await runCli(['check-config', '/nonexistent/rolegate.yaml'], t.io)).toBe(2);
    expect(t.err.join('')).toContain('/nonexistent/rolegate.yaml');
  });

  it('refuses the development IdP under NODE_ENV=production', async () => {
    const t = io({ NODE_ENV: 'production' });
    expect(await runCli(['check-config', path.join(ROOT, 'config/rolegate.yaml')], t.io)).toBe(2);
    expect(t.err.join('')).toContain('development_idp');
  });
});

describe('rolegate --help and unknown commands', () => {
  it('--help lists the commands', async () => {
    const t = io();
    expect(await runCli(['--help'], t.io)).toBe(0);
    expect(t.out.join('')).toContain('check-config');
    expect(t.out.join('')).toContain('serve');
  });

  it('an unknown command exits 64 with the help', async () => {
    const t = io();
    expect(await runCli(['frobnicate'], t.io)).toBe(64);
    expect(t.err.join('')).toContain('unknown command');
  });
});


describe('rolegate serve (the built binary, as `npm start` runs it)', () => {
  it('starts the shipped configuration with PORT=<any port>: public_url, startup line and SSO follow the port', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-serve-'));
    const port = await freePort();
    // Only where data goes changes: port and public_url are the shipped file's, moved by PORT alone.
    const yaml = fs
      .readFileSync(path.join(ROOT, 'config/rolegate.yaml'), 'utf8')
      .replace('sqlite:./data/rolegate.db', `sqlite:${dir}/rolegate.db`)
      .replace('  trust_proxy: false', `  trust_proxy: false\n  data_dir: ${dir}/data`);
    const file = path.join(dir, 'rolegate.yaml');
    fs.writeFileSync(file, yaml);
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/rolegate.js'), 'serve', '--config', file], {
      env: { ...process.env, PORT: String(port), ROLEGATE_PORT: '', ROLEGATE_PUBLIC_URL: '', ROLEGATE_HOST: '', NODE_ENV: 'development', ROLEGATE_SESSION_SECRET: 'a-secret-that-must-not-be-logged' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const deadline = Date.now() + 15_000;
      let status = 0;
      while (Date.now() < deadline) {
        try {
          status = (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
          if (status === 200) break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(status, stderr).toBe(200);
      expect(stderr).toContain(`rolegate is running: open http://localhost:${port}/`);
      // Sign in with SSO sends the browser to the development IdP on the same port, not the shipped 8080.
      const login = await getWithHost(port, '/saml/1/login', `localhost:${port}`);
      expect(login.status).toBe(302);
      expect(login.location).toMatch(new RegExp(`^http://localhost:${port}/dev-idp/1/sso\\?`));
      // Started by 127.0.0.1, it moves to public_url's localhost first (the binding cookie must be localhost's).
      const other = await fetch(`http://127.0.0.1:${port}/saml/1/login`, { redirect: 'manual' });
      expect(other.status).toBe(302);
      expect(other.headers.get('location')).toBe(`http://localhost:${port}/saml/1/login`);
      expect(fs.existsSync(path.join(dir, 'data/dev-idp/signing-key.pem'))).toBe(true);
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => l['msg'] === 'request' && l['path'] === '/healthz' && l['status'] === 200)).toBe(true);
      expect(lines.some((l) => l['msg'] === 'shutting down')).toBe(true);
      expect(stdout + stderr).not.toContain('a-secret-that-must-not-be-logged');
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rolegate serve: setup problems are one line, not a stack trace', () => {
  /** The shipped file on a given database URL, started with PORT=<port>. */
  async function serveOn(databaseUrl: string, port: number, extra = ''): Promise<{ code: number; err: string }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-serve-'));
    try {
      const yaml =
        fs
          .readFileSync(path.join(ROOT, 'config/rolegate.yaml'), 'utf8')
          .replace('sqlite:./data/rolegate.db', databaseUrl)
          .replace('  trust_proxy: false', `  trust_proxy: false\n  data_dir: ${dir}/data`) + extra;
      const file = path.join(dir, 'rolegate.yaml');
      fs.writeFileSync(file, yaml);
      const t = io({ PORT: String(port), NODE_ENV: 'development' });
      const code = await runCli(['serve', '--config', file], t.io);
      return { code, err: t.err.join('') };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it.runIf(TEST_DATABASE === 'postgres')('a PostgreSQL database that does not exist: says what to create, without the password', async () => {
    const u = new URL(TEST_PG_URL);
    u.password = 'pw-that-must-not-be-printed';
    u.pathname = '/rolegate_no_such_db';
    const { code, err } = await serveOn(u.toString(), await freePort());
    expect(code).toBe(1);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toContain('database "rolegate_no_such_db" does not exist');
    expect(err).toContain('CREATE DATABASE "rolegate_no_such_db"');
    expect(err).not.toContain('pw-that-must-not-be-printed');
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('nothing listening at the PostgreSQL address: one line naming host and port', async () => {
    const pgPort = await freePort();
    const { code, err } = await serveOn(`postgres://rolegate:secret-pw@127.0.0.1:${pgPort}/rolegate`, await freePort());
    expect(code).toBe(1);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toContain(`127.0.0.1:${pgPort}`);
    expect(err).not.toContain('secret-pw');
  });

  it('a port already in use: one line naming it', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-serve-'));
    try {
      const { code, err } = await serveOn(`sqlite:${dir}/rolegate.db`, port);
      expect(code).toBe(1);
      expect(err.trim()).toBe(`rolegate: not starting: port ${port} on 127.0.0.1 is in use; stop what listens there or start with PORT=<another port>`);
    } finally {
      blocker.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a forward_auth.socket it cannot open: one line naming the path and why, nothing left listening', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-serve-'));
    const section = (socket: string): string =>
      `forward_auth:\n  socket: ${socket}\n  upstreams:\n    - origin: http://localhost:9000\n      organization: 1\n      rules:\n        - path: /\n          min_role: Annotator\n`;
    try {
      const port = await freePort();
      const missing = await serveOn(`sqlite:${dir}/a.db`, port, section(`${dir}/no-such-folder/fa.sock`));
      expect([missing.code, missing.err.trim()]).toEqual([1, `rolegate: not starting: cannot listen on forward_auth.socket ${dir}/no-such-folder/fa.sock: its folder ${dir}/no-such-folder does not exist`]);
      fs.writeFileSync(`${dir}/notes.txt`, 'mine');
      const file = await serveOn(`sqlite:${dir}/b.db`, port, section(`${dir}/notes.txt`));
      expect([file.code, file.err.trim()]).toEqual([1, `rolegate: not starting: forward_auth.socket ${dir}/notes.txt exists and is not a socket; rolegate does not remove it`]);
      expect(fs.readFileSync(`${dir}/notes.txt`, 'utf8')).toBe('mine');
      // The TCP port was released each time: it can be listened on again.
      const net = await import('node:net');
      const probe = net.createServer();
      await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
      probe.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
