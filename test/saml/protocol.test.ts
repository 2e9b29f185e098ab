/**
 * Protocol checks: each case is the valid baseline with exactly one change,
 * made BEFORE signing unless the point is an unsigned wrapper edit.
 */
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BASELINE_ATTRIBUTES,
  baselineResponse,
  expectSamlError,
  NOW,
  postForm,
  REQUEST_ID,
  replaceOnce,
  testOrg,
  testProvider,
} from '../support/saml.js';

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
const verify = (xml: string, provider = testProvider()) => provider.verifyPostResponse(postForm(xml));
const minutes = (n: number) => n * 60_000;

describe('Destination, Recipient, Audience, Issuer', () => {
  it('rejects a Destination other than our ACS URL (node-saml alone accepts it)', async () => {
    await expectSamlError(verify(baselineResponse({ destination: 'http://other.test/saml/1/acs' })), 'ERR_SAML_DESTINATION');
  });

  it('rejects an empty Destination', async () => {
    await expectSamlError(verify(baselineResponse({ destination: '' })), 'ERR_SAML_DESTINATION');
  });

  it('rejects a Recipient other than our ACS URL (node-saml alone accepts it)', async () => {
    await expectSamlError(verify(baselineResponse({ recipient: 'http://sp.test/saml/2/acs' })), 'ERR_SAML_RECIPIENT');
  });

  it('rejects a bearer confirmation without Recipient', async () => {
    await expectSamlError(verify(baselineResponse({ recipient: null })), 'ERR_SAML_RECIPIENT');
  });

  it('rejects an Audience other than our SP entity id', async () => {
    await expectSamlError(verify(baselineResponse({ audience: 'http://sp.test/saml/2/metadata' })), 'ERR_SAML_AUDIENCE');
  });

  it('rejects an assertion without AudienceRestriction', async () => {
    await expectSamlError(verify(baselineResponse({ audience: null })), 'ERR_SAML_AUDIENCE');
  });

  it('rejects an assertion Issuer other than the IdP, signed by the IdP key (node-saml alone accepts it)', async () => {
    await expectSamlError(verify(baselineResponse({ assertionIssuer: 'https://other-idp.test/metadata' })), 'ERR_SAML_ISSUER');
  });

  it('rejects a Response Issuer other than the IdP', async () => {
    await expectSamlError(verify(baselineResponse({ responseIssuer: 'https://other-idp.test/metadata' })), 'ERR_SAML_ISSUER');
  });
});

