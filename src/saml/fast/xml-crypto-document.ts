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
 * references, canonicalisation and transforms, digests, the signature algorithm). The element lookups are
 * replaced, each by one walk of the tree that selects exactly what the XPath selects:
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
 *   takes that branch (its verification document is a second parse), so this one must too;
 * - while loading the Signature (loadSignature, re-enacted): the CanonicalizationMethod and SignatureMethod
 *   `Algorithm`s, the SignatureValue text and the KeyInfo, as xpath 0.0.33 selects them (see
 *   firstAlgorithmAttribute and the helpers beside it).
 *
 * Besides, three costs of stock are avoided where the same result is certain: exc-c14n of the referenced
 * element (enveloped) and of the SignedInfo on the element itself instead of a deep clone, the second
 * canonicalisation and parse of an exc-c14n SignedInfo (loadedSignedInfo), and Node's parse of the
 * certificate PEM on every RSA verify (publicKeyOf).
 *
 * These are methods set on one SignedXml instance; the library's prototype and every other user of it,
 * stock node-saml included, are untouched. The versions are pinned (pinned.ts).
 */
import { createPublicKey, createVerify, type KeyObject } from 'node:crypto';
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

type SignatureAlgorithmClass = abstract new () => unknown;
// The RSA classes whose verifySignature is exactly `createVerify(<name>).update(material).verify(key, value,
// 'base64')` (xml-crypto 6.3.2 lib/signature-algorithms.js). RsaSha256Mgf1 is not among them: it refuses a key
// that is not a string or Buffer, so it always gets the PEM.
const signatureAlgorithms = require('xml-crypto/lib/signature-algorithms.js') as Record<'RsaSha1' | 'RsaSha256' | 'RsaSha512', SignatureAlgorithmClass>;
const RSA_VERIFY_NAME = new Map<SignatureAlgorithmClass, string>([
  [signatureAlgorithms.RsaSha1, 'RSA-SHA1'],
  [signatureAlgorithms.RsaSha256, 'RSA-SHA256'],
  [signatureAlgorithms.RsaSha512, 'RSA-SHA512'],
]);

/**
 * The public key of a configured certificate, parsed once. Stock hands xml-crypto the PEM text, and Node parses
 * that PEM (X.509 included) on every `verify`: about 200 µs of a 2 ms validation. `createPublicKey` runs the
 * same parser on the same text, so verifying with its KeyObject is verifying with the same key. A PEM Node
 * cannot parse is remembered as null and keeps going the stock way (where it fails as before).
 */
const publicKeys = new Map<string, KeyObject | null>();
function publicKeyOf(pem: string): KeyObject | null {
  let key = publicKeys.get(pem);
  if (key === undefined) {
    try {
      key = createPublicKey(pem);
    } catch {
      key = null;
    }
    // Only configured certificates get here (node-saml's getKeyInfosAsPem); the bound is a guard, not a policy.
    if (publicKeys.size < 256) publicKeys.set(pem, key);
  }
  return key;
}

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

/**
 * What exc-c14n wrote for a signed element canonicalised in place (envelopedExclusiveInPlace): the element,
 * the enveloped Signature left out of it, and the elements on which the canonicaliser rendered at least one
 * namespace declaration (its renderNs returned a non-empty string). With it the caller can read the element's
 * own tree as the parse of the canonical text reads it, without that parse (original-tree.ts).
 */
export interface InPlaceCanonicalization {
  readonly element: Element;
  readonly signature: Element | null;
  readonly declaring: ReadonlySet<Element>;
}

/** xml-crypto's exc-c14n, unchanged, noting the elements it writes namespace declarations on. */
class RecordingExclusiveCanonicalization extends ExclusiveCanonicalization {
  readonly declaring = new Set<Element>();
  override renderNs(node: Element, prefixesInScope: unknown, defaultNs: unknown, defaultNsForPrefix: unknown, inclusiveNamespacesPrefixList: string[]): { rendered: string; newDefaultNs: string } {
    const result = super.renderNs(node, prefixesInScope, defaultNs, defaultNsForPrefix, inclusiveNamespacesPrefixList);
    if (result.rendered !== '') this.declaring.add(node);
    return result;
  }
}

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

