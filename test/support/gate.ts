/**
 * The fast-path gate's corpus tools: Responses shaped like each fixture IdP, signed at the assertion, the
 * Response or both, with SHA-256/384/512 and each canonicalization, and the comparison of the two pipelines
 * (stock node-saml + rolegate's checks, and the fast path) on one input.
 */
import { createHash, createSign, createVerify } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { DOMParser } from '@xmldom/xmldom';
import { ExclusiveCanonicalization, SignedXml } from 'xml-crypto';
import type { OrganizationConfig } from '../../src/configuration/types.js';
import { buildSignedResponse, encodePostBinding, type BuildResponseOptions } from '../../src/devidp/response.js';
import { RolegateError } from '../../src/errors.js';
import { createResponseVerifiers } from '../../src/saml/provider.js';
import type { VerifiedLogin } from '../../src/saml/types.js';
import { IDP_ENTITY_ID, KEYS, NOW, REQUEST_ID, idpTrust, testOrg, testSamlSettings } from './saml.js';

const NS_P = 'urn:oasis:names:tc:SAML:2.0:protocol';
const NS_A = 'urn:oasis:names:tc:SAML:2.0:assertion';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export const CANONICALIZATIONS = [
  'http://www.w3.org/2001/10/xml-exc-c14n#',
  // Exclusive c14n with an InclusiveNamespaces PrefixList (AD FS and Entra ID send one for "xs").
  'http://www.w3.org/2001/10/xml-exc-c14n# PrefixList=xs xsi',
  'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
] as const;

