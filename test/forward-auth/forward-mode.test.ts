/**
 * Forward mode (/auth/forward) through a REAL Caddy (Debian's, forward_auth) and through a SIMULATED Traefik
 * (ForwardAuth has no Debian package; test/support/proxies.ts follows its documented contract), each running
 * the snippet of docs/forward-auth/ rendered for this test, in front of an upstream that echoes headers.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { snapshot } from '../support/db.js';
import { signIn } from '../support/flow.js';
import type { Browser } from '../support/http.js';
import {
  type EchoUpstream,
  type RunningProxy,
  renderTemplate,
  requireBinary,
  startCaddy,
  startEchoUpstream,
  startSimulatedTraefik,
} from '../support/proxies.js';
import { PEOPLE, codeOf, cookieHeader, forwardAuthYaml, rawRequest, signInThroughRd } from './support.js';

let app: TestApp;
let upstream: EchoUpstream;
let caddy: RunningProxy;
let traefik: RunningProxy;
let caddyOrigin = '';
let traefikOrigin = '';
const browsers = new Map<keyof typeof PEOPLE, Browser>();

beforeAll(async () => {
  requireBinary('caddy');
  upstream = await startEchoUpstream();
  const caddyPort = await freePort();
  const traefikPort = await freePort();
  caddyOrigin = `http://127.0.0.1:${caddyPort}`;
  traefikOrigin = `http://127.0.0.1:${traefikPort}`;
  app = await startApp({ yaml: (dir, url) => standardYaml({ dir, publicUrl: url }) + forwardAuthYaml([caddyOrigin, traefikOrigin]) });
  caddy = await startCaddy(caddyPort, renderTemplate('Caddyfile', { APP_ORIGIN: caddyOrigin, ROLEGATE_URL: app.url, UPSTREAM_URL: upstream.url }));
  traefik = await startSimulatedTraefik(traefikPort, renderTemplate('traefik.yml', { APP_HOST: '127.0.0.1', ROLEGATE_URL: app.url, UPSTREAM_URL: upstream.url }));
  for (const role of ['AD', 'RE', 'AN', 'NO'] as const) {
    const b = app.browser();
    expect((await signIn(app, b, PEOPLE[role])).status).toBe(302);
    browsers.set(role, b);
  }
}, 30_000);

afterAll(async () => {
  await caddy?.close();
  await traefik?.close();
  await upstream?.close();
  await app?.close();
});

const PROXIES = [
  { name: 'Caddy forward_auth (Debian, real)', origin: () => caddyOrigin },
  { name: 'Traefik ForwardAuth (SIMULATED proxy following the documented contract)', origin: () => traefikOrigin },
] as const;

for (const proxy of PROXIES) {
  describe(proxy.name, () => {
    const via = async (role: keyof typeof PEOPLE | null, path: string, headers: Record<string, string> = {}) => {
      const before = upstream.requests.length;
      const b = role === null ? app.browser() : browsers.get(role);
      if (b === undefined) throw new Error(String(role));
      const res = await b.get(`${proxy.origin()}${path}`, headers);
      const seen = upstream.requests.length > before ? upstream.requests.at(-1) : undefined;
      return { res, seen };
    };

    it('a browser without a session is redirected (302) to sign in, and comes back after it', async () => {
      const b = app.browser();
      const first = await b.get(`${proxy.origin()}/projects/42/x?y=1`, { accept: 'text/html,application/xhtml+xml' });
      const signInUrl = `${app.url}/auth/signin?rd=${encodeURIComponent(`${proxy.origin()}/projects/42/x?y=1`)}`;
      expect([first.status, first.location]).toEqual([302, signInUrl]);
      const back = await signInThroughRd(app, b, signInUrl, PEOPLE.RE);
      expect(back).toBe(`${proxy.origin()}/projects/42/x?y=1`);
      const second = await b.get(back ?? '');
      expect([second.status, second.json<{ url: string }>().url]).toEqual([200, '/projects/42/x?y=1']);
    });

    it('an API client without a session gets 401 ERR_UNAUTHENTICATED, not a redirect', async () => {
      const { res, seen } = await via(null, '/api/tasks', { accept: 'application/json' });
      expect([res.status, codeOf(res), res.headers.get('cache-control'), seen]).toEqual([401, 'ERR_UNAUTHENTICATED', 'no-store', undefined]);
    });

    const table: readonly [keyof typeof PEOPLE, string, number][] = [
      ['AN', '/', 200],
      ['AN', '/admin', 403],
      ['AD', '/admin', 200],
      ['RE', '/projects/42', 200],
      ['AN', '/projects/42', 403],
      ['AN', '/projects/43/tasks', 200],
      ['NO', '/', 403],
      ['AN', '/%61dmin', 403],
    ];
    for (const [role, path, status] of table) {
      it(`${role} ${path} → ${status}`, async () => {
        const { res, seen } = await via(role, path, { accept: 'application/json' });
        expect(res.status).toBe(status);
        expect(seen !== undefined).toBe(status === 200);
        if (status === 200) expect(seen?.headers['x-rolegate-org-role']).toBe(role);
        else expect(codeOf(res)).toBe('ERR_FORBIDDEN');
      });
    }

    it('passes the identity headers and an assertion for this upstream', async () => {
      const { res, seen } = await via('RE', '/projects/42');
      expect(res.status).toBe(200);
      expect([seen?.headers['x-rolegate-email'], seen?.headers['x-rolegate-projects'], seen?.headers['x-rolegate-groups']]).toEqual([
        'reviewer@acme.example',
        '42:RE',
        'LS-Reviewers,LS-Project42-Reviewers',
      ]);
      const { payload } = await jwtVerify(String(seen?.headers['x-rolegate-assertion']), createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`)), {
        issuer: app.url,
        audience: new URL(proxy.origin()).host,
      });
      expect(payload.role).toBe('RE');
    });

    it('sends empty identity headers rather than none, so the client copy cannot survive', async () => {
      const { res, seen } = await via('AD', '/admin');
      expect(res.status).toBe(200);
      // Administrator through LS-Admins only: no project, yet the header is there, empty.
      expect(seen?.headers['x-rolegate-projects']).toBe('');
    });

    it('a client sending its own X-Rolegate-Role: OW or X_Rolegate_Role: OW never reaches the upstream with it', async () => {
      const before = await snapshot(app.db);
      for (const headers of [{ 'X-Rolegate-Role': 'OW' }, { X_Rolegate_Role: 'OW' }, { 'X-Rolegate-Org-Role': 'OW' }]) {
        const { res, seen } = await via('AN', '/', { ...headers, accept: 'application/json' });
        expect([res.status, codeOf(res), seen]).toEqual([403, 'ERR_FORWARD_AUTH_REQUEST', undefined]);
        expect(res.setCookies).toEqual([]);
      }
      expect(await snapshot(app.db)).toEqual(before);
    });

    it('a client-sent X-Forwarded-Host does not pick another upstream', async () => {
      // Both proxies write X-Forwarded-* themselves; a client's value would name an unknown host here.
      const { res, seen } = await via('AN', '/', { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Uri': '/admin' });
      expect(res.status).toBe(200);
      expect(seen?.url).toBe('/');
      expect(seen?.headers['x-rolegate-org-role']).toBe('AN');
    });
  });
}

describe('forward mode, asked directly', () => {
  const ask = (headers: Record<string, string>, from?: string) =>
    rawRequest(`${app.url}/auth/forward`, { 'X-Forwarded-Method': 'GET', 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': new URL(caddyOrigin).host, 'X-Forwarded-Uri': '/', ...headers }, from);

  it('refuses an untrusted peer with 403 whatever it claims', async () => {
    const res = await ask({ cookie: cookieHeader(browsers.get('AD') as Browser) }, '127.0.0.4');
    expect([res.status, codeOf(res), res.headers['x-rolegate-user']]).toEqual([403, 'ERR_FORWARD_AUTH_UNTRUSTED_PEER', undefined]);
  });

  it('refuses nginx-mode headers on the forward route', async () => {
    const res = await rawRequest(`${app.url}/auth/forward`, { 'X-Original-URL': `${caddyOrigin}/`, 'X-Original-Method': 'GET', cookie: cookieHeader(browsers.get('AD') as Browser) });
    expect([res.status, codeOf(res)]).toEqual([403, 'ERR_FORWARD_AUTH_REQUEST']);
  });

  it('refuses a list of hosts (a proxy that appended to a client value)', async () => {
    const res = await ask({ 'X-Forwarded-Host': `evil.example, ${new URL(caddyOrigin).host}`, cookie: cookieHeader(browsers.get('AD') as Browser) });
    expect([res.status, codeOf(res)]).toEqual([403, 'ERR_FORWARD_AUTH_REQUEST']);
  });
});
