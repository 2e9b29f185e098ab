/**
 * xml-crypto's SignedXml, verifying a signature on a document that is already parsed.
 *
 * Stock `SignedXml.checkSignature(xml)` takes the document as TEXT and parses it again, and locates the
 * referenced element with three XPath scans of the whole document (`//*[@*[local-name(.)='Id']='…']`, then
 * `ID`, then `id`), a fourth to collect its ancestors' namespaces, and another for the first SignedInfo and
 * for every Signature. On a SAML Response those scans and the re-parse are most of the verification's cost.
 *
 * `checkSignatureOnDocument` performs the same steps in the same order with the same error messages, on
 * the given Document, using xml-crypto's own methods for everything cryptographic or canonical (loading the
 * signature and references, canonicalisation and transforms, digests, the signature algorithm). Only the
 * element lookups are replaced, each by one walk of the tree that selects exactly what the XPath selects:
 *
 * - the referenced element: the elements having an attribute whose local name is `Id`, `ID` or `id`
 *   (any namespace, namespace declarations included, as XPath's attribute axis does in the xpath package)
 *   with the URI's value, counted per attribute name as stock counts them; more than one is the same
 *   "multiple elements with the same value for the ID" error (signature wrapping defence);
 * - its ancestors' namespace declarations: xml-crypto's own `findAncestorNsForElement` on that element;
 * - the first `SignedInfo` in document order (by local name, as stock's XPath; stock uses it for the
 *   ancestor namespaces of every SignedInfo, which matters only for inclusive canonicalisation);
 * - the loaded Signature inside the document being transformed: stock matches it by SignatureValue text
 *   and refuses a document with two Signatures carrying that value; kept as is, because stock always
 *   takes that branch (its verification document is a second parse), so this one must too.
 *
 * These are methods set on one SignedXml instance; the library's prototype and every other user of it,
 * stock node-saml included, are untouched. The versions are pinned (pinned.ts).
 */
import { createRequire } from 'node:module';
import { DOMParser } from '@xmldom/xmldom';
import { ExclusiveCanonicalization, SignedXml } from 'xml-crypto';
import { NS_DSIG } from '../constants.js';

const require = createRequire(import.meta.url);

interface XmlCryptoUtils {
  findChildren(node: Node, localName: string, namespace?: string): Element[];
  findAncestorNsForElement(node: Element): { prefix: string; namespaceURI: string }[];
  validateDigestValue(digest: string, expected: string): boolean;
  isDescendantOf(node: Node, parent: Node): boolean;
}
// Not re-exported by the package index; the file is part of the pinned version (pinned.ts).
const utils = require('xml-crypto/lib/utils.js') as XmlCryptoUtils;

interface Reference {
  xpath?: string;
  transforms: string[];
  digestAlgorithm: string;
  uri: string | undefined;
  digestValue: string;
  inclusiveNamespacesPrefixList: string[];
  ancestorNamespaces?: { prefix: string; namespaceURI: string }[];
  validationError?: Error;
}

/** The parts of SignedXml 6.3.2 this file calls or replaces (private in its typings). */
interface SignedXmlInternals {
  publicCert: string;
  signatureNode: Element | null;
  signatureValue: string;
  signatureAlgorithm: string;
  canonicalizationAlgorithm: string | undefined;
  keyInfo: unknown;
  privateKey: unknown;
  references: Reference[];
  signedReferences: string[];
  getCertFromKeyInfo(keyInfo: unknown): string | null;
  loadSignature(node: Element): void;
  loadReference(node: Element): void;
  getReferences(): Reference[];
  getSignedReferences(): string[];
  getCanonXml(transforms: string[], node: Node, options?: Record<string, unknown>): string;
  canonicalize(transforms: string[], node: Node, options: Record<string, unknown>, flags: { discardComments: boolean }): string;
  findSignatureAlgorithm(name: string): { verifySignature(material: string, key: unknown, signatureValue: string): boolean };
  findHashAlgorithm(name: string): { getHash(xml: string): string };
  getCanonSignedInfoXml(doc: Document): string;
  getCanonReferenceXml(doc: Document, ref: Reference, node: Element): string;
  validateReference(ref: Reference, doc: Document): string | undefined;
  findLoadedSignature(node: Node): Element | null;
}

const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
const C14N_WITH_COMMENTS = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments';
const ID_ATTRIBUTES = ['Id', 'ID', 'id'] as const;
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

/** Every element of `root`'s subtree (root included when it is an element), in document order. */
function* elementsOf(root: Node): Generator<Element> {
  // An explicit stack: a hostile document must not exhaust the call stack (depth is bounded before, too).
  const stack: Node[] = [];
  if (root.nodeType === 1) stack.push(root);
  else for (let n = root.lastChild; n !== null; n = n.previousSibling) stack.push(n);
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (node.nodeType !== 1) continue;
    yield node as Element;
    for (let n = node.lastChild; n !== null; n = n.previousSibling) if (n.nodeType === 1) stack.push(n);
  }
}