export const ALGORITHMS = {
  'SHA-256': { signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', digest: 'http://www.w3.org/2001/04/xmlenc#sha256', node: 'sha256' },
  'SHA-384': { signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384', digest: 'http://www.w3.org/2001/04/xmldsig-more#sha384', node: 'sha384' },
  'SHA-512': { signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', digest: 'http://www.w3.org/2001/04/xmlenc#sha512', node: 'sha512' },
} as const;
export type AlgorithmName = keyof typeof ALGORITHMS;

export const SIGN_LEVELS = ['assertion', 'response', 'both'] as const;
export type SignLevel = (typeof SIGN_LEVELS)[number];

/** How each fixture IdP names its attributes and NameID (as test/idp-shapes and test/interop configure them). */
export interface IdpShape {
  readonly name: string;
  /** The org's `sso.attributes` for this IdP. */
  readonly configured: { readonly email: string; readonly firstName: string; readonly lastName: string; readonly groups: string };
  readonly nameId: string;
  readonly nameIdFormat: string | null;
  readonly attributeNameFormat: string | null;
  readonly attributes: ReadonlyArray<readonly [string, readonly string[]]>;
}

const CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';
const MS_CLAIMS = 'http://schemas.microsoft.com/ws/2008/06/identity/claims';

export const IDP_SHAPES: readonly IdpShape[] = [
  {
    name: 'Entra ID',
    configured: { email: `${CLAIMS}/emailaddress`, firstName: `${CLAIMS}/givenname`, lastName: `${CLAIMS}/surname`, groups: `${MS_CLAIMS}/groups` },
    nameId: 'JbAHxk2D3pVg1Ro0qLnrYw-opaque-persistent',
    nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    attributeNameFormat: null,
    attributes: [
      ['http://schemas.microsoft.com/identity/claims/tenantid', ['72f988bf-86f1-41af-91ab-2d7cd011db47']],
      ['http://schemas.microsoft.com/identity/claims/objectidentifier', ['0f6c3c43-79d6-4b09-8c3b-3c9f1f0e4d1a']],
      [`${CLAIMS}/name`, ['alice@corp.example']],
      [`${CLAIMS}/emailaddress`, ['Alice@Corp.example']],
      [`${CLAIMS}/givenname`, ['Alice']],
      [`${CLAIMS}/surname`, ['Liddell']],
      [`${MS_CLAIMS}/groups`, ['6d3f2a8e-1b4c-4f0a-9e7d-2c5b8a1f0e31', 'b91c7e02-55d4-4c3b-a8f1-0e6d9c2b7a45']],
    ],
  },
  {
    name: 'Okta',
    configured: { email: 'email', firstName: 'firstName', lastName: 'lastName', groups: 'groups' },
    nameId: 'alice@corp.example',
    nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    attributeNameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified',
    attributes: [
      ['email', ['alice@corp.example']],
      ['firstName', ['Alice']],
      ['lastName', ['Liddell']],
      ['groups', ['LS-Admins', 'Everyone']],
    ],
  },
  {
    name: 'AD FS',
    configured: { email: `${CLAIMS}/emailaddress`, firstName: `${CLAIMS}/givenname`, lastName: `${CLAIMS}/surname`, groups: `${MS_CLAIMS}/role` },
    nameId: 'CORP\\alice',
    nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    attributeNameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
    attributes: [
      [`${CLAIMS}/upn`, ['alice@corp.example']],
      [`${CLAIMS}/emailaddress`, ['alice@corp.example']],
      [`${CLAIMS}/givenname`, ['Alice']],
      [`${CLAIMS}/surname`, ['Liddell']],
      [`${MS_CLAIMS}/role`, ['CORP\\LS-Admins', 'CORP\\Domain Users']],
    ],
  },
  {
    name: 'SimpleSAMLphp',
    configured: { email: 'mail', firstName: 'givenName', lastName: 'sn', groups: 'groups' },
    nameId: '_4f7a1c2b9e0d3a6f8c5b2e1d0a9f8e7c6b5a4d3c2b',
    nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
    attributeNameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
    attributes: [
      ['uid', ['alice']],
      ['mail', ['alice@corp.example']],
      ['givenName', ['Alice']],
      ['sn', ['Liddell']],
      ['groups', ['LS-Admins', 'LS-Project42-Reviewers']],
    ],
  },
];

export function shapeOrg(shape: IdpShape): OrganizationConfig {
  const org = testOrg();
  return { ...org, sso: { ...org.sso, attributes: shape.configured } };
}

/** The unsigned Response of `shape` for `org` (pinned clock, answering REQUEST_ID). */
export function unsignedResponse(shape: IdpShape, org: OrganizationConfig, overrides: Partial<BuildResponseOptions> = {}): string {
  return buildSignedResponse({
    issuer: IDP_ENTITY_ID,
    acsUrl: org.sso.acsUrl,
    audience: org.sso.spEntityId,
    inResponseTo: REQUEST_ID,
    nameId: shape.nameId,
    nameIdFormat: shape.nameIdFormat,
    attributes: shape.attributes,
    attributeNameFormat: shape.attributeNameFormat,
    now: NOW,
    sign: 'none',
    ...overrides,
  });
}

// xml-crypto 6.3 implements neither SHA-384 digests nor RSA-SHA384 signatures; an IdP may still send them.
// They are registered on the signing instance only (the SP side never gets them).
class Sha384 {
  getHash(xml: string): string {
    return createHash('sha384').update(xml, 'utf8').digest('base64');
  }
  getAlgorithmName(): string {
    return ALGORITHMS['SHA-384'].digest;
  }
}
class RsaSha384 {
  getSignature(signedInfo: string, privateKey: string): string {
    return createSign('RSA-SHA384').update(signedInfo).sign(privateKey, 'base64');
  }
  verifySignature(material: string, key: string, signatureValue: string): boolean {
    return createVerify('RSA-SHA384').update(material).verify(key, signatureValue, 'base64');
  }
  getAlgorithmName(): string {
    return ALGORITHMS['SHA-384'].signature;
  }
}

function signElement(xml: string, what: 'Assertion' | 'Response', algorithm: AlgorithmName, c14n: string): string {
  const response = `/*[local-name(.)='Response' and namespace-uri(.)='${NS_P}']`;
  const target = what === 'Response' ? response : `${response}/*[local-name(.)='Assertion' and namespace-uri(.)='${NS_A}']`;
  const issuer = `${target}/*[local-name(.)='Issuer' and namespace-uri(.)='${NS_A}']`;
  const alg = ALGORITHMS[algorithm];
  const [algorithmUri, prefixList] = c14n.split(' PrefixList=') as [string, string | undefined];
  const sig = new SignedXml({
    privateKey: KEYS.idpKey,
    publicCert: KEYS.idpCert,
    signatureAlgorithm: alg.signature,
    canonicalizationAlgorithm: algorithmUri,
    ...(prefixList === undefined ? {} : { inclusiveNamespacesPrefixList: prefixList }),
  });
  (sig.HashAlgorithms as Record<string, unknown>)[ALGORITHMS['SHA-384'].digest] = Sha384;
  (sig.SignatureAlgorithms as Record<string, unknown>)[ALGORITHMS['SHA-384'].signature] = RsaSha384;
  sig.addReference({
    xpath: target,
    digestAlgorithm: alg.digest,
    transforms: [ENVELOPED, algorithmUri],
    ...(prefixList === undefined ? {} : { inclusiveNamespacesPrefixList: prefixList.split(' ') }),
  });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: issuer, action: 'after' } });
  return sig.getSignedXml();
}

