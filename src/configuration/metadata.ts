/**
 * Reads an IdP's SAML 2.0 metadata (as published by SimpleSAMLphp, Okta, Entra, Keycloak…) for the three
 * things rolegate needs: the entity id, the HTTP-Redirect SingleSignOnService and the signing
 * certificates. Metadata is trusted input (an admin put the file there) but it is still XML: a DOCTYPE is
 * refused before parsing (XXE and entity-expansion attacks), as the SAML path does for responses.
 */
import { DOMParser } from '@xmldom/xmldom';
import { readFileSync } from 'node:fs';
import { type Result, checkKey, errorReason } from './certs.js';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

export interface IdpMetadata {
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly certs: readonly string[];
  /** The HTTP-Redirect SingleLogoutService, when the IdP has one (Single Logout needs it). */
  readonly sloUrl?: string;
}

function children(parent: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1) {
      const el = n as Element;
      if (el.namespaceURI === ns && el.localName === localName) out.push(el);
    }
  }
  return out;
}

function descendants(parent: Element, ns: string, localName: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(ns, localName));
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

export function parseIdpMetadata(xml: string): Result<IdpMetadata> {
  const fail = (message: string): Result<IdpMetadata> => ({ ok: false, message });
  if (/<!DOCTYPE/i.test(xml)) return fail('contains a DOCTYPE, which is refused (XML entity attacks)');
  if (!xml.replace(/^\uFEFF/, '').trimStart().startsWith('<')) return fail('is not XML (it does not start with "<")');

  const problems: string[] = [];
  const record = (msg: unknown): void => {
    problems.push(String(msg).split('\n')[0] ?? '');
  };
  let doc: Document;
  try {
    doc = new DOMParser({ errorHandler: { warning: record, error: record, fatalError: record } }).parseFromString(
      xml,
      'text/xml',
    );
  } catch (err) {
    return fail(`is not well-formed XML (${errorReason(err)})`);
  }
  if (problems.length > 0) return fail(`is not well-formed XML (${problems[0] ?? ''})`);
  const root = doc.documentElement;
  if (root === null || root.namespaceURI !== MD || !['EntityDescriptor', 'EntitiesDescriptor'].includes(root.localName)) {
    return fail(`is not SAML 2.0 metadata (expected an md:EntityDescriptor in namespace ${MD})`);
  }

  const idps = descendants(root, MD, 'IDPSSODescriptor');
  if (idps.length === 0) return fail('has no IDPSSODescriptor: it is not the metadata of an IdP');
  if (idps.length > 1) return fail(`describes ${idps.length} IdPs; give a file with exactly one IDPSSODescriptor`);
  const idp = idps[0];
  const entity = idp?.parentNode as Element | null | undefined;
  if (idp === undefined || entity === null || entity === undefined || entity.localName !== 'EntityDescriptor') {
    return fail('has an IDPSSODescriptor outside an EntityDescriptor');
  }

  const entityId = entity.getAttribute('entityID') ?? '';
  if (entityId.trim() === '') return fail('has an EntityDescriptor without entityID');
  const protocols = (idp.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/);
  if (!protocols.includes(PROTOCOL)) return fail(`has an IDPSSODescriptor that does not support ${PROTOCOL}`);

  // rolegate sends AuthnRequests with the HTTP-Redirect binding only.
  const sso = children(idp, MD, 'SingleSignOnService').find((el) => el.getAttribute('Binding') === REDIRECT);
  if (sso === undefined) return fail(`has no SingleSignOnService with Binding="${REDIRECT}"`);
  const ssoUrl = sso.getAttribute('Location') ?? '';
  if (!isHttpUrl(ssoUrl)) return fail(`has a SingleSignOnService Location that is not an http(s) URL: "${ssoUrl}"`);

  // A KeyDescriptor without `use` serves both signing and encryption (SAML metadata §2.4.1.1).
  const certs: string[] = [];
  for (const kd of children(idp, MD, 'KeyDescriptor')) {
    const use = kd.getAttribute('use');
    if (use !== null && use !== '' && use !== 'signing') continue;
    for (const x509 of descendants(kd, DS, 'X509Certificate')) {
      const checked = checkKey('CERTIFICATE', (x509.textContent ?? '').replace(/\s+/g, ''));
      if (!checked.ok) return fail(`has a signing X509Certificate where ${checked.message}`);
      if (!certs.includes(checked.value)) certs.push(checked.value);
    }
  }
  if (certs.length === 0) return fail('has no signing certificate (KeyDescriptor use="signing" or without use, with ds:X509Certificate)');
  const slo = children(idp, MD, 'SingleLogoutService').find((el) => el.getAttribute('Binding') === REDIRECT);
  const sloUrl = slo?.getAttribute('Location') ?? null;
  if (slo !== undefined && (sloUrl === null || !isHttpUrl(sloUrl))) return fail(`has a SingleLogoutService Location that is not an http(s) URL: "${sloUrl ?? ''}"`);
  return { ok: true, value: { entityId, ssoUrl, certs, ...(sloUrl === null ? {} : { sloUrl }) } };
}

export function readIdpMetadata(absPath: string): Result<IdpMetadata> {
  let xml: string;
  try {
    xml = readFileSync(absPath, 'utf8');
  } catch (err) {
    return { ok: false, message: `missing or unreadable (${errorReason(err)})` };
  }
  return parseIdpMetadata(xml);
}
