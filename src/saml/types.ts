/**
 * What crosses the SAML trust boundary: a verified, normalised login (plain data, so that a later issue can
 * move verification into worker threads), or a RolegateError with an ERR_SAML_* code.
 */
import type { IncomingLogout, SamlSessionIdentity } from './logout.js';

export interface VerifiedLogin {
  readonly organizationId: number;
  /** Assertion/Issuer, equal to the configured IdP entity id. */
  readonly issuer: string;
  /** Assertion@ID of the signed assertion: the replay-cache key (with the issuer). */
  readonly assertionId: string;
  readonly nameId: string;
  readonly nameIdFormat: string | null;
  readonly sessionIndex: string | null;
  /** Lower-cased; from the email attribute, else from NameID when it is an email address. */
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  /** `null` when the assertion has no groups attribute at all (unknown, not empty). */
  readonly groups: readonly string[] | null;
  /** SubjectConfirmationData@InResponseTo inside the signed assertion; null when unsolicited. */
  readonly inResponseTo: string | null;
  /** Until when the assertion would be accepted (SCD NotOnOrAfter + skew): keep its id that long. */
  readonly replayCacheUntil: Date;
}

export interface AuthnRequestRedirect {
  /** The IdP's SSO URL with SAMLRequest (deflated, HTTP-Redirect binding) and RelayState. */
  readonly url: string;
  /** AuthnRequest@ID, to be stored and bound to this browser. */
  readonly requestId: string;
}

export interface SamlServiceProvider {
  readonly organizationId: number;
  /** Validate a posted HTTP-POST-binding form. Throws RolegateError (ERR_SAML_*) on any failure. */
  verifyPostResponse(form: Readonly<Record<string, unknown>>): Promise<VerifiedLogin>;
  /** Build the redirect to the IdP for an SP-initiated login. */
  authnRequestRedirect(relayState: string): Promise<AuthnRequestRedirect>;
  /** SP metadata XML (entity id, ACS URL, NameID formats). */
  metadataXml(): string;
  /**
   * Single Logout is on: the IdP's metadata names an HTTP-Redirect SingleLogoutService and the SP key pair
   * (`sso.sp_private_key_file`) is there to sign our messages.
   */
  readonly singleLogout: boolean;
  /** The signed LogoutRequest redirect for a session's SAML identity. Only when `singleLogout`. */
  logoutRequestRedirect(who: SamlSessionIdentity, relayState: string): Promise<{ url: string; requestId: string }>;
  /** Checks an incoming logout redirect (raw query string). Throws RolegateError (ERR_SAML_*). */
  validateLogoutRedirect(rawQuery: string): IncomingLogout;
  /** The signed LogoutResponse redirect answering an IdP's LogoutRequest. */
  logoutResponseRedirect(request: { readonly id: string }, relayState: string | null, success: boolean): Promise<string>;
}
