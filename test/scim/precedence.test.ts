/**
 * SCIM and SAML together. For a member SCIM provisioned or linked, SCIM is authoritative for groups and for
 * `active`: a SAML login authenticates them but never reactivates a member SCIM deactivated and never
 * overrides their SCIM groups. Members SCIM never touched keep following SAML; the Owner stays the `owner:`
 * email; `explain` says which SCIM group decided and when it was pushed; a reload decides SCIM members from
 * SCIM groups too. And a SCIM deactivation racing a SAML login of the same person ends Deactivated.
 */
import knexFactory from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { TEST_DATABASE, TEST_PG_URL } from '../support/database.js';
import { auditRows, projectRoles, snapshot } from '../support/db.js';
import { signIn } from '../support/flow.js';
import { PEOPLE, call, errorOf, signedIn, userIdOf } from '../admin/support.js';
import { ScimClient, roleOf, scimToken, startScimApp } from './support.js';

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

async function groupNamed(name: string): Promise<string> {
  const res = await scim.get(`/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}&excludedAttributes=members`);
  const found = res.json<{ Resources: { id: string }[] }>().Resources[0];
  return found?.id ?? scim.createGroup(name);
}

async function addTo(group: string, ...ids: string[]): Promise<void> {
  const res = await scim.patch(`/Groups/${await groupNamed(group)}`, [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }]);
  expect(res.status, res.text).toBe(204);
}

async function login(email: string, groups: string[]): Promise<{ status: number; code: string | null }> {
  const b = app.browser();
  const res = await signIn(app, b, { email, groups });
  return { status: res.status, code: res.status === 302 ? null : errorOf(res) };
}

