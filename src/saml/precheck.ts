/**
 * Step a: checks on the posted form BEFORE any XML parser sees it (issue 2 "SAML validation": reject any
 * DOCTYPE, non-XML prefix, invalid base64 or an oversized body before parsing).
 */
import { reject } from './fail.js';

export interface DecodedPost {
  /** The decoded document text (UTF-8, BOM removed), for our own structural parse. */
  readonly xml: string;
  /**
   * Canonical base64 of exactly the bytes we checked, handed to node-saml, so that node-saml's lenient
   * `Buffer.from(…, 'base64')` decodes the same bytes we inspected (no second interpretation).
   */
  readonly base64: string;
}

const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;
const XML_WHITESPACE = /[\t\n\r ]/g;
// After an optional XML declaration, the root start tag must follow: no text, comment, PI or DOCTYPE
// before it (reference row 46: "junk" before the root was ACCEPTED by node-saml).
const PROLOG = /^[\t\n\r ]*(?:<\?xml[\t\n\r ][^?<>]*\?>[\t\n\r ]*)?<[A-Za-z_]/;
// Reference rows 24–26 and 40–42: every DOCTYPE-driven parser differential or entity trick starts here.
const DTD_MARKUP = /<!(?:DOCTYPE|ENTITY)/i;
// Characters XML 1.0 forbids (§2.2); a NUL in particular makes parsers disagree about where text ends.
const FORBIDDEN_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export function decodePostBinding(form: Readonly<Record<string, unknown>>, maxBytes: number): DecodedPost {
  const raw = Object.hasOwn(form, 'SAMLResponse') ? form['SAMLResponse'] : undefined;
  if (typeof raw !== 'string' || raw.length === 0) {
    // Absent, repeated (an array from the body parser) or empty.
    return reject('ERR_SAML_MALFORMED', 'SAMLResponse must be a single non-empty string');
  }
  // Cheap bound on the raw string before scanning it: 4/3 expansion, plus generous room for line breaks.
  if (raw.length > Math.ceil(maxBytes / 3) * 4 * 2) {
    return reject('ERR_SAML_TOO_LARGE', `SAMLResponse is larger than ${maxBytes} bytes`);
  }
  const compact = raw.replace(XML_WHITESPACE, '');
  const padding = compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0;
  const decodedSize = (compact.length / 4) * 3 - padding;
  if (decodedSize > maxBytes) {
    return reject('ERR_SAML_TOO_LARGE', `SAMLResponse decodes to more than ${maxBytes} bytes`);
  }
  // Buffer.from(…, 'base64') silently skips characters outside the alphabet (reference row 46:
  // "PGE+!!!PC9hPg==" decodes to <a></a>), so the alphabet and padding are checked first.
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64_BODY.test(compact)) {
    return reject('ERR_SAML_MALFORMED', 'SAMLResponse is not valid base64');
  }
  const bytes = Buffer.from(compact, 'base64');
  let xml: string;
  try {
    // fatal: invalid UTF-8 is an error, not U+FFFD (which another decoder might treat differently).
    xml = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return reject('ERR_SAML_MALFORMED', 'SAMLResponse is not UTF-8');
  }
  if (DTD_MARKUP.test(xml)) return reject('ERR_SAML_MALFORMED', 'SAMLResponse contains a DOCTYPE or ENTITY declaration');
  if (FORBIDDEN_CHARS.test(xml)) return reject('ERR_SAML_MALFORMED', 'SAMLResponse contains characters XML forbids');
  if (!PROLOG.test(xml)) {
    return reject('ERR_SAML_MALFORMED', 'SAMLResponse must start with the root element (optionally after an XML declaration)');
  }
  return { xml, base64: bytes.toString('base64') };
}
