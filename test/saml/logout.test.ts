/**
 * Single Logout messages from the IdP (HTTP-Redirect binding): what validateLogoutRedirect accepts and every
 * way it refuses. Messages are really deflated and really signed with the test IdP key (fixtures/keys).
 */
import { createSign } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RolegateError } from '../../src/errors.js';
import { MAX_LOGOUT_QUERY_BYTES, RSA_SHA256, validateLogoutRedirect } from '../../src/saml/logout.js';
import type { LogoutTrust } from '../../src/saml/logout.js';
import { IDP_ENTITY_ID, KEYS } from '../support/saml.js';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const SLO = 'http://sp.test/saml/1/slo';
const TRUST: LogoutTrust = { idpEntityId: IDP_ENTITY_ID, certs: [KEYS.idpCert], sloUrl: SLO, clockSkewSeconds: 60 };

function logoutRequest(o: { issuer?: string; destination?: string; instant?: string; extra?: string; prolog?: string } = {}): string {
  return `${o.prolog ?? ''}<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr1" Version="2.0" IssueInstant="${o.instant ?? NOW.toISOString()}" Destination="${o.destination ?? SLO}"><saml:Issuer>${o.issuer ?? IDP_ENTITY_ID}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">ada@acme.example</saml:NameID><samlp:SessionIndex>_s1</samlp:SessionIndex>${o.extra ?? ''}</samlp:LogoutRequest>`;
}

function logoutResponse(status = 'urn:oasis:names:tc:SAML:2.0:status:Success'): string {
  return `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp1" Version="2.0" IssueInstant="${NOW.toISOString()}" Destination="${SLO}" InResponseTo="_req1"><saml:Issuer>${IDP_ENTITY_ID}</saml:Issuer><samlp:Status><samlp:StatusCode Value="${status}"/></samlp:Status></samlp:LogoutResponse>`;
}

/** A Redirect-binding query: deflated, base64, URL-encoded, signed over SAMLRequest|SAMLResponse[&RelayState]&SigAlg. */
function query(xml: string, o: { name?: 'SAMLRequest' | 'SAMLResponse'; relay?: string; sigAlg?: string | null; key?: string; algorithm?: string; deflated?: Buffer } = {}): string {
  const name = o.name ?? 'SAMLRequest';
  let q = `${name}=${encodeURIComponent((o.deflated ?? deflateRawSync(Buffer.from(xml))).toString('base64'))}`;
  if (o.relay !== undefined) q += `&RelayState=${encodeURIComponent(o.relay)}`;
  if (o.sigAlg === null) return q;
  q += `&SigAlg=${encodeURIComponent(o.sigAlg ?? RSA_SHA256)}`;
  const signature = createSign(o.algorithm ?? 'RSA-SHA256').update(q).sign(o.key ?? KEYS.idpKey, 'base64');
  return `${q}&Signature=${encodeURIComponent(signature)}`;
}

