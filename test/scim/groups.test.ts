/**
 * /Groups as Okta (Push Groups, AIW apps) and Entra ID use it, and what group pushes do to roles: mapped
 * displayNames grant organization and project roles exactly as SAML groups do, through the one write path
 * (actor scim, role source scim), at once; the mass-demotion guard refuses a push that would demote too many.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { auditRows, projectRoles, snapshot } from '../support/db.js';
import { PEOPLE, signedIn } from '../admin/support.js';
import { GROUP_SCHEMA, ScimClient, roleOf, scimErrorOf, scimToken, startScimApp } from './support.js';

const MS_GROUP = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

let app: TestApp;
let scim: ScimClient;

beforeAll(async () => {
  app = await startScimApp();
  scim = new ScimClient(app, await scimToken(app));
  await signedIn(app, PEOPLE.OW);
});
afterAll(async () => {
  await app.close();
});

interface GroupBody {
  id: string;
  displayName: string;
  externalId?: string;
  members?: { value: string; display: string }[];
  meta: { resourceType: string; location: string; created: string; lastModified: string };
}

async function members(id: string): Promise<string[]> {
  const res = await scim.get(`/Groups/${id}`);
  expect(res.status).toBe(200);
  return (res.json<GroupBody>().members ?? []).map((m) => m.value).sort();
}

async function users(prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await scim.createUser(`${prefix}${i}@acme.example`));
  return ids;
}

describe('Okta', () => {
  it('pushes a group (201), renames it with id inside the value (204), and changes members with remove-by-filter and add in one request', async () => {
    const [a, b, c] = await users('okta.push.', 3);
    const res = await scim.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Test SCIMv2', members: [] });
    expect(res.status, res.text).toBe(201);
    const g = res.json<GroupBody>();
    expect(res.headers.get('location')).toBe(`${app.url}/scim/v2/Groups/${g.id}`);
    expect(g).toMatchObject({ displayName: 'Test SCIMv2', members: [], meta: { resourceType: 'Group', location: `${app.url}/scim/v2/Groups/${g.id}` } });

    const rename = await scim.patch(`/Groups/${g.id}`, [{ op: 'replace', value: { id: g.id, displayName: 'LS-Managers' } }]);
    expect(rename.status, rename.text).toBe(204);
    expect((await scim.get(`/Groups/${g.id}`)).json<GroupBody>().displayName).toBe('LS-Managers');

    expect((await scim.patch(`/Groups/${g.id}`, [{ op: 'add', path: 'members', value: [{ value: a, display: 'a' }, { value: b, display: 'b' }] }])).status).toBe(204);
    expect(await roleOf(app, a)).toEqual({ role: 'MA', role_source: 'scim' });
    const mixed = await scim.patch(`/Groups/${g.id}`, [
      { op: 'remove', path: `members[value eq "${a}"]` },
      { op: 'add', path: 'members', value: [{ value: c, display: 'c' }] },
    ]);
    expect(mixed.status, mixed.text).toBe(204);
    expect(await members(g.id)).toEqual([b, c].sort());
    expect(await roleOf(app, a)).toEqual({ role: 'NO', role_source: 'scim' });
    expect(await roleOf(app, c)).toEqual({ role: 'MA', role_source: 'scim' });
    const audit = (await auditRows(app.db)).filter((r) => r['subject_user_id'] === Number(a) && r['action'] === 'role_change');
    expect(audit.map((r) => [r['actor'], r['before'], r['after']])).toEqual([
      ['scim', 'NO', 'MA'],
      ['scim', 'MA', 'NO'],
    ]);
  });

  it('a full push (replace of members) replaces all the members', async () => {
    const [a, b, c] = await users('okta.full.', 3);
    const gid = await scim.createGroup('Okta Full Push', [a ?? '', b ?? '']);
    expect((await scim.patch(`/Groups/${gid}`, [{ op: 'replace', path: 'members', value: [{ value: c }] }])).status).toBe(204);
    expect(await members(gid)).toEqual([c]);
  });

  it('AIW apps PUT the whole group with its member list (200 with the group)', async () => {
    const [a, b] = await users('okta.aiw.', 2);
    const gid = await scim.createGroup('LS-Reviewers-AIW', [a ?? '']);
    const res = await scim.put(`/Groups/${gid}`, { schemas: [GROUP_SCHEMA], id: gid, displayName: 'LS-Reviewers', members: [{ value: b }] });
    expect(res.status, res.text).toBe(200);
    expect(res.json<GroupBody>()).toMatchObject({ id: gid, displayName: 'LS-Reviewers', members: [{ value: b }] });
    expect(await roleOf(app, b)).toEqual({ role: 'RE', role_source: 'scim' });
    expect(await roleOf(app, a)).toEqual({ role: 'NO', role_source: 'scim' });
  });

  it('DELETE of a pushed group: 204, and its members lose what it granted', async () => {
    const [a] = await users('okta.del.', 1);
    const gid = await scim.createGroup('LS-Annotators', [a ?? '']);
    expect(await roleOf(app, a ?? '')).toEqual({ role: 'AN', role_source: 'scim' });
    expect((await scim.delete(`/Groups/${gid}`)).status).toBe(204);
    expect(scimErrorOf(await scim.get(`/Groups/${gid}`))).toMatchObject({ status: 404 });
    expect(await roleOf(app, a ?? '')).toEqual({ role: 'NO', role_source: 'scim' });
  });
});

describe('Entra ID', () => {
  it('creates a group with its schema and externalId; reads it with excludedAttributes=members and a displayName filter in another case', async () => {
    const res = await scim.post('/Groups', { schemas: [GROUP_SCHEMA, MS_GROUP], externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159', displayName: 'Entra Group One', members: [] });
    expect(res.status, res.text).toBe(201);
    const g = res.json<GroupBody>();
    const one = await scim.get(`/Groups/${g.id}?excludedAttributes=members`);
    expect(one.status).toBe(200);
    expect(one.json<GroupBody>()).toMatchObject({ id: g.id, displayName: 'Entra Group One', externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159' });
    expect(one.json<GroupBody>().members).toBeUndefined();
    const list = await scim.get(`/Groups?excludedAttributes=members&filter=${encodeURIComponent('DisplayName eq "entra group one"')}`);
    const body = list.json<{ totalResults: number; Resources: GroupBody[] }>();
    expect(body.totalResults).toBe(1);
    expect(body.Resources[0]?.members).toBeUndefined();
    const byExternal = await scim.get(`/Groups?filter=${encodeURIComponent('externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"')}`);
    expect(byExternal.json<{ Resources: GroupBody[] }>().Resources.map((r) => r.id)).toEqual([g.id]);
    expect(scimErrorOf(await scim.get(`/Groups?filter=${encodeURIComponent('members.value eq "1"')}`))).toMatchObject({ status: 400, scimType: 'invalidFilter' });
  });

  it('Add with a value list, Remove with path members and a value list (removes only those), Replace displayName', async () => {
    const [a, b, c] = await users('entra.members.', 3);
    const gid = await scim.createGroup('Entra Members');
    const add = await scim.patch(`/Groups/${gid}`, [{ op: 'Add', path: 'members', value: [{ $ref: null, value: a }, { $ref: null, value: b }, { $ref: null, value: c }] }]);
    expect(add.status, add.text).toBe(204);
    expect(await members(gid)).toEqual([a, b, c].sort());
    const remove = await scim.patch(`/Groups/${gid}`, [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: b }] }]);
    expect(remove.status, remove.text).toBe(204);
    expect(await members(gid)).toEqual([a, c].sort());
    expect((await scim.patch(`/Groups/${gid}`, [{ op: 'remove', path: `members[value eq "${a}"]` }])).status).toBe(204);
    expect(await members(gid)).toEqual([c]);
    expect((await scim.patch(`/Groups/${gid}`, [{ op: 'Replace', path: 'displayName', value: 'LS-Annotators' }])).status).toBe(204);
    expect(await roleOf(app, c ?? '')).toEqual({ role: 'AN', role_source: 'scim' });
    // A bare remove of members, as RFC 7644 §3.5.2.2 says, empties the group.
    expect((await scim.patch(`/Groups/${gid}`, [{ op: 'remove', path: 'members' }])).status).toBe(204);
    expect(await members(gid)).toEqual([]);
    expect(await roleOf(app, c ?? '')).toEqual({ role: 'NO', role_source: 'scim' });
  });

  it('a duplicate displayName (in any case) is 409 uniqueness and changes nothing', async () => {
    await scim.createGroup('Dup Group');
    const before = await snapshot(app.db);
    const count = await app.db('scim_groups').count({ n: '*' });
    expect(scimErrorOf(await scim.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'DUP GROUP' }))).toEqual({ status: 409, scimType: 'uniqueness', code: 'ERR_SCIM_UNIQUENESS' });
    const other = await scim.createGroup('Another Group');
    expect(scimErrorOf(await scim.patch(`/Groups/${other}`, [{ op: 'Replace', path: 'displayName', value: 'dup group' }]))).toMatchObject({ status: 409, scimType: 'uniqueness' });
    expect((await snapshot(app.db)).memberships).toEqual(before.memberships);
    expect(Number((await app.db('scim_groups').count({ n: '*' }))[0]?.['n'])).toBe(Number(count[0]?.['n']) + 1);
  });
});

describe('mapping: SCIM groups grant roles as SAML groups do', () => {
  it('highest mapped role wins; project groups and Inherit grant project roles; other groups grant nothing', async () => {
    const [u] = await users('mapping.high.', 1);
    const id = u ?? '';
    const unmapped = await scim.createGroup('Staff', [id]);
    expect(await roleOf(app, id)).toEqual({ role: 'NO', role_source: 'scim' });
    const p42 = await groupNamed('LS-Project42-Reviewers');
    expect((await scim.patch(`/Groups/${p42}`, [{ op: 'add', path: 'members', value: [{ value: id }] }])).status).toBe(204);
    // Not Activated: no project access even with a project group.
    expect(await projectRoles(app.db, 'mapping.high.0@acme.example')).toEqual({});
    const admins = await groupNamed('LS-Admins');
    expect((await scim.patch(`/Groups/${admins}`, [{ op: 'add', path: 'members', value: [{ value: id }] }])).status).toBe(204);
    expect(await roleOf(app, id)).toEqual({ role: 'AD', role_source: 'scim' });
    expect(await projectRoles(app.db, 'mapping.high.0@acme.example')).toEqual({ 42: 'RE' });
    const all = await groupNamed('LS-AllProjects');
    expect((await scim.patch(`/Groups/${all}`, [{ op: 'add', path: 'members', value: [{ value: id }] }])).status).toBe(204);
    // Inherit gives the organization role (Administrator) in project 42: highest wins over Reviewer.
    expect(await projectRoles(app.db, 'mapping.high.0@acme.example')).toEqual({ 42: 'AD' });
    const explain = (await app.db('memberships').where({ user_id: Number(id) }).first('reason')) as { reason: string };
    expect(JSON.parse(explain.reason)).toMatchObject({ scim_groups: expect.arrayContaining([expect.objectContaining({ name: 'LS-Admins' })]) });
    // Deactivated: project roles end.
    expect((await scim.patch(`/Users/${id}`, [{ op: 'replace', value: { active: false } }])).status).toBe(200);
    expect(await roleOf(app, id)).toEqual({ role: 'DI', role_source: 'scim' });
    expect(await projectRoles(app.db, 'mapping.high.0@acme.example')).toEqual({});
    expect((await scim.patch(`/Users/${id}`, [{ op: 'replace', value: { active: true } }])).status).toBe(200);
    expect(await roleOf(app, id)).toEqual({ role: 'AD', role_source: 'scim' });
    // Renaming a mapped group re-evaluates its members at once.
    expect((await scim.patch(`/Groups/${admins}`, [{ op: 'replace', path: 'displayName', value: 'Former Admins' }])).status).toBe(204);
    expect(await roleOf(app, id)).toEqual({ role: 'NO', role_source: 'scim' });
    expect(await projectRoles(app.db, 'mapping.high.0@acme.example')).toEqual({});
    expect((await scim.patch(`/Groups/${admins}`, [{ op: 'replace', path: 'displayName', value: 'LS-Admins' }])).status).toBe(204);
    expect(await roleOf(app, id)).toEqual({ role: 'AD', role_source: 'scim' });
    void unmapped;
  });

  it('group names match the mapping exactly (case-sensitive), while SCIM lookups ignore case', async () => {
    const [u] = await users('mapping.case.', 1);
    const id = u ?? '';
    const annotators = await groupNamed('LS-Annotators');
    expect((await scim.patch(`/Groups/${annotators}`, [{ op: 'add', path: 'members', value: [{ value: id }] }])).status).toBe(204);
    expect(await roleOf(app, id)).toEqual({ role: 'AN', role_source: 'scim' });
    const lower = await scim.createGroup('ls-project43-annotators', [id]);
    expect(await projectRoles(app.db, 'mapping.case.0@acme.example')).toEqual({});
    expect((await scim.patch(`/Groups/${lower}`, [{ op: 'replace', path: 'displayName', value: 'LS-Project43-Annotators' }])).status).toBe(204);
    expect(await projectRoles(app.db, 'mapping.case.0@acme.example')).toEqual({ 43: 'AN' });
  });
});

/** The id of an existing group, found as an IdP finds it (displayName filter, any case). */
async function groupNamed(name: string): Promise<string> {
  const res = await scim.get(`/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${name.toUpperCase()}"`)}`);
  const found = res.json<{ Resources: GroupBody[] }>().Resources[0];
  if (found === undefined) return scim.createGroup(name);
  return found.id;
}

describe('bad input and guards', () => {
  it('members that are not Users of this organization are 400 invalidValue and nothing changes', async () => {
    const [a] = await users('bad.member.', 1);
    const gid = await scim.createGroup('Bad Members', [a ?? '']);
    const before = await snapshot(app.db);
    for (const value of ['999999', 'abc', '']) {
      expect(scimErrorOf(await scim.patch(`/Groups/${gid}`, [{ op: 'add', path: 'members', value: [{ value }] }]))).toMatchObject({ status: 400, scimType: 'invalidValue' });
    }
    expect(scimErrorOf(await scim.patch(`/Groups/${gid}`, [{ op: 'add', path: 'members[value eq "1"]', value: [{ value: a }] }]))).toMatchObject({ status: 400, scimType: 'invalidPath' });
    expect(await snapshot(app.db)).toEqual(before);
    expect(await members(gid)).toEqual([a]);
  });

  it('a push that would trip the mass-demotion guard is refused with a SCIM error naming the guard, changes nothing, and is audited', async () => {
    const ids = await users('mass.', 12);
    const grant = await groupNamed('LS-Annotators');
    expect((await scim.patch(`/Groups/${grant}`, [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }])).status).toBe(204);
    for (const id of ids) expect(await roleOf(app, id)).toEqual({ role: 'AN', role_source: 'scim' });
    const before = await snapshot(app.db);
    const held = await members(grant);
    const res = await scim.patch(`/Groups/${grant}`, [{ op: 'Remove', path: 'members', value: ids.map((value) => ({ value })) }]);
    expect(scimErrorOf(res)).toEqual({ status: 409, scimType: null, code: 'ERR_SCIM_GUARD' });
    expect(res.json<{ detail: string }>().detail).toContain('mass-demotion guard');
    expect(await snapshot(app.db)).toEqual(before);
    expect(await members(grant)).toEqual(held);
    expect((await auditRows(app.db)).at(-1)).toMatchObject({ actor: 'scim', action: 'scim_push', outcome: 'refused', error_code: 'ERR_SCIM_GUARD' });
    // So is a rename that would unmap the group for all of them.
    expect(scimErrorOf(await scim.patch(`/Groups/${grant}`, [{ op: 'Replace', path: 'displayName', value: 'Renamed Away' }]))).toMatchObject({ status: 409, code: 'ERR_SCIM_GUARD' });
    expect(await snapshot(app.db)).toEqual(before);
    // One member at a time is not "mass".
    expect((await scim.patch(`/Groups/${grant}`, [{ op: 'remove', path: `members[value eq "${ids[0] ?? ''}"]` }])).status).toBe(204);
    expect(await roleOf(app, ids[0] ?? '')).toEqual({ role: 'NO', role_source: 'scim' });
  });
});
