/**
 * The check routes' own path: the session read without koa-session, the member read with prepared
 * statements taken through knex's pool, allowed checks counted instead of logged, and nginx keeping its
 * connections to rolegate alive (the shipped snippet's `upstream` block).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Keygrip from 'keygrip';
import { rememberingKeygrip } from '../../src/http/signing-keys.js';
import { metricsText } from '../../src/metrics/index.js';
import { freePort, standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { snapshot } from '../support/db.js';
import { signIn } from '../support/flow.js';
import type { Browser } from '../support/http.js';
import { renderTemplate, requireBinary, startEchoUpstream, startNginx } from '../support/proxies.js';
import { PEOPLE, codeOf, cookieHeader, forwardAuthYaml, rawRequest } from './support.js';

/** On rolegate's host, as an upstream must be without cookie_domain; the checks are asked directly. */
const ORIGIN = 'http://127.0.0.1:1';
let app: TestApp;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  app = await startApp({
    yaml: (dir, url) => standardYaml({ dir, publicUrl: url }) + forwardAuthYaml([ORIGIN]),
    log: (level, msg, fields) => lines.push({ level, msg, ...fields }),
  });
}, 30_000);

afterAll(async () => {
  await app?.close();
});

const check = (cookie: string | undefined, path = '/') =>
  rawRequest(`${app.url}/auth/nginx`, { 'X-Original-URL': `${ORIGIN}${path}`, 'X-Original-Method': 'GET', ...(cookie === undefined ? {} : { cookie }) });

async function signedIn(): Promise<Browser> {
  const b = app.browser();
  expect((await signIn(app, b, PEOPLE.AN)).status).toBe(302);
  return b;
}

/** The user id behind the annotator's sessions. */
async function annotatorId(): Promise<number> {
  const row = (await app.db('users').where({ email: PEOPLE.AN.email }).first('id')) as { id: number | string };
  return Number(row.id);
}

describe('the app keys remember verified cookies (src/http/signing-keys.ts)', () => {
  it('answer as keygrip does, before and after a pair is remembered, for another digest and other data', () => {
    const plain = new Keygrip(['old-secret', 'new-secret']);
    const remembering = rememberingKeygrip(['old-secret', 'new-secret']);
    const data = 'rolegate.sid=abc';
    const digest = new Keygrip(['new-secret']).sign(data);
    const cases: [string, string][] = [
      [data, digest],
      [data, digest],
      [data, `${digest.startsWith('A') ? 'B' : 'A'}${digest.slice(1)}`],
      ['rolegate.sid=abd', digest],
      [data, plain.sign(data)],
    ];
    expect(cases.map(([d, g]) => remembering.index(d, g))).toEqual(cases.map(([d, g]) => plain.index(d, g)));
    expect(cases.map(([d, g]) => remembering.verify(d, g))).toEqual([true, true, false, false, true]);
    expect(remembering.sign(data)).toBe(plain.sign(data));
  });
});

describe('the session, read by the check itself', () => {
  it('a cookie whose signature does not verify: 401, as if signed out', async () => {
    const b = await signedIn();
    expect((await check(cookieHeader(b))).status).toBe(200);
    // The first check remembered the verified value/signature pair; the same value with another signature
    // must still be checked (and refused), not taken from that memory.
    const forged = cookieHeader(b).replace(/(rolegate\.sid\.sig=)([^;]+)/, (_, name: string, sig: string) => `${name}${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`);
    const res = await check(forged);
    expect([res.status, codeOf(res), res.headers['x-rolegate-user']]).toEqual([401, 'ERR_UNAUTHENTICATED', undefined]);
  });

  it('a session row past its expiry, and one whose data says it expired (koa-session\'s _expire): 401', async () => {
    const b = await signedIn();
    const cookie = cookieHeader(b);
    expect((await check(cookie)).status).toBe(200);
    const userId = await annotatorId();
    const rows = (await app.db('sessions').where({ user_id: userId }).select('id', 'data', 'expires_at')) as { id: string; data: string; expires_at: unknown }[];
    // Only this browser's session is changed, then restored: find it as the latest row.
    const mine = rows.at(-1);
    if (mine === undefined) throw new Error('no session row');
    await app.db('sessions').where({ id: mine.id }).update({ expires_at: new Date(Date.now() - 1000) });
    expect([(await check(cookie)).status]).toEqual([401]);
    const data = JSON.parse(mine.data) as Record<string, unknown>;
    await app.db('sessions').where({ id: mine.id }).update({ expires_at: new Date(Date.now() + 3_600_000), data: JSON.stringify({ ...data, _expire: Date.now() - 1000 }) });
    expect([(await check(cookie)).status]).toEqual([401]);
    await app.db('sessions').where({ id: mine.id }).update({ data: mine.data });
    expect((await check(cookie)).status).toBe(200);
  });

  it('a check never writes a session: no row, no cookie, nothing changed', async () => {
    const b = await signedIn();
    const before = await snapshot(app.db);
    for (const cookie of [cookieHeader(b), undefined]) {
      const res = await check(cookie);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(await snapshot(app.db)).toEqual(before);
  });
});

describe('the fast path (an allowed GET answered before koa) answers as the route does', () => {
  it('the same status and headers as the route itself gives (reached through koa as /AUTH/NGINX)', async () => {
    const b = await signedIn();
    const headers = { 'X-Original-URL': `${ORIGIN}/projects/43/x`, 'X-Original-Method': 'GET', cookie: cookieHeader(b) };
    const fast = await rawRequest(`${app.url}/auth/nginx`, headers);
    // The router matches paths case-insensitively; the fast path only the exact spelling.
    const routed = await rawRequest(`${app.url}/AUTH/NGINX`, headers);
    const comparable = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => !['date', 'connection', 'keep-alive'].includes(k)).sort());
    expect(routed.status).toBe(200);
    expect([fast.status, comparable(fast.headers)]).toEqual([routed.status, comparable(routed.headers)]);
    expect(fast.headers['x-rolegate-org-role']).toBe('AN');
    expect(fast.headers['x-rolegate-projects']).toBe('43:AN');
  });

  it('a denial or a refusal on the exact path is answered by the route: code, log line and all', async () => {
    const b = await signedIn();
    lines.length = 0;
    const denied = await check(cookieHeader(b), '/owner');
    const untrusted = await rawRequest(`${app.url}/auth/nginx`, { 'X-Original-URL': `${ORIGIN}/`, 'X-Original-Method': 'GET', cookie: cookieHeader(b) }, '127.0.0.3');
    expect([denied.status, codeOf(denied), untrusted.status, codeOf(untrusted)]).toEqual([403, 'ERR_FORBIDDEN', 403, 'ERR_FORWARD_AUTH_UNTRUSTED_PEER']);
    expect(lines.filter((l) => l['msg'] === 'forward-auth').map((l) => l['outcome'])).toEqual(['denied', 'refused']);
  });
});

