/**
 * node-saml 5.1.0's `getVerifiedXml(fullXml, currentNode, pemFiles)` (src/xml.ts), on the document rolegate
 * already parsed: the same checks, in the same order, with the same messages (so that errors-map.ts gives
 * the same codes), with xml-crypto driven on that document (xml-crypto-document.ts) instead of handed the
 * text to parse again.
 *
 * Returns the canonical XML of the one element the signature covers (xml-crypto's signed reference), or
 * null when no configured key verifies it. Only ever called on a document without carriage returns: stock
 * verifies a copy with CR LF normalised to LF, so a document with CRs goes the stock way (verify.ts).
 */
import { NS_DSIG } from '../constants.js';
import { documentSignedXml, dsigDescendants, elementsWithSamlId, type InPlaceCanonicalization } from './xml-crypto-document.js';

/**
 * `canonicalization`, when given, receives the verified reference's in-place canonicalisation (null when it
 * was not canonicalised in place or nothing verified).
 */
export function getVerifiedXmlOnDocument(
  doc: Document,
  currentNode: Element,
  pemFiles: readonly string[],
  canonicalization?: { value: InPlaceCanonicalization | null },
): string | null {
  if (canonicalization !== undefined) canonicalization.value = null;
  // "./*[local-name(.)='Signature' and namespace-uri(.)=DSIG]"
  const signatures: Element[] = [];
  for (let n = currentNode.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).localName === 'Signature' && (n as Element).namespaceURI === NS_DSIG) signatures.push(n as Element);
  }
  if (signatures.length < 1) return null;
  if (signatures.length > 1) throw new Error('Too many signatures found for this element');
  const signature = signatures[0] as Element;
  // ".//*[local-name(.)='Transform' and namespace-uri(.)=DSIG]" under the Signature.
  if (dsigDescendants(signature, 'Transform').length > 2) throw new Error('Invalid signature, too many transforms');

  for (const pemFile of pemFiles) {
    const sig = documentSignedXml(pemFile);
    sig.loadSignature(signature);
    const refs = sig.getReferences();
    if (refs.length !== 1) return null;
    if (!signature.parentNode) return null;
    const refUri = (refs[0] as { uri: string }).uri;
    // As stock: an absent URI fails here with a TypeError (mapped to ERR_SAML_MALFORMED like stock's).
    const refId = refUri[0] === '#' ? refUri.substring(1) : refUri;
    if (!refId) throw new Error('signature reference uri not found');
    if (refId.includes("'") || refId.includes('"')) throw new Error('ref URI included quote character \' or ". Not a valid ID, and not allowed');
    const referenced = elementsWithSamlId(doc, refId);
    if (referenced.length !== 1) throw new Error('Invalid signature: ID cannot refer to more than one element');
    if (referenced[0] !== signature.parentNode) throw new Error("Invalid signature: Referenced node does not refer to it's parent element");
    try {
      if (!sig.checkSignatureOnDocument(doc)) continue;
      if (sig.getSignedReferences().length !== 1) throw new Error('Only 1 signed references should be present in signature');
      if (canonicalization !== undefined) canonicalization.value = sig.inPlaceCanonicalization();
      return sig.getSignedReferences()[0] as string;
    } catch {
      // As stock: try the next configured key.
    }
  }
  return null;
}
