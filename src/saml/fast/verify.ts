/**
 * The ACS pipeline of verify.ts with ONE parse of the posted document.
 *
 * Stock, a login parses the Response with xmldom three times (rolegate's strict parse, node-saml's, and
 * xml-crypto's own for each signature it checks), runs about a dozen XPath scans of the whole document, and
 * parses the signed assertion three more times (node-saml, xml2js, rolegate). Here the strict parse that
 * rolegate's structural checks already need is the one document every later step works on:
 *
 *   a. decodePostBinding                          (unchanged)
 *   b. parseStrict + checkResponseStructure       (unchanged)
 *   c. node-saml's validatePostResponseAsync, re-enacted step by step on that document:
 *      getVerifiedXml for the Response and the assertion (verified-xml.ts, xml-crypto driven on the
 *      document by xml-crypto-document.ts), node-saml's getSignedAssertion on the verified canonical XML
 *      (for an assertion signed alone and canonicalised in place, no parse of it: the assertion's own tree,
 *      read as that parse, original-tree.ts), and processValidlySignedAssertionAsync (assertion-profile.ts)
 *      on the DOM of that signed assertion
 *   d. checkSignedAssertionElement on the same DOM    (the checks of assertion.ts, unchanged)
 *   e. toVerifiedLogin                                 (unchanged)
 *
 * Decisions and error codes are those of the stock pipeline; test/saml/fast-path-gate.test.ts and
 * test/attacks/fast-path-gate.test.ts run both on the same inputs and fail on any difference. Two rare
 * shapes go the stock way whole, so that they need no re-enactment: an EncryptedAssertion (node-saml
 * decrypts it), and a document containing a carriage return (stock verifies a copy with CR LF normalised
 * to LF, which is not the document rolegate parsed).
 */
import { DOMParser } from '@xmldom/xmldom';
import { checkSignedAssertionElement } from '../assertion.js';
import { mapNodeSamlError } from '../errors-map.js';
import { toVerifiedLogin } from '../normalise.js';
import { decodePostBinding } from '../precheck.js';
import { checkResponseStructure } from '../structure.js';
import type { VerifiedLogin } from '../types.js';
import { verifyPostResponse, type VerifyContext } from '../verify.js';
import { parseStrict } from '../xml.js';
import { processVerifiedAssertion } from './assertion-profile.js';
import { originalTreeAsSigned } from './original-tree.js';
import { getVerifiedXmlOnDocument } from './verified-xml.js';
import type { InPlaceCanonicalization } from './xml-crypto-document.js';

/**
 * How each verified assertion was read in this thread: from the posted document's own tree
 * (original-tree.ts) or from a parse of its canonical text (signedAssertionOf). Only counted; the tests read
 * it to know which read a case took.
 */
export const signedAssertionReads = { originalTree: 0, reparsed: 0 };

/** A shape this file does not re-enact: validate the whole Response the stock way instead. */
class StockOnly extends Error {}

function childrenByLocalName(parent: Element, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).localName === localName) out.push(n as Element);
  }
  return out;
}

/**
 * node-saml's parseDomFromString: errors and fatal errors reject (the first one wins), warnings do not
 * (they are counted, see signedAssertionOf).
 */
function parseLikeNodeSaml(xml: string): { doc: Document; warnings: number } {
  let first: Error | undefined;
  let warnings = 0;
  const record = (msg: unknown): void => {
    first ??= new Error(String(msg));
  };
  const dom = new DOMParser({ locator: {}, errorHandler: { warning: () => void (warnings += 1), error: record, fatalError: record } }).parseFromString(xml, 'text/xml');
  if (first !== undefined) throw first;
  if (!Object.prototype.hasOwnProperty.call(dom, 'documentElement')) throw new Error('Not a valid XML document');
  return { doc: dom, warnings };
}

function occurrences(text: string, what: string): number {
  let n = 0;
  for (let i = text.indexOf(what); i !== -1; i = text.indexOf(what, i + what.length)) n += 1;
  return n;
}

/**
 * node-saml's getSignedAssertion: the signed assertion's text S, taken from the verified canonical XML C (an
 * xmldom serialisation of the Assertion element of C's parse), and the two trees stock reads from S: node-saml
 * reads S with xml2js (sax, which keeps a carriage return as it is), rolegate with xmldom (which turns a
 * carriage return in text into a line feed, as XML's end-of-line handling says).
 *
 * Without a carriage return in S the two trees are the same, and when the verified element is the assertion
 * itself, the parse of C already is that tree: S is xmldom's serialisation of it, and parsing S again gives
 * it back unless the serialiser had to add a namespace declaration (never needed for canonical XML, which
 * declares what it uses; checked by counting them) or C's parse raised a warning (rolegate's strict parse
 * would refuse what node-saml's lenient one accepted). In every other case S is parsed as stock parses it:
 * for rolegate's checks by the strict parser, for node-saml's with its carriage returns kept (S writes one
 * raw only in text; as a character reference it reaches the tree unchanged, as sax gives it).
 */
