/**
 * Step b2, only for an EncryptedAssertion (`sso.sp_private_key_file` configured; ): decrypt
 * it once here, with xml-encryption's insecure-algorithm refusal switched on (node-saml does not pass it),
 * and check what node-saml cannot be asked to check on the plaintext: one strict parse, exactly one
 * saml:Assertion and nothing assertion-like inside it, a ds:Signature of its own (an encrypted assertion
 * is trusted for its signature, never for being encrypted), and the signature/digest algorithm allow-list,
 * which the posted document could not show while the signature was still encrypted.
 *
 * node-saml then decrypts the same bytes again (with `decryptionPvk`) and verifies the signature; the
 * plaintext from here is never used for identity. Every failure up to a well-formed signed Assertion gives
 * the same code and message (wrong key, bad OAEP or CBC padding, a failed GCM tag, plaintext that does not
 * parse), so that responses do not tell an attacker which of these happened (Jager & Somorovsky 2011).
 */
import { promisify } from 'node:util';
import { XMLSerializer } from '@xmldom/xmldom';
import { decrypt } from 'xml-encryption';
import { RolegateError } from '../errors.js';
import { NS_ASSERTION, NS_DSIG } from './constants.js';
import { reject } from './fail.js';
import { checkAlgorithms } from './structure.js';
import { childElements, parseStrict } from './xml.js';

const decryptAsync = promisify(decrypt) as (xml: string, options: Parameters<typeof decrypt>[1]) => Promise<string>;

const UNDECRYPTABLE = 'the encrypted assertion does not decrypt to one assertion with the configured SP key';

export async function checkEncryptedAssertion(encryptedAssertion: Element, privateKey: string): Promise<void> {
  let plaintext: string;
  try {
    plaintext = await decryptAsync(new XMLSerializer().serializeToString(encryptedAssertion), {
      key: privateKey,
      // Defence in depth: the allow-list in structure.ts has already refused tripledes-cbc and rsa-1_5.
      disallowDecryptionWithInsecureAlgorithm: true,
      warnInsecureAlgorithm: false,
    });
  } catch {
    return reject('ERR_SAML_ENCRYPTED', UNDECRYPTABLE);
  }

  let doc: Document;
  try {
    doc = parseStrict(plaintext, 'the decrypted assertion');
  } catch (err) {
    if (err instanceof RolegateError) reject('ERR_SAML_ENCRYPTED', UNDECRYPTABLE);
    throw err;
  }
  const root = doc.documentElement;
  if (root.namespaceURI !== NS_ASSERTION || root.localName !== 'Assertion') reject('ERR_SAML_ENCRYPTED', UNDECRYPTABLE);
  for (let n = doc.firstChild; n !== null; n = n.nextSibling) {
    if (n !== root && n.nodeType !== 3 && !(n.nodeType === 7 && n.nodeName === 'xml')) reject('ERR_SAML_ENCRYPTED', UNDECRYPTABLE);
  }

  // As for a plain assertion (structure.ts): no second assertion hidden inside the first.
  const nested = doc.getElementsByTagNameNS(NS_ASSERTION, 'Assertion').length + doc.getElementsByTagNameNS(NS_ASSERTION, 'EncryptedAssertion').length;
  if (nested !== 1) reject('ERR_SAML_MALFORMED', `the decrypted assertion holds ${nested - 1} more assertion(s)`);
  if (childElements(root, NS_DSIG, 'Signature').length === 0) reject('ERR_SAML_SIGNATURE', 'the decrypted assertion is not signed');
  checkAlgorithms(doc);
}
