/**
 * /Users as Okta and Entra ID use it, each request in the shape their public documentation gives: lookup by
 * filter, create, PUT of the whole user, deactivation in each dialect, profile PATCHes, DELETE, and the bad
 * input each must refuse without changing anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/admin/tokens.js';
import type { TestApp } from '../support/app.js';
import { auditRows, snapshot } from '../support/db.js';
import { PEOPLE, signedIn, userIdOf } from '../admin/support.js';
import { GROUP_SCHEMA, PATCH_SCHEMA, ScimClient, USER_SCHEMA, roleOf, scimErrorOf, scimToken, startScimApp } from './support.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

let app: TestApp;
let scim: ScimClient;

beforeAll(async () => {
  app = await startScimApp();
  scim = new ScimClient(app, await scimToken(app));
  // The Owner holds the organization, so deactivating others never trips the last-administrator guard.
  await signedIn(app, PEOPLE.OW);
});
afterAll(async () => {
  await app.close();
});

const q = (filter: string): string => `/Users?filter=${encodeURIComponent(filter)}`;

interface ListBody {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: { id: string; userName: string; active: boolean; externalId?: string }[];
}

describe('Okta', () => {
  it('looks the user up (no match: 200 ListResponse with totalResults 0), creates it (201 with id, meta and Location), then finds it', async () => {
    const miss = await scim.get(`${q('userName eq "test.user@okta.local"')}&startIndex=1&count=100`);
    expect(miss.status).toBe(200);
    expect(miss.json<ListBody>()).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

    const res = await scim.post('/Users', {
      schemas: [USER_SCHEMA],
      userName: 'Test.User@okta.local',
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      groups: [],
      password: '1mz050nq',
      active: true,
    });
    expect(res.status, res.text).toBe(201);
    const user = res.json<Record<string, unknown> & { id: string; meta: Record<string, string> }>();
    expect(res.headers.get('location')).toBe(`${app.url}/scim/v2/Users/${user.id}`);
    expect(user).toMatchObject({
      schemas: [USER_SCHEMA],
      userName: 'Test.User@okta.local',
      externalId: '00ujl29u0le5T6Aj10h7',
      name: { givenName: 'Test', familyName: 'User' },
      displayName: 'Test User',
      active: true,
      groups: [],
    });
    expect(user.meta).toMatchObject({ resourceType: 'User', location: `${app.url}/scim/v2/Users/${user.id}` });
    expect(Number.isNaN(Date.parse(user.meta['created'] ?? ''))).toBe(false);
    expect(Number.isNaN(Date.parse(user.meta['lastModified'] ?? ''))).toBe(false);
    // The member's email is the lower-cased userName; Not Activated until a group maps a role; source scim.
    expect(await app.db('users').where({ id: Number(user.id) }).first('email')).toEqual({ email: 'test.user@okta.local' });
    expect(await roleOf(app, user.id)).toEqual({ role: 'NO', role_source: 'scim' });
    // The password is never kept anywhere.
    const dump = JSON.stringify([await app.db('users').select(), await app.db('scim_users').select(), await auditRows(app.db)]);
    expect(dump).not.toContain('1mz050nq');

    const hit = await scim.get(q('userName eq "TEST.USER@OKTA.LOCAL"'));
    expect(hit.json<ListBody>().Resources.map((r) => [r.id, r.userName])).toEqual([[user.id, 'Test.User@okta.local']]);
    expect(hit.json<ListBody>().totalResults).toBe(1);
  });

  it('recreating an existing userName (in any case) is 409 uniqueness and changes nothing', async () => {
    await scim.createUser('dup@okta.local');
    const before = await snapshot(app.db);
    const res = await scim.post('/Users', { schemas: [USER_SCHEMA], userName: 'DUP@okta.local', active: true });
    expect(scimErrorOf(res)).toEqual({ status: 409, scimType: 'uniqueness', code: 'ERR_SCIM_UNIQUENESS' });
    expect(await snapshot(app.db)).toEqual(before);
  });

  it('PUT of the whole user (as Okta sends it, with id, meta and groups) replaces the profile and answers 200', async () => {
    const id = await scim.createUser('put.user@okta.local');
    const current = (await scim.get(`/Users/${id}`)).json<Record<string, unknown>>();
    const res = await scim.put(`/Users/${id}`, { ...current, name: { givenName: 'Putty', familyName: 'Userson' }, displayName: 'Putty Userson', groups: [] });
    expect(res.status, res.text).toBe(200);
    expect(res.json()).toMatchObject({ id, userName: 'put.user@okta.local', name: { givenName: 'Putty', familyName: 'Userson' }, displayName: 'Putty Userson', active: true });
    expect(await app.db('users').where({ id: Number(id) }).first('first_name', 'last_name')).toEqual({ first_name: 'Putty', last_name: 'Userson' });
  });

  it('PUT with active: false (Okta AIW apps deactivate this way) deactivates', async () => {
    const id = await scim.createUser('aiw.user@okta.local');
    const current = (await scim.get(`/Users/${id}`)).json<Record<string, unknown>>();
    const res = await scim.put(`/Users/${id}`, { ...current, active: false });
    expect(res.status, res.text).toBe(200);
    expect(res.json<{ active: boolean }>().active).toBe(false);
    expect(await roleOf(app, id)).toEqual({ role: 'DI', role_source: 'scim' });
  });

  it('deactivation is a replace without path ({"active": false}): Deactivated at once, sessions ended, API tokens revoked for good', async () => {
    // An Administrator who signed in through SAML before SCIM was set up: the IdP finds them by userName.
    const browser = await signedIn(app, { email: 'saml.admin@acme.example', groups: ['LS-Admins'] });
    const userId = await userIdOf(app, 'saml.admin@acme.example');
    const { key } = await createToken(app.db, { organizationId: 1, userId, name: 't', createdBy: 'cli', configRevision: null, ip: null }, new Date());
    const found = (await scim.get(q('userName eq "saml.admin@acme.example"'))).json<ListBody>();
    expect(found.Resources.map((r) => [r.id, r.active])).toEqual([[String(userId), true]]);
    expect((await browser.whoami()).status).toBe(200);

    const res = await scim.patch(`/Users/${userId}`, [{ op: 'replace', value: { active: false } }]);
    expect(res.status, res.text).toBe(200);
    expect(res.json<{ active: boolean }>().active).toBe(false);
    expect(await roleOf(app, userId)).toEqual({ role: 'DI', role_source: 'scim' });
    expect((await browser.whoami()).status).toBe(401);
    expect(await app.db('sessions').where({ user_id: userId })).toEqual([]);
    const token = (await app.db('api_tokens').where({ user_id: userId }).first('revoked_at')) as { revoked_at: unknown };
    expect(token.revoked_at).not.toBeNull();
    const audit = (await auditRows(app.db)).filter((r) => r['subject_user_id'] === userId && r['action'] === 'role_change');
    expect(audit.at(-1)).toMatchObject({ actor: 'scim', before: 'AD', after: 'DI', outcome: 'ok' });
    expect(JSON.parse(String(audit.at(-1)?.['reason']))).toMatchObject({ role_source: 'scim', sessions_ended: 1, tokens_revoked: 1 });

    // active: true again: the role the member's SCIM groups map to (none: Not Activated); the token stays revoked.
    const back = await scim.patch(`/Users/${userId}`, [{ op: 'replace', value: { active: true } }]);
    expect(back.status).toBe(200);
    expect(await roleOf(app, userId)).toEqual({ role: 'NO', role_source: 'scim' });
    expect((await app.browser().request('GET', '/api/organizations/0', { headers: { accept: 'application/json', authorization: `Token ${key}` } })).status).toBe(401);
  });
});

describe('Entra ID', () => {
  it('creates a user with the enterprise extension and attributes rolegate does not use (accepted and ignored)', async () => {
    const res = await scim.post('/Users', {
      schemas: [USER_SCHEMA, ENTERPRISE],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName: 'Test_User_ab6490ee@testuser.com',
      active: true,
      emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@testuser.com' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      title: 'Engineer',
      preferredLanguage: 'en',
      addresses: [{ type: 'work', formatted: '1 Main St', streetAddress: '1 Main St', locality: 'Town', postalCode: '123', country: 'US', primary: true }],
      phoneNumbers: [{ type: 'work', value: '123-456' }, { type: 'mobile', value: '789' }],
      [ENTERPRISE]: { employeeNumber: '42', department: 'R&D', manager: { value: '99' } },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json()).toMatchObject({ userName: 'Test_User_ab6490ee@testuser.com', externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef', active: true });
  });

  it('finds users by externalId (also unquoted), emails[type eq "work"].value, emails.value and id, joined by and', async () => {
    const id = await scim.createUser('entra.find@acme.example', { externalId: 'jyoung', emails: [{ value: 'Entra.Work@acme.example', type: 'work', primary: true }] });
    for (const f of [
      'externalId eq "jyoung"',
      'externalId eq jyoung',
      'emails[type eq "work"].value eq "entra.work@acme.example"',
      'emails.value eq "ENTRA.WORK@acme.example"',
      `id eq "${id}"`,
      'userName eq "entra.find@acme.example" and externalId eq "jyoung"',
      'USERNAME EQ "Entra.Find@acme.example"',
      'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "entra.find@acme.example"',
    ]) {
      const res = await scim.get(q(f));
      expect([f, res.status, res.json<ListBody>().Resources.map((r) => r.id)]).toEqual([f, 200, [id]]);
    }
    for (const f of ['externalId eq "JYOUNG"', 'userName eq "entra.find@acme.example" and externalId eq "other"', 'id eq "abc"']) {
      expect([f, (await scim.get(q(f))).json<ListBody>().totalResults]).toEqual([f, 0]);
    }
  });

  it('disables with Replace active "False" (the default job) or false (the compliance flag), and enables with "True"', async () => {
    const id = await scim.createUser('entra.disable@acme.example');
    const groupId = await scim.createGroup('LS-Reviewers', [id]);
    expect(await roleOf(app, id)).toEqual({ role: 'RE', role_source: 'scim' });
    expect((await scim.patch(`/Users/${id}`, [{ op: 'Replace', path: 'active', value: 'False' }])).status).toBe(200);
    expect(await roleOf(app, id)).toEqual({ role: 'DI', role_source: 'scim' });
    expect((await scim.patch(`/Users/${id}`, [{ op: 'Replace', path: 'active', value: 'True' }])).status).toBe(200);
    expect(await roleOf(app, id)).toEqual({ role: 'RE', role_source: 'scim' });
    expect((await scim.patch(`/Users/${id}`, [{ op: 'replace', path: 'active', value: false }])).status).toBe(200);
    expect(await roleOf(app, id)).toEqual({ role: 'DI', role_source: 'scim' });
    expect((await scim.get(`/Users/${id}`)).json<{ active: boolean; groups: { value: string }[] }>()).toMatchObject({ active: false, groups: [{ value: groupId }] });
  });

  it('PATCHes the profile with paths (emails[type eq "work"].value, name.familyName, userName) and with a no-path replace whose keys are paths', async () => {
    const id = await scim.createUser('entra.profile@acme.example');
    const res = await scim.patch(`/Users/${id}`, [
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'new.work@acme.example' },
      { op: 'Replace', path: 'name.familyName', value: 'Newfamily' },
      { op: 'Add', path: 'nickName', value: 'Babs' },
      { op: 'Replace', path: `${ENTERPRISE}:employeeNumber`, value: '7' },
    ]);
    expect(res.status, res.text).toBe(200);
    expect(res.json()).toMatchObject({ name: { familyName: 'Newfamily' }, emails: [{ value: 'new.work@acme.example', type: 'work' }] });
    const flagged = await scim.patch(`/Users/${id}`, [
      { op: 'replace', value: { displayName: 'Display Me', 'name.givenName': 'Given', 'name.familyName': 'Family', [`${ENTERPRISE}:employeeNumber`]: '8' } },
    ]);
    expect(flagged.status, flagged.text).toBe(200);
    expect(flagged.json()).toMatchObject({ displayName: 'Display Me', name: { givenName: 'Given', familyName: 'Family' } });
    expect(flagged.text).not.toContain('name.givenName');
    const renamed = await scim.patch(`/Users/${id}`, [{ op: 'Replace', path: 'userName', value: 'Renamed.Profile@acme.example' }]);
    expect(renamed.status).toBe(200);
    expect(renamed.json()).toMatchObject({ userName: 'Renamed.Profile@acme.example' });
    expect(await app.db('users').where({ id: Number(id) }).first('email')).toEqual({ email: 'renamed.profile@acme.example' });
  });

  it('answers an unknown id with 404 and the SCIM error body', async () => {
    for (const p of ['/Users/00919288221112222', '/Users/999999', '/Users/abc']) {
      expect(scimErrorOf(await scim.get(p))).toEqual({ status: 404, scimType: null, code: 'ERR_NOT_FOUND' });
    }
  });

  it('DELETE is the soft delete: 204, then 404, the audit says Deleted User, and the same userName can be created again', async () => {
    const id = await scim.createUser('entra.delete@acme.example');
    await signedIn(app, { email: 'entra.delete@acme.example', groups: ['LS-Annotators'] });
    const del = await scim.delete(`/Users/${id}`);
    expect(del.status).toBe(204);
    expect(scimErrorOf(await scim.get(`/Users/${id}`))).toMatchObject({ status: 404 });
    expect(scimErrorOf(await scim.delete(`/Users/${id}`))).toMatchObject({ status: 404 });
    expect(await app.db('users').where({ id: Number(id) }).first('email', 'is_deleted')).toMatchObject({ email: null });
    expect(await app.db('sessions').where({ user_id: Number(id) })).toEqual([]);
    const rows = (await auditRows(app.db)).filter((r) => r['subject_user_id'] === Number(id));
    expect(rows.every((r) => r['subject_email'] === null)).toBe(true);
    expect(rows.at(-1)).toMatchObject({ actor: 'scim', action: 'member_deleted', outcome: 'ok' });
    const again = await scim.createUser('entra.delete@acme.example');
    expect(again).not.toBe(id);
  });
});

describe('bad input: a clear SCIM error and no change', () => {
  it('a userName that is not an email is 400 invalidValue', async () => {
    const before = await snapshot(app.db);
    for (const userName of ['Test_User_no_at', '', 'a b@c.d', 42]) {
      const res = await scim.post('/Users', { schemas: [USER_SCHEMA], userName, active: true });
      expect([userName, scimErrorOf(res)]).toEqual([userName, { status: 400, scimType: 'invalidValue', code: 'ERR_SCIM_INVALID_VALUE' }]);
    }
    const id = await scim.createUser('bad.rename@acme.example');
    const mid = await snapshot(app.db);
    expect(scimErrorOf(await scim.patch(`/Users/${id}`, [{ op: 'replace', path: 'userName', value: 'not-an-email' }]))).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(await snapshot(app.db)).toEqual(mid);
    expect(before.users.length + 1).toBe(mid.users.length);
  });

  it('filters other than eq/and on the listed attributes are 400 invalidFilter (never an unfiltered list)', async () => {
    for (const f of [
      'userName co "test"',
      'userName sw "t"',
      'userName pr',
      'userName eq "a@b.c" or userName eq "d@e.f"',
      'not (userName eq "a@b.c")',
      '(userName eq "a@b.c")',
      'title eq "Engineer"',
      'name.givenName eq "Test"',
      'emails[type eq "home"].value eq "a@b.c"',
      'userName eq',
      'userName eq "unterminated',
      'active eq true',
      '',
    ]) {
      const res = await scim.get(q(f));
      expect([f, scimErrorOf(res)]).toEqual([f, { status: 400, scimType: 'invalidFilter', code: 'ERR_SCIM_INVALID_FILTER' }]);
    }
  });

  it('an id inside a PATCH value that is not the resource id is 400 mutability; a value that is no boolean for active is 400 invalidValue', async () => {
    const id = await scim.createUser('mutability@acme.example');
    const before = await snapshot(app.db);
    expect(scimErrorOf(await scim.patch(`/Users/${id}`, [{ op: 'replace', value: { id: '99999', active: false } }]))).toMatchObject({ status: 400, scimType: 'mutability' });
    expect(scimErrorOf(await scim.patch(`/Users/${id}`, [{ op: 'replace', path: 'active', value: 'maybe' }]))).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(scimErrorOf(await scim.call('PATCH', `/Users/${id}`, { body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'frobnicate', path: 'active', value: false }] } }))).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    expect(scimErrorOf(await scim.call('PATCH', `/Users/${id}`, { body: { schemas: [PATCH_SCHEMA], Operations: [] } }))).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    expect(scimErrorOf(await scim.patch(`/Users/${id}`, [{ op: 'replace', path: 'emails[type eq', value: 'x' }]))).toMatchObject({ status: 400, scimType: 'invalidPath' });
    expect(await snapshot(app.db)).toEqual(before);
  });

  it("another organization's ids are 404 (read, replace, patch, delete) and change nothing", async () => {
    const other = new ScimClient(app, await scimToken(app, 2));
    const theirs = await other.createUser('someone@globex.example');
    const theirGroup = await other.createGroup('GX-Admins', [theirs]);
    const before = await snapshot(app.db);
    expect(scimErrorOf(await scim.get(`/Users/${theirs}`))).toMatchObject({ status: 404 });
    expect(scimErrorOf(await scim.patch(`/Users/${theirs}`, [{ op: 'replace', value: { active: false } }]))).toMatchObject({ status: 404 });
    expect(scimErrorOf(await scim.put(`/Users/${theirs}`, { schemas: [USER_SCHEMA], userName: 'someone@globex.example', active: false }))).toMatchObject({ status: 404 });
    expect(scimErrorOf(await scim.delete(`/Users/${theirs}`))).toMatchObject({ status: 404 });
    expect(scimErrorOf(await scim.get(`/Groups/${theirGroup}`))).toMatchObject({ status: 404 });
    expect(scimErrorOf(await scim.patch(`/Groups/${theirGroup}`, [{ op: 'remove', path: 'members' }]))).toMatchObject({ status: 404 });
    expect(scimErrorOf(await scim.delete(`/Groups/${theirGroup}`))).toMatchObject({ status: 404 });
    // Their member in one of our groups: not a User of this organization.
    const res = await scim.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Cross', members: [{ value: theirs }] });
    expect(scimErrorOf(res)).toEqual({ status: 400, scimType: 'invalidValue', code: 'ERR_SCIM_INVALID_VALUE' });
    expect((await scim.get(q(`userName eq "someone@globex.example"`))).json<ListBody>().totalResults).toBe(0);
    expect(await snapshot(app.db)).toEqual(before);
    expect(await roleOf(app, theirs)).toEqual({ role: 'AD', role_source: 'scim' });
  });

  it("the Owner cannot be deactivated or deleted over SCIM: 409 naming the guard, no change, audited", async () => {
    const ownerId = await userIdOf(app, PEOPLE.OW.email);
    const before = await snapshot(app.db);
    const res = await scim.patch(`/Users/${ownerId}`, [{ op: 'replace', value: { active: false } }]);
    expect(scimErrorOf(res)).toEqual({ status: 409, scimType: null, code: 'ERR_SCIM_GUARD' });
    expect(res.json<{ detail: string }>().detail).toContain('Owner guard');
    expect(scimErrorOf(await scim.delete(`/Users/${ownerId}`))).toMatchObject({ status: 409, code: 'ERR_SCIM_GUARD' });
    expect(await snapshot(app.db)).toEqual(before);
    const refused = (await auditRows(app.db)).filter((r) => r['subject_user_id'] === ownerId && r['outcome'] === 'refused');
    expect(refused.map((r) => [r['actor'], r['error_code']])).toEqual([
      ['scim', 'ERR_SCIM_GUARD'],
      ['scim', 'ERR_SCIM_GUARD'],
    ]);
  });
});

describe('pages', () => {
  it('startIndex and count page in a stable order with integer totals', async () => {
    const all = (await scim.get('/Users?count=1000')).json<ListBody>();
    expect(all.totalResults).toBeGreaterThan(5);
    const ids = all.Resources.map((r) => Number(r.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const page2 = (await scim.get('/Users?startIndex=3&count=2')).json<ListBody>();
    expect(page2).toMatchObject({ totalResults: all.totalResults, startIndex: 3, itemsPerPage: 2 });
    expect(page2.Resources.map((r) => r.id)).toEqual(all.Resources.slice(2, 4).map((r) => r.id));
    const zero = (await scim.get('/Users?startIndex=0&count=0')).json<ListBody>();
    expect(zero).toMatchObject({ totalResults: all.totalResults, startIndex: 1, itemsPerPage: 0, Resources: [] });
    const attrs = (await scim.get('/Users?count=1&attributes=userName')).json<{ Resources: Record<string, unknown>[] }>().Resources[0];
    expect(Object.keys(attrs ?? {}).sort()).toEqual(['id', 'meta', 'schemas', 'userName']);
  });
});
