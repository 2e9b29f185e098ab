/**
 * The signed assertion's own tree, read as stock reads the parse of its canonical text.
 *
 * Stock (node-saml 5.1.0) takes the verified reference's canonical XML C, parses it again with xmldom (P),
 * serialises P's Assertion to S, and reads S with xml2js; rolegate's checks read S's strict parse. verify.ts
 * did that parse too (signedAssertionOf): a quarter of a validation's CPU. For an assertion signed alone
 * with the transforms SAML IdPs use, [enveloped-signature, exc-c14n] without InclusiveNamespaces, the
 * canonicalisation ran on the assertion element itself (xml-crypto-document.ts, envelopedExclusiveInPlace),
 * and P is a copy of that element's tree T with these differences, and no others (xml-crypto 6.3.2
 * ExclusiveCanonicalization processInner / renderNs / renderAttrs and xmldom 0.8.15's sax, both pinned):
 *
 *  1. the enveloped Signature is not in P (the transform removed it): the readers never look for a
 *     Signature, and the check for an element named "_" skips it here;
 *  2. comments are not in P, CDATA sections are text, adjacent texts are one node: the readers concatenate
 *     an element's text and CDATA children and skip comments, so they read the same text;
 *  3. a processing instruction's data is rendered as TEXT (processInner renders any node that has `data`),
 *     so P has text where T has none: refused here;
 *  4. text and attribute values are written escaped (text: & < > CR; attributes: & < " tab LF CR) and
 *     parse back to the same characters (xmldom turns LITERAL tab, LF and CR in an attribute value into
 *     spaces before it resolves references). A CR reaches S raw, which xml2js and xmldom read differently:
 *     refused here (C contains "&#xD;"), signedAssertionOf handles it;
 *  5. namespace declarations: renderAttrs drops every attribute whose name starts with "xmlns" (a plain
 *     attribute named "xmlnsX" too) and renderNs writes the declarations it decides an element needs, with
 *     the URI unescaped: a URI containing " & < tab LF or CR would not parse back the same (refused here);
 *     a prefixed element or attribute without a namespace would get xml-crypto's default URI for that
 *     prefix, or "null" (refused here). Otherwise each element keeps its namespace URI and local name, and
 *     each other attribute its name and value.
 *
 * The readers (assertion-profile.ts, assertion.ts) look at elements by local name (and namespace), at
 * attributes by name (never an "xmlns…" one), at text, and at whether an element has any attribute at all
 * (xml2js's `$`, declarations included): the one place 5. shows. In P an element has attributes exactly when
 * in T it has one not named "xmlns…" or the canonicaliser rendered a declaration on it; `hasAttributes`
 * answers that from the canonicaliser's own record. No reader looks above the assertion.
 *
 * From P to S: signedAssertionOf reads P itself when C's parse raised no warning and serialising P declared
 * nothing C did not. xmldom warns only on malformed attributes in a start tag, which canonical text with
 * the URIs of 5. does not have; its serialiser declares a prefix only when no ancestor in P declares it,
 * and renderNs declares every prefix an element or attribute uses where its output ancestors did not.
 *
 * test/saml/fast-path-gate.test.ts (whole corpus, stock against fast) and fast-path-original-tree.test.ts
 * (each difference above, signed into the assertion, read both ways) hold this to the reparse.
 */
import type { ReadAsSigned } from './assertion-profile.js';
import type { InPlaceCanonicalization } from './xml-crypto-document.js';

/** What the readers need to read T as P: `excluded` is the enveloped Signature, `hasAttributes` answers for P. */
export interface OriginalTree extends ReadAsSigned {
  /** The assertion element of the posted document (T). */
  readonly element: Element;
  readonly excluded: Element;
}

/** Characters renderNs would write into a declaration unescaped, so that P would not read them back. */
const UNSAFE_IN_URI = /["&<\t\n\r]/;

function safeNamespace(prefix: string | null, namespaceURI: string | null): boolean {
  if (namespaceURI === null || namespaceURI === '') return !prefix;
  return !UNSAFE_IN_URI.test(namespaceURI);
}

/**
 * T and how to read it as P, or null when the signed assertion is not one whose P is known without parsing
 * it (the caller then parses C as stock does).
 */
export function originalTreeAsSigned(canonicalization: InPlaceCanonicalization | null, assertion: Element, canonicalXml: string): OriginalTree | null {
  if (canonicalization === null || canonicalization.element !== assertion || canonicalization.signature === null) return null;
  if (canonicalXml.includes('&#xD;')) return null;
  const excluded = canonicalization.signature;
  // An explicit stack: depth is bounded before parsing (precheck.ts), but nothing here needs recursion.
  const stack: Node[] = [assertion];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (node.nodeType === 7) return null;
    if (node.nodeType !== 1 || node === excluded) continue;
    const element = node as Element;
    if (!safeNamespace(element.prefix, element.namespaceURI)) return null;
    const attributes = element.attributes;
    for (let i = 0; i < attributes.length; i++) {
      const a = attributes[i] as Attr;
      if (a.prefix && a.prefix !== 'xmlns' && a.prefix !== 'xml' && !safeNamespace(a.prefix, a.namespaceURI)) return null;
    }
    for (let n = element.lastChild; n !== null; n = n.previousSibling) stack.push(n);
  }
  const declaring = canonicalization.declaring;
  return {
    element: assertion,
    excluded,
    hasAttributes(element: Element): boolean {
      if (declaring.has(element)) return true;
      const attributes = element.attributes;
      // renderAttrs: `attr.name.indexOf("xmlns") === 0` is left out.
      for (let i = 0; i < attributes.length; i++) if (!(attributes[i] as Attr).name.startsWith('xmlns')) return true;
      return false;
    },
  };
}