describe('the member, read through the connection pool', () => {
  it('a check during an unfinished transaction reads the committed state, not the transaction\'s', async () => {
    const b = await signedIn();
    const userId = await annotatorId();
    const trx = await app.db.transaction();
    let answered: Awaited<ReturnType<typeof check>> | undefined;
    try {
      await trx('memberships').where({ user_id: userId }).update({ role: 'DI' });
      // On SQLite the transaction holds the one connection: the check waits for it. On PostgreSQL it reads
      // on another connection. Either way it must not see the Deactivated role that is never committed.
      const pending = check(cookieHeader(b)).then((r) => (answered = r));
      await new Promise((r) => setTimeout(r, 200));
      await trx.rollback();
      await pending;
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
    }
    expect([answered?.status, answered?.headers['x-rolegate-org-role']]).toEqual([200, 'AN']);
  });
});

describe('log and metrics', () => {
  const count = async (status: string): Promise<number> => {
    const { body } = await metricsText();
    const line = body.split('\n').find((l) => l.startsWith('rolegate_forward_auth_decisions_total{') && l.includes('mode="nginx"') && l.includes(`status="${status}"`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  it('an allowed check is counted, not logged; a denied one is counted and logged with its reason', async () => {
    const b = await signedIn();
    const [allowed0, denied0] = [await count('200'), await count('403')];
    lines.length = 0;
    expect((await check(cookieHeader(b))).status).toBe(200);
    expect(lines.filter((l) => l['msg'] === 'request')).toEqual([]);
    expect((await check(cookieHeader(b), '/admin')).status).toBe(403);
    expect(lines.filter((l) => l['msg'] === 'request').map((l) => [l['path'], l['status']])).toEqual([['/auth/nginx', 403]]);
    expect(lines.find((l) => l['msg'] === 'forward-auth')).toMatchObject({ outcome: 'denied', code: 'ERR_FORBIDDEN' });
    expect([(await count('200')) - allowed0, (await count('403')) - denied0]).toEqual([1, 1]);
  });
});

describe('the shipped nginx snippet keeps its connections to rolegate alive', () => {
  it('twenty requests through nginx open at most two connections to rolegate', async () => {
    requireBinary('nginx');
    const upstream = await startEchoUpstream();
    // A relay in front of rolegate that counts the TCP connections nginx opens (it connects from 127.0.0.1,
    // a trusted proxy, like nginx itself).
    let connections = 0;
    const target = new URL(app.url);
    const relay = net.createServer((client) => {
      connections++;
      const server = net.connect(Number(target.port), target.hostname);
      client.pipe(server).pipe(client);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayPort = (relay.address() as net.AddressInfo).port;
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const nginx = await startNginx(port, renderTemplate('nginx.conf', { LISTEN: `127.0.0.1:${port}`, APP_ORIGIN: ORIGIN, ROLEGATE_ADDRESS: `127.0.0.1:${relayPort}`, UPSTREAM_URL: upstream.url }));
    try {
      const b = await signedIn();
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${origin}/page/${i}`, { headers: { cookie: cookieHeader(b) } });
        expect(res.status).toBe(200);
        await res.text();
      }
      expect(upstream.requests.length).toBe(20);
      expect(connections).toBeGreaterThanOrEqual(1);
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      await nginx.close();
      await upstream.close();
      relay.close();
    }
  });
});
