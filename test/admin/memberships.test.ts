/**
 * The organizations and memberships API: Label Studio's shapes, every filter, pagination edges and
 * each invariant of role assignment. Rejections assert status, code, and that nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { auditRows, snapshot } from '../support/db.js';
import type { Browser } from '../support/http.js';
import { PEOPLE, call, errorOf, signedIn, userIdOf } from './support.js';

interface Membership {
  id: number;
  organization: number;
  role: string;
  role_source: string;
  is_deleted: boolean;
  managed_by_idp: { group: string; rule: string; line: number; role: string } | null;
  user: { id: number; email: string; first_name: string; last_name: string; username: string; last_activity: string | null; date_joined: string };
}
interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

let app: TestApp;
let admin: Browser;
let owner: Browser;

beforeAll(async () => {
  app = await startApp();
  owner = await signedIn(app, PEOPLE.OW);
  admin = await signedIn(app, PEOPLE.AD);
  for (const who of [PEOPLE.MA, PEOPLE.RE, PEOPLE.AN, PEOPLE.NO]) await signedIn(app, who);
  // Pending members with names to search for, and one with wildcard characters in the email.
  await signedIn(app, { email: 'zoe.zimmer@acme.example', groups: ['Staff'], firstName: 'Zoe', lastName: 'Zimmer' });
  await signedIn(app, { email: 'pct_100%@acme.example', groups: [], firstName: 'Per', lastName: 'Cent' });
  await signedIn(app, { email: 'gone@acme.example', groups: ['LS-Annotators'] });
  await signedIn(app, { email: 'gone@acme.example', groups: [] }).catch(() => undefined);
});

afterAll(async () => {
  await app.close();
});

const list = async (query: string): Promise<Page<Membership>> => {
  const res = await call(app, admin, 'GET', `/api/organizations/0/memberships${query}`);
  expect(res.status, res.text).toBe(200);
  return res.json<Page<Membership>>();
};

/** A rejected change: status, code, memberships and audit log untouched. */
async function expectRefused(run: () => Promise<{ status: number; text: string; json<T>(): T }>, status: number, code: string): Promise<string> {
  const before = await snapshot(app.db);
  const auditBefore = (await auditRows(app.db)).length;
  const res = await run();
  expect(res.status, res.text).toBe(status);
  const body = res.json<{ error: string; detail: string }>();
  expect(body.error).toBe(code);
  const after = await snapshot(app.db);
  expect(after.memberships).toEqual(before.memberships);
  expect(after.users).toEqual(before.users);
  expect(after.projects).toEqual(before.projects);
  // An invariant's refusal is audited once; a request refused before it reaches the write path is not.
  const audit = await auditRows(app.db);
  if (code === 'ERR_LAST_ADMIN') {
    expect(audit.length).toBe(auditBefore + 1);
    expect(audit.at(-1)).toMatchObject({ outcome: 'refused', error_code: 'ERR_LAST_ADMIN' });
  } else {
    expect(audit.length).toBe(auditBefore);
  }
  return body.detail;
}

describe('organizations', () => {
  it('GET /api/organizations/ lists only the caller’s organization, as a plain array', async () => {
    const res = await call(app, admin, 'GET', '/api/organizations/');
    expect(res.status).toBe(200);
    const body = res.json<{ id: number; title: string; contact_info: string; created_at: string }[]>();
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({ id: 1, title: 'Acme Labs', contact_info: '' });
    expect(Date.parse(body[0]?.created_at ?? '')).not.toBeNaN();
  });

  it('GET /api/organizations/:id answers for the own id and for 0', async () => {
    for (const id of ['1', '0']) {
      const res = await call(app, admin, 'GET', `/api/organizations/${id}`);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ id: 1, title: 'Acme Labs', default_role: 'NO', role_management: 'idp', projects: [{ id: 42, title: 'Radiology' }, { id: 43, title: 'Pathology' }] });
    }
  });

  it('another organization is not found, and a malformed id is a bad request', async () => {
    const other = await call(app, admin, 'GET', '/api/organizations/2');
    expect([other.status, errorOf(other)]).toEqual([404, 'ERR_NOT_FOUND']);
    const other2 = await call(app, admin, 'GET', '/api/organizations/2/memberships');
    expect([other2.status, errorOf(other2)]).toEqual([404, 'ERR_NOT_FOUND']);
    const bad = await call(app, admin, 'GET', '/api/organizations/abc');
    expect([bad.status, errorOf(bad)]).toEqual([400, 'ERR_BAD_REQUEST']);
  });
});

