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

  it('lists every admin API route with its method and name, and only those', async () => {
    const doc = (await app.browser().get('/api/openapi.json')).json<Doc>();
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([method, op]) => `${method.toUpperCase()} ${p} ${op.operationId}`));
    const inRouter = routes
      .filter((r) => r.path.startsWith('/api/') && (ACCESS[r.name] === 'admin' || ACCESS[r.name] === 'admin-browser' || r.name === 'openapi'))
      .flatMap((r) => r.methods.map((m) => `${m.toUpperCase()} ${r.path.replace(/:([a-z_]+)/g, '{$1}')} ${r.name}`));
    expect(documented.sort()).toEqual(inRouter.sort());
  });

  it('documents the error responses of every operation', async () => {
    const doc = (await app.browser().get('/api/openapi.json')).json<Doc>();
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (op.operationId === 'openapi') continue;
        expect([p, method, Object.keys(op.responses)]).toEqual([p, method, expect.arrayContaining(['401', '403'])]);
      }
    }
  });
});
