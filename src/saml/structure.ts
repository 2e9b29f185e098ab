/**
 * Step b: structural checks on the posted (unsigned, attacker-controllable) document that node-saml 5.1.0
 * does not make. Nothing here is trusted for identity; it only rejects. Identity comes from the verified
 * assertion (assertion.ts).
 */
import {
  ALLOWED_DATA_ENCRYPTION_ALGORITHMS,
  ALLOWED_DIGEST_ALGORITHMS,
  ALLOWED_KEY_TRANSPORT_ALGORITHMS,
  ALLOWED_OAEP_DIGEST_ALGORITHMS,
  ALLOWED_SIGNATURE_ALGORITHMS,
  NS_ASSERTION,
  NS_DSIG,
  NS_PROTOCOL,
  NS_XMLENC,
  NS_XMLENC11,
  STATUS_SUCCESS,
} from './constants.js';
import { quote, reject } from './fail.js';
import { attr, childElements, isElement, optionalChild, requiredChild, simpleText } from './xml.js';

export interface ResponseExpectations {
  readonly acsUrl: string;
  readonly idpEntityId: string;
  /** Whether an SP decryption key is configured (`sso.sp_private_key_file`); without one, EncryptedAssertion is refused. */
  readonly canDecrypt: boolean;
}

export interface ResponseFacts {
  /** Response@InResponseTo: unsigned under assertion-only signing, so only ever compared, never trusted. */
  readonly responseInResponseTo: string | null;
  /** Whether the Response itself carries an enveloped ds:Signature (then it must verify, see provider.ts). */
  readonly responseSigned: boolean;
  /** The one EncryptedAssertion (its algorithms already on the allow-list), or null for a plain Assertion. */
  readonly encryptedAssertion: Element | null;
}

export function checkResponseStructure(doc: Document, expect: ResponseExpectations): ResponseFacts {
  checkDocumentLevel(doc);
  const root = doc.documentElement;
  if (root.namespaceURI !== NS_PROTOCOL || root.localName !== 'Response') {
    reject('ERR_SAML_MALFORMED', 'the root element is not a samlp:Response');
  }

  // Status first: an IdP reporting failure (usually without an assertion) gets the useful code.
  // node-saml reads Status only when there is no assertion (Responder + signed
  // assertion was ACCEPTED).
  const status = requiredChild(root, NS_PROTOCOL, 'Status');
  const statusCode = requiredChild(status, NS_PROTOCOL, 'StatusCode');
  const statusValue = attr(statusCode, 'Value');
  if (statusValue !== STATUS_SUCCESS) reject('ERR_SAML_STATUS', `the IdP returned status ${quote(statusValue)}`);

  // Exactly one assertion in the whole document, counted by namespace + local name wherever it hides
  // (XSW and CVE-2022-41912 place a second one beside, inside or under the signed one).
  const elements = descendantElements(doc);
  const assertions = byName(elements, NS_ASSERTION, 'Assertion');
  const encrypted = byName(elements, NS_ASSERTION, 'EncryptedAssertion');
  const total = assertions.length + encrypted.length;
  if (total !== 1) reject('ERR_SAML_MALFORMED', `expected exactly one assertion, found ${total}`);
  const only = assertions[0] ?? encrypted[0] ?? null;
  if (only === null || only.parentNode !== root) reject('ERR_SAML_MALFORMED', 'the assertion is not a child of the Response');
  if (encrypted.length === 1 && !expect.canDecrypt) {
    reject('ERR_SAML_ENCRYPTED', 'an encrypted assertion, but no SP decryption key is configured (sso.sp_private_key_file)');
  }

  // Signature and digest algorithms, and (before anything is decrypted) the encryption algorithms.
  checkAlgorithms(doc, elements);

  // node-saml never reads Destination (observed ACCEPTED with a foreign one).
  const destination = attr(root, 'Destination');
  if (destination !== null && destination !== expect.acsUrl) {
    reject('ERR_SAML_DESTINATION', `Destination ${quote(destination)} is not this ACS URL`);
  }

  // idpIssuer is only used by node-saml for logout messages.
  const issuer = optionalChild(root, NS_ASSERTION, 'Issuer');
  if (issuer !== null) {
    const value = simpleText(issuer);
    if (value !== expect.idpEntityId) reject('ERR_SAML_ISSUER', `Response Issuer ${quote(value)} is not the configured IdP`);
  }

  return {
    responseInResponseTo: attr(root, 'InResponseTo'),
    responseSigned: childElements(root, NS_DSIG, 'Signature').length > 0,
    encryptedAssertion: encrypted[0] ?? null,
  };
}

