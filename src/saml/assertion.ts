/**
 * Step d: checks on the VERIFIED assertion only: the XML node-saml returns from
 * `profile.getAssertionXml()`, i.e. the bytes the signature covers, re-parsed from their canonical
 * form (node-saml `getSignedAssertion`, the CVE-2025-54419 fix). `getSamlResponseXml()` is the unsigned
 * posted document and is never read.
 */
import { CM_BEARER, NS_ASSERTION } from './constants.js';
import { quote, reject } from './fail.js';
import { attr, childElements, optionalChild, parseStrict, requiredChild, simpleText } from './xml.js';

export interface AssertionExpectations {
  readonly idpEntityId: string;
  readonly acsUrl: string;
  readonly clockSkewMs: number;
  readonly allowIdpInitiated: boolean;
  /** Response@InResponseTo from the posted (unsigned) document; compared with the signed value only. */
  readonly responseInResponseTo: string | null;
  /** Configured attribute names that must appear at most once (the groups name among them). */
  readonly singleValuedAttributeNames: readonly string[];
  readonly nowMs: number;
}

export interface AssertionFacts {
  readonly assertionId: string;
  readonly issuer: string;
  readonly nameId: string;
  readonly nameIdFormat: string | null;
  readonly sessionIndex: string | null;
  readonly inResponseTo: string | null;
  readonly scdNotOnOrAfterMs: number;
  readonly conditionsNotOnOrAfterMs: number | null;
  /** Attribute Name → number of <Attribute> elements with that Name (for "present but empty"). */
  readonly attributeElementCount: ReadonlyMap<string, number>;
}

export function checkSignedAssertion(assertionXml: string, expect: AssertionExpectations): AssertionFacts {
  return checkSignedAssertionElement(parseStrict(assertionXml, 'the signed assertion').documentElement, expect);
}

/** The same checks on the root element of the signed assertion's own parse (the fast path has it already). */
export function checkSignedAssertionElement(assertion: Element, expect: AssertionExpectations): AssertionFacts {
  if (assertion.namespaceURI !== NS_ASSERTION || assertion.localName !== 'Assertion') {
    reject('ERR_SAML_MALFORMED', 'the signed element is not a saml:Assertion');
  }
  const assertionId = attr(assertion, 'ID');
  if (assertionId === null || assertionId === '') reject('ERR_SAML_MALFORMED', 'the assertion has no ID');

  // node-saml does not compare the assertion Issuer with idpIssuer.
  const issuer = simpleText(requiredChild(assertion, NS_ASSERTION, 'Issuer'));
  if (issuer !== expect.idpEntityId) reject('ERR_SAML_ISSUER', `Assertion Issuer ${quote(issuer)} is not the configured IdP`);

  const subject = requiredChild(assertion, NS_ASSERTION, 'Subject');
  // NameID is read here rather than from `profile.nameID`: node-saml copies attributes onto the profile
  // when the profile lacks that key, so with no/empty NameID an attribute named "nameID" would fill it.
  const nameIdElement = optionalChild(subject, NS_ASSERTION, 'NameID');
  const nameId = nameIdElement === null ? '' : simpleText(nameIdElement);
  if (nameId === '') reject('ERR_SAML_ATTRIBUTES', 'the assertion has no NameID');

  const scd = bearerConfirmationData(subject, expect);
  const scdIrt = attr(scd, 'InResponseTo');
  if (scdIrt === '') reject('ERR_SAML_IN_RESPONSE_TO', 'SubjectConfirmationData@InResponseTo is empty');
  // node-saml trusts an unsigned Response@InResponseTo when the signed SCD has none,
  // so an attacker could graft a request id issued to their browser onto an unsolicited assertion.
  // A Response that claims to answer a request the signed assertion does not answer is rejected, whatever
  // allow_idp_initiated says (the spec requires SCD@InResponseTo on solicited responses, Profiles §4.1.4.3).
  if (expect.responseInResponseTo !== null && expect.responseInResponseTo !== scdIrt) {
    reject('ERR_SAML_IN_RESPONSE_TO', 'Response@InResponseTo does not match the signed SubjectConfirmationData@InResponseTo');
  }
  if (scdIrt === null && !expect.allowIdpInitiated) {
    reject('ERR_SAML_UNSOLICITED', 'unsolicited response (no InResponseTo) and IdP-initiated login is not allowed');
  }

  const conditions = optionalChild(assertion, NS_ASSERTION, 'Conditions');
  const conditionsNotOnOrAfter = conditions === null ? null : attr(conditions, 'NotOnOrAfter');

  const authn = childElements(assertion, NS_ASSERTION, 'AuthnStatement')[0];
  return {
    assertionId,
    issuer,
    nameId,
    nameIdFormat: nameIdElement === null ? null : attr(nameIdElement, 'Format'),
    sessionIndex: authn === undefined ? null : attr(authn, 'SessionIndex'),
    inResponseTo: scdIrt,
    scdNotOnOrAfterMs: timestamp(attr(scd, 'NotOnOrAfter'), 'SubjectConfirmationData@NotOnOrAfter'),
    conditionsNotOnOrAfterMs: conditionsNotOnOrAfter === null ? null : timestamp(conditionsNotOnOrAfter, 'Conditions@NotOnOrAfter'),
    attributeElementCount: countAttributes(assertion, expect.singleValuedAttributeNames),
  };
}

