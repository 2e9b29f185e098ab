/**
 * The attack suite's tools: the "rejected, and nothing happened" assertion every crafted response must pass,
 * and DOM mutations that turn one valid signed Response into one attack (reference
 * ../shared/reference/saml-attacks.md §2 trees and §3 R6 recipes). Mutations work on the signed XML text
 * with @xmldom/xmldom and never re-sign: what the IdP signed stays byte-identical unless the attack is
 * precisely to change it.
 */
import { createHash, createHmac } from 'node:crypto';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { expect } from 'vitest';
import type { TestApp } from './app.js';
import { auditRows, snapshot } from './db.js';
import type { Browser, TestResponse } from './http.js';

export const NS_P = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const NS_A = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const NS_DS = 'http://www.w3.org/2000/09/xmldsig#';

/**
 * The four things every rejected login must show (HTTP status, stable code, no session: whoami 401, no member
 * or role change) plus exactly one audit row naming the code with the client address.
 */
export async function expectRejected(
  app: TestApp,
  attempt: (b: Browser) => Promise<TestResponse>,
  status: number,
  code: string,
  opts: { browser?: Browser; ip?: string } = {},
): Promise<TestResponse> {
  const browser = opts.browser ?? app.browser();
  const before = await snapshot(app.db);
  const auditBefore = (await auditRows(app.db)).length;
  const res = await attempt(browser);
  expect(res.status, res.text.slice(0, 300)).toBe(status);
  expect(res.json<{ error: string }>().error).toBe(code);
  expect(res.setCookies.some((c) => c.startsWith('rolegate.sid=') && !/expires=Thu, 01 Jan 1970/i.test(c))).toBe(false);
  expect(browser.jar.has('rolegate.sid')).toBe(false);
  expect((await browser.whoami()).status).toBe(401);
  const after = await snapshot(app.db);
  expect(after.users).toEqual(before.users);
  expect(after.memberships).toEqual(before.memberships);
  expect(after.projects).toEqual(before.projects);
  expect(after.groups).toEqual(before.groups);
  const audit = (await auditRows(app.db)).slice(auditBefore);
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({ action: 'login', outcome: 'rejected', error_code: code, ip: opts.ip ?? '127.0.0.1' });
  return res;
}

// ---- DOM ------------------------------------------------------------------------------------------------

export function parse(xml: string): Document {
  return new DOMParser().parseFromString(xml, 'text/xml');
}

export function serialize(doc: Document | Node): string {
  return new XMLSerializer().serializeToString(doc);
}

/** Direct element children of `parent` in `ns` named `local`. */
export function children(parent: Node, ns: string, local: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === local) out.push(n as Element);
  }
  return out;
}

export function child(parent: Node, ns: string, local: string): Element {
  const found = children(parent, ns, local)[0];
  if (found === undefined) throw new Error(`mutation: no ${local} under ${(parent as Element).localName ?? 'document'}`);
  return found;
}

export function first(doc: Document, ns: string, local: string): Element {
  const found = doc.getElementsByTagNameNS(ns, local).item(0);
  if (found === null) throw new Error(`mutation: no ${local} in the document`);
  return found;
}

/** The (first) Assertion directly under the Response root. */
export function assertionOf(doc: Document): Element {
  return child(doc.documentElement, NS_A, 'Assertion');
}

export function removeSignature(element: Element): Element {
  for (const sig of children(element, NS_DS, 'Signature')) element.removeChild(sig);
  return element;
}

/** Edit a DOM with `edit`, return the new XML. */
export function mutate(xml: string, edit: (doc: Document) => void): string {
  const doc = parse(xml);
  edit(doc);
  return serialize(doc);
}

/** The identity an attacker wants: the configured Owner, with the admin group. */
export const EVIL = { email: 'owner@acme.example', group: 'LS-Admins' } as const;

/** Make an assertion (element) say EVIL: NameID, Email and every Groups value. */
export function makeEvil(assertion: Element): Element {
  const doc = assertion.ownerDocument;
  const setText = (el: Element, text: string): void => {
    while (el.firstChild !== null) el.removeChild(el.firstChild);
    el.appendChild(doc.createTextNode(text));
  };
  const nameIds = assertion.getElementsByTagNameNS(NS_A, 'NameID');
  for (let i = 0; i < nameIds.length; i += 1) setText(nameIds.item(i) as Element, EVIL.email);
  const attributes = assertion.getElementsByTagNameNS(NS_A, 'Attribute');
  for (let i = 0; i < attributes.length; i += 1) {
    const attribute = attributes.item(i) as Element;
    const name = attribute.getAttribute('Name');
    const values = children(attribute, NS_A, 'AttributeValue');
    if (name === 'Email') values.forEach((v) => setText(v, EVIL.email));
    if (name === 'Groups') values.forEach((v) => setText(v, EVIL.group));
  }
  return assertion;
}

function evilCopy(original: Element, id?: string): Element {
  const copy = makeEvil(removeSignature(original.cloneNode(true) as Element));
  if (id !== undefined) copy.setAttribute('ID', id);
  return copy;
}

/**
 * The eight XML Signature Wrapping variants as SAML Raider builds them (reference §2A trees; SAMLRaider
 * XSWHelpers.applyXSW1..8). XSW1/2 need a signed Response; XSW3–8 work on the signed Assertion.
 */
