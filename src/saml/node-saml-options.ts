/**
 * Every node-saml option that bears on security, pinned explicitly, so that a change of node-saml's
 * defaults cannot silently change rolegate's behaviour (DESIGN.md habit 6). Reference: node-saml 5.1.0
 * `SAML.initialize` and ../shared/reference/saml-attacks.md §1.
 */
import { ValidateInResponseTo, type CacheProvider, type SamlConfig } from '@node-saml/node-saml';
import type { OrganizationConfig, SamlSettings } from '../configuration/types.js';
import { NAMEID_FORMAT_EMAIL } from './constants.js';

export interface IdpTrust {
  readonly entityId: string;
  readonly ssoUrl: string;
  /** PEM certificates or public keys ("BEGIN PUBLIC KEY"); several during key rollover. */
  readonly certs: readonly string[];
  /** The IdP's HTTP-Redirect SingleLogoutService (from its metadata); Single Logout needs it. */
  readonly sloUrl?: string;
}

/**
 * node-saml's request-id cache is not used: rolegate keeps AuthnRequest ids in its database, bound to the
 * browser that started the login and consumed atomically, so any instance can finish the login and a
 * response cannot be redeemed by another browser. node-saml's cacheProvider can do neither, and with
 * `validateInResponseTo: 'always'` it still accepts an unsigned Response@InResponseTo grafted onto an
 * assertion without SubjectConfirmationData@InResponseTo, repeatedly, because it only removes the id when
 * the SCD carries it. With 'never' node-saml does not call the cache at all for
 * AuthnRequests or Responses; this provider exists so that no per-instance in-memory cache is built, and it
 * fails closed (an id is never "found") should anyone switch validateInResponseTo on.
 */
export const NO_REQUEST_ID_CACHE: CacheProvider = {
  saveAsync: async () => null,
  getAsync: async () => null,
  removeAsync: async () => null,
};

export function nodeSamlOptions(
  org: OrganizationConfig,
  saml: SamlSettings,
  idp: IdpTrust,
  wantAuthnResponseSigned: boolean,
): SamlConfig {
  return {
    // Where the IdP must post, and the AssertionConsumerServiceURL in our AuthnRequest.
    callbackUrl: org.sso.acsUrl,
    // Our SP entity id: the AuthnRequest Issuer and the metadata entityID.
    issuer: org.sso.spEntityId,
    // Audience must be our entity id; never `false` (which turns the check off).
    audience: org.sso.spEntityId,
    // Only the configured keys verify signatures. node-saml passes only these to xml-crypto as publicCert;
    // xml-crypto 6 ignores KeyInfo unless getCertFromKeyInfo is given, which we never do (CVE-2024-32962,
    // ).
    idpCert: [...idp.certs],
    // Used by node-saml for logout messages only; rolegate compares Issuers itself.
    idpIssuer: idp.entityId,
    entryPoint: idp.ssoUrl,
    // The assertion signature is always required (the common IdP setup signs only the assertion).
    wantAssertionsSigned: true,
    // false: a Response signature is optional. But with false, node-saml IGNORES a Response signature
    // that fails to verify (getVerifiedXml returns null and it falls through to the assertion), so
    // provider.ts also builds an instance with `true`, used whenever the Response carries a Signature:
    // a present Response signature must verify.
    wantAuthnResponseSigned,
    // The configured skew (0..300 s). Never -1, which disables every time check.
    acceptedClockSkewMs: saml.clockSkewSeconds * 1000,
    // No cap beyond the IdP's NotOnOrAfter (0 = off); the IdP owns the assertion lifetime.
    maxAssertionAgeMs: 0,
    // InResponseTo is rolegate's job (see NO_REQUEST_ID_CACHE); node-saml's check is off on purpose.
    validateInResponseTo: ValidateInResponseTo.never,
    cacheProvider: NO_REQUEST_ID_CACHE,
    // Let the IdP choose how to authenticate; do not demand PasswordProtectedTransport.
    disableRequestedAuthnContext: true,
    // Signs our AuthnRequests (with `sso.sign_authn_requests`); never the default sha1.
    signatureAlgorithm: 'sha256',
    // NameIDPolicy in the AuthnRequest and NameIDFormat in metadata.
    identifierFormat: NAMEID_FORMAT_EMAIL,
    allowCreate: true,
    forceAuthn: false,
    passive: false,
    authnRequestBinding: 'HTTP-Redirect',
    skipRequestCompression: false,
    disableRequestAcsUrl: false,
    additionalParams: {},
    additionalAuthorizeParams: {},
    signMetadata: false,
    // Only with `sso.sp_private_key_file`: decrypts an EncryptedAssertion, whose algorithms structure.ts has
    // checked first (node-saml does not refuse 3DES/rsa-1_5) and whose plaintext
    // encrypted.ts has checked; the decrypted assertion must verify (wantAssertionsSigned). Without it an
    // EncryptedAssertion is refused (ERR_SAML_ENCRYPTED) before node-saml.
    ...(org.sso.decryption === undefined ? {} : { decryptionPvk: org.sso.decryption.privateKey }),
    // `sso.sign_authn_requests: true` (the loader requires the SP key pair): node-saml signs the
    // HTTP-Redirect AuthnRequest (SigAlg rsa-sha256 + Signature query parameters) and the metadata says
    // AuthnRequestsSigned="true". Otherwise no privateKey: requests unsigned.
    ...(org.sso.signAuthnRequests === true && org.sso.decryption !== undefined ? { privateKey: org.sso.decryption.privateKey } : {}),
    // Deliberately absent: any getCertFromKeyInfo-like hook.
  };
}
