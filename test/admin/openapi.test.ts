/** GET /api/openapi.json is true to the router: every admin API route is in it, and nothing else is. */
import type Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMemberWriter, closeApp, createApp } from '../../src/app.js';
import { ACCESS } from '../../src/http/admin/access.js';
import { silentLogger } from '../../src/log.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';

let app: TestApp;
let routes: { name: string; path: string; methods: string[] }[];

beforeAll(async () => {
  app = await startApp();
  const koa = await createApp({ config: app.config, db: app.db, log: silentLogger, writer: buildMemberWriter({ config: app.config, log: silentLogger }) });
  const mw = koa.middleware.find((m) => (m as { router?: unknown }).router !== undefined) as unknown as { router: Router };
  routes = mw.router.stack
    .filter((l) => l.methods.length > 0)
    .map((l) => ({ name: l.name ?? '', path: String(l.path), methods: l.methods.filter((m) => m !== 'HEAD').map((m) => m.toLowerCase()) }));
  await closeApp(koa);
});
afterAll(async () => {
  await app.close();
});

type Doc = { openapi: string; paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>> };

describe('the OpenAPI document', () => {
  it('is served as JSON without signing in', async () => {
    const res = await app.browser().get('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.json<Doc>().openapi).toMatch(/^3\./);
  });

  it('lists every route under /api/ with its method and name, and only those', async () => {
    const doc = (await app.browser().get('/api/openapi.json')).json<Doc>();
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([method, op]) => `${method.toUpperCase()} ${p} ${op.operationId}`));
    const inRouter = routes
      .filter((r) => r.path.startsWith('/api/'))
      .flatMap((r) => r.methods.map((m) => `${m.toUpperCase()} ${r.path.replace(/:([a-z_]+)/g, '{$1}')} ${r.name}`));
    expect(documented.sort()).toEqual(inRouter.sort());
  });

  it('never documents a 409 (the Label Studio SDK retries it) and names a 400 wherever query parameters are read', async () => {
    const doc = (await app.browser().get('/api/openapi.json')).json<Doc>();
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect([p, method, Object.keys(op.responses).includes('409')]).toEqual([p, method, false]);
        if (method === 'get' && op.operationId !== 'openapi') expect([p, Object.keys(op.responses)]).toEqual([p, expect.arrayContaining(['400'])]);
      }
    }
  });

  it('documents the error responses of every operation', async () => {
    const doc = (await app.browser().get('/api/openapi.json')).json<Doc>();
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (op.operationId === 'openapi') continue;
        // Public operations authenticate themselves (401) and have no role to refuse.
        const expected = ACCESS[op.operationId] === 'public' ? ['401'] : ['401', '403'];
        expect([p, method, Object.keys(op.responses)]).toEqual([p, method, expect.arrayContaining(expected)]);
      }
    }
  });
});