describe('precedence', () => {
  it('members SCIM never touched keep following SAML', async () => {
    expect(await login('saml.only@acme.example', ['LS-Managers'])).toEqual({ status: 302, code: null });
    const id = await userIdOf(app, 'saml.only@acme.example');
    expect(await roleOf(app, id)).toEqual({ role: 'MA', role_source: 'saml' });
    expect(await login('saml.only@acme.example', ['LS-Reviewers'])).toEqual({ status: 302, code: null });
    expect(await roleOf(app, id)).toEqual({ role: 'RE', role_source: 'saml' });
  });

  it('a SAML login never overrides the SCIM groups of a member SCIM provisioned', async () => {
    const id = await scim.createUser('scim.groups@acme.example');
    await addTo('LS-Annotators', id);
    expect(await roleOf(app, id)).toEqual({ role: 'AN', role_source: 'scim' });
    expect(await login('scim.groups@acme.example', ['LS-Admins', 'LS-Project42-Reviewers'])).toEqual({ status: 302, code: null });
    expect(await roleOf(app, id)).toEqual({ role: 'AN', role_source: 'scim' });
    expect(await projectRoles(app.db, 'scim.groups@acme.example')).toEqual({});
    expect((await auditRows(app.db)).filter((r) => r['subject_user_id'] === Number(id) && r['action'] === 'login').at(-1)).toMatchObject({ outcome: 'ok', after: 'AN' });
  });

  it('a SAML login never reactivates a member SCIM deactivated', async () => {
    const id = await scim.createUser('scim.off@acme.example');
    await addTo('LS-Admins', id);
    expect((await scim.patch(`/Users/${id}`, [{ op: 'Replace', path: 'active', value: 'False' }])).status).toBe(200);
    const before = await app.db('sessions').count({ n: '*' });
    expect(await login('scim.off@acme.example', ['LS-Admins'])).toEqual({ status: 403, code: 'ERR_ACCESS_REVOKED' });
    expect(await roleOf(app, id)).toEqual({ role: 'DI', role_source: 'scim' });
    expect(await app.db('sessions').where({ user_id: Number(id) })).toEqual([]);
    expect(await app.db('sessions').count({ n: '*' })).toEqual(before);
  });

  it('an Owner or Administrator cannot reactivate a member SCIM deactivated: 403 ERR_DEACTIVATED_BY_IDP, nothing changed, no audit row', async () => {
    // One without SCIM groups (no mapped group owns the role, so only the SCIM deactivation refuses) and one in
    // a mapped group.
    const bare = await scim.createUser('scim.handsoff@acme.example');
    const grouped = await scim.createUser('scim.handsoff2@acme.example');
    await addTo('LS-Annotators', grouped);
    for (const id of [bare, grouped]) expect((await scim.patch(`/Users/${id}`, [{ op: 'replace', path: 'active', value: false }])).status).toBe(200);
    const owner = await signedIn(app, PEOPLE.OW);
    const admin = await signedIn(app, PEOPLE.AD);
    const csrf = /name="csrf" value="([^"]+)"/.exec((await owner.request('GET', '/organization')).text)?.[1] ?? '';
    expect(csrf).not.toBe('');
    const before = await snapshot(app.db);
    const audit = await auditRows(app.db);
    const scimRows = await app.db('scim_users').orderBy('user_id');
    for (const id of [bare, grouped]) {
      for (const [who, role] of [[owner, 'AN'], [admin, 'MA'], [owner, 'NO'], [owner, 'AD']] as const) {
        const res = await call(app, who, 'PATCH', '/api/organizations/1/memberships', { body: { user_id: Number(id), role } });
        expect([res.status, errorOf(res)], res.text).toEqual([403, 'ERR_DEACTIVATED_BY_IDP']);
        expect(res.json<{ detail: string }>().detail).toContain('reactivate them in the IdP');
      }
      // The Organization page's form (CSRF token and all) is refused the same way: back to the page, which
      // shows the refusal and its code.
      const page = await owner.request('POST', `/organization/members/${id}/role`, {
        headers: { origin: app.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ role: 'AN', csrf }).toString(),
      });
      expect(page.status).toBe(302);
      expect((await owner.request('GET', page.location ?? '/organization')).text).toContain('ERR_DEACTIVATED_BY_IDP');
      expect(await roleOf(app, id)).toEqual({ role: 'DI', role_source: 'scim' });
    }
    expect(await snapshot(app.db)).toEqual(before);
    expect(await auditRows(app.db)).toEqual(audit);
    expect(await app.db('scim_users').orderBy('user_id')).toEqual(scimRows);
    // The page disables the drop-down and says why.
    const detail = await owner.request('GET', `/organization/members/${bare}`);
    expect(detail.text).toMatch(/<select id="role-\d+"[^>]* disabled aria-describedby="role-\d+-why">/);
    expect(detail.text).toContain('Deactivated by the IdP (SCIM): reactivate them in the IdP.');

    // Once the IdP reactivates the member, an admin may set a role no mapped group owns again.
    expect((await scim.patch(`/Users/${bare}`, [{ op: 'replace', path: 'active', value: true }])).status).toBe(200);
    const ok = await call(app, owner, 'PATCH', '/api/organizations/1/memberships', { body: { user_id: Number(bare), role: 'AN' } });
    expect(ok.status, ok.text).toBe(200);
    expect(await roleOf(app, bare)).toMatchObject({ role: 'AN' });
  });

  it('a member who signed in through SAML first is linked by SCIM, and from then on follows SCIM', async () => {
    expect(await login('linked@acme.example', ['LS-Admins'])).toEqual({ status: 302, code: null });
    const id = String(await userIdOf(app, 'linked@acme.example'));
    const found = await scim.get(`/Users?filter=${encodeURIComponent('userName eq "Linked@acme.example"')}`);
    expect(found.json<{ Resources: { id: string }[] }>().Resources.map((r) => r.id)).toEqual([id]);
    await addTo('LS-Reviewers', id);
    expect(await roleOf(app, id)).toEqual({ role: 'RE', role_source: 'scim' });
    expect(await login('linked@acme.example', ['LS-Admins'])).toEqual({ status: 302, code: null });
    expect(await roleOf(app, id)).toEqual({ role: 'RE', role_source: 'scim' });
  });

  it('the Owner stays the owner: email whatever SCIM groups say', async () => {
    const ownerId = String(await userIdOf(app, PEOPLE.OW.email));
    await addTo('LS-Annotators', ownerId);
    expect(await roleOf(app, ownerId)).toMatchObject({ role: 'OW' });
    expect(await login(PEOPLE.OW.email, [])).toEqual({ status: 302, code: null });
    expect(await roleOf(app, ownerId)).toMatchObject({ role: 'OW' });
  });

  it('explain says "SCIM group X, pushed at T"', async () => {
    const id = await scim.createUser('explained@acme.example');
    await addTo('LS-Managers', id);
    const pushed = (await app.db('scim_group_members as gm').join('scim_groups as g', 'g.id', 'gm.group_id').where({ 'gm.user_id': Number(id), 'g.display_name': 'LS-Managers' }).first('gm.added_at')) as { added_at: unknown };
    const at = new Date(pushed.added_at as string).toISOString();
    const owner = await signedIn(app, PEOPLE.OW);
    const text = await call(app, owner, 'GET', `/api/organizations/0/memberships/${id}/explain`, { headers: { accept: 'text/plain' } });
    expect(text.status, text.text).toBe(200);
    expect(text.text).toContain(`SCIM group LS-Managers, pushed at ${at}`);
    const json = await call(app, owner, 'GET', `/api/organizations/0/memberships/${id}/explain`);
    expect(json.json<{ scim: unknown; decision: { org: { role: string; roleSource: string } } }>()).toMatchObject({
      scim: { active: true, groups: [{ name: 'LS-Managers', pushedAt: at }] },
      decision: { org: { role: 'MA', roleSource: 'scim' } },
    });
  });
});