/**
 * What xml-crypto's XPath (its own xpath 0.0.33, the only version its `^0.0.33` range admits) calls `local-name()`
 * of an element.
 */
function xpathLocalName(element: Element): string {
  const n = element as Element & { baseName?: string; target?: string };
  return n.localName || n.baseName || n.target || n.nodeName || '';
}

/**
 * `select1(".//*[local-name(.)='<element>']/@Algorithm", signature)`: the first, in document order, of the
 * `Algorithm` attributes of the descendants (signature itself excluded) whose local name is `element`.
 * xpath 0.0.33 matches the name test `Algorithm` case-insensitively on an xmldom document (it takes xmldom's
 * `hasFeature()`, which always answers true, for an HTML DOM), in no namespace only (a prefix-less name test;
 * a namespace declaration has the xmlns namespace); attributes sort by their element, then by position.
 */
function firstAlgorithmAttribute(signature: Element, element: string): Attr | null {
  for (const candidate of elementsOf(signature)) {
    if (candidate === signature || xpathLocalName(candidate) !== element) continue;
    const attributes = candidate.attributes;
    for (let i = 0; i < attributes.length; i += 1) {
      const a = attributes.item(i);
      if (a !== null && !(a.namespaceURI || '') && (a.localName || a.nodeName).toLowerCase() === 'algorithm') return a;
    }
  }
  return null;
}

/** `select1(".//*[local-name(.)='<element>']", signature)`: the first such descendant in document order. */
function firstDescendant(signature: Element, element: string): Element | null {
  for (const candidate of elementsOf(signature)) if (candidate !== signature && xpathLocalName(candidate) === element) return candidate;
  return null;
}

/**
 * `select1(".//*[local-name(.)='SignatureValue']/text()", signature)`: the first, in document order, of the
 * text and CDATA children (`text()` selects both) of the descendants named SignatureValue, i.e. the first such
 * node of a pre-order walk of every node under the signature.
 */
function firstSignatureValueText(signature: Element): Node | null {
  const stack: Node[] = [];
  for (let n = signature.lastChild; n !== null; n = n.previousSibling) stack.push(n);
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (node.nodeType === 3 || node.nodeType === 4) {
      const parent = node.parentNode;
      if (parent !== null && parent !== signature && parent.nodeType === 1 && xpathLocalName(parent as Element) === 'SignatureValue') return node;
    }
    for (let n = node.lastChild; n !== null; n = n.previousSibling) stack.push(n);
  }
  return null;
}

