/**
 * Two rolegate instances behind one public URL, sharing one PostgreSQL (as behind a load balancer): protocol
 * state, sessions and revocations live in the database, so any instance finishes what another started.
 * Runs in the PostgreSQL pass of the suite (ROLEGATE_TEST_DATABASE=postgres, see .ci/run); SQLite is one
 * instance only (one file, one writer), so the SQLite pass skips it.
 * Config reload "exactly once" across instances belongs to the plan/reload tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { TEST_DATABASE } from '../support/database.js';
import { startLogin } from '../support/flow.js';
import type { Browser, TestResponse } from '../support/http.js';
import { samlResponse } from '../support/idp.js';

let a: TestApp;
let b: TestApp;

/** POST the ACS of a given instance (absolute URL: the browser's cookie jar goes with it). */
function postAcsAt(app: TestApp, browser: Browser, SAMLResponse: string): Promise<TestResponse> {
  return browser.request('POST', `${app.url}/saml/1/acs`, { form: { SAMLResponse }, headers: { accept: 'application/json' } });
}

function whoamiAt(app: TestApp, browser: Browser): Promise<TestResponse> {
  return browser.get(`${app.url}/api/current-user/whoami`, { accept: 'application/json' });
}

describe.skipIf(TEST_DATABASE !== 'postgres')('two instances sharing one PostgreSQL', () => {
  beforeAll(async () => {
    a = await startApp({ yaml: (dir, url) => standardYaml({ dir, publicUrl: url, sso1Extra: '      allow_idp_initiated: true' }) });
    b = await startApp({ share: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('are two servers on two ports over one PostgreSQL schema', () => {
    expect(a.url).not.toBe(b.url);
    expect(a.db.client.config.client).toBe('pg');
    expect(b.db.client.config.client).toBe('pg');
    expect(b.pgSchema).toBe(a.pgSchema);
  });

  it('a login started on A (AuthnRequest id issued there) is finished on B', async () => {
    const browser = a.browser();
    const { requestId } = await startLogin(browser, 1, '/after-login');
    const res = await postAcsAt(b, browser, samlResponse(a, { email: 'ab@acme.example', groups: ['LS-Managers'] }, { inResponseTo: requestId }));
    expect(res.status).toBe(302);
    expect(res.location).toBe('/after-login');
    expect((await whoamiAt(b, browser)).json<{ organization: { role: string } }>().organization.role).toBe('MA');
  });

  it('an AuthnRequest id consumed on B cannot be used again on A', async () => {
    const browser = a.browser();
    const { requestId } = await startLogin(browser);
    expect((await postAcsAt(b, browser, samlResponse(a, { email: 'twice@acme.example' }, { inResponseTo: requestId }))).status).toBe(302);
    const again = await postAcsAt(a, browser, samlResponse(a, { email: 'twice@acme.example' }, { inResponseTo: requestId }));
    expect(again.status).toBe(401);
    expect(again.json<{ error: string }>().error).toBe('ERR_SAML_IN_RESPONSE_TO');
  });

  it('an assertion consumed on A is refused as a replay on B', async () => {
    const response = samlResponse(a, { email: 'replay@acme.example', groups: ['LS-Reviewers'] });
    expect((await postAcsAt(a, a.browser(), response)).status).toBe(302);
    const replay = await postAcsAt(b, b.browser(), response);
    expect(replay.status).toBe(401);
    expect(replay.json<{ error: string }>().error).toBe('ERR_SAML_REPLAY');
  });

  it('the same assertion posted to A and B at the same moment logs in exactly once', async () => {
    for (let round = 0; round < 5; round++) {
      const response = samlResponse(a, { email: `race${round}@acme.example`, groups: ['LS-Annotators'] });
      const results = await Promise.all([postAcsAt(a, a.browser(), response), postAcsAt(b, b.browser(), response)]);
      expect(results.map((r) => r.status).sort()).toEqual([302, 401]);
      expect(results.find((r) => r.status === 401)?.json<{ error: string }>().error).toBe('ERR_SAML_REPLAY');
    }
    const users = (await a.db('users').where('email', 'like', 'race%').count({ n: '*' })) as { n: number | string }[];
    expect(Number(users[0]?.n)).toBe(5);
  });

  it('a session made on A works on B (same session secret, sessions in the database)', async () => {
    const browser = a.browser();
    expect((await postAcsAt(a, browser, samlResponse(a, { email: 'roam@acme.example', groups: ['LS-Admins'] }))).status).toBe(302);
    const onB = await whoamiAt(b, browser);
    expect(onB.status).toBe(200);
    expect(onB.json<{ email: string; organization: { role: string } }>()).toMatchObject({ email: 'roam@acme.example', organization: { role: 'AD' } });
  });

  it('logout on A ends the session on B, even for a copy of the old cookie', async () => {
    const browser = a.browser();
    expect((await postAcsAt(a, browser, samlResponse(a, { email: 'leave@acme.example', groups: ['LS-Admins'] }))).status).toBe(302);
    const stolen = b.browser();
    for (const [k, v] of browser.jar) stolen.jar.set(k, v);
    expect((await whoamiAt(b, stolen)).status).toBe(200);
    // Same-origin check: the Origin is the shared public URL (A's, which both instances are configured with).
    const out = await browser.request('POST', `${a.url}/logout`, { headers: { origin: a.config.server.publicUrl, accept: 'application/json' } });
    expect(out.status).toBe(204);
    expect((await whoamiAt(b, stolen)).status).toBe(401);
  });

  it('a demotion to Deactivated at a login on B ends the session made on A at once', async () => {
    const first = a.browser();
    expect((await postAcsAt(a, first, samlResponse(a, { email: 'gone@acme.example', groups: ['LS-Annotators'] }))).status).toBe(302);
    const refused = await postAcsAt(b, b.browser(), samlResponse(a, { email: 'gone@acme.example', groups: [] }));
    expect(refused.status).toBe(403);
    expect(refused.json<{ error: string }>().error).toBe('ERR_ACCESS_REVOKED');
    expect((await whoamiAt(a, first)).status).toBe(401);
  });
});