describe('listing memberships', () => {
  it('returns the Label Studio page shape with the user inside', async () => {
    const page = await list('');
    expect(page.count).toBeGreaterThanOrEqual(9);
    expect(page.next).toBeNull();
    expect(page.previous).toBeNull();
    const ada = page.results.find((m) => m.user.email === PEOPLE.AD.email);
    expect(ada).toMatchObject({
      organization: 1,
      role: 'AD',
      role_source: 'saml',
      is_deleted: false,
      managed_by_idp: { group: 'LS-Admins', rule: 'organizations[0].roles.LS-Admins', role: 'AD' },
      user: { email: 'admin@acme.example', first_name: 'Ada', last_name: 'Admin', username: 'admin@acme.example' },
    });
    expect(typeof ada?.id).toBe('number');
    expect(Date.parse(ada?.user.last_activity ?? '')).not.toBeNaN();
    const olivia = page.results.find((m) => m.user.email === PEOPLE.OW.email);
    // The Owner named in the YAML: Label Studio's vocabulary has no `config`, it reads `manual`.
    expect(olivia).toMatchObject({ role: 'OW', role_source: 'manual', managed_by_idp: null });
  });

  it('filters by one role, by a comma list, and by the states NO and DI', async () => {
    expect((await list('?role=AD')).results.map((m) => m.user.email)).toEqual([PEOPLE.AD.email]);
    expect((await list('?role=AN,RE')).results.map((m) => m.role).sort()).toEqual(['AN', 'RE']);
    const pending = await list('?role=NO');
    expect(pending.results.map((m) => m.user.email).sort()).toEqual(['pct_100%@acme.example', PEOPLE.NO.email, 'zoe.zimmer@acme.example'].sort());
    expect((await list('?role=DI')).results.map((m) => m.user.email)).toEqual(['gone@acme.example']);
    expect((await list('?role=NO,DI')).count).toBe(4);
  });

  it('refuses an unknown role code', async () => {
    const res = await call(app, admin, 'GET', '/api/organizations/0/memberships?role=AN,XX');
    expect([res.status, errorOf(res)]).toEqual([400, 'ERR_INVALID_ROLE']);
  });

  it('searches email, first and last name, case-insensitively, with % and _ taken literally', async () => {
    expect((await list('?search=ZIMMER')).results.map((m) => m.user.email)).toEqual(['zoe.zimmer@acme.example']);
    expect((await list('?search=zoe')).results.map((m) => m.user.email)).toEqual(['zoe.zimmer@acme.example']);
    expect((await list('?search=admin%40acme')).results.map((m) => m.user.email)).toEqual([PEOPLE.AD.email]);
    expect((await list(`?search=${encodeURIComponent('100%')}`)).results.map((m) => m.user.email)).toEqual(['pct_100%@acme.example']);
    expect((await list(`?search=${encodeURIComponent('%')}`)).results.map((m) => m.user.email)).toEqual(['pct_100%@acme.example']);
    expect((await list('?search=_')).results.map((m) => m.user.email)).toEqual(['pct_100%@acme.example']);
    expect((await list('?search=nobody-like-this')).count).toBe(0);
    expect((await list('?search=a&role=NO')).results.every((m) => m.role === 'NO')).toBe(true);
  });

  it('orders by a field, descending with -, and refuses unknown fields', async () => {
    // Plain capitalised words sort the same under any collation (emails with punctuation may not).
    const byName = (await list('?ordering=user__first_name&role=OW,AD,MA,RE,AN')).results.map((m) => m.user.first_name);
    expect(byName).toEqual(['Ada', 'Andy', 'Max', 'Olivia', 'Rita']);
    const byEmail = (await list('?ordering=email')).results.map((m) => m.user.email);
    const desc = (await list('?ordering=-email')).results.map((m) => m.user.email);
    expect(desc).toEqual([...byEmail].reverse());
    const byRole = (await list('?ordering=-role')).results.map((m) => m.role);
    expect(byRole[0]).toBe('OW');
    expect(byRole.at(-1)).toBe('DI');
    const bad = await call(app, admin, 'GET', '/api/organizations/0/memberships?ordering=password');
    expect([bad.status, errorOf(bad)]).toEqual([400, 'ERR_BAD_REQUEST']);
  });

  it('paginates as Label Studio: links, page=last, one past the end, invalid pages 404, invalid sizes the default, -1 all', async () => {
    const all = await list('?ordering=id&page_size=-1');
    const total = all.count;
    expect(all.results).toHaveLength(total);
    expect(all.next).toBeNull();
    const first = await list('?ordering=id&page_size=4');
    expect(first.count).toBe(total);
    expect(first.results).toHaveLength(4);
    expect(first.previous).toBeNull();
    expect(first.next).toBe(`${app.url}/api/organizations/0/memberships?ordering=id&page_size=4&page=2`);
    const lastPage = Math.ceil(total / 4);
    const last = await list(`?ordering=id&page_size=4&page=${lastPage}`);
    expect(last.next).toBeNull();
    expect(last.previous).toContain(`page=${lastPage - 1}`);
    expect(last.results.map((m) => m.id)).toEqual(all.results.slice((lastPage - 1) * 4).map((m) => m.id));
    expect((await list('?ordering=id&page_size=4&page=last')).results.map((m) => m.id)).toEqual(last.results.map((m) => m.id));
    for (const q of [`page_size=4&page=${lastPage + 1}`, 'page=0', 'page=-1', 'page=x', 'page=1.5']) {
      const res = await call(app, admin, 'GET', `/api/organizations/0/memberships?${q}`);
      expect([q, res.status, errorOf(res)]).toEqual([q, 404, 'ERR_NOT_FOUND']);
    }
    const repeated = await call(app, admin, 'GET', '/api/organizations/0/memberships?page=1&page=2');
    expect([repeated.status, errorOf(repeated)]).toEqual([400, 'ERR_BAD_REQUEST']);
    expect(total).toBeGreaterThan(2);
    // No silent cap: a large page size is served whole.
    expect((await list('?page_size=100000')).results).toHaveLength(total);
    const empty = await list('?search=nobody&page=1');
    expect([empty.count, empty.results.length, empty.next]).toEqual([0, 0, null]);
  });
});