/**
 * Every element under `root` (root excluded) in document order: the elements `getElementsByTagNameNS` visits,
 * collected in one walk and then filtered per name (five separate lookups walked the whole document five times).
 * `except`: an element left out with its subtree.
 */
export function descendantElements(root: Node, except: Node | null = null): Element[] {
  const out: Element[] = [];
  // An explicit stack: nesting depth is bounded before parsing (precheck.ts), but no recursion is needed.
  const stack: Node[] = [];
  for (let n = root.lastChild; n !== null; n = n.previousSibling) stack.push(n);
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (!isElement(node) || node === except) continue;
    out.push(node);
    for (let n = node.lastChild; n !== null; n = n.previousSibling) stack.push(n);
  }
  return out;
}

/** `getElementsByTagNameNS(ns, localName)` over those elements; `'*'` for any namespace, as there. */
function byName(elements: readonly Element[], ns: string, localName: string): Element[] {
  return elements.filter((e) => (ns === '*' || e.namespaceURI === ns) && e.localName === localName);
}

/** Before/after the root: only an XML declaration and whitespace. */
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
 * local-name() XPath would pick up is checked too), must be on the allow-list.
 * Every EncryptionMethod likewise (checked before decryption, and xml-encryption selects
 * them with `//*[local-name(.)=…]` anywhere in the EncryptedAssertion, so all of them are checked): under
 * EncryptedData a content algorithm, under EncryptedKey a key transport, nowhere else. A DigestMethod inside
 * an XML Encryption EncryptionMethod is the OAEP digest, not a signature digest, and has its own list.
 * Used on the posted document and again on the decrypted assertion.
 */
export function checkAlgorithms(doc: Document, elements: readonly Element[] = descendantElements(doc)): void {
  const algorithmOf = (element: Element | null): string | null => element?.getAttribute('Algorithm') ?? null;
  const refuse = (what: string, algorithm: string | null): never => reject('ERR_SAML_ALGORITHM', `${what} ${quote(algorithm)} is not allowed`);

  for (const element of byName(elements, '*', 'SignatureMethod')) {
    const algorithm = algorithmOf(element);
    if (algorithm === null || !ALLOWED_SIGNATURE_ALGORITHMS.has(algorithm)) refuse('SignatureMethod', algorithm);
  }

  for (const element of byName(elements, '*', 'DigestMethod')) {
    const algorithm = algorithmOf(element);
    const parent = element.parentNode ?? null;
    if (parent !== null && isEncryptionMethod(parent)) {
      if (algorithm === null || !ALLOWED_OAEP_DIGEST_ALGORITHMS.has(algorithm)) refuse('the key transport (OAEP) DigestMethod', algorithm);
    } else if (algorithm === null || !ALLOWED_DIGEST_ALGORITHMS.has(algorithm)) refuse('DigestMethod', algorithm);
  }

  for (const element of byName(elements, '*', 'EncryptionMethod')) {
    const algorithm = algorithmOf(element);
    const parent = element.parentNode ?? null;
    const where = parent !== null && isElement(parent) ? parent.localName : null;
    if (where === 'EncryptedData') {
      if (algorithm === null || !ALLOWED_DATA_ENCRYPTION_ALGORITHMS.has(algorithm)) refuse('the assertion encryption algorithm', algorithm);
    } else if (where === 'EncryptedKey') {
      if (algorithm === null || !ALLOWED_KEY_TRANSPORT_ALGORITHMS.has(algorithm)) refuse('the key transport algorithm', algorithm);
    } else {
      reject('ERR_SAML_ENCRYPTED', `an EncryptionMethod outside EncryptedData/EncryptedKey (in ${quote(where)})`);
    }
  }
}

function isEncryptionMethod(node: Node): boolean {
  return isElement(node) && node.localName === 'EncryptionMethod' && (node.namespaceURI === NS_XMLENC || node.namespaceURI === NS_XMLENC11);
}