export const XSW: Readonly<Record<string, (xml: string) => string>> = {
  // Copy of the signed Response inside its Signature; the live root carries evil content and a new ID.
  xsw1: (xml) =>
    mutate(xml, (doc) => {
      const root = doc.documentElement;
      const clean = removeSignature(root.cloneNode(true) as Element);
      makeEvil(assertionOf(doc));
      child(root, NS_DS, 'Signature').appendChild(clean);
      root.setAttribute('ID', '_evil_response_ID');
    }),
  // As XSW1, the clean copy beside (before) the Signature.
  xsw2: (xml) =>
    mutate(xml, (doc) => {
      const root = doc.documentElement;
      const clean = removeSignature(root.cloneNode(true) as Element);
      makeEvil(assertionOf(doc));
      root.insertBefore(clean, child(root, NS_DS, 'Signature'));
      root.setAttribute('ID', '_evil_response_ID');
    }),
  // Evil assertion (no signature) inserted before the signed one.
  xsw3: (xml) =>
    mutate(xml, (doc) => {
      const signed = assertionOf(doc);
      doc.documentElement.insertBefore(evilCopy(signed, '_evil_assertion_ID'), signed);
    }),
  // Evil assertion appended to the Response, the signed one moved inside it as its last child.
  xsw4: (xml) =>
    mutate(xml, (doc) => {
      const signed = assertionOf(doc);
      const evil = evilCopy(signed, '_evil_assertion_ID');
      doc.documentElement.appendChild(evil);
      evil.appendChild(signed);
    }),
  // The signed assertion edited in place (keeps the Signature, new ID); a clean copy appended.
  xsw5: (xml) =>
    mutate(xml, (doc) => {
      const signed = assertionOf(doc);
      const clean = removeSignature(signed.cloneNode(true) as Element);
      makeEvil(signed).setAttribute('ID', '_evil_assertion_ID');
      doc.documentElement.appendChild(clean);
    }),
  // Evil content in place (new ID); the clean copy inside the Signature.
  xsw6: (xml) =>
    mutate(xml, (doc) => {
      const signed = assertionOf(doc);
      const clean = removeSignature(signed.cloneNode(true) as Element);
      makeEvil(signed).setAttribute('ID', '_evil_assertion_ID');
      child(signed, NS_DS, 'Signature').appendChild(clean);
    }),
  // An evil copy with the SAME ID inside an Extensions element (no namespace, as SAML Raider makes it).
  xsw7: (xml) =>
    mutate(xml, (doc) => {
      const signed = assertionOf(doc);
      const ext = doc.createElement('Extensions');
      ext.appendChild(evilCopy(signed));
      doc.documentElement.insertBefore(ext, signed);
    }),
  // Evil content keeps the ID and the Signature; the clean copy inside an Object inside the Signature.
  xsw8: (xml) =>
    mutate(xml, (doc) => {
      const signed = assertionOf(doc);
      const clean = removeSignature(signed.cloneNode(true) as Element);
      const object = doc.createElement('Object');
      object.appendChild(clean);
      makeEvil(signed);
      child(signed, NS_DS, 'Signature').appendChild(object);
    }),
};

/** The assertion's signature references, for digest recomputation. */
export function exclusiveDigest(element: Element): string {
  const copy = removeSignature(element.cloneNode(true) as Element);
  const canonical = new ExclusiveCanonicalization().process(copy, {}).toString();
  return createHash('sha256').update(canonical, 'utf8').digest('base64');
}

/** HMAC-SHA1 over the canonical SignedInfo keyed with the IdP's public certificate text (GHSA-c27r-x354-4m68). */
export function hmacSignedInfo(signedInfo: Element, keyText: string): string {
  const canonical = new ExclusiveCanonicalization().process(signedInfo.cloneNode(true) as Element, {}).toString();
  return createHmac('sha1', keyText).update(canonical, 'utf8').digest('base64');
}

/** Replace exactly one occurrence (fails loudly if the mutation would not apply). */
export function replaceOnce(xml: string, from: string, to: string): string {
  const count = xml.split(from).length - 1;
  if (count !== 1) throw new Error(`mutation target ${from} found ${count} times`);
  return xml.replace(from, () => to);
}

/** A namespace no SAML processor reads: an element moved into it is no longer a saml:Assertion to anyone. */
export const NS_HIDDEN = 'urn:rolegate:test:hidden';

/**
 * An XSW document reshaped to pass rolegate's structural check (exactly one saml:Assertion, a direct child of
 * the Response): the assertion that names EVIL stays, moved up to the Response when it was nested; every other
 * saml:Assertion (the signed original or its clean copy) becomes a `hidden:Original` in NS_HIDDEN with its
 * attributes and content unchanged, its Signature included. What is left to refuse it is node-saml's
 * signature check.
 */
export function withOnlyEvilAssertion(xml: string): string {
  return mutate(xml, (doc) => {
    const root = doc.documentElement;
    const all = Array.from({ length: doc.getElementsByTagNameNS(NS_A, 'Assertion').length }, (_, i) => doc.getElementsByTagNameNS(NS_A, 'Assertion').item(i) as Element);
    const evil = all.find((a) => Array.from({ length: a.getElementsByTagNameNS(NS_A, 'NameID').length }, (_, i) => a.getElementsByTagNameNS(NS_A, 'NameID').item(i)?.textContent).includes(EVIL.email));
    if (evil === undefined) throw new Error('mutation: no assertion names the evil identity');
    for (const other of all) {
      if (other === evil) continue;
      // Another local name too: node-saml counts assertions by local name alone, and this is to reach its
      // signature verification itself.
      const hidden = doc.createElementNS(NS_HIDDEN, 'hidden:Original');
      for (let i = 0; i < other.attributes.length; i += 1) {
        const a = other.attributes.item(i) as Attr;
        hidden.setAttributeNS(a.namespaceURI, a.name, a.value);
      }
      while (other.firstChild !== null) hidden.appendChild(other.firstChild);
      other.parentNode?.replaceChild(hidden, other);
    }
    if (evil.parentNode !== root) {
      evil.parentNode?.removeChild(evil);
      root.insertBefore(evil, child(root, NS_P, 'Status').nextSibling);
    }
  });
}