describe('assigning organization roles', () => {
  it('PATCH gives a pending member a role by hand (role_source api, Label Studio’s value for the API) and writes an audit row', async () => {
    const id = await userIdOf(app, 'zoe.zimmer@acme.example');
    const adminId = await userIdOf(app, PEOPLE.AD.email);
    const res = await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'AN' } });
    expect(res.status, res.text).toBe(200);
    expect(res.json<Membership>()).toMatchObject({ role: 'AN', role_source: 'api', managed_by_idp: null, user: { id, email: 'zoe.zimmer@acme.example' } });
    const audit = (await auditRows(app.db)).at(-1);
    expect(audit).toMatchObject({ actor: `user:${adminId}`, subject_user_id: id, action: 'role_change', before: 'NO', after: 'AN', outcome: 'ok' });
  });

  it('POST does the same (the docs’ verb)', async () => {
    const id = await userIdOf(app, 'zoe.zimmer@acme.example');
    const res = await call(app, admin, 'POST', '/api/organizations/1/memberships', { body: { user_id: String(id), role: 'RE' } });
    expect(res.status, res.text).toBe(200);
    expect(res.json<Membership>()).toMatchObject({ role: 'RE', role_source: 'api' });
  });

  it('a role set by hand survives a login that brings no mapped group', async () => {
    await signedIn(app, { email: 'zoe.zimmer@acme.example', groups: ['Staff'], firstName: 'Zoe', lastName: 'Zimmer' });
    expect((await list('?search=zimmer')).results[0]).toMatchObject({ role: 'RE', role_source: 'api' });
  });

  it('refuses a role the IdP manages with 403 naming the group and the rule, changing nothing', async () => {
    const id = await userIdOf(app, PEOPLE.AN.email);
    const detail = await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'MA' } }), 403, 'ERR_ROLE_MANAGED_BY_IDP');
    expect(detail).toContain('"LS-Annotators"');
    expect(detail).toContain('organizations[0].roles.LS-Annotators');
    // Deactivating a managed member is refused too: the next login would undo it.
    await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'DI' } }), 403, 'ERR_ROLE_MANAGED_BY_IDP');
  });

  it('validates the body: role code, user_id, JSON object', async () => {
    const id = await userIdOf(app, PEOPLE.NO.email);
    await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'Administrator' } }), 400, 'ERR_INVALID_ROLE');
    await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id } }), 400, 'ERR_INVALID_ROLE');
    await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { role: 'AN' } }), 400, 'ERR_BAD_REQUEST');
    await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: 'one', role: 'AN' } }), 400, 'ERR_BAD_REQUEST');
    await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: [id, 'AN'] }), 400, 'ERR_BAD_REQUEST');
    await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { headers: { 'content-type': 'application/json' }, body: undefined }), 400, 'ERR_BAD_REQUEST');
    await expectRefused(() => admin.request('PATCH', '/api/organizations/0/memberships', { headers: { origin: app.url, 'content-type': 'application/json' }, body: '{"user_id":' }), 400, 'ERR_BAD_REQUEST');
    await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: 999999, role: 'AN' } }), 404, 'ERR_NOT_FOUND');
  });

  it('a member of another organization is not found', async () => {
    const now = new Date();
    const [row] = (await app.db('users').insert({ organization_id: 2, email: 'x@globex.example', first_name: 'X', last_name: 'Globex', date_joined: now, is_deleted: false }).returning('id')) as { id: number }[];
    const otherId = Number(row?.id);
    await app.db('memberships').insert({ organization_id: 2, user_id: otherId, role: 'AN', role_source: 'manual', reason: '{}', created_at: now, updated_at: now });
    await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: otherId, role: 'MA' } }), 404, 'ERR_NOT_FOUND');
    await expectRefused(() => call(app, admin, 'DELETE', `/api/organizations/0/memberships/${otherId}`), 404, 'ERR_NOT_FOUND');
    const get = await call(app, admin, 'GET', `/api/organizations/0/memberships/${otherId}`);
    expect([get.status, errorOf(get)]).toEqual([404, 'ERR_NOT_FOUND']);
    expect((await list('?search=globex')).count).toBe(0);
  });

  it('only the Owner can make someone Owner, and only with the transfer confirmed', async () => {
    const id = await userIdOf(app, 'zoe.zimmer@acme.example');
    await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'OW', transfer_ownership: true } }), 403, 'ERR_FORBIDDEN');
    await expectRefused(() => call(app, admin, 'POST', '/api/organizations/0/memberships/transfer-ownership', { body: { user_id: id } }), 403, 'ERR_FORBIDDEN');
    // `role: OW` alone (what the SDK's members.update sends) never transfers ownership, even from the Owner.
    for (const confirmation of [undefined, false, 'no']) {
      await expectRefused(
        () => call(app, owner, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'OW', ...(confirmation === undefined ? {} : { transfer_ownership: confirmation }) } }),
        400,
        'ERR_TRANSFER_NOT_CONFIRMED',
      );
    }
  });

  it('an Administrator cannot change the Owner; the Owner cannot demote themself', async () => {
    const ownerId = await userIdOf(app, PEOPLE.OW.email);
    await expectRefused(() => call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: ownerId, role: 'AN' } }), 403, 'ERR_FORBIDDEN');
    await expectRefused(() => call(app, owner, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: ownerId, role: 'AD' } }), 400, 'ERR_LAST_ADMIN');
    await expectRefused(() => call(app, admin, 'DELETE', `/api/organizations/0/memberships/${ownerId}`), 400, 'ERR_LAST_ADMIN');
    // Deleting oneself is Label Studio's 405 "User cannot soft delete self".
    await expectRefused(() => call(app, owner, 'DELETE', `/api/organizations/0/memberships/${ownerId}`), 405, 'ERR_CANNOT_DELETE_SELF');
  });

  it('an inactive member cannot be made Owner', async () => {
    const id = await userIdOf(app, PEOPLE.NO.email);
    await expectRefused(() => call(app, owner, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'OW', transfer_ownership: true } }), 400, 'ERR_MEMBER_INACTIVE');
    await expectRefused(() => call(app, owner, 'POST', '/api/organizations/0/memberships/transfer-ownership', { body: { user_id: id } }), 400, 'ERR_MEMBER_INACTIVE');
  });

  it('GET one member answers Label Studio’s shape (user is the id) with project roles and the explain trace', async () => {
    const id = await userIdOf(app, PEOPLE.RE.email);
    const res = await call(app, admin, 'GET', `/api/organizations/0/memberships/${id}/`);
    expect(res.status).toBe(200);
    const body = res.json<{ user: number; member: Membership; projects: unknown[]; explain: { reason: { decision: { kind: string; matches: unknown[] } }; groups: string[]; managed_by_idp: unknown } }>();
    expect(body).toMatchObject({ user: id, organization: 1, role: 'RE', annotations_count: 0, contributed_projects_count: 0, created_projects: null, contributed_to_projects: null, member: { user: { email: PEOPLE.RE.email } } });
    expect(Date.parse(String((body as unknown as { created_at: string }).created_at))).not.toBeNaN();
    expect(body.projects).toEqual([{ id: expect.any(Number), project: 42, title: 'Radiology', role: 'RE', role_source: 'saml' }]);
    expect(body.explain.groups).toEqual(['LS-Reviewers', 'LS-Project42-Reviewers']);
    expect(body.explain.reason.decision.kind).toBe('mapped');
    expect(body.explain.managed_by_idp).toMatchObject({ group: 'LS-Reviewers' });
    const missing = await call(app, admin, 'GET', '/api/organizations/0/memberships/999999');
    expect([missing.status, errorOf(missing)]).toEqual([404, 'ERR_NOT_FOUND']);
  });

  it('the Owner transfers ownership: the new Owner keeps it at login, the former one stays Administrator', async () => {
    const ownerId = await userIdOf(app, PEOPLE.OW.email);
    const adminId = await userIdOf(app, PEOPLE.AD.email);
    const res = await call(app, owner, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: adminId, role: 'OW', transfer_ownership: true } });
    expect(res.status, res.text).toBe(200);
    expect(res.json<Membership>()).toMatchObject({ role: 'OW', role_source: 'api', managed_by_idp: null });
    const people = await list('?role=OW,AD&ordering=user__id');
    expect(people.results.map((m) => [m.user.email, m.role, m.role_source])).toEqual([
      [PEOPLE.OW.email, 'AD', 'api'],
      [PEOPLE.AD.email, 'OW', 'api'],
    ]);
    const audit = (await auditRows(app.db)).slice(-2);
    expect(audit.map((a) => [a['subject_user_id'], a['before'], a['after']])).toEqual([
      [adminId, 'AD', 'OW'],
      [ownerId, 'OW', 'AD'],
    ]);
    // Logins do not undo it: the owner: line no longer applies to the former owner, groups do not demote the new one.
    await signedIn(app, PEOPLE.OW);
    await signedIn(app, PEOPLE.AD);
    expect((await list('?role=OW')).results.map((m) => m.user.email)).toEqual([PEOPLE.AD.email]);
    // And transfer it back, so the rest of the file keeps its cast.
    const back = await call(app, admin, 'POST', '/api/organizations/0/memberships/transfer-ownership', { body: { user_id: ownerId } });
    expect(back.status, back.text).toBe(200);
    expect((await list('?role=OW')).results.map((m) => m.user.email)).toEqual([PEOPLE.OW.email]);
  });
});