function hasAttribute(element: Element, localName: string, value: string, noNamespaceOnly: boolean): boolean {
  const attributes = element.attributes;
  for (let i = 0; i < attributes.length; i += 1) {
    const a = attributes.item(i);
    if (a !== null && a.localName === localName && a.value === value && (!noNamespaceOnly || !a.namespaceURI)) return true;
  }
  return false;
}

/**
 * The elements that node-saml's `//*[@ID="…"]` selects: an attribute named exactly `ID` in no namespace
 * with this value.
 */
export function elementsWithSamlId(doc: Document, id: string): Element[] {
  const out: Element[] = [];
  for (const element of elementsOf(doc)) if (hasAttribute(element, 'ID', id, true)) out.push(element);
  return out;
}

/** `DSIG` elements of this local name in `root`'s subtree, excluding root: `.//*[local-name(.)=… and namespace-uri(.)=DSIG]`. */
export function dsigDescendants(root: Node, localName: string): Element[] {
  const out: Element[] = [];
  for (const element of elementsOf(root)) {
    if (element !== root && element.localName === localName && element.namespaceURI === NS_DSIG) out.push(element);
  }
  return out;
}

/** A SignedXml whose lookups walk the given document instead of running XPath on a re-parse of it. */
export function documentSignedXml(publicCert: string): {
  loadSignature(signature: Element): void;
  getReferences(): readonly { readonly uri: string | undefined }[];
  getSignedReferences(): string[];
  checkSignatureOnDocument(doc: Document): boolean;
} {
  const sig = new SignedXml() as unknown as SignedXmlInternals;
  sig.publicCert = publicCert;
  // Stock returns the loaded Signature itself when asked from within its own document (the SignedInfo is
  // canonicalised inside the document node-saml parsed), and matches by SignatureValue when asked from any
  // other document: always the case for references, which stock resolves in its second parse.
  let canonicalizingReference = false;

  sig.getCanonSignedInfoXml = (doc: Document): string => {
    if (sig.signatureNode == null) throw new Error('No signature found.');
    if (typeof sig.canonicalizationAlgorithm !== 'string') throw new Error('Missing canonicalizationAlgorithm when trying to get signed info for XML');
    const signedInfo = utils.findChildren(sig.signatureNode, 'SignedInfo');
    if (signedInfo.length === 0) throw new Error('could not find SignedInfo element in the message');
    if (signedInfo.length > 1) throw new Error('could not get canonicalized signed info for a signature that contains multiple SignedInfo nodes');
    if ((sig.canonicalizationAlgorithm === C14N || sig.canonicalizationAlgorithm === C14N_WITH_COMMENTS) && (doc == null || typeof doc !== 'object')) {
      throw new Error('When canonicalization method is non-exclusive, whole xml dom must be provided as an argument');
    }
    // Stock: findAncestorNs(doc, "//*[local-name()='SignedInfo']"), i.e. the FIRST SignedInfo in the document.
    let first: Element | null = null;
    for (const element of elementsOf(doc)) {
      if (element.localName === 'SignedInfo') {
        first = element;
        break;
      }
    }
    const ancestorNamespaces = first === null ? [] : utils.findAncestorNsForElement(first);
    return sig.getCanonXml([sig.canonicalizationAlgorithm], signedInfo[0] as Element, { ancestorNamespaces });
  };

  sig.validateReference = (ref: Reference, doc: Document): string | undefined => {
    const uri = ref.uri?.[0] === '#' ? ref.uri.substring(1) : ref.uri;
    let elem: Element | null = null;
    if (uri === '') {
      elem = doc.documentElement;
    } else if (uri?.indexOf("'") !== -1) {
      throw new Error('Cannot validate a uri with quotes inside it');
    } else {
      let count = 0;
      for (const name of ID_ATTRIBUTES) {
        const found: Element[] = [];
        for (const element of elementsOf(doc)) if (hasAttribute(element, name, uri, false)) found.push(element);
        if (found.length > 0) {
          count += found.length;
          if (count > 1) {
            throw new Error(
              'Cannot validate a document which contains multiple elements with the same value for the ID / Id / Id attributes, in order to prevent signature wrapping attack.',
            );
          }
          elem = found[0] as Element;
          ref.xpath = `//*[@*[local-name(.)='${name}']='${uri}']`;
        }
      }
    }
    if (elem === null) {
      ref.validationError = new Error(`invalid signature: the signature references an element with uri ${ref.uri} but could not find such element in the xml`);
      return undefined;
    }
    const canonXml = sig.getCanonReferenceXml(doc, ref, elem);
    const digest = sig.findHashAlgorithm(ref.digestAlgorithm).getHash(canonXml);
    if (!utils.validateDigestValue(digest, ref.digestValue)) {
      ref.validationError = new Error(`invalid signature: for uri ${ref.uri} calculated digest is ${digest} but the xml to validate supplies digest ${ref.digestValue}`);
      return undefined;
    }
    return canonXml;
  };

  sig.getCanonReferenceXml = (_doc: Document, ref: Reference, node: Element): string => {
    // Stock: findAncestorNs(doc, ref.xpath), whose XPath selects exactly `node` (validateReference made sure
    // no other element carries the id), or [] when there is no XPath (the whole-document reference "").
    if (Array.isArray(ref.transforms)) ref.ancestorNamespaces = ref.xpath == null ? [] : utils.findAncestorNsForElement(node);
    const options = { inclusiveNamespacesPrefixList: ref.inclusiveNamespacesPrefixList, ancestorNamespaces: ref.ancestorNamespaces };
    const discardComments = ref.uri === '' || (ref.uri as string).startsWith('#');
    canonicalizingReference = true;
    try {
      return envelopedExclusiveInPlace(ref, node, options) ?? sig.canonicalize(ref.transforms, node, options, { discardComments });
    } finally {
      canonicalizingReference = false;
    }
  };

  /**
   * Stock canonicalize() deep-clones the referenced element (a quarter of a verification's time in xmldom's
   * cloneNode), removes the loaded Signature from the clone (enveloped-signature), drops its comments, and
   * runs the canonicalizer on the clone. For the transforms every SAML IdP uses, exactly [enveloped-signature,
   * exc-c14n], the same octets come from canonicalizing the element itself with that Signature detached for
   * the duration (and put back where it was): exc-c14n reads only the subtree it is given (never a parent),
   * renders no comments (so dropping them first changes nothing), and writes to the element only when an
   * InclusiveNamespaces PrefixList applies, which is then left to stock. Anything else: null, stock path.
   */
  const envelopedExclusiveInPlace = (ref: Reference, node: Element, options: Record<string, unknown>): string | null => {
    if (ref.transforms.length !== 2 || ref.transforms[0] !== ENVELOPED || ref.transforms[1] !== EXC_C14N) return null;
    if (ref.inclusiveNamespacesPrefixList.length > 0 || utils.findChildren(node, 'CanonicalizationMethod').length > 0) return null;
    const signature = sig.findLoadedSignature(node);
    let parent: Node | null = null;
    let next: Node | null = null;
    if (signature !== null && signature !== node && utils.isDescendantOf(signature, node)) {
      parent = signature.parentNode;
      next = signature.nextSibling;
      parent?.removeChild(signature);
    }
    try {
      return new ExclusiveCanonicalization().process(node, {
        ...options,
        defaultNsForPrefix: (SignedXml as unknown as { defaultNsForPrefix: Record<string, string> }).defaultNsForPrefix,
      } as never);
    } finally {
      if (parent !== null && signature !== null) parent.insertBefore(signature, next);
    }
  };

  sig.findLoadedSignature = (node: Node): Element | null => {
    const doc = node.ownerDocument ?? (node as Document);
    if (sig.signatureNode == null) return sig.signatureNode;
    if (!canonicalizingReference && sig.signatureNode.ownerDocument === doc) return sig.signatureNode;
    const signatureValue = utils.findChildren(sig.signatureNode, 'SignatureValue')[0]?.textContent;
    if (!signatureValue) return null;
    const matches: Element[] = [];
    for (const element of elementsOf(doc)) {
      if (element.localName === 'Signature' && element.namespaceURI === NS_DSIG && utils.findChildren(element, 'SignatureValue')[0]?.textContent === signatureValue) {
        matches.push(element);
      }
    }
    if (matches.length > 1) {
      throw new Error('Cannot validate a document which contains multiple Signature elements with the same SignatureValue, in order to prevent signature wrapping attack.');
    }
    return matches[0] ?? null;
  };

  return {
    loadSignature: (signature) => sig.loadSignature(signature),
    getReferences: () => sig.getReferences(),
    getSignedReferences: () => sig.getSignedReferences(),
    checkSignatureOnDocument(doc: Document): boolean {
      // Stock checkSignature(xml), minus its `new DOMParser().parseFromString(xml)`: `doc` is that parse.
      const earlier = sig.signedReferences;
      sig.signedReferences = [];
      sig.references = [];
      const signedInfoCanon = sig.getCanonSignedInfoXml(doc);
      if (!signedInfoCanon) throw new Error('Canonical signed info cannot be empty');
      const signedInfo = new DOMParser().parseFromString(signedInfoCanon, 'text/xml').documentElement;
      if (!signedInfo) throw new Error('Could not parse unverifiedSignedInfoCanon into a document');
      const references = utils.findChildren(signedInfo, 'Reference');
      if (references.length === 0) throw new Error('could not find any Reference elements');
      for (const reference of references) sig.loadReference(reference);
      const canonReferences: string[] = [];
      for (const ref of sig.references) {
        const canonXml = sig.validateReference(ref, doc);
        if (canonXml === undefined) return false;
        canonReferences.push(canonXml);
      }
      const signer = sig.findSignatureAlgorithm(sig.signatureAlgorithm);
      const key = sig.getCertFromKeyInfo(sig.keyInfo) || sig.publicCert || sig.privateKey;
      if (key == null) throw new Error('KeyInfo or publicCert or privateKey is required to validate signature');
      if (signer.verifySignature(signedInfoCanon, key, sig.signatureValue) === true) {
        sig.signedReferences = [...earlier, ...canonReferences];
        return true;
      }
      throw new Error(`invalid signature: the signature value ${sig.signatureValue} is incorrect`);
    },
  };
}
