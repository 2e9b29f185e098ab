/**
 * What people see of SCIM: /metrics (SCIM requests by endpoint and status, role changes by source), the
 * audit log and its CSV, and the Organization page (SCIM-managed members, SCIM token controls).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { PEOPLE, call, signedIn } from '../admin/support.js';
import type { Browser } from '../support/http.js';
import { ScimClient, scimErrorOf, scimToken, scimYaml } from './support.js';
import { startApp } from '../support/app.js';

const METRICS_TOKEN = 'metrics-token-0123456789';

let app: TestApp;
let scim: ScimClient;
let owner: Browser;

beforeAll(async () => {
  const yaml = scimYaml();
  app = await startApp({ yaml: (dir, url) => yaml(dir, url).replace('  session_secret:', `  metrics_token: ${METRICS_TOKEN}\n  session_secret:`) });
  scim = new ScimClient(app, await scimToken(app));
  owner = await signedIn(app, PEOPLE.OW);
});
afterAll(async () => {
  await app.close();
});

function metric(text: string, line: RegExp): number {
  const m = text.split('\n').find((l) => line.test(l));
  return m === undefined ? 0 : Number(m.slice(m.lastIndexOf(' ') + 1));
}

async function metricsText(): Promise<string> {
  const res = await app.browser().request('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text;
}

describe('metrics', () => {
  it('counts SCIM requests by endpoint, method and status, and role changes by source', async () => {
    const before = await metricsText();
    const id = await scim.createUser('metrics.user@acme.example');
    await scim.createGroup('LS-Managers', [id]);
    scimErrorOf(await scim.get('/Users/999999'));
    const after = await metricsText();
    const delta = (re: RegExp): number => metric(after, re) - metric(before, re);
    expect(delta(/^rolegate_scim_requests_total\{endpoint="Users",method="POST",status="201"\} /)).toBe(1);
    expect(delta(/^rolegate_scim_requests_total\{endpoint="Groups",method="POST",status="201"\} /)).toBe(1);
    expect(delta(/^rolegate_scim_requests_total\{endpoint="Users\/\{id\}",method="GET",status="404"\} /)).toBe(1);
    expect(delta(/^rolegate_role_changes_total\{kind="member_created",source="scim"\} /)).toBe(1);
    expect(delta(/^rolegate_role_changes_total\{kind="role_change",source="scim"\} /)).toBe(1);
    expect(metric(after, /^rolegate_role_changes_total\{kind="member_created",source="login"\} /)).toBeGreaterThanOrEqual(1);
  });
});

describe('audit log', () => {
  it('the audit API and CSV carry SCIM events (actor scim, role source scim)', async () => {
    const id = await scim.createUser('audited@acme.example');
    await scim.createGroup('LS-Reviewers', [id]);
    const res = await call(app, owner, 'GET', `/api/organizations/0/audit?user_id=${id}`);
    expect(res.status, res.text).toBe(200);
    const events = res.json<{ results: { action: string; actor: { type: string; display: string }; after: string | null }[] }>().results;
    expect(events.find((e) => e.action === 'role_change')).toMatchObject({ actor: { type: 'scim', display: 'SCIM provisioning' }, after: 'RE' });
    const csv = await call(app, owner, 'GET', `/api/organizations/0/audit?user_id=${id}&format=csv`, { headers: { accept: 'text/csv' } });
    expect(csv.status, csv.text).toBe(200);
    const line = csv.text.split('\n').find((l) => l.includes('audited@acme.example') && l.includes('role_change'));
    expect(line).toBeDefined();
    expect(line).toContain('SCIM provisioning');
  });
});

describe('Organization page', () => {
  it('marks the members SCIM manages', async () => {
    const id = await scim.createUser('page.scim@acme.example');
    const list = await owner.get('/organization?search=page.scim', { accept: 'text/html' });
    expect(list.status).toBe(200);
    expect(list.text).toContain('page.scim@acme.example');
    expect(list.text).toMatch(/class="managed scim"[^>]*>SCIM</);
    const detail = await owner.get(`/organization/members/${id}`, { accept: 'text/html' });
    expect(detail.text).toContain('managed by SCIM');
    const notScim = await owner.get('/organization?search=owner@acme', { accept: 'text/html' });
    expect(notScim.text).not.toMatch(/class="managed scim"/);
  });

  it('creates and revokes SCIM tokens (the key shown once works on /scim/v2, then stops)', async () => {
    const page = await owner.get('/organization/tokens', { accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.text).toContain(`${app.url}/scim/v2`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const created = await owner.request('POST', '/organization/scim-tokens', { headers: { origin: app.url }, form: { csrf, name: 'Entra' } });
    expect(created.status).toBe(302);
    const after = await owner.get('/organization/tokens', { accept: 'text/html' });
    const key = /rgscim_[A-Za-z0-9_-]{43}/.exec(after.text)?.[0];
    expect(key).toBeDefined();
    const c = new ScimClient(app, key ?? '');
    expect((await c.get('/ServiceProviderConfig')).status).toBe(200);
    const again = await owner.get('/organization/tokens', { accept: 'text/html' });
    expect(again.text).not.toContain(key ?? '');
    const row = (await app.db('scim_tokens').where({ name: 'Entra' }).first('id')) as { id: number };
    const revoked = await owner.request('POST', `/organization/scim-tokens/${row.id}/revoke`, { headers: { origin: app.url }, form: { csrf } });
    expect(revoked.status).toBe(302);
    expect(scimErrorOf(await c.get('/Users'))).toMatchObject({ status: 401 });
  });
});