/**
 * The one bearer SubjectConfirmation and its data (Profiles §4.1.4.3; the
 * Shibboleth SP "Bearer Rule"). node-saml reads neither Method nor Recipient, and with
 * validateInResponseTo 'never' it does not reject an expired SubjectConfirmationData (its time check there
 * only selects a confirmation for the InResponseTo logic), so the window is checked here.
 */
function bearerConfirmationData(subject: Element, expect: AssertionExpectations): Element {
  const bearers = childElements(subject, NS_ASSERTION, 'SubjectConfirmation').filter((sc) => attr(sc, 'Method') === CM_BEARER);
  if (bearers.length !== 1) {
    reject('ERR_SAML_SUBJECT_CONFIRMATION', `expected one bearer SubjectConfirmation, found ${bearers.length}`);
  }
  const [bearer] = bearers;
  const scd = bearer === undefined ? null : optionalChild(bearer, NS_ASSERTION, 'SubjectConfirmationData');
  if (scd === null) return reject('ERR_SAML_SUBJECT_CONFIRMATION', 'the bearer SubjectConfirmation has no SubjectConfirmationData');

  const recipient = attr(scd, 'Recipient');
  if (recipient !== expect.acsUrl) reject('ERR_SAML_RECIPIENT', `Recipient ${quote(recipient)} is not this ACS URL`);

  const notOnOrAfter = attr(scd, 'NotOnOrAfter');
  if (notOnOrAfter === null) reject('ERR_SAML_SUBJECT_CONFIRMATION', 'SubjectConfirmationData has no NotOnOrAfter');
  if (expect.nowMs - expect.clockSkewMs >= timestamp(notOnOrAfter, 'SubjectConfirmationData@NotOnOrAfter')) {
    reject('ERR_SAML_EXPIRED', 'SubjectConfirmationData has expired');
  }
  const notBefore = attr(scd, 'NotBefore');
  if (notBefore !== null && expect.nowMs + expect.clockSkewMs < timestamp(notBefore, 'SubjectConfirmationData@NotBefore')) {
    reject('ERR_SAML_EXPIRED', 'SubjectConfirmationData is not yet valid');
  }
  return scd;
}

// xs:dateTime as SAML uses it (UTC, "Z"); Date.parse alone would accept many other shapes.
const SAML_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

function timestamp(value: string | null, what: string): number {
  const ms = value !== null && SAML_INSTANT.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) reject('ERR_SAML_EXPIRED', `${what} is not a valid UTC instant`);
  return ms;
}

function countAttributes(assertion: Element, names: readonly string[]): ReadonlyMap<string, number> {
  const counts = new Map<string, number>();
  for (const statement of childElements(assertion, NS_ASSERTION, 'AttributeStatement')) {
    for (const attribute of childElements(statement, NS_ASSERTION, 'Attribute')) {
      const name = attr(attribute, 'Name');
      if (name !== null) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  // node-saml keeps only the last of several same-named <Attribute> elements; which groups list would
  // win is then an accident of ordering (reject duplicate groups attributes).
  for (const name of names) {
    if ((counts.get(name) ?? 0) > 1) reject('ERR_SAML_ATTRIBUTES', `attribute ${quote(name)} appears more than once`);
  }
  return counts;
}