/** A SignedXml whose lookups walk the given document instead of running XPath on a re-parse of it. */
export function documentSignedXml(publicCert: string): {
  loadSignature(signature: Element): void;
  getReferences(): readonly { readonly uri: string | undefined }[];
  getSignedReferences(): string[];
  checkSignatureOnDocument(doc: Document): boolean;
  /** After checkSignatureOnDocument returned true: its one reference's in-place canonicalisation, if it had one. */
  inPlaceCanonicalization(): InPlaceCanonicalization | null;
} {
  const sig = new SignedXml() as unknown as SignedXmlInternals;
  sig.publicCert = publicCert;
  // Stock returns the loaded Signature itself when asked from within its own document (the SignedInfo is
  // canonicalised inside the document node-saml parsed), and matches by SignatureValue when asked from any
  // other document: always the case for references, which stock resolves in its second parse.
  let canonicalizingReference = false;
  /**
   * The SignedInfo as loadSignature canonicalised it with exc-c14n in place, and its parse: stock canonicalises
   * it (on a deep clone each time) and parses the result once in loadSignature and once more in checkSignature.
   * When the SignedInfo's CanonicalizationMethod is exc-c14n without an InclusiveNamespaces PrefixList, both
   * canonicalisations are the same call on the same unchanged element (the ancestor namespaces checkSignature
   * passes are read only for a PrefixList; nothing in between writes to the document), so the same text, and
   * parsing the same text again gives the same tree, which loadReference only reads.
   */
  let loadedSignedInfo: { readonly element: Element; readonly canon: string; readonly root: Element } | null = null;

  /**
   * xml-crypto's `getCanonXml([EXC_C14N], signedInfo, options)` without the deep clone, or null where the clone
   * is needed. On the clone, canonicalize() applies no enveloped-signature transform and keeps comments, then
   * runs exc-c14n, which reads only the subtree it is given, renders no comments and writes to the element only
   * for an InclusiveNamespaces PrefixList (which is then left to stock): the argument that lets references be
   * canonicalised in place (envelopedExclusiveInPlace below), with nothing detached.
   */
  const exclusiveSignedInfoInPlace = (signedInfo: Element): string | null => {
    const method = utils.findChildren(signedInfo, 'CanonicalizationMethod')[0];
    if (method !== undefined && utils.findChildren(method, 'InclusiveNamespaces').length > 0) return null;
    return new ExclusiveCanonicalization().process(signedInfo, {
      defaultNsForPrefix: (SignedXml as unknown as { defaultNsForPrefix: Record<string, string> }).defaultNsForPrefix,
    } as never);
  };

  /**
   * Stock loadSignature(node) (signed-xml.js), step by step with the same errors, its four XPath selects done
   * by walks of the Signature (see firstAlgorithmAttribute and the helpers beside it). It also stored
   * `signatureXml`, a serialisation of the Signature that only signing reads; not kept here.
   */
  sig.loadSignature = (signatureNode: Element): void => {
    sig.signatureNode = signatureNode;
    const canonicalization = firstAlgorithmAttribute(signatureNode, 'CanonicalizationMethod');
    if (canonicalization === null) throw new Error('could not find CanonicalizationMethod/@Algorithm element');
    sig.canonicalizationAlgorithm = canonicalization.value;
    const signatureMethod = firstAlgorithmAttribute(signatureNode, 'SignatureMethod');
    if (signatureMethod !== null) sig.signatureAlgorithm = signatureMethod.value;
    const signedInfoNodes = utils.findChildren(signatureNode, 'SignedInfo');
    if (signedInfoNodes.length === 0) throw new Error('no signed info node found');
    if (signedInfoNodes.length > 1) throw new Error('could not load signature that contains multiple SignedInfo nodes');
    const signedInfo = signedInfoNodes[0] as Element;
    let algorithm = sig.canonicalizationAlgorithm;
    if (!algorithm || algorithm === C14N || algorithm === C14N_WITH_COMMENTS) algorithm = EXC_C14N;
    const inPlace = algorithm === EXC_C14N ? exclusiveSignedInfoInPlace(signedInfo) : null;
    const canon = inPlace ?? sig.getCanonXml([algorithm], signedInfo);
    const root = new DOMParser().parseFromString(canon, 'text/xml').documentElement;
    loadedSignedInfo = inPlace !== null && sig.canonicalizationAlgorithm === EXC_C14N ? { element: signedInfo, canon, root } : null;
    sig.references = [];
    const references = utils.findChildren(root, 'Reference');
    if (references.length === 0) throw new Error('could not find any Reference elements');
    for (const reference of references) sig.loadReference(reference);
    const signatureValue = firstSignatureValueText(signatureNode);
    if (signatureValue !== null && signatureValue.nodeType === 3) sig.signatureValue = (signatureValue as Text).data.replace(/\r?\n/g, '');
    const keyInfo = firstDescendant(signatureNode, 'KeyInfo');
    if (keyInfo !== null) sig.keyInfo = keyInfo;
  };

  sig.getCanonSignedInfoXml = (doc: Document): string => {
    if (sig.signatureNode == null) throw new Error('No signature found.');
    if (typeof sig.canonicalizationAlgorithm !== 'string') throw new Error('Missing canonicalizationAlgorithm when trying to get signed info for XML');
    const signedInfo = utils.findChildren(sig.signatureNode, 'SignedInfo');
    if (signedInfo.length === 0) throw new Error('could not find SignedInfo element in the message');
    if (signedInfo.length > 1) throw new Error('could not get canonicalized signed info for a signature that contains multiple SignedInfo nodes');
    if ((sig.canonicalizationAlgorithm === C14N || sig.canonicalizationAlgorithm === C14N_WITH_COMMENTS) && (doc == null || typeof doc !== 'object')) {
      throw new Error('When canonicalization method is non-exclusive, whole xml dom must be provided as an argument');
    }
    // exc-c14n without a PrefixList reads no ancestor namespaces: the text loadSignature computed (see above).
    if (loadedSignedInfo !== null && loadedSignedInfo.element === signedInfo[0] && sig.canonicalizationAlgorithm === EXC_C14N) return loadedSignedInfo.canon;
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

  /** The in-place canonicalisation of the reference last canonicalised, and of the last verified signature. */
  let inPlace: InPlaceCanonicalization | null = null;
  let verifiedInPlace: InPlaceCanonicalization | null = null;

  sig.getCanonReferenceXml = (_doc: Document, ref: Reference, node: Element): string => {
    inPlace = null;
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
    const canonicalizer = new RecordingExclusiveCanonicalization();
    let parent: Node | null = null;
    let next: Node | null = null;
    if (signature !== null && signature !== node && utils.isDescendantOf(signature, node)) {
      parent = signature.parentNode;
      next = signature.nextSibling;
      parent?.removeChild(signature);
    }
    try {
      const canonical = canonicalizer.process(node, {
        ...options,
        defaultNsForPrefix: (SignedXml as unknown as { defaultNsForPrefix: Record<string, string> }).defaultNsForPrefix,
      } as never);
      inPlace = { element: node, signature: parent === null ? null : signature, declaring: canonicalizer.declaring };
      return canonical;
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
    inPlaceCanonicalization: () => verifiedInPlace,
    checkSignatureOnDocument(doc: Document): boolean {
      // Stock checkSignature(xml), minus its `new DOMParser().parseFromString(xml)`: `doc` is that parse.
      const earlier = sig.signedReferences;
      verifiedInPlace = null;
      sig.signedReferences = [];
      sig.references = [];
      const signedInfoCanon = sig.getCanonSignedInfoXml(doc);
      if (!signedInfoCanon) throw new Error('Canonical signed info cannot be empty');
      const signedInfo =
        loadedSignedInfo !== null && loadedSignedInfo.canon === signedInfoCanon ? loadedSignedInfo.root : new DOMParser().parseFromString(signedInfoCanon, 'text/xml').documentElement;
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
      // For the plain RSA algorithms, the same verification with the certificate's key parsed once (publicKeyOf).
      const rsa = RSA_VERIFY_NAME.get((signer as unknown as { constructor: SignatureAlgorithmClass }).constructor);
      const keyObject = rsa !== undefined && typeof key === 'string' ? publicKeyOf(key) : null;
      const verified =
        rsa !== undefined && keyObject !== null
          ? createVerify(rsa).update(signedInfoCanon).verify(keyObject, sig.signatureValue, 'base64')
          : signer.verifySignature(signedInfoCanon, key, sig.signatureValue);
      if (verified === true) {
        sig.signedReferences = [...earlier, ...canonReferences];
        // With one reference, `inPlace` is what its getCanonReferenceXml left (null unless canonicalised in place).
        verifiedInPlace = sig.references.length === 1 ? inPlace : null;
        return true;
      }
      throw new Error(`invalid signature: the signature value ${sig.signatureValue} is incorrect`);
    },
  };
}