describe('role_management: manual', () => {
  let manual: TestApp;
  beforeAll(async () => {
    manual = await startApp({ yaml: (dir, url) => standardYaml({ dir, publicUrl: url, org1Extra: '    role_management: manual' }) });
  });
  afterAll(async () => {
    await manual.close();
  });

  it('lets an admin set a role the mapping grants; the manual role sticks at the next login', async () => {
    const a = await signedIn(manual, PEOPLE.AD);
    await signedIn(manual, PEOPLE.AN);
    const id = await userIdOf(manual, PEOPLE.AN.email);
    const listed = await call(manual, a, 'GET', '/api/organizations/0/memberships?role=AN');
    expect(listed.json<Page<Membership>>().results[0]?.managed_by_idp).toBeNull();
    const res = await call(manual, a, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: id, role: 'MA' } });
    expect(res.status, res.text).toBe(200);
    expect(res.json<Membership>()).toMatchObject({ role: 'MA', role_source: 'api' });
    await signedIn(manual, PEOPLE.AN);
    const after = (await manual.db('memberships').where({ user_id: id }).first('role', 'role_source')) as { role: string; role_source: string };
    expect(after).toEqual({ role: 'MA', role_source: 'api' });
    expect((await call(manual, a, 'GET', '/api/organizations/0')).json()).toMatchObject({ role_management: 'manual' });
  });

  it('the last Owner/Administrator cannot be demoted or deleted; with another one they can', async () => {
    const a = await signedIn(manual, PEOPLE.AD);
    const adminId = await userIdOf(manual, PEOPLE.AD.email);
    for (const role of ['MA', 'DI', 'NO']) {
      const res = await call(manual, a, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: adminId, role } });
      expect([res.status, errorOf(res)]).toEqual([400, 'ERR_LAST_ADMIN']);
    }
    // The only one who could delete the last Administrator is that Administrator: deleting oneself is 405.
    const del = await call(manual, a, 'DELETE', `/api/organizations/0/memberships/${adminId}`);
    expect([del.status, errorOf(del)]).toEqual([405, 'ERR_CANNOT_DELETE_SELF']);
    expect(((await manual.db('memberships').where({ user_id: adminId }).first('role')) as { role: string }).role).toBe('AD');
    await signedIn(manual, PEOPLE.OW);
    const res = await call(manual, a, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: adminId, role: 'MA' } });
    expect(res.status, res.text).toBe(200);
    // A Manager no longer changes members, from the very next request; reading the list stays open to them.
    const next = await call(manual, a, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: adminId, role: 'AD' } });
    expect([next.status, errorOf(next)]).toEqual([403, 'ERR_FORBIDDEN']);
    expect((await call(manual, a, 'GET', '/api/organizations/0/memberships')).status).toBe(200);
  });
});
