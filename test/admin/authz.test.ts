/**
 * Deny by default: every route of the router × every kind of caller, against the access table in
 * src/http/admin/access.ts. A route added without an access rule fails here (and is refused at run time).
 * Also CSRF for cookie-authenticated changes.
 */
import type Router from '@koa/router';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMemberWriter, buildServices, closeApp, createApp } from '../../src/app.js';
import { errorMiddleware } from '../../src/http/errors.js';
import { ACCESS, accessGuard, protectRoutes } from '../../src/http/admin/access.js';
import { silentLogger } from '../../src/log.js';
import { standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { snapshot } from '../support/db.js';
import type { Browser, TestResponse } from '../support/http.js';
import { PEOPLE, call, errorOf, signedIn, userIdOf } from './support.js';

/** Opening a route to everyone is a decision: this list changes only on purpose. */
const PUBLIC_ROUTES = [
  'api-token-refresh',
  'asset-admin-css',
  'asset-admin-js',
  'asset-autopost',
  'asset-css',
  'asset-favicon',
  'dev-idp-sso',
  'dev-idp-sso-post',
  'favicon',
  'forward-auth-forward',
  'forward-auth-jwks',
  'forward-auth-nginx',
  'forward-auth-signin',
  'healthz',
  'healthz-details',
  'home',
  'logout',
  'metrics',
  'openapi',
  'saml-acs',
  'saml-login',
  'saml-logout',
  'saml-metadata',
  'saml-slo',
  'sign-in-org',
  'whoami',
];

type CallerName = 'OW' | 'AD' | 'MA' | 'RE' | 'AN' | 'NO' | 'signed out' | 'token';
const CALLERS: readonly CallerName[] = ['OW', 'AD', 'MA', 'RE', 'AN', 'NO', 'signed out', 'token'];

interface Route {
  readonly name: string | undefined;
  readonly path: string;
  readonly methods: readonly string[];
}

let app: TestApp;
let routes: Route[];
const browsers = new Map<CallerName, Browser>();
const csrf = new Map<CallerName, string>();
let token = '';
let memberId = 0;

beforeAll(async () => {
  // Organization 3 uses the development IdP so that its routes are in the router too.
  app = await startApp({
    yaml: (dir, url) => `${standardYaml({ dir, publicUrl: url })}  - id: 3
    title: Dev
    owner: owner@dev.example
    sso:
      development_idp: true
`,
  });
  const koa = await createApp({ config: app.config, db: app.db, log: silentLogger, writer: buildMemberWriter({ config: app.config, log: silentLogger }) });
  const mw = koa.middleware.find((m) => (m as { router?: unknown }).router !== undefined) as { router: Router } | undefined;
  if (mw === undefined) throw new Error('no router in the app');
  routes = mw.router.stack.filter((l) => l.methods.length > 0).map((l) => ({ name: l.name, path: String(l.path), methods: l.methods.filter((m) => m !== 'HEAD') }));
  await closeApp(koa);

  for (const role of ['OW', 'AD', 'MA', 'RE', 'AN', 'NO'] as const) {
    const b = await signedIn(app, PEOPLE[role]);
    browsers.set(role, b);
  }
  browsers.set('signed out', app.browser());
  browsers.set('token', app.browser());
  const created = await call(app, browsers.get('AD') as Browser, 'POST', '/api/tokens', { body: { name: 'authz' } });
  token = created.json<{ key: string }>().key;
  for (const role of ['OW', 'AD'] as const) {
    const page = await call(app, browsers.get(role) as Browser, 'GET', '/organization', { headers: { accept: 'text/html' } });
    const m = /name="csrf" value="([^"]+)"/.exec(page.text);
    if (m?.[1] === undefined) throw new Error('no csrf token on the page');
    csrf.set(role, m[1]);
  }
  memberId = await userIdOf(app, PEOPLE.AN.email);
});

afterAll(async () => {
  await app.close();
});

