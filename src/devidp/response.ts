/**
 * Builds and signs a SAML 2.0 Response, as an IdP would. Used by the built-in development IdP at runtime
 * and by the tests, which override exactly one knob BEFORE signing to make one thing wrong while the
 * signature stays valid (reference §3 R2, "each negative test = accepted baseline + exactly one change").
 *
 * The document is built with @xmldom/xmldom and serialised by its XMLSerializer, so every text and
 * attribute value is escaped by the serialiser: a value can never inject markup. Signing is xml-crypto's
 * SignedXml (enveloped signature, exclusive c14n), never hand-written crypto.
 */
import { randomBytes } from 'node:crypto';
import { DOMImplementation, XMLSerializer } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  xs: 'http://www.w3.org/2001/XMLSchema',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xmlns: 'http://www.w3.org/2000/xmlns/',
} as const;

export const SAML_STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
export const SAML_CM_BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
export const NAMEID_FORMAT_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const DIGEST_SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const ATTRNAME_BASIC = 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';
const AUTHN_CONTEXT_PPT = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
const DEFAULT_LIFETIME_MS = 5 * 60 * 1000;

/** An attribute list; the array form may name an attribute twice (to test duplicate handling). */
export type ResponseAttributes =
  | Readonly<Record<string, readonly string[]>>
  | ReadonlyArray<readonly [name: string, values: readonly string[]]>;

export type SignWhat = 'assertion' | 'response' | 'both' | 'none';

/**
 * Every knob of the Response. `undefined` means "the default"; `null` means "omit this element/attribute".
 */
export interface BuildResponseOptions {
  /** Issuer of both the Response and the Assertion unless overridden separately. */
  readonly issuer: string;
  /** Response/Issuer; `null` omits it (it is optional in SAML). */
  readonly responseIssuer?: string | null;
  readonly assertionIssuer?: string;
  /** The SP's ACS URL: the default for Destination and SubjectConfirmationData@Recipient. */
  readonly acsUrl: string;
  /** Response@Destination; defaults to acsUrl; `null` omits it. */
  readonly destination?: string | null;
  /** SubjectConfirmationData@Recipient; defaults to acsUrl; `null` omits it. */
  readonly recipient?: string | null;
  /** Conditions/AudienceRestriction/Audience; `null` omits the AudienceRestriction. */
  readonly audience: string | null;
  /** AuthnRequest ID answered; the default for both InResponseTo attributes. `null`/absent = unsolicited. */
  readonly inResponseTo?: string | null;
  readonly responseInResponseTo?: string | null;
  readonly scdInResponseTo?: string | null;
  readonly nameId: string;
  /** Default emailAddress; `null` omits the Format attribute. */
  readonly nameIdFormat?: string | null;
  /** AuthnStatement@SessionIndex; default a random id; `null` omits it. */
  readonly sessionIndex?: string | null;
  /** Default none; an empty object/array omits the AttributeStatement. */
  readonly attributes?: ResponseAttributes;
  /**
   * Attribute@NameFormat of every attribute; default `…:attrname-format:basic`; `null` omits it (as Entra ID
   * does). Real IdPs differ here (Okta: unspecified, AD FS: uri); the SP must not care.
   */
  readonly attributeNameFormat?: string | null;
  /** Top-level StatusCode Value; default Success. */
  readonly statusCode?: string;
  /** SubjectConfirmation@Method; default bearer. */
  readonly subjectConfirmationMethod?: string;
  /** Clock for IssueInstant/AuthnInstant and the defaults below. Default `new Date()`. */
  readonly now?: Date;
  /** Conditions@NotBefore; default `now`; `null` omits it. */
  readonly notBefore?: Date | null;
  /** Conditions@NotOnOrAfter; default now + 5 min; `null` omits it. */
  readonly notOnOrAfter?: Date | null;
  /** SubjectConfirmationData@NotOnOrAfter; default = Conditions NotOnOrAfter (or now + 5 min); `null` omits it. */
  readonly scdNotOnOrAfter?: Date | null;
  readonly responseId?: string;
  readonly assertionId?: string;
  /** What to sign; default 'assertion' (the common real IdP setup). 'both' signs the assertion first. */
  readonly sign?: SignWhat;
  /** PEM private key; required unless sign is 'none'. */
  readonly privateKey?: string;
  /** PEM certificate put in KeyInfo/X509Data when given; absent/null = no KeyInfo (the SP ignores it anyway). */
  readonly cert?: string | null;
  readonly signatureAlgorithm?: string;
  readonly digestAlgorithm?: string;
}

