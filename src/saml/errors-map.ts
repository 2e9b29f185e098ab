/**
 * Step c's error translation: node-saml throws plain Errors with English messages; rolegate callers and
 * tests switch on codes. This is the ONE place that reads node-saml's English, as an ordered table of
 * message fragments (first match wins, so specific rows precede general ones). Messages are those of
 * @node-saml/node-saml 5.1.0 (src/saml.ts, src/xml.ts, src/date-time.ts); test/saml/errors-map.test.ts
 * has one case per row, so an upgrade that rewords a message fails a test instead of silently changing a code.
 */
import { RolegateError } from '../errors.js';
import type { SamlErrorCode } from './fail.js';

export interface NodeSamlErrorRule {
  readonly fragment: string;
  readonly code: SamlErrorCode;
  /** An example message node-saml produces, for the table's own test. */
  readonly example: string;
}

export const NODE_SAML_ERROR_TABLE: readonly NodeSamlErrorRule[] = [
  // Structure (we pre-check these too; the rows keep codes stable if our pre-check is ever bypassed).
  { fragment: 'multiple assertions', code: 'ERR_SAML_MALFORMED', example: 'Invalid signature: multiple assertions' },
  { fragment: 'No response found', code: 'ERR_SAML_MALFORMED', example: 'Invalid signature: No response found' },
  { fragment: 'Missing SAML assertion', code: 'ERR_SAML_MALFORMED', example: 'Missing SAML assertion' },
  { fragment: 'Unknown SAML response message', code: 'ERR_SAML_MALFORMED', example: 'Unknown SAML response message' },
  { fragment: 'multiple conditions', code: 'ERR_SAML_MALFORMED', example: 'Unable to process multiple conditions in SAML assertion' },
  { fragment: '[xmldom', code: 'ERR_SAML_MALFORMED', example: '[xmldom error]\telement parse error: Error: Hierarchy request error' },
  { fragment: 'Not a valid XML document', code: 'ERR_SAML_MALFORMED', example: 'Not a valid XML document' },
  // Status (a non-Success Response without an assertion; with one, our pre-check answers first).
  { fragment: 'NoPassive', code: 'ERR_SAML_STATUS', example: 'Invalid signature: NoPassive' },
  { fragment: 'SAML provider returned', code: 'ERR_SAML_STATUS', example: 'SAML provider returned Responder error: AuthnFailed' },
  // Encryption: without an SP key we refuse EncryptedAssertion before node-saml; with one, encrypted.ts has
  // already decrypted the same bytes, so these rows only keep codes stable should that pre-check be bypassed.
  { fragment: 'No decryption key', code: 'ERR_SAML_ENCRYPTED', example: 'No decryption key for encrypted SAML response' },
  { fragment: 'EncryptedAssertion content', code: 'ERR_SAML_ENCRYPTED', example: 'Invalid EncryptedAssertion content' },
  // Time window (rows 34): expired, not yet valid, too old, or an unparsable/missing timestamp.
  { fragment: 'SAML assertion expired', code: 'ERR_SAML_EXPIRED', example: 'SAML assertion expired: clocks skewed too much' },
  { fragment: 'not yet valid', code: 'ERR_SAML_EXPIRED', example: 'SAML assertion not yet valid' },
  { fragment: 'Error parsing', code: 'ERR_SAML_EXPIRED', example: "Error parsing NotOnOrAfter: 'undefined' is not a valid date" },
  // Audience. With no Conditions at all node-saml dereferences null: still an audience failure.
  { fragment: 'audience mismatch', code: 'ERR_SAML_AUDIENCE', example: 'SAML assertion audience mismatch. Expected: a Received: b' },
  { fragment: 'AudienceRestriction', code: 'ERR_SAML_AUDIENCE', example: 'SAML assertion has no AudienceRestriction' },
  // InResponseTo: only reachable if validateInResponseTo were changed from 'never'.
  { fragment: 'InResponseTo', code: 'ERR_SAML_IN_RESPONSE_TO', example: 'InResponseTo is not valid' },
  { fragment: 'subject confirmation', code: 'ERR_SAML_SUBJECT_CONFIRMATION', example: 'No valid subject confirmation found among those available in the SAML assertion' },
  // Signature problems (rows 1–19): what node-saml's getVerifiedXml and xml-crypto's loadSignature throw
  // about signatures, SignedInfo and references (CVE-2025-29774/29775 fixes among them).
  { fragment: 'SignedInfo', code: 'ERR_SAML_SIGNATURE', example: 'could not load signature that contains multiple SignedInfo nodes' },
  { fragment: 'DigestValue', code: 'ERR_SAML_SIGNATURE', example: 'could not load reference for a node that contains multiple DigestValue nodes: <ds:Reference/>' },
  { fragment: 'DigestMethod', code: 'ERR_SAML_SIGNATURE', example: 'could not find DigestMethod in reference <ds:Reference/>' },
  { fragment: 'CanonicalizationMethod', code: 'ERR_SAML_SIGNATURE', example: 'could not find CanonicalizationMethod/@Algorithm element' },
  { fragment: 'is not supported', code: 'ERR_SAML_SIGNATURE', example: "canonicalization algorithm 'urn:x' is not supported" },
  { fragment: 'Reference elements', code: 'ERR_SAML_SIGNATURE', example: 'could not find any Reference elements' },
  { fragment: 'ref URI', code: 'ERR_SAML_SIGNATURE', example: `ref URI included quote character ' or ". Not a valid ID, and not allowed` },
  { fragment: 'uri with quotes', code: 'ERR_SAML_SIGNATURE', example: 'Cannot validate a uri with quotes inside it' },
  { fragment: 'signed data', code: 'ERR_SAML_SIGNATURE', example: 'Cannot obtain assertion from signed data' },
  { fragment: 'signed references', code: 'ERR_SAML_SIGNATURE', example: 'Only 1 signed references should be present in signature' },
  // Last: every other message that mentions a signature ("Invalid signature", "Invalid document
  // signature", "Too many signatures found…", "…too many transforms", "Referenced node does not refer…").
  { fragment: 'signature', code: 'ERR_SAML_SIGNATURE', example: 'Invalid document signature' },
];

/** Anything unrecognised (xml2js syntax errors, TypeErrors on missing structure): fail closed. */
const FALLBACK_CODE: SamlErrorCode = 'ERR_SAML_MALFORMED';

export function mapNodeSamlError(err: unknown): RolegateError {
  if (err instanceof RolegateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const rule = NODE_SAML_ERROR_TABLE.find((r) => message.includes(r.fragment));
  // No `cause`: SamlStatusError carries the IdP's Status XML and a logger may serialise causes. The
  // library's message (bounded) is enough to diagnose; it never contains the assertion.
  const short = (message.split('\n')[0] ?? '').slice(0, 200);
  return new RolegateError(rule?.code ?? FALLBACK_CODE, `node-saml rejected the response: ${short}`);
}