function signedAssertionOf(verifiedXml: string): { nodeSamlView: Element; rolegateView: Element } | null {
  const parsed = parseLikeNodeSaml(verifiedXml);
  const root = parsed.doc.documentElement;
  let text: string;
  if (root.localName === 'Response') {
    const assertions = childrenByLocalName(root, 'Assertion');
    if (assertions.length !== 1) {
      if (childrenByLocalName(root, 'EncryptedAssertion').length === 1) throw new StockOnly();
      return null;
    }
    text = (assertions[0] as Element).toString();
  } else if (root.localName === 'Assertion') {
    text = root.toString();
    if (parsed.warnings === 0 && !text.includes('\r') && occurrences(text, 'xmlns') === occurrences(verifiedXml, 'xmlns')) {
      return { nodeSamlView: root, rolegateView: root };
    }
  } else {
    return null;
  }
  const rolegateView = parseStrict(text, 'the signed assertion').documentElement;
  if (!text.includes('\r')) return { nodeSamlView: rolegateView, rolegateView };
  return { nodeSamlView: parseLikeNodeSaml(text.replace(/\r/g, '&#xD;')).doc.documentElement, rolegateView };
}

async function pemFilesOf(ctx: VerifyContext): Promise<string[]> {
  // The certificates exactly as node-saml hands them to xml-crypto (normalised once and cached by node-saml).
  return (ctx.assertionSigned as unknown as { getKeyInfosAsPem(): Promise<string[]> }).getKeyInfosAsPem();
}

export async function verifyPostResponseFast(form: Readonly<Record<string, unknown>>, ctx: VerifyContext): Promise<VerifiedLogin> {
  const { org, saml, idp } = ctx;
  const acsUrl = org.sso.acsUrl;
  const clockSkewMs = saml.clockSkewSeconds * 1000;

  // a.
  const posted = decodePostBinding(form, saml.maxResponseBytes);
  if (posted.xml.includes('\r')) return verifyPostResponse(form, ctx);

  // b.
  const doc = parseStrict(posted.xml, 'SAMLResponse');
  const response = checkResponseStructure(doc, { acsUrl, idpEntityId: idp.entityId, canDecrypt: org.sso.decryption !== undefined });
  if (response.encryptedAssertion !== null) return verifyPostResponse(form, ctx);

  // c. node-saml's validatePostResponseAsync with rolegate's pinned options (node-saml-options.ts): the
  // instance with wantAuthnResponseSigned is the one stock uses exactly when the Response carries a Signature.
  const nowMs = Date.now();
  let assertion: Element;
  let attributes: Record<string, unknown> | undefined;
  try {
    const pemFiles = await pemFilesOf(ctx);
    const root = doc.documentElement;
    const responseVerifiedXml = getVerifiedXmlOnDocument(doc, root, pemFiles);
    if (response.responseSigned && responseVerifiedXml === null) throw new Error('Invalid document signature');
    const assertions = childrenByLocalName(root, 'Assertion');
    const encrypted = childrenByLocalName(root, 'EncryptedAssertion');
    if (assertions.length + encrypted.length > 1) throw new Error('Invalid signature: multiple assertions');
    // structure.ts found one saml:Assertion under the root, so exactly one assertion and no encrypted one here.
    if (assertions.length !== 1) throw new StockOnly();
    // wantAssertionsSigned is pinned true: the assertion's own signature must verify, whatever the Response's.
    const canonicalization: { value: InPlaceCanonicalization | null } = { value: null };
    const assertionVerifiedXml = getVerifiedXmlOnDocument(doc, assertions[0] as Element, pemFiles, canonicalization);
    if (!assertionVerifiedXml) throw new Error('Invalid signature');
    const profileOptions = { nowMs, skewMs: clockSkewMs, audience: org.sso.spEntityId };
    // The assertion signed alone (stock reads the assertion's canonical text): its own tree, read as that
    // text's parse, where that is certain (original-tree.ts); otherwise the parse itself.
    const original = responseVerifiedXml ? null : originalTreeAsSigned(canonicalization.value, assertions[0] as Element, assertionVerifiedXml);
    if (original !== null) {
      signedAssertionReads.originalTree += 1;
      assertion = original.element;
      attributes = processVerifiedAssertion(original.element, profileOptions, original).attributes;
    } else {
      signedAssertionReads.reparsed += 1;
      const signedAssertion = signedAssertionOf(responseVerifiedXml || assertionVerifiedXml);
      if (signedAssertion == null) throw new Error('Cannot obtain assertion from signed data');
      // node-saml's checks and rolegate's read the signed assertion's DOM (one, unless S has a carriage return).
      assertion = signedAssertion.rolegateView;
      attributes = processVerifiedAssertion(signedAssertion.nodeSamlView, profileOptions).attributes;
    }
  } catch (err) {
    if (err instanceof StockOnly) return verifyPostResponse(form, ctx);
    throw mapNodeSamlError(err);
  }

  // d.
  const names = org.sso.attributes;
  const facts = checkSignedAssertionElement(assertion, {
    idpEntityId: idp.entityId,
    acsUrl,
    clockSkewMs,
    allowIdpInitiated: org.sso.allowIdpInitiated,
    responseInResponseTo: response.responseInResponseTo,
    singleValuedAttributeNames: [names.groups, names.email, names.firstName, names.lastName],
    nowMs,
  });

  // e.
  return toVerifiedLogin(attributes, facts, { organizationId: org.id, attributeNames: names, clockSkewMs });
}