/** A concrete URL for a route pattern; state-changing routes aim at ids that do not exist, so nothing changes. */
function concrete(route: Route, method: string): string {
  const safe = method === 'GET';
  return route.path
    .replace(':org', route.path.startsWith('/dev-idp/') ? '3' : '1')
    .replace('/api/projects/:id/roles', '/api/projects/42/roles')
    .replace(':user_id', safe ? String(memberId) : '999999')
    .replace(':id', route.path.startsWith('/api/organizations/') ? '0' : '999999');
}

async function request(caller: CallerName, route: Route, method: string): Promise<TestResponse> {
  const b = browsers.get(caller) as Browser;
  const url = concrete(route, method);
  const headers: Record<string, string> = { accept: url.startsWith('/api/') ? 'application/json' : 'text/html', origin: app.url };
  if (caller === 'token') headers['authorization'] = `Token ${token}`;
  if (method === 'GET' || method === 'DELETE') return b.request(method, url, { headers });
  if (route.path.startsWith('/api/')) {
    // Bodies that cannot change anything: unknown member ids, missing fields.
    const body = route.name === 'api-memberships-patch' || route.name === 'api-memberships-post' ? { user_id: 999999, role: 'AN' } : {};
    return b.request(method, url, { headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }
  return b.request(method, url, { headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: csrf.get(caller) ?? '' }).toString() });
}

