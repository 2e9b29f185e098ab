/**
 * Step b: structural checks on the posted (unsigned, attacker-controllable) document that node-saml 5.1.0
 * does not make. Nothing here is trusted for identity; it only rejects. Identity comes from the verified
 * assertion (assertion.ts).
 */
import {
  ALLOWED_DIGEST_ALGORITHMS,
  ALLOWED_SIGNATURE_ALGORITHMS,
  NS_ASSERTION,
  NS_DSIG,
  NS_PROTOCOL,
  STATUS_SUCCESS,
} from './constants.js';
import { quote, reject } from './fail.js';
import { attr, childElements, isElement, optionalChild, requiredChild, simpleText } from './xml.js';

export interface ResponseExpectations {
  readonly acsUrl: string;
  readonly idpEntityId: string;
}

export interface ResponseFacts {
  /** Response@InResponseTo: unsigned under assertion-only signing, so only ever compared, never trusted. */
  readonly responseInResponseTo: string | null;
  /** Whether the Response itself carries an enveloped ds:Signature (then it must verify, see provider.ts). */
  readonly responseSigned: boolean;
}

export function checkResponseStructure(doc: Document, expect: ResponseExpectations): ResponseFacts {
  checkDocumentLevel(doc);
  const root = doc.documentElement;
  if (root.namespaceURI !== NS_PROTOCOL || root.localName !== 'Response') {
    reject('ERR_SAML_MALFORMED', 'the root element is not a samlp:Response');
  }

  // Status first: an IdP reporting failure (usually without an assertion) gets the useful code.
  // node-saml reads Status only when there is no assertion (reference row 37: Responder + signed
  // assertion was ACCEPTED).
  const status = requiredChild(root, NS_PROTOCOL, 'Status');
  const statusCode = requiredChild(status, NS_PROTOCOL, 'StatusCode');
  const statusValue = attr(statusCode, 'Value');
  if (statusValue !== STATUS_SUCCESS) reject('ERR_SAML_STATUS', `the IdP returned status ${quote(statusValue)}`);

  // Exactly one assertion in the whole document, counted by namespace + local name wherever it hides
  // (reference rows 3–10: XSW and CVE-2022-41912 place a second one beside, inside or under the signed one).
  const assertions = doc.getElementsByTagNameNS(NS_ASSERTION, 'Assertion');
  const encrypted = doc.getElementsByTagNameNS(NS_ASSERTION, 'EncryptedAssertion');
  const total = assertions.length + encrypted.length;
  if (total !== 1) reject('ERR_SAML_MALFORMED', `expected exactly one assertion, found ${total}`);
  const only = assertions.item(0) ?? encrypted.item(0);
  if (only === null || only.parentNode !== root) reject('ERR_SAML_MALFORMED', 'the assertion is not a child of the Response');
  if (encrypted.length === 1) {
    // No decryption key is configured (and node-saml would not refuse 3DES/rsa-1_5: reference row 39).
    reject('ERR_SAML_ENCRYPTED', 'encrypted assertions are not supported');
  }

  checkAlgorithms(doc);

  // node-saml never reads Destination (reference row 30, observed ACCEPTED with a foreign one).
  const destination = attr(root, 'Destination');
  if (destination !== null && destination !== expect.acsUrl) {
    reject('ERR_SAML_DESTINATION', `Destination ${quote(destination)} is not this ACS URL`);
  }

  // idpIssuer is only used by node-saml for logout messages (reference row 33).
  const issuer = optionalChild(root, NS_ASSERTION, 'Issuer');
  if (issuer !== null) {
    const value = simpleText(issuer);
    if (value !== expect.idpEntityId) reject('ERR_SAML_ISSUER', `Response Issuer ${quote(value)} is not the configured IdP`);
  }

  return {
    responseInResponseTo: attr(root, 'InResponseTo'),
    responseSigned: childElements(root, NS_DSIG, 'Signature').length > 0,
  };
}

/** Before/after the root: only an XML declaration and whitespace (reference row 46; row 12 is xmldom's). */
function checkDocumentLevel(doc: Document): void {
  let roots = 0;
  for (let n = doc.firstChild; n !== null; n = n.nextSibling) {
    if (isElement(n)) roots += 1;
    else if (n.nodeType === 7 && n.nodeName === 'xml' && n.previousSibling === null) continue;
    else if (n.nodeType === 3 && (n.textContent ?? '').trim() === '') continue;
    else reject('ERR_SAML_MALFORMED', 'content outside the root element');
  }
  if (roots !== 1) reject('ERR_SAML_MALFORMED', 'expected exactly one root element');
}

/**
 * Every SignatureMethod/DigestMethod in the document, in any namespace (so a look-alike element that a
 * local-name() XPath would pick up is checked too), must be on the allow-list (reference rows 27–28).
 */
function checkAlgorithms(doc: Document): void {
  const rules: ReadonlyArray<readonly [string, ReadonlySet<string>]> = [
    ['SignatureMethod', ALLOWED_SIGNATURE_ALGORITHMS],
    ['DigestMethod', ALLOWED_DIGEST_ALGORITHMS],
  ];
  for (const [localName, allowed] of rules) {
    const found = doc.getElementsByTagNameNS('*', localName);
    for (let i = 0; i < found.length; i += 1) {
      const algorithm = found.item(i)?.getAttribute('Algorithm') ?? null;
      if (algorithm === null || !allowed.has(algorithm)) {
        reject('ERR_SAML_ALGORITHM', `${localName} ${quote(algorithm)} is not allowed`);
      }
    }
  }
}
