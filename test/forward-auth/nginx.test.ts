/**
 * Forward-auth through a REAL nginx (Debian's, with auth_request) in front of an upstream that echoes the
 * headers it receives. nginx runs the server block of docs/forward-auth/nginx.conf, rendered for this test.
 */
import net from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { snapshot } from '../support/db.js';
import { signIn } from '../support/flow.js';
import type { Browser, TestResponse } from '../support/http.js';
import { type EchoUpstream, type RunningProxy, renderTemplate, requireBinary, startEchoUpstream, startNginx } from '../support/proxies.js';
import { PEOPLE, codeOf, cookieHeader, forwardAuthYaml, rawRequest, signInThroughRd } from './support.js';

let app: TestApp;
let upstream: EchoUpstream;
let nginx: RunningProxy;
let origin = '';
const browsers = new Map<keyof typeof PEOPLE, Browser>();

beforeAll(async () => {
  requireBinary('nginx');
  upstream = await startEchoUpstream();
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  app = await startApp({
    yaml: (dir, url) => standardYaml({ dir, publicUrl: url, org1Extra: '    role_management: manual\n' }) + forwardAuthYaml([origin]),
  });
  nginx = await startNginx(
    port,
    renderTemplate('nginx.conf', { LISTEN: `127.0.0.1:${port}`, APP_ORIGIN: origin, ROLEGATE_ADDRESS: new URL(app.url).host, UPSTREAM_URL: upstream.url }),
  );
  for (const role of Object.keys(PEOPLE) as (keyof typeof PEOPLE)[]) {
    const b = app.browser();
    const res = await signIn(app, b, PEOPLE[role]);
    expect(res.status, res.text).toBe(302);
    browsers.set(role, b);
  }
}, 30_000);

afterAll(async () => {
  await nginx?.close();
  await upstream?.close();
  await app?.close();
});

function as(role: keyof typeof PEOPLE): Browser {
  const b = browsers.get(role);
  if (b === undefined) throw new Error(role);
  return b;
}

/** A request through nginx with `role`'s cookies (or none). */
async function via(role: keyof typeof PEOPLE | null, path: string, headers: Record<string, string> = {}): Promise<{ res: TestResponse; seen: Record<string, unknown> | undefined }> {
  const before = upstream.requests.length;
  const b = role === null ? app.browser() : as(role);
  const res = await b.get(`${origin}${path}`, headers);
  const seen = upstream.requests.length > before ? (upstream.requests.at(-1)?.headers as Record<string, unknown>) : undefined;
  return { res, seen };
}

