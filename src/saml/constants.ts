/** Namespaces and fixed protocol values the SAML checks compare against. */
export const NS_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const NS_DSIG = 'http://www.w3.org/2000/09/xmldsig#';

export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
export const CM_BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
export const NAMEID_FORMAT_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

/**
 * Signature algorithms accepted anywhere in a Response. xml-crypto 6 also accepts RSA-SHA1 by default
 * (reference row 28, observed ACCEPTED) and can be switched to HMAC (row 27, GHSA-c27r-x354-4m68 key
 * confusion); neither is on this list. rsa-sha384 is listed per policy, but xml-crypto 6.3.2 does not
 * implement it, so such a response fails later as ERR_SAML_SIGNATURE.
 */
export const ALLOWED_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]);

/** Digest algorithms accepted; SHA-1 (xmldsig#sha1) is not (reference row 28, saml-sec-consider §6.5). */
export const ALLOWED_DIGEST_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);

/** Attribute names that must never be read as keys (reference row 48: `__proto__` replaces prototypes). */
export const FORBIDDEN_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
