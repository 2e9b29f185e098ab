/** The SP side that is not the ACS: AuthnRequest redirect, metadata, configuration checks. */
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { createServiceProvider } from '../../src/saml/index.js';
import { IDP_SSO_URL, idpTrust, testOrg, testProvider, testSamlSettings } from '../support/saml.js';

const NS_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';

function decodeRequest(url: string): Document {
  const encoded = new URL(url).searchParams.get('SAMLRequest');
  if (encoded === null) throw new Error('no SAMLRequest');
  return new DOMParser().parseFromString(inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8'), 'text/xml');
}

describe('authnRequestRedirect', () => {
  it('redirects to the IdP with a deflated AuthnRequest whose ID it returns', async () => {
    const { url, requestId } = await testProvider().authnRequestRedirect('/projects/42');
    expect(url.startsWith(`${IDP_SSO_URL}?`)).toBe(true);
    expect(new URL(url).searchParams.get('RelayState')).toBe('/projects/42');
    expect(requestId).toMatch(/^_[0-9a-f]{40}$/);

    const request = decodeRequest(url).documentElement;
    expect([request.namespaceURI, request.localName]).toEqual([NS_PROTOCOL, 'AuthnRequest']);
    expect(request.getAttribute('ID')).toBe(requestId);
    expect(request.getAttribute('AssertionConsumerServiceURL')).toBe('http://sp.test/saml/1/acs');
    expect(request.getAttribute('Destination')).toBe(IDP_SSO_URL);
    expect(request.getElementsByTagNameNS('*', 'Issuer').item(0)?.textContent).toBe('http://sp.test/saml/1/metadata');
    expect(request.getElementsByTagNameNS(NS_PROTOCOL, 'NameIDPolicy').item(0)?.getAttribute('Format')).toBe(
      'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    );
    expect(request.getElementsByTagNameNS(NS_PROTOCOL, 'RequestedAuthnContext').length).toBe(0);
  });

  it('issues a fresh id for every request, also when requests interleave', async () => {
    const provider = testProvider();
    const results = await Promise.all([1, 2, 3, 4].map((i) => provider.authnRequestRedirect(`/${i}`)));
    for (const { url, requestId } of results) expect(decodeRequest(url).documentElement.getAttribute('ID')).toBe(requestId);
    expect(new Set(results.map((r) => r.requestId)).size).toBe(4);
  });
});

describe('metadataXml', () => {
  it('names the entity id, the HTTP-POST ACS URL and NameIDFormat emailAddress, and no keys', () => {
    const doc = new DOMParser().parseFromString(testProvider().metadataXml(), 'text/xml');
    const md = 'urn:oasis:names:tc:SAML:2.0:metadata';
    expect(doc.documentElement.getAttribute('entityID')).toBe('http://sp.test/saml/1/metadata');
    const acs = doc.getElementsByTagNameNS(md, 'AssertionConsumerService').item(0);
    expect(acs?.getAttribute('Location')).toBe('http://sp.test/saml/1/acs');
    expect(acs?.getAttribute('Binding')).toBe('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    expect(doc.getElementsByTagNameNS(md, 'NameIDFormat').item(0)?.textContent).toBe(
      'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    );
    expect(doc.getElementsByTagNameNS(md, 'SPSSODescriptor').item(0)?.getAttribute('WantAssertionsSigned')).toBe('true');
    expect(doc.getElementsByTagNameNS(md, 'KeyDescriptor').length).toBe(0);
  });
});

describe('createServiceProvider', () => {
  const org = testOrg();
  const make = (certs: readonly string[], skew = 60) =>
    () => createServiceProvider(org, testSamlSettings({ clockSkewSeconds: skew }), { ...idpTrust(org), certs });

  it('refuses to start without an IdP certificate', () => {
    expect(make([])).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
  });

  it('refuses a certificate that does not load', () => {
    expect(make(['-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----\n'])).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });

  it('refuses a private key in place of a certificate', () => {
    expect(make(['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'])).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });

  it('refuses a negative clock skew (node-saml would read -1 as "no time checks")', () => {
    expect(make(idpTrust(org).certs, -1)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
  });
});

describe('metadata with an SP decryption key (sso.sp_private_key_file + sp_cert_file)', () => {
  it('advertises the encryption certificate with the AES algorithms; none without the key pair', () => {
    const read = (name: string): string => readFileSync(new URL(`../../fixtures/keys/${name}`, import.meta.url), 'utf8');
    const base = testOrg();
    const org = { ...base, sso: { ...base.sso, decryption: { privateKey: read('sp.key'), cert: read('sp.crt') } } };
    const doc = new DOMParser().parseFromString(createServiceProvider(org, testSamlSettings(), idpTrust(org)).metadataXml(), 'text/xml');
    const descriptors = doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:metadata', 'KeyDescriptor');
    expect(descriptors.length).toBe(1);
    expect(descriptors.item(0)?.getAttribute('use')).toBe('encryption');
    const x509 = descriptors.item(0)?.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'X509Certificate').item(0)?.textContent ?? '';
    expect(x509.replace(/\s/g, '')).toBe(read('sp.crt').replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''));
    expect(testProvider().metadataXml()).not.toContain('KeyDescriptor');
  });
});