describe('a SCIM deactivation racing a SAML login of the same person ends Deactivated', () => {
  async function raceOnce(email: string, id: string, barrier?: () => Promise<() => Promise<void>>): Promise<void> {
    expect((await scim.patch(`/Users/${id}`, [{ op: 'replace', value: { active: true } }])).status).toBe(200);
    expect(await roleOf(app, id)).toEqual({ role: 'AD', role_source: 'scim' });
    const release = barrier === undefined ? undefined : await barrier();
    const browser = app.browser();
    const loginDone = signIn(app, browser, { email, groups: ['LS-Admins'] });
    const scimDone = scim.patch(`/Users/${id}`, [{ op: 'replace', path: 'active', value: false }]);
    if (release !== undefined) await release();
    const [l, s] = await Promise.all([loginDone, scimDone]);
    expect(s.status, s.text).toBe(200);
    expect([302, 403]).toContain(l.status);
    expect(await roleOf(app, id)).toEqual({ role: 'DI', role_source: 'scim' });
    expect(await app.db('sessions').where({ user_id: Number(id) })).toEqual([]);
    expect((await browser.whoami()).status).toBe(401);
  }

  it('in either order, and started together (20 rounds)', async () => {
    const email = 'racer@acme.example';
    const id = await scim.createUser(email);
    await addTo('LS-Admins', id);
    // Login first, then the deactivation.
    expect(await login(email, ['LS-Admins'])).toEqual({ status: 302, code: null });
    expect((await scim.patch(`/Users/${id}`, [{ op: 'replace', path: 'active', value: false }])).status).toBe(200);
    expect(await roleOf(app, id)).toEqual({ role: 'DI', role_source: 'scim' });
    // Deactivation first, then the login.
    expect(await login(email, ['LS-Admins'])).toEqual({ status: 403, code: 'ERR_ACCESS_REVOKED' });
    for (let i = 0; i < 20; i++) await raceOnce(email, id);
  });

  it.skipIf(TEST_DATABASE !== 'postgres')('released together from a barrier: both wait on the member’s row, then run (PostgreSQL)', async () => {
    const email = 'barrier@acme.example';
    const id = await scim.createUser(email);
    await addTo('LS-Admins', id);
    const schema = app.pgSchema ?? '';
    const holder = knexFactory({ client: 'pg', connection: { connectionString: TEST_PG_URL }, pool: { min: 1, max: 2 } });
    try {
      for (let round = 0; round < 5; round++) {
        await raceOnce(email, id, async () => {
          // The barrier: a transaction of the test holds the member's user row, so the login (updating it) and
          // the SCIM push (locking it) both queue behind it; committing releases them at the same moment.
          const trx = await holder.transaction();
          await trx.raw(`select id from ??.users where id = ? for update`, [schema, Number(id)]);
          return async () => {
            // Both requests are waiting on a lock before the barrier opens.
            let reached = false;
            for (let i = 0; i < 1000 && !reached; i++) {
              const waiting = (await holder.raw(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`)) as { rows: { n: number }[] };
              reached = (waiting.rows[0]?.n ?? 0) >= 2;
              if (!reached) await new Promise((r) => setTimeout(r, 10));
            }
            await trx.commit();
            expect(reached).toBe(true);
          };
        });
      }
    } finally {
      await holder.destroy();
    }
  });
});

describe('reload and apply decide SCIM members from SCIM groups', () => {
  it('computePlan proposes no change for a SCIM member whose SAML groups differ', async () => {
    const { computePlan } = await import('../../src/plan/compute.js');
    const id = await scim.createUser('planned@acme.example');
    await addTo('LS-Reviewers', id);
    expect(await login('planned@acme.example', ['LS-Admins'])).toEqual({ status: 302, code: null });
    const plan = await computePlan(app.db, app.config);
    const org = plan.organizations.find((o) => o.organizationId === 1);
    expect(org?.changes.filter((c) => c.userId === Number(id))).toEqual([]);
  });
});
