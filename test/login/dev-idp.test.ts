import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { hiddenInput } from '../support/http.js';
import type { Browser } from '../support/http.js';

let app: TestApp;
beforeAll(async () => {
  app = await startApp({
    yaml: (dir, url) => `${serverYaml(dir, url)}organizations:
  - id: 1
    title: Acme Labs
    owner: owner@acme.example
    sso:
      development_idp: true
    roles:
      LS-Admins: Administrator
      LS-Managers: Manager
      LS-Reviewers: Reviewer
      LS-Annotators: Annotator
    projects:
      - id: 42
        title: Radiology
        groups:
          LS-Project42-Reviewers: Reviewer
          LS-Project42-Annotators: Annotator
          LS-AllProjects: Inherit
`,
  });
});
afterAll(async () => {
  await app.close();
});

/** Follow the whole SP-initiated flow through the development IdP's pages, choosing a persona by its email. */
async function signInAs(browser: Browser, email: string | { custom: Record<string, string> }, next = '/'): Promise<{ status: number; location: string | null }> {
  const login = await browser.get(`/saml/1/login?next=${encodeURIComponent(next)}`);
  expect(login.status).toBe(302);
  const idpUrl = new URL(login.location ?? '');
  expect(idpUrl.pathname).toBe('/dev-idp/1/sso');
  const page = await browser.get(idpUrl.pathname + idpUrl.search);
  expect(page.status).toBe(200);
  expect(page.text).toContain('Development IdP');
  const requestId = hiddenInput(page.text, 'request_id') ?? '';
  const relay = hiddenInput(page.text, 'relay_state') ?? '';
  expect(requestId).toMatch(/^_/);
  let form: Record<string, string>;
  if (typeof email === 'string') {
    // Persona forms appear in order; find the index of the one showing this email.
    const emails = [...page.text.matchAll(/<div class="muted">([^<]+@[^<]+)<\/div>/g)].map((m) => m[1]);
    const index = emails.indexOf(email);
    expect(index, `persona ${email} on the page`).toBeGreaterThanOrEqual(0);
    form = { request_id: requestId, relay_state: relay, persona: String(index) };
  } else {
    form = { request_id: requestId, relay_state: relay, persona: 'custom', ...email.custom };
  }
  // A browser posting the IdP page's own form sends its Origin.
  const posted = await browser.post('/dev-idp/1/sso', form, { origin: app.url });
  expect(posted.status).toBe(200);
  expect(posted.text).toContain('<script src="/assets/autopost.js"></script>');
  const SAMLResponse = hiddenInput(posted.text, 'SAMLResponse') ?? '';
  const RelayState = hiddenInput(posted.text, 'RelayState');
  const acs = await browser.post('/saml/1/acs', RelayState === undefined ? { SAMLResponse } : { SAMLResponse, RelayState });
  return { status: acs.status, location: acs.location };
}

describe('the development IdP', () => {
  it('the start page offers sign-in for each organization', async () => {
    const res = await app.browser().get('/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('href="/saml/1/login"');
  });

  it('signs in the Administrator persona through a real SP-initiated flow and shows their roles', async () => {
    const browser = app.browser();
    const res = await signInAs(browser, 'admin@acme.example', '/');
    expect(res).toEqual({ status: 302, location: '/' });
    const me = (await browser.whoami()).json<{ organization: { role: string }; projects: { id: number; role: string }[] }>();
    expect(me.organization.role).toBe('AD');
    expect(me.projects).toEqual([{ id: 42, title: 'Radiology', role: 'AD' }]);
    const home = await browser.get('/');
    expect(home.text).toContain('Administrator');
    expect(home.text).toContain('Radiology');
  });

  it('the owner persona is Owner', async () => {
    const browser = app.browser();
    await signInAs(browser, 'owner@acme.example');
    expect((await browser.whoami()).json<{ organization: { role: string } }>().organization.role).toBe('OW');
  });

  it('a custom user with no groups attribute is pending (groups unknown)', async () => {
    const browser = app.browser();
    const res = await signInAs(browser, { custom: { email: 'new@acme.example', first_name: 'New', last_name: 'Person', groups: '', omit_groups: '1' } });
    expect(res.status).toBe(302);
    expect((await browser.whoami()).json<{ organization: { role: string } }>().organization.role).toBe('NO');
  });

  it('a custom user is demoted to Deactivated when their groups disappear, and refused', async () => {
    const browser = app.browser();
    await signInAs(browser, { custom: { email: 'temp@acme.example', groups: 'LS-Annotators' } });
    expect((await browser.whoami()).json<{ organization: { role: string } }>().organization.role).toBe('AN');
    const res = await signInAs(app.browser(), { custom: { email: 'temp@acme.example', groups: 'Staff' } });
    expect(res.status).toBe(403);
    expect((await browser.whoami()).status).toBe(401);
  });

  it("another site's form cannot make the development IdP sign a browser in (login CSRF): 403 ERR_CSRF, no session", async () => {
    const browser = app.browser();
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site', origin: app.url }, {}]) {
      const res = await browser.post('/dev-idp/1/sso', { persona: '0' }, { ...headers, accept: 'application/json' });
      expect([res.status, res.json<{ error: string }>().error]).toEqual([403, 'ERR_CSRF']);
      expect(res.text).not.toContain('SAMLResponse');
    }
    expect((await browser.whoami()).status).toBe(401);
  });

  it('pages carry a strict CSP and no-store', async () => {
    const res = await app.browser().get('/');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('escapes what it echoes: a RelayState with markup is rendered inert', async () => {
    const res = await app.browser().get('/dev-idp/1/sso?RelayState=%22%3E%3Cscript%3Ealert(1)%3C/script%3E');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<script>alert(1)</script>');
    expect(res.text).toContain('&quot;&gt;&lt;script&gt;');
  });
});