describe('the access table', () => {
  it('has a rule for every route of the router, and no rule for a route that does not exist', () => {
    const names = routes.map((r) => r.name);
    const missing = routes.filter((r) => r.name === undefined || !Object.hasOwn(ACCESS, r.name)).map((r) => `${r.methods.join(',')} ${r.path} (${r.name ?? 'unnamed'})`);
    expect(missing, 'routes without an access rule in src/http/admin/access.ts').toEqual([]);
    expect(Object.keys(ACCESS).filter((n) => !names.includes(n))).toEqual([]);
  });

  it('opens exactly the reviewed list of routes to everyone', () => {
    expect(Object.entries(ACCESS).filter(([, rule]) => rule === 'public').map(([name]) => name).sort()).toEqual(PUBLIC_ROUTES);
  });

  it('opens exactly the reviewed list of routes to Managers, and only for reading', () => {
    const readable = Object.entries(ACCESS).filter(([, rule]) => rule === 'admin-read').map(([name]) => name).sort();
    expect(readable).toEqual(['api-membership', 'api-memberships', 'api-user', 'api-users']);
    for (const r of routes.filter((x) => readable.includes(x.name ?? ''))) expect([r.name, r.methods]).toEqual([r.name, ['GET']]);
  });

  it('admin routes: Owner and Administrator pass; Manager only reads admin-read routes; Reviewer, Annotator, Not Activated get 403; signed out 401', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const route of routes) {
      const rule = ACCESS[route.name ?? ''];
      if (rule === 'public' || rule === undefined) continue;
      for (const method of route.methods) {
        for (const caller of CALLERS) {
          checked += 1;
          const res = await request(caller, route, method);
          const code = res.headers.get('content-type')?.includes('json') ? errorOf(res) : (/<code>(ERR_[A-Z_]+)<\/code>/.exec(res.text)?.[1] ?? null);
          let expected: string;
          // A signed-out browser opening a page is sent to sign in (and back afterwards); everything else is 401.
          const page = method === 'GET' && !route.path.startsWith('/api/');
          if (caller === 'signed out' && page) expected = '302 sign-in';
          else if (caller === 'signed out') expected = '401 ERR_UNAUTHENTICATED';
          else if (caller === 'OW' || caller === 'AD' || (caller === 'token' && rule !== 'admin-browser')) expected = 'allowed';
          // Managers read the member list and users (as in Label Studio), and nothing else.
          else if (caller === 'MA' && rule === 'admin-read' && method === 'GET') expected = 'allowed';
          else expected = '403 ERR_FORBIDDEN';
          const toSignIn = res.status === 302 && (res.headers.get('location') ?? '').startsWith('/?next=%2Forganization');
          const got = toSignIn ? '302 sign-in' : res.status === 401 || res.status === 403 ? `${res.status} ${code}` : 'allowed';
          if (got !== expected) failures.push(`${method} ${route.path} (${route.name}) as ${caller}: expected ${expected}, got ${res.status} ${code}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBe(routes.filter((r) => ACCESS[r.name ?? ''] !== 'public').reduce((n, r) => n + r.methods.length, 0) * CALLERS.length);
    expect(checked).toBeGreaterThanOrEqual(26 * CALLERS.length);
  });

  it('public routes are not refused by the guard for anyone', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      if (ACCESS[route.name ?? ''] !== 'public') continue;
      for (const method of route.methods) {
        for (const caller of ['signed out', 'AN'] as const) {
          const res = await request(caller, route, method);
          const refused = res.status === 403 || (res.status === 401 && route.name !== 'whoami');
          if (refused) failures.push(`${method} ${route.path} as ${caller}: ${res.status}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  /** A bare Koa app around a router, as the real one is mounted (errors, router). */
  async function serveRouter(router: Router, run: (base: string) => Promise<void>): Promise<void> {
    const koa = new Koa();
    koa.use(errorMiddleware(silentLogger));
    koa.use(router.routes());
    const server = koa.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      await run(`http://127.0.0.1:${port}`);
    } finally {
      server.close();
    }
  }
  const deps = () => {
    const writer = buildMemberWriter({ config: app.config, log: silentLogger });
    return { config: () => app.config, services: buildServices(app.db, writer), log: silentLogger, writer };
  };

  it('a route without a rule, or without a name, or registered after the guards were placed, is refused', async () => {
    const { default: RouterClass } = await import('@koa/router');
    const router = new RouterClass();
    router.use(accessGuard(deps()));
    router.get('not-in-the-table', '/x', (ctx) => {
      ctx.body = 'open';
    });
    router.get('/y', (ctx) => {
      ctx.body = 'open';
    });
    router.get('healthz', '/z', (ctx) => {
      ctx.body = 'open';
    });
    protectRoutes(router as unknown as Parameters<typeof protectRoutes>[0], deps());
    // Public by name, but added after protectRoutes ran: it has no guard of its own, so it is closed.
    router.get('favicon', '/late', (ctx) => {
      ctx.body = 'open';
    });
    await serveRouter(router, async (base) => {
      for (const p of ['/x', '/y', '/late']) {
        const res = await fetch(`${base}${p}`, { headers: { accept: 'application/json' } });
        expect([p, res.status, ((await res.json()) as { error: string }).error]).toEqual([p, 403, 'ERR_FORBIDDEN']);
      }
      expect(await (await fetch(`${base}/z`)).text()).toBe('open');
    });
  });

  // Two routes match GET /overlap/secret; the router runs the first one's handlers. The rule checked must be
  // that route's, in either order (a router-level guard reading the matched route's name got the last one's).
  it('overlapping routes: the rule of the route whose handler runs is the one applied', async () => {
    const { default: RouterClass } = await import('@koa/router');
    const ran: string[] = [];
    const adminFirst = new RouterClass();
    adminFirst.use(accessGuard(deps()));
    adminFirst.get('api-organizations', '/overlap/secret', (ctx) => {
      ran.push('admin handler');
      ctx.body = { secret: true };
    });
    adminFirst.get('healthz', '/overlap/:anything', (ctx) => {
      ran.push('public handler');
      ctx.body = { public: true };
    });
    protectRoutes(adminFirst as unknown as Parameters<typeof protectRoutes>[0], deps());
    await serveRouter(adminFirst, async (base) => {
      const res = await fetch(`${base}/overlap/secret`, { headers: { accept: 'application/json' } });
      expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([401, 'ERR_UNAUTHENTICATED']);
      expect(ran).toEqual([]);
      const other = await fetch(`${base}/overlap/else`, { headers: { accept: 'application/json' } });
      expect([other.status, await other.json()]).toEqual([200, { public: true }]);
    });

    ran.length = 0;
    const publicFirst = new RouterClass();
    publicFirst.use(accessGuard(deps()));
    publicFirst.get('healthz', '/overlap/:anything', (ctx) => {
      ran.push('public handler');
      ctx.body = { public: true };
    });
    publicFirst.get('api-organizations', '/overlap/secret', (ctx) => {
      ran.push('admin handler');
      ctx.body = { secret: true };
    });
    protectRoutes(publicFirst as unknown as Parameters<typeof protectRoutes>[0], deps());
    await serveRouter(publicFirst, async (base) => {
      const res = await fetch(`${base}/overlap/secret`, { headers: { accept: 'application/json' } });
      expect([res.status, await res.json()]).toEqual([200, { public: true }]);
      expect(ran).toEqual(['public handler']);
    });
  });
});

describe('CSRF on cookie-authenticated changes', () => {
  const patch = (headers: Record<string, string>, role = 'RE') =>
    (browsers.get('AD') as Browser).request('PATCH', '/api/organizations/0/memberships', {
      headers: { accept: 'application/json', 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ user_id: memberIdOf('NO'), role }),
    });
  let pendingId = 0;
  const memberIdOf = (_: string) => pendingId;
  beforeAll(async () => {
    pendingId = await userIdOf(app, PEOPLE.NO.email);
  });

  async function refused(res: Promise<TestResponse>): Promise<void> {
    const before = await snapshot(app.db);
    const r = await res;
    expect([r.status, errorOf(r)]).toEqual([403, 'ERR_CSRF']);
    expect((await snapshot(app.db)).memberships).toEqual(before.memberships);
  }

  it('refuses a change with no Origin and no token, or from another origin', async () => {
    await refused(patch({}));
    await refused(patch({ origin: 'https://evil.example' }));
    await refused(patch({ origin: 'null' }));
    await refused(patch({ referer: 'https://evil.example/page' }));
    await refused(patch({ 'x-csrf-token': 'wrong' }));
    await refused(patch({ origin: 'https://evil.example', 'x-csrf-token': 'x'.repeat(43) }));
  });

  it('refuses form-encoded and multipart changes from another origin too (bodies a page can send without a preflight)', async () => {
    const b = browsers.get('AD') as Browser;
    const form = new URLSearchParams({ user_id: String(pendingId), role: 'AD' }).toString();
    await refused(b.request('PATCH', '/api/organizations/0/memberships', { headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: form }));
    await refused(b.request('POST', '/api/organizations/0/memberships', { headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' }, body: form }));
    const fd = new FormData();
    fd.append('user_id', String(pendingId));
    fd.append('role', 'AD');
    const req = new Request('http://localhost/', { method: 'POST', body: fd });
    await refused(b.request('POST', '/api/organizations/0/memberships', { headers: { accept: 'application/json', 'content-type': req.headers.get('content-type') ?? '', origin: 'null' }, body: await req.text() }));
  });

  it('accepts the same origin (Origin or Referer) or the session’s X-CSRF-Token', async () => {
    expect((await patch({ origin: app.url }, 'AN')).status).toBe(200);
    expect((await patch({ referer: `${app.url}/organization` }, 'RE')).status).toBe(200);
    expect((await patch({ 'x-csrf-token': csrf.get('AD') ?? '' }, 'NO')).status).toBe(200);
  });

  it('reads need neither', async () => {
    const res = await (browsers.get('AD') as Browser).request('GET', '/api/organizations/0/memberships', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
  });

  it('a page form must carry the session’s token even from the same origin', async () => {
    const b = browsers.get('AD') as Browser;
    const before = await snapshot(app.db);
    const res = await b.request('POST', `/organization/members/${pendingId}/role`, {
      headers: { origin: app.url, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ role: 'AN', csrf: 'forged' }).toString(),
    });
    expect(res.status).toBe(403);
    expect(res.text).toContain('ERR_CSRF');
    expect((await snapshot(app.db)).memberships).toEqual(before.memberships);
    const ok = await b.request('POST', `/organization/members/${pendingId}/role`, {
      headers: { origin: app.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ role: 'AN', csrf: csrf.get('AD') ?? '' }).toString(),
    });
    expect(ok.status).toBe(302);
    expect(ok.location).toBe('/organization');
    expect(((await app.db('memberships').where({ user_id: pendingId }).first('role')) as { role: string }).role).toBe('AN');
  });
});
