import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standardYaml, startApp } from '../support/app.js';
import { expectRejected as expectRejectedOn } from '../support/attacks.js';
import type { TestApp } from '../support/app.js';
import { auditRows, memberRole, projectRoles } from '../support/db.js';
import { postAcs, signIn, startLogin } from '../support/flow.js';
import { responseXml, samlResponse } from '../support/idp.js';
import { encodePostBinding } from '../../src/devidp/response.js';
import type { Browser, TestResponse } from '../support/http.js';

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app.close();
});

interface WhoAmIBody {
  email: string;
  organization: { id: number; title: string; role: string; role_source: string };
  projects: { id: number; title: string; role: string }[];
}

async function whoami(browser: Browser): Promise<WhoAmIBody> {
  const res = await browser.whoami();
  expect(res.status).toBe(200);
  return res.json<WhoAmIBody>();
}

/** The four things every rejected login must show, plus its one audit row (shared with the attack suite). */
function expectRejected(attempt: (b: Browser) => Promise<TestResponse>, status: number, code: string): Promise<TestResponse> {
  return expectRejectedOn(app, attempt, status, code);
}

describe('login creates, activates, falls back and demotes', () => {
  it('a first login creates the member with the mapped role and project roles, and a session', async () => {
    const browser = app.browser();
    const res = await signIn(app, browser, { email: 'Carol@Acme.example', groups: ['LS-Managers', 'LS-AllProjects', 'LS-Project43-Annotators'], firstName: 'Carol', lastName: 'Jones' });
    expect(res.status).toBe(302);
    expect(res.location).toBe('/');
    const me = await whoami(browser);
    expect(me).toMatchObject({ email: 'carol@acme.example', first_name: 'Carol', last_name: 'Jones', organization: { id: 1, title: 'Acme Labs', role: 'MA', role_source: 'saml' } });
    expect(me.projects).toEqual([
      { id: 42, title: 'Radiology', role: 'MA' },
      { id: 43, title: 'Pathology', role: 'AN' },
    ]);
    const audit = await auditRows(app.db);
    expect(audit.filter((a) => a['subject_email'] === 'carol@acme.example').map((a) => a['action'])).toEqual(['member_created', 'project_role_change', 'project_role_change', 'login']);
  });

  it('a user in no mapped group gets a pending session that shows only their state', async () => {
    const browser = app.browser();
    expect((await signIn(app, browser, { email: 'pending@acme.example', groups: ['Staff'] })).status).toBe(302);
    const me = await whoami(browser);
    expect(me.organization.role).toBe('NO');
    expect(me.projects).toEqual([]);
    const page = await browser.get('/');
    expect(page.text).toContain('Your account is pending');
  });

  it('a pending member is activated when a mapped group appears', async () => {
    const browser = app.browser();
    await signIn(app, browser, { email: 'pending2@acme.example', groups: [] });
    expect((await whoami(browser)).organization.role).toBe('NO');
    await signIn(app, browser, { email: 'pending2@acme.example', groups: ['LS-Reviewers'] });
    expect((await whoami(browser)).organization.role).toBe('RE');
  });

  it('losing one group falls back to the next-highest mapped role; losing the project group ends the project role', async () => {
    const browser = app.browser();
    await signIn(app, browser, { email: 'dave@acme.example', groups: ['LS-Admins', 'LS-Reviewers', 'LS-Project42-Reviewers'] });
    expect((await whoami(browser)).organization.role).toBe('AD');
    // Another Administrator-or-Owner exists (the last one is never demoted by a login: the last-administrator guard).
    await signIn(app, app.browser(), { email: 'owner@acme.example', groups: [] });
    await signIn(app, browser, { email: 'dave@acme.example', groups: ['LS-Reviewers'] });
    const me = await whoami(browser);
    expect(me.organization.role).toBe('RE');
    expect(me.projects).toEqual([]);
  });

  it('a member whose mapped groups disappear is Deactivated at the next login, refused, and their other sessions end', async () => {
    const first = app.browser();
    await signIn(app, first, { email: 'erin@acme.example', groups: ['LS-Annotators', 'LS-Project42-Annotators'] });
    expect((await whoami(first)).organization.role).toBe('AN');
    const second = app.browser();
    const auditBefore = (await auditRows(app.db)).length;
    const res = await signIn(app, second, { email: 'erin@acme.example', groups: ['Staff'] });
    expect(res.status).toBe(403);
    expect(res.json<{ error: string }>().error).toBe('ERR_ACCESS_REVOKED');
    expect(second.jar.has('rolegate.sid')).toBe(false);
    expect(await memberRole(app.db, 1, 'erin@acme.example')).toEqual({ role: 'DI', role_source: 'saml' });
    expect(await projectRoles(app.db, 'erin@acme.example')).toEqual({});
    // The session opened before the demotion is gone at once.
    expect((await first.whoami()).status).toBe(401);
    const audit = (await auditRows(app.db)).slice(auditBefore);
    expect(audit.map((a) => [a['action'], a['before'], a['after']])).toEqual([
      ['role_change', 'AN', 'DI'],
      ['project_role_change', 'AN', null],
      ['login', 'AN', 'DI'],
    ]);
    expect(audit[2]).toMatchObject({ outcome: 'refused', error_code: 'ERR_ACCESS_REVOKED' });
    // And they stay out on the next attempt.
    const again = await signIn(app, app.browser(), { email: 'erin@acme.example', groups: [] });
    expect(again.status).toBe(403);
  });

  it('the access-revoked page for a browser is HTML that says so', async () => {
    const browser = app.browser();
    await signIn(app, browser, { email: 'frank@acme.example', groups: ['LS-Annotators'] });
    const { requestId } = await startLogin(browser);
    const res = await browser.post('/saml/1/acs', { SAMLResponse: samlResponse(app, { email: 'frank@acme.example', groups: [] }, { inResponseTo: requestId }) }, { accept: 'text/html' });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toContain('Access revoked');
    expect(res.text).toContain('ERR_ACCESS_REVOKED');
  });

  it('no groups attribute: groups are unknown, nothing is demoted, and the audit log warns', async () => {
    const browser = app.browser();
    await signIn(app, browser, { email: 'gina@acme.example', groups: ['LS-Admins', 'LS-Project42-Reviewers'] });
    const auditBefore = (await auditRows(app.db)).length;
    const res = await signIn(app, browser, { email: 'gina@acme.example', groups: null });
    expect(res.status).toBe(302);
    const me = await whoami(browser);
    expect(me.organization.role).toBe('AD');
    expect(me.projects).toEqual([{ id: 42, title: 'Radiology', role: 'RE' }]);
    const audit = (await auditRows(app.db)).slice(auditBefore);
    expect(audit.map((a) => [a['action'], a['outcome']])).toEqual([
      ['groups_unknown', 'warning'],
      ['login', 'ok'],
    ]);
    // The last known groups are kept for later plans, not overwritten by "unknown".
    const stored = (await app.db('member_groups').join('users', 'users.id', 'member_groups.user_id').where('users.email', 'gina@acme.example').first('groups')) as { groups: string };
    expect(JSON.parse(stored.groups)).toEqual(['LS-Admins', 'LS-Project42-Reviewers']);
  });

  it('concurrent first logins of one person produce one member, not two', async () => {
    const browsers = [app.browser(), app.browser(), app.browser(), app.browser()];
    const started = await Promise.all(browsers.map((b) => startLogin(b)));
    const results = await Promise.all(
      browsers.map((b, i) => postAcs(b, 1, samlResponse(app, { email: 'twin@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: started[i]?.requestId ?? '' }))),
    );
    expect(results.map((r) => r.status)).toEqual([302, 302, 302, 302]);
    const users = (await app.db('users').where({ organization_id: 1, email: 'twin@acme.example' })) as { id: number }[];
    expect(users).toHaveLength(1);
    const memberships = (await app.db('memberships').where({ user_id: users[0]?.id ?? -1 })) as unknown[];
    expect(memberships).toHaveLength(1);
  });

  it('the configured owner is Owner whatever the groups say', async () => {
    const browser = app.browser();
    await signIn(app, browser, { email: 'owner@acme.example', groups: ['LS-Annotators'] });
    expect((await whoami(browser)).organization).toMatchObject({ role: 'OW', role_source: 'manual' });
  });

  it('the membership row records why: rules, groups, assertion id, config revision, previous role', async () => {
    const browser = app.browser();
    await signIn(app, browser, { email: 'hank@acme.example', groups: ['LS-Reviewers'] });
    await signIn(app, browser, { email: 'hank@acme.example', groups: ['LS-Managers', 'LS-Reviewers'] });
    const row = (await app.db('memberships').join('users', 'users.id', 'memberships.user_id').where('users.email', 'hank@acme.example').first('reason')) as { reason: string };
    const reason = JSON.parse(row.reason) as Record<string, unknown>;
    expect(reason).toMatchObject({ groups: ['LS-Managers', 'LS-Reviewers'], config_revision: app.config.revision, previous_role: 'RE' });
    expect(typeof reason['assertion_id']).toBe('string');
    expect(Number.isNaN(Date.parse(String(reason['asserted_at'])))).toBe(false);
    expect(reason['decision']).toMatchObject({ kind: 'mapped', matches: [expect.objectContaining({ group: 'LS-Managers', decisive: true }), expect.objectContaining({ group: 'LS-Reviewers', decisive: false })] });
  });
});

describe('the SAML exchange', () => {
  it('SP-initiated: the login redirects to the IdP with a deflated AuthnRequest and binds it to the browser', async () => {
    const browser = app.browser();
    const { redirect, relayState } = await startLogin(browser, 1, '/projects/42?tab=members');
    expect(redirect.origin + redirect.pathname).toBe('https://idp.test/sso');
    expect(relayState).toBe('/projects/42?tab=members');
    const cookie = [...browser.jar.keys()];
    expect(cookie).toContain('rolegate.authn');
  });

  it('after login, the browser lands on the path it asked for', async () => {
    const browser = app.browser();
    const { requestId } = await startLogin(browser, 1, '/projects/42?tab=members');
    const res = await postAcs(browser, 1, samlResponse(app, { email: 'ivy@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId }));
    expect(res.location).toBe('/projects/42?tab=members');
  });

  it('the session id is regenerated at login (no fixation)', async () => {
    const browser = app.browser();
    await signIn(app, browser, { email: 'jack@acme.example', groups: ['LS-Reviewers'] });
    const first = browser.jar.get('rolegate.sid');
    await signIn(app, browser, { email: 'jack@acme.example', groups: ['LS-Reviewers'] });
    expect(browser.jar.get('rolegate.sid')).toBeDefined();
    expect(browser.jar.get('rolegate.sid')).not.toBe(first);
  });

  it('session cookies are httpOnly and SameSite=Lax', async () => {
    const browser = app.browser();
    const { requestId } = await startLogin(browser);
    const res = await postAcs(browser, 1, samlResponse(app, { email: 'kim@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId }));
    const sid = res.setCookies.find((c) => c.startsWith('rolegate.sid='));
    expect(sid).toMatch(/httponly/i);
    expect(sid).toMatch(/samesite=lax/i);
  });

  it('GET /saml/1/logout (no Single Logout: ends the local session) only from this site: a cross-site navigation is 403 ERR_CSRF', async () => {
    const browser = app.browser();
    await signIn(app, browser, { email: 'lou@acme.example', groups: ['LS-Reviewers'] });
    const evil = await browser.get('/saml/1/logout', { 'sec-fetch-site': 'cross-site', accept: 'application/json' });
    expect([evil.status, evil.json<{ error: string }>().error]).toEqual([403, 'ERR_CSRF']);
    expect((await browser.whoami()).status).toBe(200);
    // Same request body, POST from another site's form: refused the same way.
    const post = await browser.request('POST', '/logout', { headers: { 'sec-fetch-site': 'cross-site', origin: app.url, accept: 'application/json' } });
    expect([post.status, post.json<{ error: string }>().error]).toEqual([403, 'ERR_FORBIDDEN']);
    expect((await browser.whoami()).status).toBe(200);
    const own = await browser.get('/saml/1/logout', { 'sec-fetch-site': 'same-origin' });
    expect([own.status, own.location]).toEqual([302, '/']);
    expect((await browser.whoami()).status).toBe(401);
  });

  it('logout ends the session server-side; a cross-origin logout is refused', async () => {
    const browser = app.browser();
    await signIn(app, browser, { email: 'lena@acme.example', groups: ['LS-Reviewers'] });
    const stolen = browser.jar.get('rolegate.sid');
    const evil = await browser.request('POST', '/logout', { headers: { origin: 'https://evil.example', accept: 'application/json' } });
    expect(evil.status).toBe(403);
    expect((await browser.whoami()).status).toBe(200);
    const out = await browser.request('POST', '/logout', { headers: { origin: app.url } });
    expect(out.status).toBe(302);
    expect((await browser.whoami()).status).toBe(401);
    // Replaying the old cookie does not bring the session back.
    const replay = app.browser();
    if (stolen !== undefined) replay.jar.set('rolegate.sid', stolen);
    expect((await replay.whoami()).status).toBe(401);
  });

  it('whoami without a session is 401 ERR_UNAUTHENTICATED', async () => {
    const res = await app.browser().whoami();
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ code: 'ERR_UNAUTHENTICATED', error: 'ERR_UNAUTHENTICATED', status_code: 401, detail: 'not signed in' });
  });

  it('serves SP metadata with the entity id, ACS URL and NameID format', async () => {
    const res = await app.browser().get('/saml/1/metadata');
    expect(res.status).toBe(200);
    expect(res.text).toContain(`entityID="${app.url}/saml/1/metadata"`);
    expect(res.text).toContain(`Location="${app.url}/saml/1/acs"`);
    expect(res.text).toContain('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress');
  });

  it('healthz answers 200 when the database answers', async () => {
    const res = await app.browser().get('/healthz');
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok' });
  });

  it('an unknown organization is 404', async () => {
    const res = await app.browser().get('/saml/99/login', { accept: 'application/json' });
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ error: 'ERR_NOT_FOUND' });
  });
});

describe('rejected logins: status, code, no session, no member change, one audit row', () => {
  it('content edited after signing', async () => {
    await expectRejected(async (b) => {
      const { requestId } = await startLogin(b);
      const xml = responseXml(app, { email: 'mallory@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId }).replace('LS-Reviewers', 'LS-Admins');
      return postAcs(b, 1, encodePostBinding(xml));
    }, 401, 'ERR_SAML_SIGNATURE');
  });

  it('a replayed assertion, even by the same browser', async () => {
    const browser = app.browser();
    const { requestId } = await startLogin(browser);
    const response = samlResponse(app, { email: 'nina@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId });
    expect((await postAcs(browser, 1, response)).status).toBe(302);
    await expectRejected(async (b) => {
      // A new login from another browser, then the captured response (whose request id is spent).
      await startLogin(b);
      return postAcs(b, 1, response);
    }, 401, 'ERR_SAML_IN_RESPONSE_TO');
  });

  it('a replayed IdP-initiated assertion is refused by the assertion-id cache', async () => {
    const idpInit = await startIdpInitiatedApp();
    try {
      const response = samlResponse(idpInit, { email: 'olga@acme.example', groups: ['LS-Reviewers'] });
      expect((await postAcs(idpInit.browser(), 1, response)).status).toBe(302);
      const b = idpInit.browser();
      const res = await postAcs(b, 1, response);
      expect(res.status).toBe(401);
      expect(res.json<{ error: string }>().error).toBe('ERR_SAML_REPLAY');
      expect(b.jar.has('rolegate.sid')).toBe(false);
    } finally {
      await idpInit.close();
    }
  });

  it('InResponseTo of a request issued to another browser', async () => {
    const victim = app.browser();
    const { requestId } = await startLogin(victim);
    await expectRejected(async (b) => {
      await startLogin(b);
      return postAcs(b, 1, samlResponse(app, { email: 'pat@acme.example', groups: ['LS-Admins'] }, { inResponseTo: requestId }));
    }, 401, 'ERR_SAML_IN_RESPONSE_TO');
  });

  it('an unsolicited response when IdP-initiated login is not allowed', async () => {
    await expectRejected((b) => postAcs(b, 1, samlResponse(app, { email: 'quinn@acme.example', groups: ['LS-Admins'] })), 401, 'ERR_SAML_UNSOLICITED');
  });

  it("an assertion from organization 2's IdP posted to organization 1", async () => {
    await expectRejected(async (b) => {
      const { requestId } = await startLogin(b);
      const { ROLLOVER_KEY } = await import('../support/idp.js');
      return postAcs(b, 1, samlResponse(app, { email: 'owner@acme.example', groups: ['LS-Admins'] }, { inResponseTo: requestId, issuer: 'https://idp2.test/metadata', privateKey: ROLLOVER_KEY }));
    }, 401, 'ERR_SAML_ISSUER');
  });

  it("organization 2's IdP key claiming to be organization 1's IdP", async () => {
    await expectRejected(async (b) => {
      const { requestId } = await startLogin(b);
      const { ROLLOVER_KEY } = await import('../support/idp.js');
      return postAcs(b, 1, samlResponse(app, { email: 'owner@acme.example', groups: ['LS-Admins'] }, { inResponseTo: requestId, privateKey: ROLLOVER_KEY }));
    }, 401, 'ERR_SAML_SIGNATURE');
  });

  it('a body over the limit is refused before parsing', async () => {
    await expectRejected((b) => postAcs(b, 1, 'A'.repeat(400 * 1024)), 413, 'ERR_PAYLOAD_TOO_LARGE');
  });

  it('a DOCTYPE is refused', async () => {
    await expectRejected(async (b) => {
      const { requestId } = await startLogin(b);
      const xml = responseXml(app, { email: 'rex@acme.example', groups: ['LS-Admins'] }, { inResponseTo: requestId });
      return postAcs(b, 1, encodePostBinding(`<!DOCTYPE r [<!ELEMENT r ANY>]>${xml}`));
    }, 400, 'ERR_SAML_MALFORMED');
  });
});

describe('sessions are scoped to the organization whose IdP authenticated them', () => {
  it("organization 2's login grants nothing in organization 1", async () => {
    const { ROLLOVER_KEY } = await import('../support/idp.js');
    const browser = app.browser();
    const { requestId } = await startLogin(browser, 2);
    const xml = responseXml(app, { email: 'owner@acme.example', groups: ['GX-Admins', 'LS-Admins'] }, { inResponseTo: requestId, issuer: 'https://idp2.test/metadata', privateKey: ROLLOVER_KEY }, 2);
    const res = await postAcs(browser, 2, encodePostBinding(xml));
    expect(res.status).toBe(302);
    const me = await whoami(browser);
    // Org 1's owner email, asserted by org 2's IdP: an Administrator of Globex, nothing at Acme.
    expect(me.organization).toMatchObject({ id: 2, title: 'Globex', role: 'AD' });
    expect(me.projects).toEqual([]);
    const acmeOwner = (await app.db('users').where({ organization_id: 1, email: 'owner@acme.example' })) as unknown[];
    const globexRow = (await app.db('users').where({ organization_id: 2, email: 'owner@acme.example' })) as { id: number }[];
    expect(globexRow).toHaveLength(1);
    expect(acmeOwner.every((u) => (u as { id: number }).id !== globexRow[0]?.id)).toBe(true);
  });
});

describe('RelayState', () => {
  const targets = ['https://evil.example/', '//evil.example/', '/\\evil.example/', '\\\\evil.example', 'javascript:alert(1)', '/ok\u0000', '/a\tb', `/${'a'.repeat(3000)}`];
  it('an IdP-initiated RelayState to another origin, a scheme, a control character or a huge value lands on /', async () => {
    const idpInit = await startIdpInitiatedApp();
    try {
      for (const target of targets) {
        const res = await postAcs(idpInit.browser(), 1, samlResponse(idpInit, { email: 'sam@acme.example', groups: ['LS-Reviewers'] }), target);
        expect(res.status, target).toBe(302);
        expect(res.location, target).toBe('/');
      }
      // A same-origin path is honoured (encoded characters stay encoded).
      const ok = await postAcs(idpInit.browser(), 1, samlResponse(idpInit, { email: 'sam@acme.example', groups: ['LS-Reviewers'] }), '/projects/42?x=%0d%0a');
      expect(ok.location).toBe('/projects/42?x=%0d%0a');
    } finally {
      await idpInit.close();
    }
  });

  it('a `next` pointing to another origin is stored as /', async () => {
    const browser = app.browser();
    const { requestId } = await startLogin(browser, 1, 'https://evil.example/x');
    const res = await postAcs(browser, 1, samlResponse(app, { email: 'tom@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId }));
    expect(res.location).toBe('/');
  });
});

function startIdpInitiatedApp(): Promise<TestApp> {
  return startApp({
    yaml: (dir, url) => standardYaml({ dir, publicUrl: url, sso1Extra: '      allow_idp_initiated: true' }),
  });
}