/** Sign as an IdP does (`c14n` may carry " PrefixList=a b" for exclusive c14n's InclusiveNamespaces): the assertion first, the Response last (its signature covers the signed assertion). */
export function signAt(unsigned: string, level: SignLevel, algorithm: AlgorithmName, c14n: string): string {
  let xml = unsigned;
  if (level === 'assertion' || level === 'both') xml = signElement(xml, 'Assertion', algorithm, c14n);
  if (level === 'response' || level === 'both') xml = signElement(xml, 'Response', algorithm, c14n);
  return xml;
}

/**
 * A document signed at the assertion alone (SHA-256, exclusive c14n without a PrefixList) whose SignedInfo was
 * then edited: its SignatureValue computed again, with the IdP key, over the exclusive canonical form of the
 * edited SignedInfo, so that the edit itself, not a stale signature, decides the outcome.
 */
export function resignAssertionSignedInfo(xml: string): string {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const signedInfo = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'SignedInfo').item(0);
  if (signedInfo === null) throw new Error('no SignedInfo');
  const canon = new ExclusiveCanonicalization().process(signedInfo as unknown as Element, {});
  const value = createSign('RSA-SHA256').update(canon).sign(KEYS.idpKey, 'base64');
  return xml.replace(/(<ds:SignatureValue>)[^<]*(<\/ds:SignatureValue>)/, `$1${value}$2`);
}

export type GateOutcome = { readonly ok: true; readonly login: VerifiedLogin } | { readonly ok: false; readonly code: string };

async function outcome(run: () => Promise<VerifiedLogin>): Promise<GateOutcome> {
  try {
    return { ok: true, login: await run() };
  } catch (err) {
    return { ok: false, code: err instanceof RolegateError ? err.code : `not a RolegateError: ${String(err)}` };
  }
}

export interface GateVerdict {
  readonly stock: GateOutcome;
  readonly fast: GateOutcome;
  readonly same: boolean;
}

/** Both pipelines on one posted document (XML text): their outcomes, and whether they are identical. */
export async function decideBothWays(verifiers: ReturnType<typeof createResponseVerifiers>, xml: string): Promise<GateVerdict> {
  const form = { SAMLResponse: encodePostBinding(xml) };
  const stock = await outcome(() => verifiers.stock(form));
  const fast = await outcome(() => verifiers.fast(form));
  return { stock, fast, same: isDeepStrictEqual(stock, fast) };
}

export function verifiersFor(org: OrganizationConfig): ReturnType<typeof createResponseVerifiers> {
  return createResponseVerifiers(org, testSamlSettings(), idpTrust(org));
}