describe('Status and SubjectConfirmation', () => {
  it('rejects status Responder even with a validly signed assertion (node-saml alone accepts it)', async () => {
    await expectSamlError(verify(baselineResponse({ statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder' })), 'ERR_SAML_STATUS');
  });

  it('rejects a SubjectConfirmation method other than bearer', async () => {
    const xml = baselineResponse({ subjectConfirmationMethod: 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key' });
    await expectSamlError(verify(xml), 'ERR_SAML_SUBJECT_CONFIRMATION');
  });
});

describe('time', () => {
  it('rejects an assertion expired beyond the skew', async () => {
    const xml = baselineResponse({ now: new Date(NOW.getTime() - minutes(10)) });
    await expectSamlError(verify(xml), 'ERR_SAML_EXPIRED');
  });

  it('rejects an assertion not yet valid beyond the skew', async () => {
    const xml = baselineResponse({ now: new Date(NOW.getTime() + minutes(10)) });
    await expectSamlError(verify(xml), 'ERR_SAML_EXPIRED');
  });

  it('rejects an expired SubjectConfirmationData even when Conditions are still valid (node-saml alone accepts it)', async () => {
    const xml = baselineResponse({ scdNotOnOrAfter: new Date(NOW.getTime() - 61_000) });
    await expectSamlError(verify(xml), 'ERR_SAML_EXPIRED');
  });

  it('rejects a SubjectConfirmationData without NotOnOrAfter', async () => {
    await expectSamlError(verify(baselineResponse({ scdNotOnOrAfter: null })), 'ERR_SAML_EXPIRED');
  });
});

describe('InResponseTo and unsolicited responses', () => {
  it('rejects an unsolicited Response when IdP-initiated login is not allowed', async () => {
    await expectSamlError(verify(baselineResponse({ inResponseTo: null })), 'ERR_SAML_UNSOLICITED');
  });

  // The Response attribute is unsigned (assertion-only signing), so it is compared with
  // the signed SCD@InResponseTo, never trusted. We answer IN_RESPONSE_TO rather than UNSOLICITED: the
  // message claims to answer a request its signed assertion does not answer, which is an inconsistency
  // whatever the unsolicited policy, so the code (and the rejection) is the same when it is allowed.
  it('rejects an unsigned Response@InResponseTo grafted onto an assertion without SCD@InResponseTo', async () => {
    const unsolicited = baselineResponse({ inResponseTo: null });
    const grafted = replaceOnce(unsolicited, '<samlp:Response ', `<samlp:Response InResponseTo="${REQUEST_ID}" `);
    await expectSamlError(verify(grafted), 'ERR_SAML_IN_RESPONSE_TO');
    const allowing = testOrg({ allowIdpInitiated: true });
    const graftedForAllowing = replaceOnce(baselineResponse({ inResponseTo: null }, allowing), '<samlp:Response ', `<samlp:Response InResponseTo="${REQUEST_ID}" `);
    await expectSamlError(verify(graftedForAllowing, testProvider(allowing)), 'ERR_SAML_IN_RESPONSE_TO');
  });

  it('rejects a Response@InResponseTo that differs from the signed SCD@InResponseTo', async () => {
    await expectSamlError(verify(baselineResponse({ responseInResponseTo: '_request-2' })), 'ERR_SAML_IN_RESPONSE_TO');
  });

  it('accepts a solicited assertion whose Response carries no InResponseTo, reporting the signed value', async () => {
    const login = await verify(baselineResponse({ responseInResponseTo: null }));
    expect(login.inResponseTo).toBe(REQUEST_ID);
  });
});

describe('assertion count and encryption', () => {
  it('rejects a second (unsigned) assertion beside the signed one', async () => {
    const doc = new DOMParser().parseFromString(baselineResponse(), 'text/xml');
    const signed = doc.getElementsByTagNameNS(NS_ASSERTION, 'Assertion').item(0);
    if (signed === null) throw new Error('no assertion');
    const copy = signed.cloneNode(true) as Element;
    copy.setAttribute('ID', '_evil');
    const sig = copy.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature').item(0);
    if (sig !== null) copy.removeChild(sig);
    doc.documentElement.appendChild(copy);
    await expectSamlError(verify(new XMLSerializer().serializeToString(doc)), 'ERR_SAML_MALFORMED');
  });

  it('rejects an EncryptedAssertion (no decryption key is configured)', async () => {
    const encrypted =
      '<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">' +
      '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/><xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData>' +
      '</xenc:EncryptedData></saml:EncryptedAssertion>';
    const xml = baselineResponse().replace(/<saml:Assertion [\s\S]*<\/saml:Assertion>/, encrypted);
    await expectSamlError(verify(xml), 'ERR_SAML_ENCRYPTED');
  });
});

describe('attributes', () => {
  it('rejects a groups attribute that appears twice', async () => {
    const attributes = [...Object.entries(BASELINE_ATTRIBUTES), ['Groups', ['LS-Managers']]] as const;
    await expectSamlError(verify(baselineResponse({ attributes })), 'ERR_SAML_ATTRIBUTES');
  });

  it('ignores an attribute named __proto__ and pollutes nothing', async () => {
    const attributes = [...Object.entries(BASELINE_ATTRIBUTES), ['__proto__', ['LS-Admins', 'LS-Managers']]] as const;
    const login = await verify(baselineResponse({ attributes }));
    expect(login.groups).toEqual(['LS-Admins']);
    expect(Object.getPrototypeOf(login)).toBe(Object.prototype);
    expect(Object.keys(login)).not.toContain('__proto__');
    expect(({} as Record<string, unknown>)['length']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('0');
  });

  it('treats a groups attribute configured as __proto__ as absent', async () => {
    const org = testOrg();
    const poisoned = { ...org, sso: { ...org.sso, attributes: { ...org.sso.attributes, groups: '__proto__' } } };
    const attributes = [...Object.entries(BASELINE_ATTRIBUTES), ['__proto__', ['LS-Admins']]] as const;
    const login = await verify(baselineResponse({ attributes }, poisoned), testProvider(poisoned));
    expect(login.groups).toBeNull();
  });

  it('does not let an attribute named sessionIndex stand in for a missing SessionIndex', async () => {
    const xml = baselineResponse({ sessionIndex: null, attributes: { ...BASELINE_ATTRIBUTES, sessionIndex: ['_forged'] } });
    expect((await verify(xml)).sessionIndex).toBeNull();
  });

  it('reads an empty AttributeValue as the empty string', async () => {
    const login = await verify(baselineResponse({ attributes: { ...BASELINE_ATTRIBUTES, FirstName: [''], Groups: ['LS-Admins', ''] } }));
    expect([login.firstName, login.groups]).toEqual(['', ['LS-Admins', '']]);
  });

  it('rejects an email attribute that is not an email address', async () => {
    await expectSamlError(verify(baselineResponse({ attributes: { ...BASELINE_ATTRIBUTES, Email: ['not an email'] } })), 'ERR_SAML_ATTRIBUTES');
  });

  it('rejects a login with neither an email attribute nor an email NameID', async () => {
    const { Email: _omitted, ...withoutEmail } = BASELINE_ATTRIBUTES;
    const xml = baselineResponse({ attributes: withoutEmail, nameId: '_persistent-7f3a', nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' });
    await expectSamlError(verify(xml), 'ERR_SAML_ATTRIBUTES');
  });

  it('rejects an empty NameID', async () => {
    await expectSamlError(verify(baselineResponse({ nameId: '' })), 'ERR_SAML_ATTRIBUTES');
  });
});
