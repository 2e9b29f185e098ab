/**
 * SCIM 2.0 protocol surface: discovery documents, bearer authentication with SCIM tokens only, content types,
 * body limits, unknown endpoints, and the SCIM token commands of the CLI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { createToken } from '../../src/admin/tokens.js';
import type { TestApp } from '../support/app.js';
import { startApp } from '../support/app.js';
import { TEST_DATABASE } from '../support/database.js';
import { snapshot } from '../support/db.js';
import { signedIn, userIdOf } from '../admin/support.js';
import { SCIM_JSON, ScimClient, USER_SCHEMA, scimErrorOf, scimToken, startScimApp } from './support.js';

let app: TestApp;
let scim: ScimClient;

beforeAll(async () => {
  app = await startScimApp();
  scim = new ScimClient(app, await scimToken(app));
});
afterAll(async () => {
  await app.close();
});

describe('discovery', () => {
  it('ServiceProviderConfig advertises patch and filter (with maxResults) and no bulk, sort, etag or password change', async () => {
    const res = await scim.get('/ServiceProviderConfig');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain(SCIM_JSON);
    const spc = res.json<Record<string, { supported: boolean; maxResults?: number }>>();
    expect(spc['patch']?.supported).toBe(true);
    expect(spc['filter']).toMatchObject({ supported: true, maxResults: 1000 });
    for (const off of ['bulk', 'sort', 'etag', 'changePassword']) expect(spc[off]?.supported).toBe(false);
    expect(res.json<{ meta: { resourceType: string; location: string } }>().meta).toEqual({ resourceType: 'ServiceProviderConfig', location: `${app.url}/scim/v2/ServiceProviderConfig` });
  });

  it('ResourceTypes lists User and Group; Schemas describes the "User Account" and Group attributes', async () => {
    const types = await scim.get('/ResourceTypes');
    expect(types.status).toBe(200);
    const list = types.json<{ totalResults: number; Resources: { id: string; endpoint: string; meta: { location: string } }[] }>();
    expect(list.Resources.map((r) => [r.id, r.endpoint])).toEqual([
      ['User', '/Users'],
      ['Group', '/Groups'],
    ]);
    expect((await scim.get('/ResourceTypes/User')).status).toBe(200);
    const schemas = await scim.get('/Schemas');
    expect(schemas.status).toBe(200);
    expect(schemas.text).toContain('User Account');
    const ids = schemas.json<{ Resources: { id: string; attributes: { name: string }[] }[] }>().Resources;
    expect(ids.map((s) => s.id)).toEqual([USER_SCHEMA, 'urn:ietf:params:scim:schemas:core:2.0:Group']);
    expect(ids[0]?.attributes.map((a) => a.name)).toEqual(expect.arrayContaining(['userName', 'name', 'emails', 'active', 'displayName']));
    const one = await scim.get(`/Schemas/${USER_SCHEMA}`);
    expect(one.status).toBe(200);
    expect(scimErrorOf(await scim.get('/Schemas/urn:nope'))).toMatchObject({ status: 404, code: 'ERR_NOT_FOUND' });
  });
});

describe('authentication', () => {
  it('without a valid SCIM token every endpoint is 401 with the SCIM error body, and nothing changes', async () => {
    const before = await snapshot(app.db);
    for (const authorization of [null, 'non-token', 'Bearer', `Bearer rgscim_${'A'.repeat(43)}`, `Token ${scim.key}`, `Basic ${Buffer.from('a:b').toString('base64')}`]) {
      for (const [method, p] of [
        ['GET', '/ServiceProviderConfig'],
        ['GET', '/Users'],
        ['POST', '/Users'],
        ['PATCH', '/Groups/1'],
      ] as const) {
        const res = await scim.call(method, p, { authorization, ...(method === 'GET' ? {} : { body: { schemas: [USER_SCHEMA], userName: 'x@acme.example' } }) });
        expect([authorization, method, p, scimErrorOf(res)]).toEqual([authorization, method, p, { status: 401, scimType: null, code: 'ERR_UNAUTHENTICATED' }]);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="rolegate-scim"');
      }
    }
    expect(await snapshot(app.db)).toEqual(before);
  });

  it('an admin API token does not work on /scim/v2, and a SCIM token does not work on the admin API', async () => {
    await signedIn(app, { email: 'apiadmin@acme.example', groups: ['LS-Admins'] });
    const adminId = await userIdOf(app, 'apiadmin@acme.example');
    const { key } = await createToken(app.db, { organizationId: 1, userId: adminId, name: 'api', createdBy: 'cli', configRevision: null, ip: null }, new Date());
    for (const authorization of [`Bearer ${key}`, `Token ${key}`]) {
      expect(scimErrorOf(await scim.call('GET', '/Users', { authorization }))).toMatchObject({ status: 401, code: 'ERR_UNAUTHENTICATED' });
    }
    const api = await app.browser().request('GET', '/api/organizations/0/memberships', { headers: { accept: 'application/json', authorization: `Token ${scim.key}` } });
    expect(api.status).toBe(401);
    const apiBearer = await app.browser().request('GET', '/api/organizations/0/memberships', { headers: { accept: 'application/json', authorization: `Bearer ${scim.key}` } });
    expect(apiBearer.status).toBe(401);
  });

  it('a signed-in browser session opens nothing on /scim/v2', async () => {
    const admin = await signedIn(app, { email: 'sessionadmin@acme.example', groups: ['LS-Admins'] });
    const res = await admin.request('GET', '/scim/v2/Users', { headers: { accept: SCIM_JSON } });
    expect(scimErrorOf(res)).toMatchObject({ status: 401, code: 'ERR_UNAUTHENTICATED' });
  });

  it('a revoked SCIM token is 401', async () => {
    const key = await scimToken(app);
    const c = new ScimClient(app, key);
    expect((await c.get('/Users?count=1')).status).toBe(200);
    const row = (await app.db('scim_tokens').orderBy('id', 'desc').first('id')) as { id: number };
    const { revokeScimTokenById } = await import('../../src/scim/tokens.js');
    await revokeScimTokenById(app.db, { organizationId: 1, id: row.id, actor: 'cli', configRevision: null, ip: null }, new Date());
    expect(scimErrorOf(await c.get('/Users'))).toMatchObject({ status: 401, code: 'ERR_UNAUTHENTICATED' });
  });

  it('only the sha256 of a SCIM key is stored', async () => {
    const key = await scimToken(app);
    const rows = JSON.stringify(await app.db('scim_tokens').select());
    expect(key).toMatch(/^rgscim_[A-Za-z0-9_-]{43}$/);
    expect(rows).not.toContain(key);
  });

  it('an organization without scim.enabled answers 403 to its SCIM token', async () => {
    const off = await startApp();
    try {
      const c = new ScimClient(off, await scimToken(off));
      expect(scimErrorOf(await c.get('/Users'))).toMatchObject({ status: 403, code: 'ERR_FORBIDDEN' });
    } finally {
      await off.close();
    }
  });
});

describe('requests', () => {
  it('accepts application/json as well as application/scim+json, and answers application/scim+json', async () => {
    const res = await scim.call('POST', '/Users', { body: { schemas: [USER_SCHEMA], userName: 'plain.json@acme.example' }, contentType: 'application/json' });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get('content-type')).toContain(SCIM_JSON);
  });

  it('invalid JSON, a non-JSON content type and a JSON value that is not an object are 400 invalidSyntax, and change nothing', async () => {
    const before = await snapshot(app.db);
    const cases: { raw: string; contentType?: string }[] = [
      { raw: '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": ' },
      { raw: 'userName=x@acme.example', contentType: 'application/x-www-form-urlencoded' },
      { raw: '{"userName":"x@acme.example"}', contentType: 'text/plain' },
      { raw: '"just a string"' },
      { raw: '[1,2]' },
    ];
    for (const c of cases) {
      const res = await scim.call('POST', '/Users', c);
      expect([c.raw, scimErrorOf(res)]).toEqual([c.raw, { status: 400, scimType: 'invalidSyntax', code: 'ERR_SCIM_INVALID_SYNTAX' }]);
    }
    expect(await snapshot(app.db)).toEqual(before);
  });

  it('a body past the limit is 413 with the SCIM error body, and changes nothing', async () => {
    const before = await snapshot(app.db);
    const members = Array.from({ length: 200_000 }, (_, i) => ({ value: String(i + 1) }));
    const res = await scim.call('POST', '/Groups', { body: { displayName: 'Huge', members } });
    expect(scimErrorOf(res)).toMatchObject({ status: 413, code: 'ERR_PAYLOAD_TOO_LARGE' });
    expect(await snapshot(app.db)).toEqual(before);
    expect(await app.db('scim_groups').where({ display_name: 'Huge' })).toEqual([]);
  });

  it('unknown endpoints are SCIM 404s; Bulk and /Me are 501', async () => {
    expect(scimErrorOf(await scim.get('/Nope'))).toMatchObject({ status: 404, code: 'ERR_NOT_FOUND' });
    expect(scimErrorOf(await scim.call('POST', '/Bulk', { body: {} }))).toMatchObject({ status: 501, code: 'ERR_NOT_IMPLEMENTED' });
    expect(scimErrorOf(await scim.get('/Me'))).toMatchObject({ status: 501, code: 'ERR_NOT_IMPLEMENTED' });
  });

  it('startIndex and count must be integers (400 invalidValue)', async () => {
    expect(scimErrorOf(await scim.get('/Users?startIndex=abc'))).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(scimErrorOf(await scim.get('/Groups?count=1.5'))).toMatchObject({ status: 400, scimType: 'invalidValue' });
  });
});

describe.skipIf(TEST_DATABASE === 'postgres')('the CLI (SQLite: the CLI opens the database of the configuration file)', () => {
  function io() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), env: { ...process.env } } };
  }

  it('token create --scim prints only the key on stdout; list shows it; revoke --scim ends it', async () => {
    const file = path.join(app.dir, 'rolegate.yaml');
    expect(fs.existsSync(file)).toBe(true);
    const created = io();
    expect(await runCli(['token', 'create', '--org', '1', '--scim', '--name', 'Okta', '--config', file], created.io)).toBe(0);
    const key = created.out.join('').trim();
    expect(key).toMatch(/^rgscim_[A-Za-z0-9_-]{43}$/);
    const c = new ScimClient(app, key);
    expect((await c.get('/Users?count=1')).status).toBe(200);
    const listed = io();
    expect(await runCli(['token', 'list', '--org', '1', '--config', file], listed.io)).toBe(0);
    const line = listed.out.join('').split('\n').find((l) => l.includes('\tscim\tOkta\t'));
    expect(line).toBeDefined();
    expect(listed.out.join('')).not.toContain(key);
    const id = line?.split('\t')[0] ?? '';
    const revoked = io();
    expect(await runCli(['token', 'revoke', '--org', '1', '--id', id, '--scim', '--config', file], revoked.io)).toBe(0);
    expect(scimErrorOf(await c.get('/Users'))).toMatchObject({ status: 401 });
    const bad = io();
    expect(await runCli(['token', 'create', '--org', '1', '--scim', '--email', 'x@acme.example', '--config', file], bad.io)).toBe(64);
  });
});