function refused(rawQuery: string, code: string, trust: LogoutTrust = TRUST): void {
  let caught: unknown;
  try {
    validateLogoutRedirect(rawQuery, trust, NOW);
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(RolegateError);
  expect((caught as RolegateError).code, (caught as Error).message).toBe(code);
}

describe('validateLogoutRedirect: accepted', () => {
  it('a signed LogoutRequest: NameID, Format, SessionIndexes, RelayState', () => {
    expect(validateLogoutRedirect(query(logoutRequest(), { relay: '/back' }), TRUST, NOW)).toEqual({
      kind: 'request',
      id: '_lr1',
      nameId: 'ada@acme.example',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      sessionIndexes: ['_s1'],
      relayState: '/back',
    });
  });

  it('a signed LogoutResponse: InResponseTo and success', () => {
    expect(validateLogoutRedirect(query(logoutResponse(), { name: 'SAMLResponse' }), TRUST, NOW)).toEqual({
      kind: 'response',
      id: '_resp1',
      inResponseTo: '_req1',
      success: true,
      relayState: null,
    });
    const failed = validateLogoutRedirect(query(logoutResponse('urn:oasis:names:tc:SAML:2.0:status:Responder'), { name: 'SAMLResponse' }), TRUST, NOW);
    expect(failed).toMatchObject({ kind: 'response', success: false });
  });

  it('during rollover: signed with the second configured certificate', () => {
    const trust = { ...TRUST, certs: [KEYS.rolloverCert, KEYS.idpCert] };
    expect(validateLogoutRedirect(query(logoutRequest(), { key: KEYS.idpKey }), trust, NOW).kind).toBe('request');
  });
});

describe('validateLogoutRedirect: refused', () => {
  it('unsigned (no SigAlg/Signature): node-saml would accept it', () => refused(query(logoutRequest(), { sigAlg: null }), 'ERR_SAML_SIGNATURE'));
  it('RSA-SHA1', () => refused(query(logoutRequest(), { sigAlg: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', algorithm: 'RSA-SHA1' }), 'ERR_SAML_ALGORITHM'));
  it('signed by another key', () => refused(query(logoutRequest(), { key: KEYS.evilKey }), 'ERR_SAML_SIGNATURE'));
  it('RelayState changed after signing', () => refused(query(logoutRequest(), { relay: '/a' }).replace('RelayState=%2Fa', 'RelayState=%2Fb'), 'ERR_SAML_SIGNATURE'));
  it('RelayState added after signing', () => {
    const q = query(logoutRequest());
    refused(q.replace('&SigAlg=', '&RelayState=x&SigAlg='), 'ERR_SAML_SIGNATURE');
  });
  it('a parameter given twice', () => refused(`${query(logoutRequest())}&SAMLRequest=AAAA`, 'ERR_SAML_MALFORMED'));
  it('both SAMLRequest and SAMLResponse', () => refused(`${query(logoutRequest())}&SAMLResponse=AAAA`, 'ERR_SAML_MALFORMED'));
  it('neither', () => refused('RelayState=x', 'ERR_SAML_MALFORMED'));
  it('a query over the bound, before anything is decoded', () => refused(`SAMLRequest=${'A'.repeat(MAX_LOGOUT_QUERY_BYTES)}`, 'ERR_SAML_TOO_LARGE'));
  it('a signed deflate bomb (1 MiB of XML in a small query): bounded inflate', () => {
    const bomb = deflateRawSync(Buffer.from(logoutRequest({ extra: `<x>${' '.repeat(1024 * 1024)}</x>` })), { level: 9 });
    refused(query('', { deflated: bomb }), 'ERR_SAML_TOO_LARGE');
  });
  it('not deflated', () => refused(query('', { deflated: Buffer.from('<samlp:LogoutRequest/>') }), 'ERR_SAML_MALFORMED'));
  it('a DOCTYPE', () => refused(query(logoutRequest({ prolog: '<!DOCTYPE x [<!ENTITY e "e">]>' })), 'ERR_SAML_MALFORMED'));
  it('a LogoutResponse sent as SAMLRequest', () => refused(query(logoutResponse()), 'ERR_SAML_MALFORMED'));
  it('another Issuer', () => refused(query(logoutRequest({ issuer: 'https://evil.test/idp' })), 'ERR_SAML_ISSUER'));
  it('another Destination', () => refused(query(logoutRequest({ destination: 'http://sp.test/saml/2/slo' })), 'ERR_SAML_DESTINATION'));
  it('an old IssueInstant', () => refused(query(logoutRequest({ instant: '2026-12-01T11:50:00.000Z' })), 'ERR_SAML_EXPIRED'));
  it('an IssueInstant in the future', () => refused(query(logoutRequest({ instant: '2026-12-01T12:05:00.000Z' })), 'ERR_SAML_EXPIRED'));
  it('two NameIDs', () =>
    refused(query(logoutRequest({ extra: '<saml:NameID>mallory@acme.example</saml:NameID>' })), 'ERR_SAML_MALFORMED'));
});

describe('IdP metadata: SingleLogoutService', () => {
  it('the HTTP-Redirect SingleLogoutService is read as sloUrl; none → no sloUrl; a non-http Location is refused', async () => {
    const { parseIdpMetadata } = await import('../../src/configuration/metadata.js');
    const { readFileSync } = await import('node:fs');
    const xml = readFileSync(new URL('../../fixtures/config/idp-metadata.xml', import.meta.url), 'utf8');
    const parsed = parseIdpMetadata(xml);
    expect(parsed.ok && parsed.value.sloUrl).toBe('https://idp.acme.example/simplesaml/saml2/idp/SingleLogoutService.php');
    const without = parseIdpMetadata(xml.replace(/<md:SingleLogoutService [^>]*\/>/, ''));
    expect(without.ok && 'sloUrl' in without.value).toBe(false);
    const bad = parseIdpMetadata(xml.replace('Location="https://idp.acme.example/simplesaml/saml2/idp/SingleLogoutService.php"', 'Location="javascript:alert(1)"'));
    expect(bad).toEqual({ ok: false, message: expect.stringContaining('SingleLogoutService Location that is not an http(s) URL') });
  });
});
