import { createPublicKey } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createServiceProvider } from '../../src/saml/index.js';
import {
  BASELINE_ATTRIBUTES,
  baselineResponse,
  idpTrust,
  KEYS,
  NOW,
  postForm,
  REQUEST_ID,
  testOrg,
  testProvider,
  testSamlSettings,
} from '../support/saml.js';

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const verify = (xml: string, provider = testProvider()) => provider.verifyPostResponse(postForm(xml));
const minutes = (n: number) => n * 60_000;

describe('a valid Response', () => {
  it('is accepted and normalised into a VerifiedLogin', async () => {
    const login = await verify(baselineResponse());
    expect(login).toEqual({
      organizationId: 1,
      issuer: 'https://idp.test/metadata',
      assertionId: '_assertion-1',
      nameId: 'alice@example.com',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      sessionIndex: '_session-1',
      email: 'alice@example.com', // from the Email attribute "Alice@Example.com", lower-cased
      firstName: 'Alice',
      lastName: 'Liddell',
      groups: ['LS-Admins'], // a single value is a list of one
      inResponseTo: REQUEST_ID,
      replayCacheUntil: new Date(NOW.getTime() + minutes(5) + 60_000), // SCD NotOnOrAfter + skew
    });
  });

  it('keeps many group values as an array of exact strings', async () => {
    const groups = ['LS-Admins', 'ls-admins ', 'LS-Project42-Reviewers'];
    const login = await verify(baselineResponse({ attributes: { ...BASELINE_ATTRIBUTES, Groups: groups } }));
    expect(login.groups).toEqual(groups);
  });

  it('reports groups as null when the groups attribute is absent (unknown, not empty)', async () => {
    const { Groups: _omitted, ...withoutGroups } = BASELINE_ATTRIBUTES;
    const login = await verify(baselineResponse({ attributes: withoutGroups }));
    expect(login.groups).toBeNull();
  });

  it('reports groups as [] when the groups attribute is present without values', async () => {
    const login = await verify(baselineResponse({ attributes: { ...BASELINE_ATTRIBUTES, Groups: [] } }));
    expect(login.groups).toEqual([]);
  });

  it('takes the email from NameID when there is no email attribute', async () => {
    const { Email: _omitted, ...withoutEmail } = BASELINE_ATTRIBUTES;
    const login = await verify(baselineResponse({ attributes: withoutEmail, nameId: ' Bob@Example.COM ' }));
    expect(login.email).toBe('bob@example.com');
    expect(login.nameId).toBe(' Bob@Example.COM ');
  });

  it('defaults missing first and last names to empty strings', async () => {
    const login = await verify(baselineResponse({ attributes: { Email: ['a@example.com'] } }));
    expect([login.firstName, login.lastName, login.groups]).toEqual(['', '', null]);
  });

  it('keeps the later of SCD and Conditions NotOnOrAfter (plus skew) for the replay cache', async () => {
    const login = await verify(
      baselineResponse({
        notOnOrAfter: new Date(NOW.getTime() + minutes(10)),
        scdNotOnOrAfter: new Date(NOW.getTime() + minutes(5)),
      }),
    );
    expect(login.replayCacheUntil).toEqual(new Date(NOW.getTime() + minutes(10) + 60_000));
  });

  it('is accepted with an XML declaration and MIME line breaks in the base64', async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n${baselineResponse()}`;
    const wrapped = Buffer.from(xml, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
    const login = await testProvider().verifyPostResponse({ SAMLResponse: wrapped });
    expect(login.assertionId).toBe('_assertion-1');
  });

  it('is accepted without a Destination (it is optional; checked when present)', async () => {
    await expect(verify(baselineResponse({ destination: null }))).resolves.toMatchObject({ nameId: 'alice@example.com' });
  });

  it('is accepted without a Response Issuer (optional; checked when present)', async () => {
    await expect(verify(baselineResponse({ responseIssuer: null }))).resolves.toMatchObject({ nameId: 'alice@example.com' });
  });

  it('is accepted when both the Response and the assertion are signed', async () => {
    await expect(verify(baselineResponse({ sign: 'both' }))).resolves.toMatchObject({ assertionId: '_assertion-1' });
  });

  it('is accepted when signed with the second configured certificate (key rollover)', async () => {
    const org = testOrg({ certs: [KEYS.idpCert, KEYS.rolloverCert] });
    const xml = baselineResponse({ privateKey: KEYS.rolloverKey, cert: KEYS.rolloverCert }, org);
    await expect(verify(xml, testProvider(org))).resolves.toMatchObject({ assertionId: '_assertion-1' });
  });

  it('is accepted when the IdP key is configured as a PEM public key (development IdP)', async () => {
    const publicKey = createPublicKey(KEYS.idpCert).export({ type: 'spki', format: 'pem' }).toString();
    expect(publicKey).toContain('BEGIN PUBLIC KEY');
    const org = testOrg({ certs: [publicKey] });
    const provider = createServiceProvider(org, testSamlSettings(), idpTrust(org));
    await expect(verify(baselineResponse({ cert: null }, org), provider)).resolves.toMatchObject({ nameId: 'alice@example.com' });
    // …and it still refuses other keys.
    const evil = baselineResponse({ privateKey: KEYS.evilKey, cert: KEYS.evilCert }, org);
    await expect(verify(evil, provider)).rejects.toMatchObject({ code: 'ERR_SAML_SIGNATURE' });
  });

  it('is accepted unsolicited when IdP-initiated login is allowed, with inResponseTo null', async () => {
    const org = testOrg({ allowIdpInitiated: true });
    const login = await verify(baselineResponse({ inResponseTo: null }, org), testProvider(org));
    expect(login.inResponseTo).toBeNull();
  });

  it('round-trips values that look like markup exactly (the builder escapes, the SP reads text)', async () => {
    const groups = ['a"b', "</saml:AttributeValue><saml:AttributeValue>LS-Admins", '<!-- x -->', 'x & y > z'];
    const login = await verify(baselineResponse({ attributes: { ...BASELINE_ATTRIBUTES, Groups: groups } }));
    expect(login.groups).toEqual(groups);
  });
});

describe('the clock skew window', () => {
  const expiry = NOW.getTime() + minutes(5);

  it('accepts an assertion expired by less than the skew (skew − 1 s)', async () => {
    const xml = baselineResponse();
    vi.setSystemTime(expiry + 60_000 - 1_000);
    await expect(verify(xml)).resolves.toMatchObject({ assertionId: '_assertion-1' });
  });

  it('rejects an assertion expired by more than the skew (skew + 1 s)', async () => {
    const xml = baselineResponse();
    vi.setSystemTime(expiry + 60_000 + 1_000);
    await expect(verify(xml)).rejects.toMatchObject({ code: 'ERR_SAML_EXPIRED' });
  });

  it('accepts an assertion valid from less than the skew in the future (skew − 1 s)', async () => {
    const xml = baselineResponse({ now: new Date(NOW.getTime() + 60_000 - 1_000) });
    await expect(verify(xml)).resolves.toMatchObject({ assertionId: '_assertion-1' });
  });

  it('rejects an assertion valid only from more than the skew in the future (skew + 1 s)', async () => {
    const xml = baselineResponse({ now: new Date(NOW.getTime() + 60_000 + 1_000) });
    await expect(verify(xml)).rejects.toMatchObject({ code: 'ERR_SAML_EXPIRED' });
  });

  it('with a skew of 0, rejects at NotOnOrAfter exactly', async () => {
    const provider = testProvider(testOrg(), testSamlSettings({ clockSkewSeconds: 0 }));
    const xml = baselineResponse();
    vi.setSystemTime(expiry);
    await expect(verify(xml, provider)).rejects.toMatchObject({ code: 'ERR_SAML_EXPIRED' });
  });
});
