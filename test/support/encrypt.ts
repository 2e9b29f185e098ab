/**
 * Assertion encryption as an IdP does it (reference §3 R6 "Encrypted"): the signed Assertion is cut out of
 * the Response (with its own xmlns:saml, so it stands alone; exclusive c14n keeps its signature valid),
 * encrypted with xml-encryption's `encrypt` to the SP certificate, and put back as
 * <saml:EncryptedAssertion>. Any algorithm can be asked for, insecure ones included (the tests' point).
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { encrypt } from 'xml-encryption';
import type { EncryptOptions } from 'xml-encryption';

const NS_A = 'urn:oasis:names:tc:SAML:2.0:assertion';

export const SP_KEYS = {
  key: readFileSync(new URL('../../fixtures/keys/sp.key', import.meta.url), 'utf8'),
  cert: readFileSync(new URL('../../fixtures/keys/sp.crt', import.meta.url), 'utf8'),
  evilCert: readFileSync(new URL('../../fixtures/keys/evil.crt', import.meta.url), 'utf8'),
} as const;

export const ENC = {
  aes256gcm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  aes128gcm: 'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  aes256cbc: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  aes128cbc: 'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  tripledes: 'http://www.w3.org/2001/04/xmlenc#tripledes-cbc',
  rsaOaep: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
  rsa15: 'http://www.w3.org/2001/04/xmlenc#rsa-1_5',
} as const;

export interface EncryptAs {
  readonly data?: EncryptOptions['encryptionAlgorithm'];
  readonly key?: EncryptOptions['keyEncryptionAlgorithm'];
  /** The certificate to encrypt to; default the SP's (fixtures/keys/sp.crt). */
  readonly cert?: string;
}

const encryptAsync = promisify(encrypt) as (content: string, options: EncryptOptions & { keyEncryptionDigest?: string }) => Promise<string>;

/** Replace the one `<saml:Assertion>…</saml:Assertion>` of a signed Response by its encryption. */
export async function encryptAssertion(responseXml: string, as: EncryptAs = {}): Promise<string> {
  const start = responseXml.indexOf('<saml:Assertion ');
  const endTag = '</saml:Assertion>';
  const end = responseXml.indexOf(endTag);
  if (start < 0 || end < 0 || responseXml.indexOf('<saml:Assertion ', start + 1) >= 0) throw new Error('expected exactly one saml:Assertion');
  const assertion = responseXml.slice(start, end + endTag.length).replace('<saml:Assertion ', `<saml:Assertion xmlns:saml="${NS_A}" `);
  const cert = as.cert ?? SP_KEYS.cert;
  const encrypted = await encryptAsync(assertion, {
    rsa_pub: createPublicKey(cert).export({ type: 'spki', format: 'pem' }).toString(),
    pem: cert,
    encryptionAlgorithm: as.data ?? ENC.aes256gcm,
    keyEncryptionAlgorithm: as.key ?? ENC.rsaOaep,
    keyEncryptionDigest: 'sha1',
    warnInsecureAlgorithm: false,
  });
  return `${responseXml.slice(0, start)}<saml:EncryptedAssertion>${encrypted}</saml:EncryptedAssertion>${responseXml.slice(end + endTag.length)}`;
}
