/**
 * The one strict XML parser configuration rolegate uses on SAML input, and small DOM helpers that select
 * by namespace + local name (never by prefix) and read text with `textContent` (never `firstChild`/
 * `nodeValue`, which return only the text before an injected comment: CVE-2017-11427..11430).
 */
import { DOMParser } from '@xmldom/xmldom';
import { RolegateError } from '../errors.js';
import { reject } from './fail.js';

/** Parse, turning every xmldom warning, error and fatal error into ERR_SAML_MALFORMED. */
export function parseStrict(xml: string, what: string): Document {
  const fail = (level: string) => (msg: unknown): never =>
    reject('ERR_SAML_MALFORMED', `${what} is not well-formed XML (xmldom ${level}: ${firstLine(msg)})`);
  let doc: Document;
  try {
    doc = new DOMParser({
      locator: {},
      // xmldom 0.8 only logs warnings by default (e.g. "attribute missed quot") and recovers; a SAML
      // message that needs recovery is not one we accept.
      errorHandler: { warning: fail('warning'), error: fail('error'), fatalError: fail('fatalError') },
    }).parseFromString(xml, 'text/xml');
  } catch (err) {
    // Our handler's error may arrive wrapped by xmldom ("element parse error: Error: …"); keep one code.
    if (err instanceof RolegateError) throw err;
    return reject('ERR_SAML_MALFORMED', `${what} is not well-formed XML (${firstLine(err)})`);
  }
  if (!doc.documentElement) reject('ERR_SAML_MALFORMED', `${what} has no root element`);
  return doc;
}

function firstLine(msg: unknown): string {
  const text = msg instanceof Error ? msg.message : String(msg);
  return (text.split('\n')[0] ?? '').slice(0, 160);
}

/** Element children of `parent` with this namespace and local name, in document order. */
export function childElements(parent: Node, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (isElement(n) && n.namespaceURI === ns && n.localName === localName) out.push(n);
  }
  return out;
}

/** At most one such child; more than one is ERR_SAML_MALFORMED (schema says maxOccurs=1). */
export function optionalChild(parent: Element, ns: string, localName: string): Element | null {
  const found = childElements(parent, ns, localName);
  if (found.length > 1) reject('ERR_SAML_MALFORMED', `more than one ${localName} in ${parent.localName}`);
  return found[0] ?? null;
}

export function requiredChild(parent: Element, ns: string, localName: string): Element {
  const found = optionalChild(parent, ns, localName);
  if (found === null) return reject('ERR_SAML_MALFORMED', `${parent.localName} has no ${localName}`);
  return found;
}

/** An attribute's value, or null when the attribute is absent (`getAttribute` cannot tell "" from absent). */
export function attr(element: Element, name: string): string | null {
  return element.hasAttribute(name) ? element.getAttribute(name) : null;
}

/** Simple text content; an element with element children is not simple content. */
export function simpleText(element: Element): string {
  for (let n = element.firstChild; n !== null; n = n.nextSibling) {
    if (isElement(n)) reject('ERR_SAML_MALFORMED', `${element.localName} has element content where text was expected`);
  }
  return element.textContent ?? '';
}

export function isElement(node: Node): node is Element {
  return node.nodeType === 1;
}
