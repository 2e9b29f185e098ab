/**
 * Single Logout through the routes (HTTP-Redirect both ways), with an IdP whose metadata names a
 * SingleLogoutService (fixtures/config/idp-metadata.xml) and the SP key pair configured: the signed
 * LogoutRequest out, the LogoutResponse in (only for the browser that sent the request), an IdP-initiated
 * LogoutRequest ending the sessions it names, and refusals leaving sessions alone.
 */
import { createSign, createVerify } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RSA_SHA256 } from '../../src/saml/logout.js';
import { ROOT, serverYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { postAcs, startLogin } from '../support/flow.js';
import type { Browser } from '../support/http.js';
import { snapshot } from '../support/db.js';
import { samlResponse } from '../support/idp.js';

const IDP = 'https://idp.acme.example/simplesaml/saml2/idp/metadata.php';
const IDP_SLO = 'https://idp.acme.example/simplesaml/saml2/idp/SingleLogoutService.php';
const IDP_KEY = fs.readFileSync(path.join(ROOT, 'fixtures/keys/idp.key'), 'utf8');
const EVIL_KEY = fs.readFileSync(path.join(ROOT, 'fixtures/keys/evil.key'), 'utf8');
const SP_CERT = fs.readFileSync(path.join(ROOT, 'fixtures/keys/sp.crt'), 'utf8');
let app: TestApp;

beforeAll(async () => {
  app = await startApp({
    yaml: (dir, url) => `${serverYaml(dir, url)}organizations:
  - id: 1
    title: Acme Labs
    owner: owner@acme.example
    sso:
      idp_metadata_file: ${path.join(ROOT, 'fixtures/config/idp-metadata.xml')}
      sp_private_key_file: ${path.join(ROOT, 'fixtures/keys/sp.key')}
      sp_cert_file: ${path.join(ROOT, 'fixtures/keys/sp.crt')}
    roles:
      LS-Admins: Administrator
`,
  });
});
afterAll(async () => app?.close());

async function signedIn(email: string, sessionIndex: string): Promise<Browser> {
  const b = app.browser();
  const { requestId } = await startLogin(b);
  const res = await postAcs(b, 1, samlResponse(app, { email, groups: ['LS-Admins'] }, { issuer: IDP, inResponseTo: requestId, sessionIndex }));
  expect(res.status, res.text).toBe(302);
  expect((await b.get('/api/current-user/whoami', { accept: 'application/json' })).status).toBe(200);
  return b;
}

async function isSignedIn(b: Browser): Promise<boolean> {
  return (await b.get('/api/current-user/whoami', { accept: 'application/json' })).status === 200;
}

function signedQuery(name: 'SAMLRequest' | 'SAMLResponse', xml: string, key = IDP_KEY): string {
  const q = `${name}=${encodeURIComponent(deflateRawSync(Buffer.from(xml)).toString('base64'))}&SigAlg=${encodeURIComponent(RSA_SHA256)}`;
  return `${q}&Signature=${encodeURIComponent(createSign('RSA-SHA256').update(q).sign(key, 'base64'))}`;
}

function logoutResponse(inResponseTo: string): string {
  return `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${Date.now()}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${app.url}/saml/1/slo" InResponseTo="${inResponseTo}"><saml:Issuer>${IDP}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>`;
}

function logoutRequest(nameId: string, sessionIndex: string | null): string {
  return `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_q${Date.now()}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${app.url}/saml/1/slo"><saml:Issuer>${IDP}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${nameId}</saml:NameID>${sessionIndex === null ? '' : `<samlp:SessionIndex>${sessionIndex}</samlp:SessionIndex>`}</samlp:LogoutRequest>`;
}

describe('Single Logout routes', () => {
  it('SP metadata: SingleLogoutService (HTTP-Redirect), the signing certificate, AuthnRequestsSigned stays false', async () => {
    const xml = (await app.browser().get('/saml/1/metadata')).text;
    expect(xml).toContain(`<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${app.url}/saml/1/slo"`);
    expect(xml).toContain('use="signing"');
    expect(xml).toContain('AuthnRequestsSigned="false"');
  });

  it('GET /saml/1/logout: a signed LogoutRequest naming the NameID and SessionIndex; the LogoutResponse ends the session', async () => {
    const b = await signedIn('ada@acme.example', '_session-ada');
    // The Sign out link on our own page: a same-origin navigation.
    const res = await b.get('/saml/1/logout', { 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(302);
    const location = res.location ?? '';
    expect(location.startsWith(`${IDP_SLO}?`)).toBe(true);
    const raw = location.slice(location.indexOf('?') + 1);
    const params = new URLSearchParams(raw);
    expect(params.get('SigAlg')).toBe(RSA_SHA256);
    const signedPart = raw.split('&').filter((p) => !p.startsWith('Signature=')).join('&');
    expect(createVerify('RSA-SHA256').update(signedPart).verify(SP_CERT, Buffer.from(params.get('Signature') ?? '', 'base64'))).toBe(true);
    const { inflateRawSync } = await import('node:zlib');
    const request = inflateRawSync(Buffer.from(params.get('SAMLRequest') ?? '', 'base64')).toString('utf8');
    expect(request).toContain('ada@acme.example</saml:NameID>');
    expect(request).toMatch(/SessionIndex[^>]*>_session-ada</);
    const requestId = /ID="([^"]+)"/.exec(request)?.[1] ?? '';
    // Still signed in until the IdP answers.
    expect(await isSignedIn(b)).toBe(true);
    // An answer to another request is refused, and changes nothing.
    const wrong = await b.get(`/saml/1/slo?${signedQuery('SAMLResponse', logoutResponse('_not-ours'))}`, { accept: 'application/json' });
    expect([wrong.status, wrong.json<{ error: string }>().error]).toEqual([401, 'ERR_SAML_IN_RESPONSE_TO']);
    expect(await isSignedIn(b)).toBe(true);
    // Another browser cannot use the right answer.
    const other = await signedIn('ada@acme.example', '_session-ada-2');
    const stolen = await other.get(`/saml/1/slo?${signedQuery('SAMLResponse', logoutResponse(requestId))}`, { accept: 'application/json' });
    expect(stolen.status).toBe(401);
    // The IdP redirects the browser back: a cross-site navigation, accepted because the message is signed.
    const ok = await b.get(`/saml/1/slo?${signedQuery('SAMLResponse', logoutResponse(requestId))}`, { 'sec-fetch-site': 'cross-site' });
    expect([ok.status, ok.location]).toEqual([302, '/']);
    expect(await isSignedIn(b)).toBe(false);
    expect(await isSignedIn(other)).toBe(true);
  });

  it('IdP-initiated: ends the sessions with that NameID and SessionIndex, answers with a signed LogoutResponse', async () => {
    const one = await signedIn('bob@acme.example', '_bob-1');
    const two = await signedIn('bob@acme.example', '_bob-2');
    const carol = await signedIn('carol@acme.example', '_bob-1');
    const res = await app.browser().get(`/saml/1/slo?${signedQuery('SAMLRequest', logoutRequest('bob@acme.example', '_bob-1'))}`, { 'sec-fetch-site': 'cross-site' });
    expect(res.status).toBe(302);
    const answer = new URL(res.location ?? '');
    expect(`${answer.origin}${answer.pathname}`).toBe(IDP_SLO);
    expect(answer.searchParams.get('SigAlg')).toBe(RSA_SHA256);
    expect(answer.searchParams.get('SAMLResponse')).not.toBeNull();
    expect([await isSignedIn(one), await isSignedIn(two), await isSignedIn(carol)]).toEqual([false, true, true]);
    // Without SessionIndex: every session of that NameID.
    await app.browser().get(`/saml/1/slo?${signedQuery('SAMLRequest', logoutRequest('bob@acme.example', null))}`);
    expect([await isSignedIn(two), await isSignedIn(carol)]).toEqual([false, true]);
  });

  it('another site cannot start a sign-out: a cross-site GET /saml/1/logout is 403 ERR_CSRF, the session lives, nothing goes to the IdP', async () => {
    const b = await signedIn('erin@acme.example', '_erin');
    const before = await snapshot(app.db);
    const foreign: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      // A browser without Sec-Fetch-Site: Referer names the other site, or nothing says where it came from.
      { referer: 'https://evil.example/page' },
      {},
    ];
    for (const headers of foreign) {
      const res = await b.get('/saml/1/logout', { ...headers, accept: 'application/json' });
      expect([JSON.stringify(headers), res.status, res.json<{ error: string }>().error]).toEqual([JSON.stringify(headers), 403, 'ERR_CSRF']);
      expect(res.location).toBeNull();
      expect(await isSignedIn(b)).toBe(true);
    }
    const after = await snapshot(app.db);
    expect([after.memberships, after.users, after.sessions]).toEqual([before.memberships, before.users, before.sessions]);
    // Typed or bookmarked (Sec-Fetch-Site: none), or from our own page by an old browser (Referer): allowed.
    for (const headers of [{ 'sec-fetch-site': 'none' }, { referer: `${app.url}/` }]) {
      const res = await b.get('/saml/1/logout', headers);
      expect([JSON.stringify(headers), res.status, (res.location ?? '').startsWith(`${IDP_SLO}?`)]).toEqual([JSON.stringify(headers), 302, true]);
    }
  });

  it('refused logout messages end nothing: unsigned, signed by another key', async () => {
    const b = await signedIn('dan@acme.example', '_dan');
    const xml = logoutRequest('dan@acme.example', '_dan');
    const unsigned = `SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(xml)).toString('base64'))}`;
    for (const [query, code] of [
      [unsigned, 'ERR_SAML_SIGNATURE'],
      [signedQuery('SAMLRequest', xml, EVIL_KEY), 'ERR_SAML_SIGNATURE'],
      [`SAMLRequest=${'A'.repeat(10_000)}`, 'ERR_SAML_TOO_LARGE'],
    ] as const) {
      const res = await app.browser().get(`/saml/1/slo?${query}`, { accept: 'application/json' });
      expect(res.json<{ error: string }>().error, `${res.status} ${res.text}`).toBe(code);
    }
    expect(await isSignedIn(b)).toBe(true);
  });
});
