/**
 * The quick start's trap: public_url names one loopback address and the browser comes by another (localhost
 * against 127.0.0.1). The login-binding cookie would be set for the address the browser used while the IdP
 * posts back to public_url's, where the browser has none, and the sign-in would fail as unsolicited
 * (ERR_SAML_IN_RESPONSE_TO). Starting a sign-in by another loopback name of this same server redirects to
 * public_url first. The test app's public_url is http://127.0.0.1:<port>.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOtherLoopbackName } from '../../src/http/routes.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { postAcs, startLogin } from '../support/flow.js';
import { getWithHost } from '../support/http.js';
import { samlResponse } from '../support/idp.js';

let app: TestApp;
let port = 0;
beforeAll(async () => {
  app = await startApp();
  port = Number(new URL(app.url).port);
});
afterAll(async () => {
  await app.close();
});

describe('starting a sign-in by another loopback name', () => {
  it('is sent to public_url first, path and query kept, with no cookie set for the other name', async () => {
    const res = await getWithHost(port, '/saml/1/login?next=%2Forganization', `localhost:${port}`);
    expect(res.status).toBe(302);
    expect(res.location).toBe(`http://127.0.0.1:${port}/saml/1/login?next=%2Forganization`);
    expect(res.cookies).toEqual([]);
  });

  it('by public_url itself, goes to the IdP with the binding cookie, as before', async () => {
    const res = await getWithHost(port, '/saml/1/login', `127.0.0.1:${port}`);
    expect(res.status).toBe(302);
    expect(res.location).toMatch(/SAMLRequest=/);
    expect(res.cookies.some((c) => c.startsWith('rolegate.authn='))).toBe(true);
  });

  it('a Host with another port (a proxy in front may send its upstream address) or another name is left alone', async () => {
    for (const host of [`localhost:${port + 1}`, `sso.example.org:${port}`, 'localhost']) {
      const res = await getWithHost(port, '/saml/1/login', host);
      expect(res.status, host).toBe(302);
      expect(res.location, host).toMatch(/SAMLRequest=/);
    }
  });

  it('knows the loopback names', () => {
    const pub = new URL('http://localhost:8080/');
    expect(isOtherLoopbackName('127.0.0.1:8080', pub)).toBe(true);
    expect(isOtherLoopbackName('[::1]:8080', pub)).toBe(true);
    expect(isOtherLoopbackName('localhost:8080', pub)).toBe(false);
    expect(isOtherLoopbackName('127.0.0.1:8081', pub)).toBe(false);
    expect(isOtherLoopbackName('127.0.0.2:8080', pub)).toBe(false);
    expect(isOtherLoopbackName('evil.example:8080', pub)).toBe(false);
    expect(isOtherLoopbackName('bad host:8080', pub)).toBe(false);
    expect(isOtherLoopbackName('127.0.0.1', new URL('http://localhost/'))).toBe(true);
  });

  it('a sign-in whose cookie did not come back says so (same code), unlike one whose cookie does not match', async () => {
    const who = { email: 'casey@acme.example', groups: ['LS-Reviewers'] };
    const lost = app.browser();
    const first = await startLogin(lost);
    lost.jar.clear();
    const without = await postAcs(lost, 1, samlResponse(app, who, { inResponseTo: first.requestId }));
    expect(without.status).toBe(401);
    expect(without.json<{ code: string; detail: string }>()).toMatchObject({ code: 'ERR_SAML_IN_RESPONSE_TO', detail: expect.stringContaining('sent no sign-in cookie') });

    // A cookie that came back but belongs to another sign-in: the plain message.
    const other = app.browser();
    await startLogin(other);
    const mismatched = await postAcs(other, 1, samlResponse(app, who, { inResponseTo: first.requestId }));
    expect(mismatched.status).toBe(401);
    const body = mismatched.json<{ code: string; detail: string }>();
    expect(body.code).toBe('ERR_SAML_IN_RESPONSE_TO');
    expect(body.detail).not.toContain('sign-in cookie');
  });
});
