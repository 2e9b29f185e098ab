/**
 * Signature and key trust: real RSA signatures from fixtures/keys,
 * node-saml and xml-crypto never mocked.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BASELINE_ATTRIBUTES, baselineResponse, expectSamlError, KEYS, NOW, postForm, replaceOnce, testProvider } from '../support/saml.js';

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const verify = (xml: string) => testProvider().verifyPostResponse(postForm(xml));

describe('signatures', () => {
  it('rejects a NameID edited after signing', async () => {
    const xml = replaceOnce(baselineResponse(), '>alice@example.com</saml:NameID>', '>mallory@example.com</saml:NameID>');
    await expectSamlError(verify(xml), 'ERR_SAML_SIGNATURE');
  });

  it('rejects a group value edited after signing', async () => {
    const xml = replaceOnce(baselineResponse(), '>LS-Admins<', '>LS-Owners<');
    await expectSamlError(verify(xml), 'ERR_SAML_SIGNATURE');
  });

  it('rejects an unsigned Response', async () => {
    await expectSamlError(verify(baselineResponse({ sign: 'none' })), 'ERR_SAML_SIGNATURE');
  });

  it('rejects a Response signed only at the Response level (the assertion signature is required)', async () => {
    await expectSamlError(verify(baselineResponse({ sign: 'response' })), 'ERR_SAML_SIGNATURE');
  });

  it('rejects a Response signed by another key even with that key’s certificate in KeyInfo', async () => {
    await expectSamlError(verify(baselineResponse({ privateKey: KEYS.evilKey, cert: KEYS.evilCert })), 'ERR_SAML_SIGNATURE');
  });

  it('rejects a signature by the rollover key when only the current certificate is configured', async () => {
    await expectSamlError(verify(baselineResponse({ privateKey: KEYS.rolloverKey, cert: KEYS.rolloverCert })), 'ERR_SAML_SIGNATURE');
  });

  it('rejects a Response whose present Response signature no longer verifies (node-saml alone ignores it)', async () => {
    // Response@IssueInstant is covered only by the Response signature; changing it must not be ignored.
    const xml = replaceOnce(baselineResponse({ sign: 'both' }), 'IssueInstant="2026-12-01T12:00:00.000Z" Destination', 'IssueInstant="2026-12-01T12:00:01.000Z" Destination');
    await expectSamlError(verify(xml), 'ERR_SAML_SIGNATURE');
  });

  it('checks the signature before the claims node-saml checks (wrong audience and wrong key → SIGNATURE)', async () => {
    const xml = baselineResponse({ audience: 'http://other.test/metadata', privateKey: KEYS.evilKey, cert: KEYS.evilCert });
    await expectSamlError(verify(xml), 'ERR_SAML_SIGNATURE');
  });
});

describe('algorithms', () => {
  it('rejects a correctly signed RSA-SHA1/SHA1 Response (node-saml alone accepts it)', async () => {
    const xml = baselineResponse({
      signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
      digestAlgorithm: 'http://www.w3.org/2000/09/xmldsig#sha1',
    });
    await expectSamlError(verify(xml), 'ERR_SAML_ALGORITHM');
  });

  it('rejects an SHA-1 digest under an RSA-SHA256 signature', async () => {
    await expectSamlError(verify(baselineResponse({ digestAlgorithm: 'http://www.w3.org/2000/09/xmldsig#sha1' })), 'ERR_SAML_ALGORITHM');
  });

  it('rejects an HMAC SignatureMethod', async () => {
    const xml = replaceOnce(baselineResponse(), 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2000/09/xmldsig#hmac-sha1');
    await expectSamlError(verify(xml), 'ERR_SAML_ALGORITHM');
  });

  it('accepts RSA-SHA512 with a SHA-512 digest', async () => {
    const xml = baselineResponse({
      signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
      digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha512',
    });
    await expect(verify(xml)).resolves.toMatchObject({ assertionId: '_assertion-1' });
  });
});

describe('comment, CDATA and PI inside signed values (CVE-2017-11427..11430)', () => {
  it('yields the FULL NameID when a comment splits it, never the prefix', async () => {
    const signed = baselineResponse({ nameId: 'alice@example.com.evil.com' });
    const xml = replaceOnce(signed, '>alice@example.com.evil.com<', '>alice@example.com<!---->.evil.com<');
    const login = await verify(xml);
    expect(login.nameId).toBe('alice@example.com.evil.com');
  });

  it('yields the FULL email (from NameID) when a comment splits it', async () => {
    const { Email: _omitted, ...withoutEmail } = BASELINE_ATTRIBUTES;
    const signed = baselineResponse({ nameId: 'alice@example.com.evil.com', attributes: withoutEmail });
    const xml = replaceOnce(signed, '>alice@example.com.evil.com<', '>alice@example.com<!---->.evil.com<');
    expect((await verify(xml)).email).toBe('alice@example.com.evil.com');
  });

  it('yields the FULL group value when a comment splits it', async () => {
    const signed = baselineResponse({ attributes: { ...BASELINE_ATTRIBUTES, Groups: ['staff-admins'] } });
    const xml = replaceOnce(signed, '>staff-admins<', '>staff<!---->-admins<');
    expect((await verify(xml)).groups).toEqual(['staff-admins']);
  });

  it('yields the FULL group value when CDATA splits it', async () => {
    const signed = baselineResponse({ attributes: { ...BASELINE_ATTRIBUTES, Groups: ['staff-admins'] } });
    const xml = replaceOnce(signed, '>staff-admins<', '>staff<![CDATA[-admins]]><');
    expect((await verify(xml)).groups).toEqual(['staff-admins']);
  });

  it('rejects a processing instruction inside a signed value (it is part of canonical XML)', async () => {
    const signed = baselineResponse({ nameId: 'alice@example.com.evil.com' });
    const xml = replaceOnce(signed, '>alice@example.com.evil.com<', '>alice@example.com<?x y?>.evil.com<');
    await expectSamlError(verify(xml), 'ERR_SAML_SIGNATURE');
  });
});
