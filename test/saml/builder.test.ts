/** src/devidp/response.ts: the Response builder the development IdP and every SAML test rely on. */
import { DOMParser } from '@xmldom/xmldom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildSignedResponse, encodePostBinding } from '../../src/devidp/response.js';
import { baselineResponse, KEYS, NOW, postForm, testProvider } from '../support/saml.js';

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
};

function parse(xml: string): Document {
  return new DOMParser().parseFromString(xml, 'text/xml');
}

/** Local names of the element children of `el`, in order. */
function childNames(el: Element): string[] {
  const names: string[] = [];
  for (let n = el.firstChild; n !== null; n = n.nextSibling) if (n.nodeType === 1) names.push((n as Element).localName);
  return names;
}

function parts(xml: string): { response: Element; assertion: Element } {
  const response = parse(xml).documentElement;
  const assertion = response.getElementsByTagNameNS(NS.assertion, 'Assertion').item(0);
  if (assertion === null) throw new Error('no assertion');
  return { response, assertion };
}

describe('buildSignedResponse', () => {
  it('writes Attribute@NameFormat basic by default, another one when asked, none for null (IdP shapes)', () => {
    const formats = (xml: string): (string | null)[] => {
      const list = parse(xml).getElementsByTagNameNS(NS.assertion, 'Attribute');
      return Array.from({ length: list.length }, (_, i) => {
        const a = list.item(i);
        return a !== null && a.hasAttribute('NameFormat') ? a.getAttribute('NameFormat') : null;
      });
    };
    expect(new Set(formats(baselineResponse()))).toEqual(new Set(['urn:oasis:names:tc:SAML:2.0:attrname-format:basic']));
    const unspecified = 'urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified';
    expect(new Set(formats(baselineResponse({ attributeNameFormat: unspecified })))).toEqual(new Set([unspecified]));
    expect(new Set(formats(baselineResponse({ attributeNameFormat: null })))).toEqual(new Set([null]));
  });

  it('signs the assertion by default, placing the Signature right after its Issuer (schema order)', () => {
    const { response, assertion } = parts(baselineResponse());
    expect(childNames(response)).toEqual(['Issuer', 'Status', 'Assertion']);
    expect(childNames(assertion)).toEqual(['Issuer', 'Signature', 'Subject', 'Conditions', 'AuthnStatement', 'AttributeStatement']);
  });

  it('signs assertion then Response for "both", and only the Response for "response"', () => {
    const both = parts(baselineResponse({ sign: 'both' }));
    expect(childNames(both.response)).toEqual(['Issuer', 'Signature', 'Status', 'Assertion']);
    expect(childNames(both.assertion)).toContain('Signature');
    const responseOnly = parts(baselineResponse({ sign: 'response' }));
    expect(childNames(responseOnly.response)).toEqual(['Issuer', 'Signature', 'Status', 'Assertion']);
    expect(childNames(responseOnly.assertion)).not.toContain('Signature');
  });

  it('puts the Response Signature first when there is no Response Issuer, and the SP accepts it', async () => {
    const xml = baselineResponse({ sign: 'both', responseIssuer: null });
    expect(childNames(parts(xml).response)).toEqual(['Signature', 'Status', 'Assertion']);
    await expect(testProvider().verifyPostResponse(postForm(xml))).resolves.toMatchObject({ assertionId: '_assertion-1' });
  });

  it('emits no Signature for "none" and no KeyInfo without a certificate', () => {
    expect(baselineResponse({ sign: 'none' })).not.toContain('Signature');
    const noCert = baselineResponse({ cert: null });
    expect(noCert).toContain('<ds:SignatureValue>');
    expect(noCert).not.toContain('KeyInfo');
  });

  it('escapes values so that they can never inject markup', () => {
    const nameId = 'x</saml:NameID><saml:NameID>admin@example.com';
    const attrName = 'a" b="c';
    const { assertion } = parts(baselineResponse({ nameId, attributes: { [attrName]: ['<![CDATA[x]]>', '&amp;'] } }));
    const nameIds = assertion.getElementsByTagNameNS(NS.assertion, 'NameID');
    expect(nameIds.length).toBe(1);
    expect(nameIds.item(0)?.textContent).toBe(nameId);
    const attribute = assertion.getElementsByTagNameNS(NS.assertion, 'Attribute').item(0);
    expect(attribute?.getAttribute('Name')).toBe(attrName);
    expect(attribute?.hasAttribute('b')).toBe(false);
    const values = assertion.getElementsByTagNameNS(NS.assertion, 'AttributeValue');
    expect([values.item(0)?.textContent, values.item(1)?.textContent]).toEqual(['<![CDATA[x]]>', '&amp;']);
  });

  it('refuses characters XML cannot carry', () => {
    expect(() => baselineResponse({ nameId: 'a\u0000b' })).toThrow(TypeError);
  });

  it('requires a private key to sign', () => {
    const { privateKey: _omitted, ...rest } = {
      issuer: 'https://idp.test/metadata',
      acsUrl: 'http://sp.test/saml/1/acs',
      audience: 'http://sp.test/saml/1/metadata',
      nameId: 'a@example.com',
      privateKey: KEYS.idpKey,
    };
    expect(() => buildSignedResponse(rest)).toThrow(TypeError);
    expect(buildSignedResponse({ ...rest, sign: 'none' })).toContain('samlp:Response');
  });

  it('uses the pinned clock and a five-minute lifetime by default', () => {
    const { assertion } = parts(baselineResponse());
    const conditions = assertion.getElementsByTagNameNS(NS.assertion, 'Conditions').item(0);
    expect(conditions?.getAttribute('NotBefore')).toBe('2026-12-01T12:00:00.000Z');
    expect(conditions?.getAttribute('NotOnOrAfter')).toBe('2026-12-01T12:05:00.000Z');
  });
});

describe('encodePostBinding', () => {
  it('is plain base64 of the UTF-8 bytes (no deflate)', () => {
    expect(Buffer.from(encodePostBinding('<a>é</a>'), 'base64').toString('utf8')).toBe('<a>é</a>');
  });
});