describe('nginx auth_request in front of an application', () => {
  it('sends a signed-out browser to sign in, and after sign-in back to the page it asked for', async () => {
    const b = app.browser();
    const first = await b.get(`${origin}/projects/43/tasks?page=2`);
    const signInUrl = `${app.url}/auth/signin?rd=${encodeURIComponent(`${origin}/projects/43/tasks?page=2`)}`;
    expect([first.status, first.location]).toEqual([302, signInUrl]);
    expect(upstream.requests.some((r) => r.url === '/projects/43/tasks?page=2')).toBe(false);
    const back = await signInThroughRd(app, b, signInUrl, PEOPLE.AN);
    expect(back).toBe(`${origin}/projects/43/tasks?page=2`);
    const second = await b.get(back ?? '');
    expect(second.status).toBe(200);
    expect(second.json<{ url: string }>().url).toBe('/projects/43/tasks?page=2');
  });

  const table: readonly [keyof typeof PEOPLE, string, number][] = [
    ['AN', '/', 200],
    ['AN', '/admin', 403],
    ['AN', '/administrator', 200],
    ['MA', '/admin/users', 403],
    ['AD', '/admin/users', 200],
    ['AD', '/owner', 403],
    ['OW', '/owner', 200],
    ['RE', '/projects/42/tasks', 200],
    ['AN', '/projects/42/tasks', 403],
    ['OW', '/projects/42', 403],
    ['AN', '/projects/43', 200],
    ['RE', '/projects/43', 403],
    ['NO', '/', 403],
    // what nginx passes on raw, rolegate reads as the upstream may: no laxer rule by another spelling
    ['AN', '/ADMIN', 403],
    ['AN', '/%61dmin', 403],
    ['AN', '/admin;jsessionid=1', 403],
    ['AN', '/public/%2e%2e/admin', 403],
    ['AN', '/public%2F..%2Fadmin', 403],
  ];
  for (const [role, path, status] of table) {
    it(`${role} ${path} → ${status}`, async () => {
      const { res, seen } = await via(role, path);
      expect(res.status).toBe(status);
      expect(seen !== undefined, 'the upstream was reached').toBe(status === 200);
      if (status === 200) expect(seen?.['x-rolegate-org-role']).toBe(role);
    });
  }

  it('passes every identity header, and an assertion that verifies against the JWKS', async () => {
    const { res, seen } = await via('RE', '/projects/42/tasks');
    expect(res.status).toBe(200);
    const userId = String((await app.db('users').where({ email: PEOPLE.RE.email }).first('id'))?.id);
    expect({
      user: seen?.['x-rolegate-user'],
      email: seen?.['x-rolegate-email'],
      name: seen?.['x-rolegate-name'],
      org: seen?.['x-rolegate-org'],
      role: seen?.['x-rolegate-org-role'],
      projects: seen?.['x-rolegate-projects'],
      groups: seen?.['x-rolegate-groups'],
    }).toEqual({
      user: userId,
      email: 'reviewer@acme.example',
      name: 'Rita Reviewer',
      org: '1',
      role: 'RE',
      projects: '42:RE',
      groups: 'LS-Reviewers,LS-Project42-Reviewers',
    });
    const jws = String(seen?.['x-rolegate-assertion']);
    const jwks = createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(jws, jwks, { issuer: app.url, audience: `127.0.0.1:${new URL(origin).port}` });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: userId, email: 'reviewer@acme.example', role: 'RE', org: 1, projects: [{ id: 42, role: 'RE' }] });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThanOrEqual(60);
    expect((payload.exp ?? 0) * 1000).toBeGreaterThan(Date.now());
    // Bound to this upstream: another audience does not verify.
    await expect(jwtVerify(jws, jwks, { audience: 'other.example' })).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    expect(decodeProtectedHeader(jws).kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('encodes non-ASCII names, and answers every header even when empty (no projects)', async () => {
    const direct = await rawRequest(`${app.url}/auth/nginx`, { 'X-Original-URL': `${origin}/`, 'X-Original-Method': 'GET', cookie: cookieHeader(as('MA')) });
    expect([direct.status, direct.headers['x-rolegate-org-role'], direct.headers['x-rolegate-projects']]).toEqual([200, 'MA', '']);
    const { res, seen } = await via('MA', '/');
    expect(res.status).toBe(200);
    expect(seen?.['x-rolegate-org-role']).toBe('MA');
    // nginx does not send a header whose variable is empty; the client's copy is dropped all the same.
    expect(seen?.['x-rolegate-projects']).toBeUndefined();
    const an = await via('AN', '/');
    expect(an.seen?.['x-rolegate-name']).toBe('Jos%C3%A9 Annotator');
  });

  it('a client sending its own X-Rolegate-Role: OW is refused; nothing reaches the upstream', async () => {
    const before = await snapshot(app.db);
    for (const headers of [{ 'X-Rolegate-Role': 'OW' }, { 'X-Rolegate-Org-Role': 'OW' }, { 'x-rolegate-user': '1' }]) {
      const { res, seen } = await via('AD', '/admin', headers);
      expect(res.status).toBe(403);
      expect(seen).toBeUndefined();
      expect(res.setCookies).toEqual([]);
    }
    // The code, from rolegate's own answer to what nginx asks.
    const direct = await rawRequest(`${app.url}/auth/nginx`, { 'X-Original-URL': `${origin}/admin`, 'X-Original-Method': 'GET', 'X-Rolegate-Role': 'OW', cookie: cookieHeader(as('AD')) });
    expect([direct.status, codeOf(direct), direct.headers['set-cookie'], direct.headers['x-rolegate-org-role']]).toEqual([403, 'ERR_FORWARD_AUTH_REQUEST', undefined, undefined]);
    expect(await snapshot(app.db)).toEqual(before);
  });

  it('the underscore variant X_Rolegate_Role never reaches the upstream', async () => {
    const { res, seen } = await via('AN', '/', { X_Rolegate_Role: 'OW', X_Rolegate_Org_Role: 'OW' });
    expect(res.status).toBe(200);
    const names = upstream.requests.at(-1)?.rawNames ?? [];
    expect(names.filter((n) => /rolegate[-_](org[-_])?role/i.test(n)).map((n) => n.toLowerCase())).toEqual(['x-rolegate-org-role']);
    expect(seen?.['x-rolegate-org-role']).toBe('AN');
  });

  it('a POST is checked like a GET (nginx asks with a GET subrequest, without the body)', async () => {
    const res = await as('AD').request('POST', `${origin}/admin/save`, { headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(10_000) });
    expect(res.status).toBe(200);
    expect(upstream.requests.at(-1)?.method).toBe('POST');
    const denied = await as('AN').request('POST', `${origin}/admin/save`, { headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(denied.status).toBe(403);
  });

  it('an absolute-form request target cannot dodge the rules', async () => {
    const before = upstream.requests.length;
    const port = new URL(origin).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(`GET http://evil.example/admin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${cookieHeader(as('AN'))}\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 403 /);
    expect(upstream.requests.slice(before).map((r) => r.url)).toEqual([]);
  });

  it('a forged Host does not pick another policy: the origin is written in the snippet', async () => {
    const { res, seen } = await via('AN', '/', { Host: 'evil.example' });
    expect(res.status).toBe(200);
    expect(seen?.['x-rolegate-org-role']).toBe('AN');
    const jws = String(seen?.['x-rolegate-assertion']);
    const { payload } = await jwtVerify(jws, createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`)));
    expect(payload.aud).toBe(new URL(origin).host);
  });

  it('a demotion, a deactivation and a removal apply on the next request, with the same session', async () => {
    const b = app.browser();
    const who = { email: 'demoted@acme.example', groups: ['LS-Admins'], firstName: 'Dee', lastName: 'Moted' };
    expect((await signIn(app, b, who)).status).toBe(302);
    const id = Number((await app.db('users').where({ email: who.email }).first('id'))?.id);
    const get = async (path: string): Promise<number> => (await b.get(`${origin}${path}`)).status;
    expect(await get('/admin')).toBe(200);
    const owner = as('OW');
    const patch = (role: string): Promise<TestResponse> =>
      owner.request('PATCH', '/api/organizations/1/memberships', {
        headers: { accept: 'application/json', origin: app.url, 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: id, role }),
      });
    const assertion = async (): Promise<string> => String(upstream.requests.at(-1)?.headers['x-rolegate-assertion']);
    const jwks = createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`));
    expect((await jwtVerify(await assertion(), jwks)).payload.role).toBe('AD');
    expect((await patch('AN')).status).toBe(200);
    expect(await get('/admin')).toBe(403);
    expect(await get('/')).toBe(200);
    // A fresh assertion with the new role at once (a reused one would only ever carry identical claims).
    expect((await jwtVerify(await assertion(), jwks)).payload.role).toBe('AN');
    expect(upstream.requests.at(-1)?.headers['x-rolegate-org-role']).toBe('AN');
    // Removed from the organization: the session names nobody, so the browser is asked to sign in.
    const removed = await owner.request('DELETE', `/api/organizations/1/memberships/${id}`, { headers: { accept: 'application/json', origin: app.url } });
    expect(removed.status).toBe(204);
    const requests = upstream.requests.length;
    const after = await b.get(`${origin}/`);
    expect([after.status, after.location?.startsWith(`${app.url}/auth/signin?rd=`)]).toEqual([302, true]);
    expect(upstream.requests.length).toBe(requests);
  });

  it('a deactivation applies on the next request', async () => {
    const b = app.browser();
    const who = { email: 'leaver@acme.example', groups: ['LS-Annotators'], firstName: 'Lee', lastName: 'Ver' };
    expect((await signIn(app, b, who)).status).toBe(302);
    const id = Number((await app.db('users').where({ email: who.email }).first('id'))?.id);
    expect((await b.get(`${origin}/`)).status).toBe(200);
    const res = await as('OW').request('PATCH', '/api/organizations/1/memberships', {
      headers: { accept: 'application/json', origin: app.url, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: id, role: 'DI' }),
    });
    expect(res.status).toBe(200);
    const requests = upstream.requests.length;
    const next = await b.get(`${origin}/`);
    // Deactivation ends the member's sessions (the write path's rule), so the decision sees nobody: sign in,
    // where the ACS refuses a Deactivated member. Either way the upstream is not reached.
    expect([next.status, next.location?.startsWith(`${app.url}/auth/signin?rd=`)]).toEqual([302, true]);
    expect(upstream.requests.length).toBe(requests);
  });
});

describe('rolegate answers nginx only with 2xx, 401 or 403, never cacheable', () => {
  const ask = (headers: Record<string, string>, from?: string) => rawRequest(`${app.url}/auth/nginx`, { 'X-Original-Method': 'GET', ...headers }, from);

  it('allow: 200, no-store', async () => {
    const res = await ask({ 'X-Original-URL': `${origin}/`, cookie: cookieHeader(as('AN')) });
    expect([res.status, res.headers['cache-control'], res.headers['x-rolegate-org-role']]).toEqual([200, 'no-store', 'AN']);
  });

  it('signed out: 401 with the sign-in URL in Location, no-store', async () => {
    const res = await ask({ 'X-Original-URL': `${origin}/x?y=1` });
    expect([res.status, codeOf(res), res.headers['cache-control'], res.headers.location]).toEqual([
      401,
      'ERR_UNAUTHENTICATED',
      'no-store',
      `${app.url}/auth/signin?rd=${encodeURIComponent(`${origin}/x?y=1`)}`,
    ]);
  });

  it('from a peer that is not a trusted proxy: 403 whatever it claims, no session, nothing changed', async () => {
    const before = await snapshot(app.db);
    const res = await ask({ 'X-Original-URL': `${origin}/`, cookie: cookieHeader(as('OW')) }, '127.0.0.3');
    expect([res.status, codeOf(res), res.headers['x-rolegate-user'], res.headers['set-cookie'], res.headers['cache-control']]).toEqual([
      403,
      'ERR_FORWARD_AUTH_UNTRUSTED_PEER',
      undefined,
      undefined,
      'no-store',
    ]);
    expect(await snapshot(app.db)).toEqual(before);
  });

  const refusals: readonly [string, Record<string, string>, string][] = [
    ['an unknown host', { 'X-Original-URL': 'http://evil.example/' }, 'ERR_FORWARD_AUTH_UNKNOWN_UPSTREAM'],
    ['another port of the same host', { 'X-Original-URL': 'http://127.0.0.1:1/' }, 'ERR_FORWARD_AUTH_UNKNOWN_UPSTREAM'],
    ['no original URL', {}, 'ERR_FORWARD_AUTH_REQUEST'],
    ['forward-mode headers on the nginx route', { 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': new URL('http://x').host, 'X-Forwarded-Uri': '/' }, 'ERR_FORWARD_AUTH_REQUEST'],
    ['an encoded slash', { 'X-Original-URL': 'ORIGIN/public%2F..%2Fadmin' }, 'ERR_FORWARD_AUTH_REQUEST'],
  ];
  for (const [name, headers, code] of refusals) {
    it(`${name}: 403 ${code}`, async () => {
      const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('ORIGIN', origin)]));
      const res = await ask({ ...h, cookie: cookieHeader(as('OW')) });
      expect([res.status, codeOf(res), res.headers['x-rolegate-user']]).toEqual([403, code, undefined]);
    });
  }

  it('without forward_auth configured: every forward-auth route is 404', async () => {
    const plain = await startApp();
    try {
      for (const route of ['/auth/nginx', '/auth/forward', '/auth/signin', '/.well-known/jwks.json']) {
        const res = await rawRequest(`${plain.url}${route}`, { 'X-Original-URL': `${origin}/`, 'X-Original-Method': 'GET' });
        expect([route, res.status, codeOf(res)]).toEqual([route, 404, 'ERR_NOT_FOUND']);
      }
    } finally {
      await plain.close();
    }
  });

  it('a failure while deciding is a 403 to nginx (never a 5xx it would turn into its own 500)', async () => {
    const broken = await startApp({ yaml: (dir, url) => standardYaml({ dir, publicUrl: url }) + forwardAuthYaml([origin]) });
    const b = broken.browser();
    expect((await signIn(broken, b, PEOPLE.AN)).status).toBe(302);
    await broken.db.destroy();
    try {
      const res = await rawRequest(`${broken.url}/auth/nginx`, { 'X-Original-URL': `${origin}/`, 'X-Original-Method': 'GET', cookie: cookieHeader(b) });
      expect([res.status, codeOf(res), res.headers['x-rolegate-user'], res.headers['cache-control']]).toEqual([403, 'ERR_FORBIDDEN', undefined, 'no-store']);
      expect(JSON.parse(res.body).detail).toMatch(/could not decide \(ERR_/);
    } finally {
      await broken.close().catch(() => undefined);
    }
  });

  it('serves the public keys at /.well-known/jwks.json, without private parts', async () => {
    const res = await app.browser().get('/.well-known/jwks.json');
    const jwks = res.json<{ keys: Record<string, unknown>[] }>();
    expect(res.status).toBe(200);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0]?.['d']).toBeUndefined();
  });
});