export function newSamlId(): string {
  // NCName (must not start with a digit): "_" + 128 random bits.
  return `_${randomBytes(16).toString('hex')}`;
}

/** Build the Response and sign it as asked. Returns the XML text (not base64). */
export function buildSignedResponse(opts: BuildResponseOptions): string {
  const sign = opts.sign ?? 'assertion';
  const xml = buildUnsignedResponse(opts);
  if (sign === 'none') return xml;
  const key = opts.privateKey;
  if (key === undefined) throw new TypeError('buildSignedResponse: privateKey is required to sign');
  let out = xml;
  // Inner first, outer last: a Response signature must cover the final assertion (with its Signature).
  if (sign === 'assertion' || sign === 'both') out = signElement(out, 'Assertion', opts, key);
  if (sign === 'response' || sign === 'both') out = signElement(out, 'Response', opts, key);
  return out;
}

/**
 * Sign the Response element of an already built (and possibly post-processed, e.g. assertion-encrypted)
 * Response, as an IdP that signs the Response last does. Same algorithms and placement as above.
 */
export function signResponse(xml: string, opts: BuildResponseOptions): string {
  if (opts.privateKey === undefined) throw new TypeError('signResponse: privateKey is required');
  return signElement(xml, 'Response', opts, opts.privateKey);
}

/** HTTP-POST binding: base64 of the UTF-8 bytes, no deflate (SAML Bindings §3.5.4). */
export function encodePostBinding(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64');
}

function pick<T>(value: T | null | undefined, fallback: T | null): T | null {
  return value === undefined ? fallback : value;
}

function buildUnsignedResponse(o: BuildResponseOptions): string {
  const now = o.now ?? new Date();
  const notOnOrAfter = pick(o.notOnOrAfter, new Date(now.getTime() + DEFAULT_LIFETIME_MS));
  const scdNotOnOrAfter = pick(
    o.scdNotOnOrAfter,
    notOnOrAfter ?? new Date(now.getTime() + DEFAULT_LIFETIME_MS),
  );
  const notBefore = pick(o.notBefore, now);
  const inResponseTo = o.inResponseTo ?? null;
  const responseIrt = pick(o.responseInResponseTo, inResponseTo);
  const scdIrt = pick(o.scdInResponseTo, inResponseTo);
  const responseIssuer = pick(o.responseIssuer, o.issuer);
  const destination = pick(o.destination, o.acsUrl);
  const recipient = pick(o.recipient, o.acsUrl);
  const nameIdFormat = pick(o.nameIdFormat, NAMEID_FORMAT_EMAIL);
  const sessionIndex = pick(o.sessionIndex, newSamlId());
  const assertionId = o.assertionId ?? newSamlId();
  const instant = now.toISOString();

  const doc = new DOMImplementation().createDocument(NS.protocol, 'samlp:Response', null);
  const b = new Builder(doc);
  const response = doc.documentElement;
  response.setAttributeNS(NS.xmlns, 'xmlns:saml', NS.assertion);
  b.attrs(response, {
    ID: o.responseId ?? newSamlId(),
    Version: '2.0',
    IssueInstant: instant,
    Destination: destination,
    InResponseTo: responseIrt,
  });
  if (responseIssuer !== null) b.el(response, NS.assertion, 'saml:Issuer', {}, responseIssuer);
  const status = b.el(response, NS.protocol, 'samlp:Status');
  b.el(status, NS.protocol, 'samlp:StatusCode', { Value: o.statusCode ?? SAML_STATUS_SUCCESS });

  const assertion = b.el(response, NS.assertion, 'saml:Assertion', {
    ID: assertionId,
    Version: '2.0',
    IssueInstant: instant,
  });
  assertion.setAttributeNS(NS.xmlns, 'xmlns:xs', NS.xs);
  assertion.setAttributeNS(NS.xmlns, 'xmlns:xsi', NS.xsi);
  b.el(assertion, NS.assertion, 'saml:Issuer', {}, o.assertionIssuer ?? o.issuer);

  const subject = b.el(assertion, NS.assertion, 'saml:Subject');
  b.el(subject, NS.assertion, 'saml:NameID', { Format: nameIdFormat }, o.nameId);
  const sc = b.el(subject, NS.assertion, 'saml:SubjectConfirmation', {
    Method: o.subjectConfirmationMethod ?? SAML_CM_BEARER,
  });
  b.el(sc, NS.assertion, 'saml:SubjectConfirmationData', {
    InResponseTo: scdIrt,
    NotOnOrAfter: scdNotOnOrAfter?.toISOString() ?? null,
    Recipient: recipient,
  });

  const conditions = b.el(assertion, NS.assertion, 'saml:Conditions', {
    NotBefore: notBefore?.toISOString() ?? null,
    NotOnOrAfter: notOnOrAfter?.toISOString() ?? null,
  });
  if (o.audience !== null) {
    const restriction = b.el(conditions, NS.assertion, 'saml:AudienceRestriction');
    b.el(restriction, NS.assertion, 'saml:Audience', {}, o.audience);
  }

  const authn = b.el(assertion, NS.assertion, 'saml:AuthnStatement', {
    AuthnInstant: instant,
    SessionIndex: sessionIndex,
  });
  const context = b.el(authn, NS.assertion, 'saml:AuthnContext');
  b.el(context, NS.assertion, 'saml:AuthnContextClassRef', {}, AUTHN_CONTEXT_PPT);

  const attributes = attributeList(o.attributes);
  const nameFormat = pick(o.attributeNameFormat, ATTRNAME_BASIC);
  if (attributes.length > 0) {
    const statement = b.el(assertion, NS.assertion, 'saml:AttributeStatement');
    for (const [name, values] of attributes) {
      const attribute = b.el(statement, NS.assertion, 'saml:Attribute', { Name: name, NameFormat: nameFormat });
      for (const value of values) {
        const av = b.el(attribute, NS.assertion, 'saml:AttributeValue', {}, value);
        av.setAttributeNS(NS.xsi, 'xsi:type', 'xs:string');
      }
    }
  }
  // requireWellFormed: the serialiser refuses anything that would not re-parse as written.
  return new XMLSerializer().serializeToString(doc, false, undefined, { requireWellFormed: true });
}

