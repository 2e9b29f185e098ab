/** Namespaces and fixed protocol values the SAML checks compare against. */
export const NS_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const NS_DSIG = 'http://www.w3.org/2000/09/xmldsig#';

export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
export const CM_BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
export const NAMEID_FORMAT_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

/**
 * Signature algorithms accepted anywhere in a Response. xml-crypto 6 also accepts RSA-SHA1 by default
 * (observed ACCEPTED) and can be switched to HMAC (GHSA-c27r-x354-4m68 key
 * confusion); neither is on this list. rsa-sha384 is listed per policy, but xml-crypto 6.3.2 does not
 * implement it, so such a response fails later as ERR_SAML_SIGNATURE.
 */
export const ALLOWED_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]);

/** Digest algorithms accepted; SHA-1 (xmldsig#sha1) is not (saml-sec-consider §6.5). */
export const ALLOWED_DIGEST_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);

/** Attribute names that must never be read as keys (`__proto__` replaces prototypes). */
export const FORBIDDEN_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export const NS_XMLENC = 'http://www.w3.org/2001/04/xmlenc#';
export const NS_XMLENC11 = 'http://www.w3.org/2009/xmlenc11#';

/**
 * Content encryption of an EncryptedAssertion (EncryptedData/EncryptionMethod), checked BEFORE anything is
 * decrypted (node-saml does not pass xml-encryption's
 * `disallowDecryptionWithInsecureAlgorithm`, so it would decrypt 3DES). AES-GCM is authenticated encryption.
 * AES-CBC is accepted too, because AD FS and Entra ID encrypt with aes256-cbc and SimpleSAMLphp defaults
 * to aes128-cbc: CBC has no integrity of its own, but integrity is not what encryption gives here (the
 * decrypted assertion must carry a valid IdP signature), and every decryption failure answers with one
 * code and one message, so that the ACS is not a padding/parse oracle in the sense of Jager & Somorovsky,
 * "How to Break XML Encryption" (CCS 2011). Prefer GCM where the IdP offers it. tripledes-cbc is refused.
 */
export const ALLOWED_DATA_ENCRYPTION_ALGORITHMS: ReadonlySet<string> = new Set([
  `${NS_XMLENC11}aes128-gcm`,
  `${NS_XMLENC11}aes256-gcm`,
  `${NS_XMLENC}aes128-cbc`,
  `${NS_XMLENC}aes256-cbc`,
]);

/**
 * Key transport (EncryptedKey/EncryptionMethod). RSA-OAEP (mgf1p) only: rsa-1_5 is PKCS#1 v1.5, open to
 * Bleichenbacher's attack (Node 20 refuses it for private decryption anyway: CVE-2023-46809). xmlenc11's
 * `rsa-oaep` (selectable MGF) is not on the list because xml-encryption 3.1 cannot decrypt it: it would fail
 * later with a library message; refused here with a clear one.
 */
export const ALLOWED_KEY_TRANSPORT_ALGORITHMS: ReadonlySet<string> = new Set([`${NS_XMLENC}rsa-oaep-mgf1p`]);

/**
 * The OAEP digest (DigestMethod inside the EncryptedKey's EncryptionMethod): the ones xml-encryption 3.1
 * honours (any other URI it silently replaces with SHA-1). SHA-1 is fine inside OAEP (no collision
 * resistance needed) and is what IdPs send by default. Absent = SHA-1.
 */
export const ALLOWED_OAEP_DIGEST_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2000/09/xmldsig#sha1',
  'http://www.w3.org/2000/09/xmldsig#sha256',
  'http://www.w3.org/2000/09/xmldsig#sha512',
]);
