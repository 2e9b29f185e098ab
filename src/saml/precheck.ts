/**
 * Step a: checks on the posted form BEFORE any XML parser sees it (reject any
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
// before it ("junk" before the root was ACCEPTED by node-saml).
const PROLOG = /^[\t\n\r ]*(?:<\?xml[\t\n\r ][^?<>]*\?>[\t\n\r ]*)?<[A-Za-z_]/;
// Every DOCTYPE-driven parser differential or entity trick starts here.
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
  // Buffer.from(…, 'base64') silently skips characters outside the alphabet (for example
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
  checkMarkupShape(xml);
  return { xml, base64: bytes.toString('base64') };
}

/**
 * Nesting depth and attributes per element that no SAML Response needs (a signed Response is about 8 deep,
 * and its widest element has under 10 attributes). Deeply nested and attribute-bomb documents parse
 * slowly in xmldom and are parsed twice on the way (ours, then node-saml's): 20,000 nested elements in an
 * unsigned samlp:Extensions took about 30x a normal login and were ACCEPTED.
 * Elements in all: xml-crypto's XPath library sorts node sets into document order in quadratic time, so
 * 40,000 empty elements in an unsigned Extensions (217 KB, within the size limit) cost about 25 s of CPU
 * (bench/xml-dos.ts). 4096 leaves room for an assertion with about 2,000 group values.
 */
export const MARKUP_LIMITS = { depth: 64, attributesPerElement: 64, elements: 4096 } as const;

/**
 * One linear pass over the text before any parser sees it. It only rejects. So that it cannot disagree with
 * the parser about where markup is, every `<` must begin a comment, CDATA section, PI, end tag or start tag
 * with a name, and none may appear inside a tag (XML forbids `<` in attribute values), and every construct
 * must be terminated: xmldom 0.8 silently reads an unterminated `<?x` or a stray `<` as text, which would
 * otherwise let a bomb hide behind it. Quoted attribute values may contain `>`; DOCTYPE never gets here.
 */
function checkMarkupShape(xml: string): void {
  const malformed = (what: string): never => reject('ERR_SAML_MALFORMED', `SAMLResponse has ${what}`);
  const skipPast = (from: number, end: string, what: string): number => {
    const at = xml.indexOf(end, from);
    return at === -1 ? malformed(`an unterminated ${what}`) : at + end.length;
  };
  let depth = 0;
  let elements = 0;
  let i = xml.indexOf('<');
  while (i !== -1) {
    if (xml.startsWith('<!--', i)) i = skipPast(i + 4, '-->', 'comment');
    else if (xml.startsWith('<![CDATA[', i)) i = skipPast(i + 9, ']]>', 'CDATA section');
    else if (xml.startsWith('<?', i)) i = skipPast(i + 2, '?>', 'processing instruction');
    else if (xml.startsWith('</', i)) {
      if (!NAME_START.test(xml[i + 2] ?? '')) malformed('a malformed end tag');
      depth -= 1;
      const end = skipPast(i + 2, '>', 'end tag');
      if (xml.lastIndexOf('<', end - 1) !== i) malformed('a malformed end tag');
      i = end;
    } else {
      if (!NAME_START.test(xml[i + 1] ?? '')) malformed('a "<" that starts no markup');
      // A start tag: count attributes (each `=` outside quotes), find its end, see whether it closes itself.
      let attributes = 0;
      let quote = '';
      let j = i + 1;
      for (; j < xml.length; j += 1) {
        const c = xml[j];
        if (c === '<') malformed('a "<" inside a tag');
        if (quote !== '') {
          if (c === quote) quote = '';
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '=') attributes += 1;
        else if (c === '>') break;
      }
      if (j >= xml.length) malformed('an unterminated start tag');
      if (attributes > MARKUP_LIMITS.attributesPerElement) {
        malformed(`an element with more than ${MARKUP_LIMITS.attributesPerElement} attributes`);
      }
      elements += 1;
      if (elements > MARKUP_LIMITS.elements) malformed(`more than ${MARKUP_LIMITS.elements} elements`);
      if (xml[j - 1] !== '/') depth += 1;
      if (depth > MARKUP_LIMITS.depth) malformed(`elements nested more than ${MARKUP_LIMITS.depth} deep`);
      i = j + 1;
    }
    i = xml.indexOf('<', i);
  }
}

const NAME_START = /^[A-Za-z_:\u00C0-\uFFFD]$/;