function attributeList(attributes: ResponseAttributes | undefined): ReadonlyArray<readonly [string, readonly string[]]> {
  if (attributes === undefined) return [];
  if (isAttributeArray(attributes)) return attributes;
  // Object.entries sees own enumerable keys only, so a computed `__proto__` key is emitted as a name.
  return Object.entries(attributes);
}

function isAttributeArray(
  attributes: ResponseAttributes,
): attributes is ReadonlyArray<readonly [string, readonly string[]]> {
  return Array.isArray(attributes);
}

// Characters XML 1.0 cannot carry at all (§2.2); escaping cannot help, so refuse them.
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

class Builder {
  constructor(private readonly doc: Document) {}

  el(
    parent: Element,
    ns: string,
    qname: string,
    attributes: Readonly<Record<string, string | null>> = {},
    text?: string,
  ): Element {
    const element = this.doc.createElementNS(ns, qname);
    this.attrs(element, attributes);
    if (text !== undefined) element.appendChild(this.doc.createTextNode(checked(text)));
    parent.appendChild(element);
    return element;
  }

  attrs(element: Element, attributes: Readonly<Record<string, string | null>>): void {
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== null) element.setAttribute(name, checked(value));
    }
  }
}

function checked(value: string): string {
  if (INVALID_XML_CHARS.test(value)) throw new TypeError('buildSignedResponse: value contains a character XML cannot carry');
  return value;
}

function signElement(xml: string, what: 'Assertion' | 'Response', o: BuildResponseOptions, privateKey: string): string {
  const response = `/*[local-name(.)='Response' and namespace-uri(.)='${NS.protocol}']`;
  const target =
    what === 'Response' ? response : `${response}/*[local-name(.)='Assertion' and namespace-uri(.)='${NS.assertion}']`;
  const issuer = `${target}/*[local-name(.)='Issuer' and namespace-uri(.)='${NS.assertion}']`;
  const sig = new SignedXml({
    privateKey,
    ...(o.cert === undefined || o.cert === null ? {} : { publicCert: o.cert, getKeyInfoContent: SignedXml.getKeyInfoContent }),
    signatureAlgorithm: o.signatureAlgorithm ?? RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({
    xpath: target,
    digestAlgorithm: o.digestAlgorithm ?? DIGEST_SHA256,
    transforms: [ENVELOPED, EXC_C14N],
  });
  // Schema order: the Signature follows the Issuer; without a (Response) Issuer it is the first child.
  const hasIssuer = what === 'Assertion' || pick(o.responseIssuer, o.issuer) !== null;
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: hasIssuer ? { reference: issuer, action: 'after' } : { reference: target, action: 'prepend' },
  });
  return sig.getSignedXml();
}
