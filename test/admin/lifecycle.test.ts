/**
 * Deactivation, soft deletion, invites, API tokens (API and CLI), project roles and the audit log.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { TEST_DATABASE } from '../support/database.js';
import { auditRows, snapshot } from '../support/db.js';
import { signIn } from '../support/flow.js';
import type { Browser } from '../support/http.js';
import { PEOPLE, call, errorOf, signedIn, userIdOf } from './support.js';

let app: TestApp;
let admin: Browser;
let owner: Browser;

beforeAll(async () => {
  app = await startApp();
  owner = await signedIn(app, PEOPLE.OW);
  admin = await signedIn(app, PEOPLE.AD);
});
afterAll(async () => {
  await app.close();
});

async function newToken(b: Browser, name = 'test'): Promise<{ id: number; key: string }> {
  const res = await call(app, b, 'POST', '/api/tokens', { body: { name } });
  expect(res.status, res.text).toBe(201);
  return res.json<{ id: number; key: string }>();
}

function bare(): Browser {
  return app.browser();
}

describe('API tokens', () => {
  it('a signed-in admin creates a token; the key works once as "Token <key>" and is never listed', async () => {
    const t = await newToken(admin, 'nightly sync');
    expect(t.key).toMatch(/^rg_[A-Za-z0-9_-]{43}$/);
    const stored = (await app.db('api_tokens').where({ id: t.id }).first()) as Record<string, unknown>;
    expect(JSON.stringify(stored)).not.toContain(t.key);
    const res = await call(app, bare(), 'GET', '/api/organizations/0/memberships', { token: t.key, sameOrigin: false });
    expect(res.status, res.text).toBe(200);
    const listed = await call(app, admin, 'GET', '/api/tokens');
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(t.key);
    expect(listed.json<{ id: number; name: string; prefix: string }[]>().find((x) => x.id === t.id)).toMatchObject({ name: 'nightly sync', prefix: t.key.slice(0, 10) });
  });

  it('token requests need no Origin or CSRF token, and change things', async () => {
    const t = await newToken(admin);
    await signedIn(app, { email: 'tok-target@acme.example', groups: [] });
    const id = await userIdOf(app, 'tok-target@acme.example');
    const res = await call(app, bare(), 'PATCH', '/api/organizations/0/memberships', { token: t.key, sameOrigin: false, body: { user_id: id, role: 'AN' } });
    expect(res.status, res.text).toBe(200);
    const adminId = await userIdOf(app, PEOPLE.AD.email);
    expect((await auditRows(app.db)).at(-1)).toMatchObject({ actor: `user:${adminId}`, action: 'role_change', after: 'AN' });
  });

  it('a revoked, unknown or malformed token is 401 and changes nothing', async () => {
    const t = await newToken(admin);
    const del = await call(app, admin, 'DELETE', `/api/tokens/${t.id}`);
    expect(del.status).toBe(204);
    const id = await userIdOf(app, 'tok-target@acme.example');
    for (const header of [`Token ${t.key}`, `Token rg_${'A'.repeat(43)}`, 'Token', `Bearer ${t.key}`, 'Basic YTpi']) {
      const before = await snapshot(app.db);
      const res = await bare().request('PATCH', '/api/organizations/0/memberships', { headers: { authorization: header, 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ user_id: id, role: 'RE' }) });
      expect([header, res.status, errorOf(res)]).toEqual([header, 401, 'ERR_UNAUTHENTICATED']);
      expect((await snapshot(app.db)).memberships).toEqual(before.memberships);
    }
    // A bad token is not rescued by a valid session cookie.
    const mixed = await call(app, admin, 'GET', '/api/organizations/0', { headers: { authorization: `Token ${t.key}` } });
    expect(mixed.status).toBe(401);
    const again = await call(app, admin, 'DELETE', `/api/tokens/${t.id}`);
    expect([again.status, errorOf(again)]).toEqual([404, 'ERR_NOT_FOUND']);
  });

  it('a token cannot mint tokens (a leaked one must not outlive its revocation)', async () => {
    const t = await newToken(admin);
    const res = await call(app, bare(), 'POST', '/api/tokens', { token: t.key, sameOrigin: false, body: { name: 'child' } });
    expect([res.status, errorOf(res)]).toEqual([403, 'ERR_FORBIDDEN']);
  });

  it('a token follows its member: demoted → 403, deactivated → 401 and revoked for good', async () => {
    const who = { email: 'tok-admin@acme.example', groups: [] };
    const b = await signedIn(app, who);
    const id = await userIdOf(app, who.email);
    expect((await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'AD' } })).status).toBe(200);
    const t = await newToken(b);
    expect((await call(app, bare(), 'GET', '/api/organizations/0', { token: t.key })).status).toBe(200);
    expect((await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'MA' } })).status).toBe(200);
    const demoted = await call(app, bare(), 'GET', '/api/organizations/0', { token: t.key });
    expect([demoted.status, errorOf(demoted)]).toEqual([403, 'ERR_FORBIDDEN']);
    expect((await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'DI' } })).status).toBe(200);
    const gone = await call(app, bare(), 'GET', '/api/organizations/0', { token: t.key });
    expect([gone.status, errorOf(gone)]).toEqual([401, 'ERR_UNAUTHENTICATED']);
    expect((await app.db('api_tokens').where({ id: t.id }).first('revoked_at')) as { revoked_at: unknown }).not.toMatchObject({ revoked_at: null });
    // Reactivation does not revive the old token.
    expect((await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'AD' } })).status).toBe(200);
    expect((await call(app, bare(), 'GET', '/api/organizations/0', { token: t.key })).status).toBe(401);
  });

  // The CLI opens the database the YAML names; on the PostgreSQL pass the test app lives in a schema of its own.
  it.skipIf(TEST_DATABASE === 'postgres')('`rolegate token create` prints a working key once; list and revoke work; non-admins are refused', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), env: { ...process.env, NODE_ENV: 'test' } };
    const file = path.join(app.dir, 'rolegate.yaml');
    expect(await runCli(['token', 'create', '--org', '1', '--email', 'ADMIN@acme.example', '--name', 'ci', '--config', file], io)).toBe(0);
    const key = out.join('').trim();
    expect(key).toMatch(/^rg_/);
    expect(err.join('')).toContain('shown once');
    const res = await call(app, bare(), 'GET', '/api/organizations/0/memberships', { token: key });
    expect(res.status).toBe(200);
    const row = (await app.db('api_tokens').orderBy('id', 'desc').first()) as { id: number; created_by: string; name: string };
    expect(row).toMatchObject({ created_by: 'cli', name: 'ci' });
    out.length = 0;
    expect(await runCli(['token', 'list', '--org', '1', '--config', file], io)).toBe(0);
    expect(out.join('')).toContain(key.slice(0, 10));
    expect(out.join('')).not.toContain(key);
    expect(await runCli(['token', 'revoke', '--org', '1', '--id', String(row.id), '--config', file], io)).toBe(0);
    expect((await call(app, bare(), 'GET', '/api/organizations/0', { token: key })).status).toBe(401);
    await signedIn(app, PEOPLE.AN);
    err.length = 0;
    expect(await runCli(['token', 'create', '--org', '1', '--email', PEOPLE.AN.email, '--config', file], io)).toBe(1);
    expect(err.join('')).toContain('only an Owner (OW) or Administrator (AD)');
    expect(await runCli(['token', 'create', '--org', '1', '--email', 'nobody@acme.example', '--config', file], io)).toBe(1);
    expect(await runCli(['token', 'create', '--org', '1', '--config', file], io)).toBe(64);
    expect(await runCli(['token', 'frobnicate', '--org', '1', '--config', file], io)).toBe(64);
    expect((await auditRows(app.db)).filter((a) => a['actor'] === 'cli').map((a) => a['action'])).toEqual(['token_created', 'token_revoked']);
  });
});

describe('deactivating and deleting', () => {
  it('assigning DI ends the member’s sessions at once; assigning a role reactivates', async () => {
    const who = { email: 'deact@acme.example', groups: ['Staff'] };
    const b = await signedIn(app, who);
    const id = await userIdOf(app, who.email);
    expect((await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'RE' } })).status).toBe(200);
    expect((await b.whoami()).status).toBe(200);
    const res = await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'DI' } });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ role: 'DI', role_source: 'api' });
    expect((await b.whoami()).status).toBe(401);
    expect((await app.db('sessions').where({ user_id: id })).length).toBe(0);
    // A Deactivated member is refused at the ACS…
    expect((await signIn(app, app.browser(), who)).status).toBe(403);
    // …until an admin reactivates them.
    expect((await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'AN' } })).status).toBe(200);
    expect((await signIn(app, app.browser(), who)).status).toBe(302);
  });

  it('DELETE soft-deletes: access ends, personal data is scrubbed, history reads "Deleted User"', async () => {
    const who = { email: 'leaver@acme.example', groups: ['Staff'], firstName: 'Lee', lastName: 'Leaver' };
    const b = await signedIn(app, who);
    const id = await userIdOf(app, who.email);
    expect((await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'AN' } })).status).toBe(200);
    expect((await call(app, admin, 'POST', '/api/projects/roles', { body: { project: 43, user: id, role: 'AN' } })).status).toBe(201);
    const t = await newToken(admin, 'unrelated');
    const res = await call(app, admin, 'DELETE', `/api/organizations/0/memberships/${id}/`);
    expect(res.status).toBe(204);
    expect((await b.whoami()).status).toBe(401);
    const user = (await app.db('users').where({ id }).first()) as Record<string, unknown>;
    expect(user).toMatchObject({ email: null, first_name: '', last_name: '' });
    expect(Boolean(user['is_deleted'])).toBe(true);
    expect(await app.db('project_memberships').where({ user_id: id })).toEqual([]);
    expect(await app.db('member_groups').where({ user_id: id })).toEqual([]);
    const rows = await app.db('audit_events').where({ subject_user_id: id });
    expect(rows.length).toBeGreaterThan(2);
    expect(JSON.stringify(rows)).not.toContain('leaver@acme.example');
    // Hidden from the list, shown with is_deleted=true.
    const live = await call(app, admin, 'GET', '/api/organizations/0/memberships?search=leaver');
    expect(live.json<{ count: number }>().count).toBe(0);
    const deleted = await call(app, admin, 'GET', '/api/organizations/0/memberships?is_deleted=true');
    const entry = deleted.json<{ results: { user: { id: number; email: string; username: string }; is_deleted: boolean; role: string }[] }>().results.find((m) => m.user.id === id);
    expect(entry).toMatchObject({ is_deleted: true, role: 'DI', user: { email: '', username: 'Deleted User' } });
    const history = await call(app, admin, 'GET', `/api/organizations/0/audit?user_id=${id}`);
    const events = history.json<{ results: { action: string; subject: { display: string } | null; actor: { display: string } }[] }>().results;
    expect(events[0]).toMatchObject({ action: 'member_deleted', subject: { display: 'Deleted User' }, actor: { display: 'Ada Admin <admin@acme.example>' } });
    expect(events.every((e) => e.subject?.display === 'Deleted User')).toBe(true);
    // Unrelated tokens are untouched; the deleted member is gone for good.
    expect((await call(app, bare(), 'GET', '/api/organizations/0', { token: t.key })).status).toBe(200);
    const twice = await call(app, admin, 'DELETE', `/api/organizations/0/memberships/${id}`);
    expect([twice.status, errorOf(twice)]).toEqual([404, 'ERR_NOT_FOUND']);
    const patch = await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'AN' } });
    expect([patch.status, errorOf(patch)]).toEqual([404, 'ERR_NOT_FOUND']);
    // Signing in again through SSO makes a new account; the old history stays with "Deleted User".
    expect((await signIn(app, app.browser(), who)).status).toBe(302);
    const fresh = await userIdOf(app, who.email);
    expect(fresh).not.toBe(id);
    expect((await app.db('memberships').where({ user_id: fresh }).first('role')) as { role: string }).toEqual({ role: 'NO' });
  });

  it('a deleted admin’s tokens die with them, and audit rows they acted in show "Deleted User" as actor', async () => {
    const who = { email: 'temp-admin@acme.example', groups: [] };
    const b = await signedIn(app, who);
    const id = await userIdOf(app, who.email);
    expect((await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'AD' } })).status).toBe(200);
    const t = await newToken(b);
    const target = await userIdOf(app, 'deact@acme.example');
    expect((await call(app, b, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: target, role: 'RE' } })).status).toBe(200);
    expect((await call(app, owner, 'DELETE', `/api/organizations/0/memberships/${id}`)).status).toBe(204);
    expect((await call(app, bare(), 'GET', '/api/organizations/0', { token: t.key })).status).toBe(401);
    const events = (await call(app, admin, 'GET', `/api/organizations/0/audit?user_id=${target}&action=role_change`)).json<{ results: { actor: { display: string; user_id: number } }[] }>().results;
    expect(events[0]?.actor).toEqual({ type: 'member', user_id: id, display: 'Deleted User' });
  });
});

describe('invites', () => {
  it('creates a Not Activated member and a link; the first SSO login attaches; an admin activates', async () => {
    const res = await call(app, admin, 'POST', '/api/organizations/0/invites', { body: { email: ' New.Person@Acme.example ' } });
    expect(res.status, res.text).toBe(201);
    const body = res.json<{ role: string; role_source: string; invite_url: string; user: { id: number; email: string; last_activity: null } }>();
    expect(body).toMatchObject({ role: 'NO', role_source: 'api', user: { email: 'new.person@acme.example', last_activity: null } });
    expect(body.invite_url).toBe(`${app.url}/sign-in/1?invited=${encodeURIComponent(body.user.email)}`);
    expect((await auditRows(app.db)).at(-1)).toMatchObject({ action: 'member_invited', after: 'NO', subject_user_id: body.user.id });
    const dup = await call(app, admin, 'POST', '/api/organizations/0/invites', { body: { email: 'new.person@acme.example' } });
    expect([dup.status, errorOf(dup)]).toEqual([400, 'ERR_MEMBER_EXISTS']);
    for (const email of ['not-an-email', '', 42]) {
      const bad = await call(app, admin, 'POST', '/api/organizations/0/invites', { body: { email } });
      expect([bad.status, errorOf(bad)]).toEqual([400, 'ERR_BAD_REQUEST']);
    }
    const person = app.browser();
    expect((await signIn(app, person, { email: 'new.person@acme.example', groups: ['Staff'], firstName: 'New', lastName: 'Person' })).status).toBe(302);
    expect(await userIdOf(app, 'new.person@acme.example')).toBe(body.user.id);
    expect((await person.whoami()).json()).toMatchObject({ organization: { role: 'NO' } });
    const activated = await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: body.user.id, role: 'AN' } });
    expect(activated.json()).toMatchObject({ role: 'AN', user: { first_name: 'New', last_name: 'Person' } });
    expect((await person.whoami()).json()).toMatchObject({ organization: { role: 'AN' } });
  });
});

describe('project roles', () => {
  it('lists per project and for the whole organization', async () => {
    await signedIn(app, PEOPLE.RE);
    await signedIn(app, { email: 'p43@acme.example', groups: ['LS-Annotators', 'LS-Project43-Annotators'] });
    const reId = await userIdOf(app, PEOPLE.RE.email);
    const res = await call(app, admin, 'GET', '/api/projects/42/roles');
    expect(res.status).toBe(200);
    expect(res.json<unknown[]>()).toContainEqual({ id: expect.any(Number), project: 42, user: reId, role: 'RE', role_source: 'saml' });
    const all = await call(app, admin, 'GET', '/api/projects/roles/');
    expect(all.json<{ project: number }[]>().map((r) => r.project)).toEqual(expect.arrayContaining([42, 43]));
    const filtered = await call(app, admin, 'GET', '/api/projects/roles?project=43');
    expect(filtered.json<{ project: number }[]>().every((r) => r.project === 43)).toBe(true);
    const missing = await call(app, admin, 'GET', '/api/projects/99/roles');
    expect([missing.status, errorOf(missing)]).toEqual([404, 'ERR_NOT_FOUND']);
  });

  it('adds (201), changes (200) and removes (204) a role set by hand', async () => {
    const id = await userIdOf(app, 'new.person@acme.example');
    const add = await call(app, admin, 'POST', '/api/projects/roles', { body: { project: 42, user: id, role: 'AN' } });
    expect(add.status, add.text).toBe(201);
    expect(add.json()).toMatchObject({ project: 42, user: id, role: 'AN', role_source: 'api' });
    const change = await call(app, admin, 'POST', '/api/projects/roles', { body: { project: 42, user_id: id, role: 'RE' } });
    expect(change.status).toBe(200);
    expect(change.json()).toMatchObject({ role: 'RE' });
    expect((await auditRows(app.db)).at(-1)).toMatchObject({ action: 'project_role_change', before: 'AN', after: 'RE' });
    const roleId = change.json<{ id: number }>().id;
    expect((await call(app, admin, 'DELETE', `/api/projects/roles/${roleId}`)).status).toBe(204);
    expect(await app.db('project_memberships').where({ id: roleId })).toEqual([]);
    const again = await call(app, admin, 'DELETE', `/api/projects/roles/${roleId}`);
    expect([again.status, errorOf(again)]).toEqual([404, 'ERR_NOT_FOUND']);
  });

  it('refuses a project role the IdP manages, an inactive member, a bad role and an unknown project', async () => {
    const reId = await userIdOf(app, PEOPLE.RE.email);
    const before = await snapshot(app.db);
    const managed = await call(app, admin, 'POST', '/api/projects/roles', { body: { project: 42, user: reId, role: 'AN' } });
    expect([managed.status, errorOf(managed)]).toEqual([403, 'ERR_ROLE_MANAGED_BY_IDP']);
    expect(managed.json<{ detail: string }>().detail).toContain('LS-Project42-Reviewers');
    const held = (await app.db('project_memberships').where({ user_id: reId, project_id: 42 }).first('id')) as { id: number };
    const del = await call(app, admin, 'DELETE', `/api/projects/roles/${held.id}`);
    expect([del.status, errorOf(del)]).toEqual([403, 'ERR_ROLE_MANAGED_BY_IDP']);
    await signedIn(app, PEOPLE.NO);
    const pending = await call(app, admin, 'POST', '/api/projects/roles', { body: { project: 42, user: await userIdOf(app, PEOPLE.NO.email), role: 'AN' } });
    expect([pending.status, errorOf(pending)]).toEqual([400, 'ERR_MEMBER_INACTIVE']);
    const badRole = await call(app, admin, 'POST', '/api/projects/roles', { body: { project: 42, user: reId, role: 'AD' } });
    expect([badRole.status, errorOf(badRole)]).toEqual([400, 'ERR_INVALID_ROLE']);
    const noProject = await call(app, admin, 'POST', '/api/projects/roles', { body: { project: 99, user: reId, role: 'AN' } });
    expect([noProject.status, errorOf(noProject)]).toEqual([404, 'ERR_NOT_FOUND']);
    expect((await snapshot(app.db)).projects).toEqual(before.projects);
  });
});

describe('audit log', () => {
  interface Event {
    id: number;
    time: string;
    action: string;
    actor: { type: string; display: string };
    subject: { display: string } | null;
    before: string | null;
    after: string | null;
    config_revision: string | null;
  }
  const audit = async (q: string) => {
    const res = await call(app, admin, 'GET', `/api/organizations/0/audit${q}`);
    expect(res.status, res.text).toBe(200);
    return res.json<{ count: number; next: string | null; previous: string | null; results: Event[] }>();
  };

  it('is newest first, names actors for people, and carries the config revision', async () => {
    const page = await audit('');
    const ids = page.results.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(page.results.some((e) => e.actor.type === 'saml' && e.actor.display === 'SAML login')).toBe(true);
    expect(page.results.some((e) => e.actor.type === 'member')).toBe(true);
    expect(page.results[0]?.config_revision).toBe(app.config.revision);
  });

  it('filters by member, action and time, and paginates', async () => {
    const id = await userIdOf(app, 'new.person@acme.example');
    const mine = await audit(`?user_id=${id}`);
    expect(mine.results.map((e) => e.action)).toEqual(expect.arrayContaining(['member_invited', 'login', 'role_change', 'project_role_change']));
    expect(mine.results.every((e) => e.subject?.display.includes('new.person@acme.example'))).toBe(true);
    const changes = await audit('?action=member_deleted');
    expect(changes.count).toBe(2);
    expect(changes.results.every((e) => e.action === 'member_deleted')).toBe(true);
    const future = await audit(`?since=${new Date(Date.now() + 3_600_000).toISOString()}`);
    expect(future.count).toBe(0);
    const past = await audit('?until=2000-01-01');
    expect(past.count).toBe(0);
    const now = await audit(`?since=2000-01-01&until=${encodeURIComponent(new Date(Date.now() + 1000).toISOString())}`);
    expect(now.count).toBe((await audit('')).count);
    const p1 = await audit('?page_size=3');
    const p2 = await audit('?page_size=3&page=2');
    const last = await audit('?page_size=3&page=last');
    expect(last.next).toBeNull();
    expect(last.results.length).toBe(p1.count - 3 * Math.floor((p1.count - 1) / 3));
    expect((await audit('?page_size=-1')).results).toHaveLength(p1.count);
    expect(p1.next).toContain('page=2');
    expect(p2.previous).toContain('page=1');
    expect(p2.results[0]?.id).toBeLessThan(p1.results[2]?.id ?? 0);
    for (const q of ['?since=yesterday', '?user_id=abc', '?format=xml']) {
      const res = await call(app, admin, 'GET', `/api/organizations/0/audit${q}`);
      expect([q, res.status, errorOf(res)]).toEqual([q, 400, 'ERR_BAD_REQUEST']);
    }
    // Pages as Django REST framework: an invalid page is 404 "Invalid page.", an unknown parameter 400.
    const bad = await call(app, admin, 'GET', '/api/organizations/0/audit?page=0');
    expect([bad.status, errorOf(bad)]).toEqual([404, 'ERR_NOT_FOUND']);
    const unknown = await call(app, admin, 'GET', '/api/organizations/0/audit?actor=1');
    expect([unknown.status, errorOf(unknown)]).toEqual([400, 'ERR_UNKNOWN_PARAMETER']);
  });

  it('format=csv streams every matching event as CSV, formula-safe', async () => {
    // A group name that a spreadsheet would run as a formula.
    await signedIn(app, { email: 'formula@acme.example', groups: ['=HYPERLINK("http://evil")', 'LS-Annotators'] });
    const res = await call(app, admin, 'GET', '/api/organizations/0/audit?format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const lines = res.text.trim().split('\n');
    expect(lines[0]).toBe('time,actor,subject,action,outcome,error_code,before,after,reason,rule,config_revision,assertion_id,ip');
    expect(lines.length - 1).toBe((await audit('')).count);
    expect(res.text).toContain('Deleted User');
    expect(res.text).toContain('SAML login');
    expect(res.text).not.toMatch(/(^|,)=HYPERLINK/m);
    const filtered = await call(app, admin, 'GET', '/api/organizations/0/audit?format=csv&action=member_deleted');
    expect(filtered.text.trim().split('\n')).toHaveLength(3);
  });

  it('the CSV export streams a large log', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => ({ at: new Date(), organization_id: 1, actor: 'config', action: 'bulk_test', outcome: 'ok', reason: JSON.stringify({ text: `row ${i}` }) }));
    for (let i = 0; i < rows.length; i += 200) await app.db('audit_events').insert(rows.slice(i, i + 200));
    const res = await call(app, admin, 'GET', '/api/organizations/0/audit?format=csv&action=bulk_test');
    const lines = res.text.trim().split('\n');
    expect(lines).toHaveLength(1201);
    expect(lines[1]).toContain('config reload');
    expect(new Set(lines.slice(1).map((l) => /row (\d+)/.exec(l)?.[1])).size).toBe(1200);
  });
});

describe('errors under /api are JSON', () => {
  it('an unknown API path is a JSON 404, an unsupported method a JSON 405', async () => {
    const res = await call(app, admin, 'GET', '/api/organizations/0/nothing-here');
    expect([res.status, errorOf(res)]).toEqual([404, 'ERR_NOT_FOUND']);
    const put = await call(app, admin, 'PUT', '/api/organizations/0/memberships', { body: {} });
    expect([put.status, errorOf(put)]).toEqual([405, 'ERR_METHOD_NOT_ALLOWED']);
  });
});
