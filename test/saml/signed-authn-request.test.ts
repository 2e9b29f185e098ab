/** `sso.sign_authn_requests`: the HTTP-Redirect AuthnRequest signed with RSA-SHA256, announced in metadata. */
import { createVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OrganizationConfig } from '../../src/configuration/types.js';
import { testOrg, testProvider } from '../support/saml.js';

const SP_KEY = readFileSync(new URL('../../fixtures/keys/sp.key', import.meta.url), 'utf8');
const SP_CERT = readFileSync(new URL('../../fixtures/keys/sp.crt', import.meta.url), 'utf8');
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

function withKeys(org: OrganizationConfig, sign: boolean): OrganizationConfig {
  return {
    ...org,
    sso: { ...org.sso, decryption: { privateKey: SP_KEY, cert: SP_CERT }, ...(sign ? { signAuthnRequests: true as const } : {}) },
  };
}

describe('signed AuthnRequests (sso.sign_authn_requests)', () => {
  it('signs the Redirect binding query (SAMLRequest, RelayState, SigAlg) with RSA-SHA256 and the SP key', async () => {
    const { url } = await testProvider(withKeys(testOrg(), true)).authnRequestRedirect('/next');
    const query = new URL(url).search.slice(1);
    const params = new URLSearchParams(query);
    expect(params.get('SigAlg')).toBe(RSA_SHA256);
    const signature = params.get('Signature');
    expect(signature).not.toBeNull();
    // SAML bindings §3.4.4.1: the signed octets are the raw query parameters in this order, without Signature.
    const signed = query
      .split('&')
      .filter((p) => !p.startsWith('Signature='))
      .join('&');
    expect(signed.split('&').map((p) => p.split('=')[0])).toEqual(['SAMLRequest', 'RelayState', 'SigAlg']);
    expect(createVerify('RSA-SHA256').update(signed).verify(SP_CERT, Buffer.from(signature ?? '', 'base64'))).toBe(true);
  });

  it('publishes AuthnRequestsSigned="true" and the certificate as KeyDescriptor use="signing"', () => {
    const xml = testProvider(withKeys(testOrg(), true)).metadataXml();
    expect(xml).toContain('AuthnRequestsSigned="true"');
    expect(xml).toMatch(/KeyDescriptor use="signing"/);
    expect(xml).toMatch(/KeyDescriptor use="encryption"/);
  });

  it('without the key: no signature, no signing KeyDescriptor (SP keys for decryption alone do not sign)', async () => {
    for (const org of [testOrg(), withKeys(testOrg(), false)]) {
      const sp = testProvider(org);
      const params = new URL((await sp.authnRequestRedirect('/')).url).searchParams;
      expect(params.get('Signature')).toBeNull();
      expect(params.get('SigAlg')).toBeNull();
      expect(sp.metadataXml()).not.toContain('use="signing"');
      expect(sp.metadataXml()).not.toContain('AuthnRequestsSigned="true"');
    }
  });
});
