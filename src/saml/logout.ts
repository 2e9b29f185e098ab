/**
 * Single Logout, HTTP-Redirect binding both ways (SAML bindings §3.4): the LogoutRequest rolegate sends
 * (signed with the SP key), and the LogoutRequest / LogoutResponse the IdP redirects the browser to
 * `/saml/:org/slo` with.
 *
 * Incoming messages are checked here, not by node-saml's validateRedirectAsync, which (5.1.0) accepts a
 * message without any Signature parameter, finds the signed parameters with an unanchored regex over the
 * whole query (a RelayState containing "SAMLRequest" is picked up in its place), and inflates without a
 * limit. Here: the raw query is bounded first, parameters are parsed exactly (each at most once), a
 * Signature with SigAlg RSA-SHA256 is required and verified over the octets as received (§3.4.4.1) with the
 * configured IdP certificates only, the inflate is bounded, and the XML goes through the same strict parser
 * as responses, before Issuer, Destination and the validity window are compared.
 */
import { createVerify } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import type { SAML } from '@node-saml/node-saml';
import { RolegateError } from '../errors.js';
import { NS_ASSERTION, NS_PROTOCOL } from './constants.js';
import { reject } from './fail.js';
import { attr, childElements, optionalChild, parseStrict, simpleText } from './xml.js';

/** The whole query string of an incoming logout redirect; bounded before anything is decoded. */
export const MAX_LOGOUT_QUERY_BYTES = 8 * 1024;
/** The inflated XML of a logout message. */
export const MAX_LOGOUT_XML_BYTES = 64 * 1024;
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface LogoutTrust {
  readonly idpEntityId: string;
  /** PEM certificates or public keys of the IdP (several during rollover). */
  readonly certs: readonly string[];
  /** Our SLO endpoint: a Destination, when present, must be exactly this. */
  readonly sloUrl: string;
  readonly clockSkewSeconds: number;
}

export type IncomingLogout =
  | {
      readonly kind: 'request';
      readonly id: string;
      readonly nameId: string;
      readonly nameIdFormat: string | null;
      readonly sessionIndexes: readonly string[];
      readonly relayState: string | null;
    }
  | {
      readonly kind: 'response';
      readonly id: string;
      readonly inResponseTo: string | null;
      readonly success: boolean;
      readonly relayState: string | null;
    };

/** The session's SAML identity, stored at login: what a LogoutRequest names. */
export interface SamlSessionIdentity {
  readonly nameId: string;
  readonly nameIdFormat: string | null;
  readonly sessionIndex: string | null;
}

export function validateLogoutRedirect(rawQuery: string, trust: LogoutTrust, now: Date = new Date()): IncomingLogout {
  if (Buffer.byteLength(rawQuery, 'utf8') > MAX_LOGOUT_QUERY_BYTES) {
    reject('ERR_SAML_TOO_LARGE', `logout query is larger than ${MAX_LOGOUT_QUERY_BYTES} bytes`);
  }
  const raw = new Map<string, string>();
  for (const token of rawQuery.split('&')) {
    if (token === '') continue;
    const eq = token.indexOf('=');
    const name = eq < 0 ? token : token.slice(0, eq);
    if (!['SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg', 'Signature'].includes(name)) continue;
    if (raw.has(name)) reject('ERR_SAML_MALFORMED', `logout query repeats ${name}`);
    raw.set(name, eq < 0 ? '' : token.slice(eq + 1));
  }
  const messageName = raw.has('SAMLRequest') ? 'SAMLRequest' : 'SAMLResponse';
  if (raw.has('SAMLRequest') === raw.has('SAMLResponse')) reject('ERR_SAML_MALFORMED', 'logout query needs exactly one of SAMLRequest and SAMLResponse');
  const rawMessage = raw.get(messageName) ?? '';
  const rawRelay = raw.get('RelayState');
  const rawSigAlg = raw.get('SigAlg');
  const rawSignature = raw.get('Signature');
  if (rawSigAlg === undefined || rawSignature === undefined) reject('ERR_SAML_SIGNATURE', 'logout message is not signed (no SigAlg/Signature)');
  const sigAlg = decodeParam(rawSigAlg);
  if (sigAlg !== RSA_SHA256) reject('ERR_SAML_ALGORITHM', `logout message signature algorithm ${JSON.stringify(sigAlg.slice(0, 120))} is not RSA-SHA256`);
  const signature = base64(decodeParam(rawSignature), 'Signature');
  // §3.4.4.1: the parameters as received (URL-encoded), in this order, RelayState only when present.
  const signed = `${messageName}=${rawMessage}${rawRelay === undefined ? '' : `&RelayState=${rawRelay}`}&SigAlg=${rawSigAlg}`;
  const verified = trust.certs.some((pem) => {
    try {
      return createVerify('RSA-SHA256').update(signed).verify(pem, signature);
    } catch {
      return false;
    }
  });
  if (!verified) reject('ERR_SAML_SIGNATURE', 'logout message signature does not verify with the IdP certificate');

  let xml: string;
  try {
    const inflated = inflateRawSync(base64(decodeParam(rawMessage), messageName), { maxOutputLength: MAX_LOGOUT_XML_BYTES });
    xml = new TextDecoder('utf-8', { fatal: true }).decode(inflated);
  } catch (err) {
    if (err instanceof RolegateError) throw err;
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') reject('ERR_SAML_TOO_LARGE', `logout message inflates to more than ${MAX_LOGOUT_XML_BYTES} bytes`);
    return reject('ERR_SAML_MALFORMED', `${messageName} is not deflated UTF-8`);
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) reject('ERR_SAML_MALFORMED', 'logout message contains a DOCTYPE or ENTITY declaration');
  const root = parseStrict(xml, messageName).documentElement;
  const expected = messageName === 'SAMLRequest' ? 'LogoutRequest' : 'LogoutResponse';
  if (root === null || root.namespaceURI !== NS_PROTOCOL || root.localName !== expected) reject('ERR_SAML_MALFORMED', `${messageName} is not a samlp:${expected}`);

  const issuer = optionalChild(root, NS_ASSERTION, 'Issuer');
  if (issuer === null || simpleText(issuer) !== trust.idpEntityId) reject('ERR_SAML_ISSUER', 'logout message Issuer is not the configured IdP');
  const destination = attr(root, 'Destination');
  if (destination !== null && destination !== trust.sloUrl) reject('ERR_SAML_DESTINATION', 'logout message Destination is not this SLO endpoint');
  const id = attr(root, 'ID');
  if (id === null || id === '') reject('ERR_SAML_MALFORMED', `${expected} has no ID`);
  const skewMs = trust.clockSkewSeconds * 1000;
  const issueInstant = Date.parse(attr(root, 'IssueInstant') ?? '');
  if (Number.isNaN(issueInstant)) reject('ERR_SAML_MALFORMED', `${expected} has no valid IssueInstant`);
  // A logout message is used at once: older than 5 minutes (plus skew) or from the future is refused.
  if (issueInstant > now.getTime() + skewMs || issueInstant < now.getTime() - 300_000 - skewMs) {
    reject('ERR_SAML_EXPIRED', `${expected} IssueInstant is outside the accepted window`);
  }
  const relayState = rawRelay === undefined ? null : decodeParam(rawRelay);

  if (expected === 'LogoutResponse') {
    const status = optionalChild(root, NS_PROTOCOL, 'Status');
    const code = status === null ? null : optionalChild(status, NS_PROTOCOL, 'StatusCode');
    return { kind: 'response', id, inResponseTo: attr(root, 'InResponseTo'), success: code !== null && attr(code, 'Value') === STATUS_SUCCESS, relayState };
  }
  const notOnOrAfter = attr(root, 'NotOnOrAfter');
  if (notOnOrAfter !== null && !(Date.parse(notOnOrAfter) + skewMs > now.getTime())) reject('ERR_SAML_EXPIRED', 'LogoutRequest has expired (NotOnOrAfter)');
  const nameIds = childElements(root, NS_ASSERTION, 'NameID');
  const nameId = nameIds[0];
  if (nameIds.length !== 1 || nameId === undefined) {
    return reject('ERR_SAML_MALFORMED', 'LogoutRequest needs exactly one plain NameID (EncryptedID/BaseID are not supported)');
  }
  const sessionIndexes = childElements(root, NS_PROTOCOL, 'SessionIndex').map((el) => simpleText(el));
  return { kind: 'request', id, nameId: simpleText(nameId), nameIdFormat: attr(nameId, 'Format'), sessionIndexes, relayState };
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, '%20'));
  } catch {
    return reject('ERR_SAML_MALFORMED', 'logout query is not valid URL encoding');
  }
}

function base64(value: string, what: string): Buffer {
  if (!BASE64.test(value) || value.length % 4 !== 0) reject('ERR_SAML_MALFORMED', `${what} is not valid base64`);
  return Buffer.from(value, 'base64');
}

/** The signed LogoutRequest redirect to the IdP, and its ID (kept in the session until the response). */
export async function buildLogoutRequestRedirect(saml: SAML, who: SamlSessionIdentity, issuer: string, relayState: string): Promise<{ url: string; requestId: string }> {
  const url = await saml.getLogoutUrlAsync(
    { issuer, nameID: who.nameId, nameIDFormat: who.nameIdFormat ?? 'urn:oasis:names:tc:SAML:2.0:nameid-format:unspecified', ...(who.sessionIndex === null ? {} : { sessionIndex: who.sessionIndex }) },
    relayState,
    {},
  );
  const encoded = new URL(url).searchParams.get('SAMLRequest') ?? '';
  const xml = inflateRawSync(Buffer.from(encoded, 'base64'), { maxOutputLength: MAX_LOGOUT_XML_BYTES }).toString('utf8');
  const requestId = parseStrict(xml, 'LogoutRequest').documentElement?.getAttribute('ID') ?? '';
  if (requestId === '') throw new RolegateError('ERR_INTERNAL', 'could not read the id of the LogoutRequest node-saml built');
  return { url, requestId };
}

/** The signed LogoutResponse redirect answering an IdP's LogoutRequest. */
export async function buildLogoutResponseRedirect(saml: SAML, request: { readonly id: string }, issuer: string, relayState: string | null, success: boolean): Promise<string> {
  return saml.getLogoutResponseUrlAsync({ ID: request.id, issuer, nameID: '', nameIDFormat: '' }, relayState ?? '', {}, success);
}
