/** One organization's SAML service provider: node-saml wrapped with rolegate's own checks. */
import { createPublicKey } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { SAML } from '@node-saml/node-saml';
import type { OrganizationConfig, SamlSettings } from '../configuration/types.js';
import { RolegateError } from '../errors.js';
import { buildAuthnRequestRedirect } from './authn-request.js';
import { nodeSamlOptions, type IdpTrust } from './node-saml-options.js';
import type { SamlServiceProvider, VerifiedLogin } from './types.js';
import { fastPathSupport } from './fast/pinned.js';
import { verifyPostResponseFast } from './fast/verify.js';
import { verifyPostResponse, type VerifyContext } from './verify.js';
import { buildLogoutRequestRedirect, buildLogoutResponseRedirect, validateLogoutRedirect } from './logout.js';

/** Our SLO endpoint (HTTP-Redirect): LogoutRequests and LogoutResponses from the IdP. */
export function sloUrlOf(org: OrganizationConfig): string {
  return org.sso.acsUrl.replace(/\/acs$/, '/slo');
}

/**
 * The two implementations of the ACS pipeline for one organization: `stock` (node-saml's
 * validatePostResponseAsync plus rolegate's checks, verify.ts) and `fast` (the same decisions on one parse,
 * fast/verify.ts). `fast` is what logins use when the installed libraries are the versions it is pinned to
 * (fast/pinned.ts); `stock` stays the reference decider the differential tests compare it with.
 */
export function createResponseVerifiers(
  org: OrganizationConfig,
  saml: SamlSettings,
  idp: IdpTrust,
): {
  readonly ctx: VerifyContext;
  readonly stock: (form: Readonly<Record<string, unknown>>) => Promise<VerifiedLogin>;
  readonly fast: (form: Readonly<Record<string, unknown>>) => Promise<VerifiedLogin>;
} {
  const ctx: VerifyContext = {
    org,
    saml,
    idp,
    assertionSigned: new SAML(nodeSamlOptions(org, saml, idp, false)),
    responseSigned: new SAML(nodeSamlOptions(org, saml, idp, true)),
  };
  return { ctx, stock: (form) => verifyPostResponse(form, ctx), fast: (form) => verifyPostResponseFast(form, ctx) };
}

export function createServiceProvider(org: OrganizationConfig, saml: SamlSettings, idp: IdpTrust): SamlServiceProvider {
  checkTrustInputs(org, saml, idp);
  const verifiers = createResponseVerifiers(org, saml, idp);
  const { assertionSigned } = verifiers.ctx;
  const verify =
    process.env['ROLEGATE_SAML_DIFFERENTIAL'] === '1' ? differential(verifiers) : fastPathSupport().ok ? verifiers.fast : verifiers.stock;
  const sloUrl = sloUrlOf(org);
  // Single Logout: its own node-saml instance, holding the SP key (so that AuthnRequests stay unsigned
  // unless sso.sign_authn_requests), the IdP's SLO URL and ours.
  const logout =
    idp.sloUrl !== undefined && org.sso.decryption !== undefined
      ? new SAML({ ...nodeSamlOptions(org, saml, idp, false), privateKey: org.sso.decryption.privateKey, logoutUrl: idp.sloUrl, logoutCallbackUrl: sloUrl })
      : null;
  const trust = { idpEntityId: idp.entityId, certs: idp.certs, sloUrl, clockSkewSeconds: saml.clockSkewSeconds };
  const noSlo = (): never => {
    throw new RolegateError('ERR_NOT_FOUND', 'Single Logout is not configured for this organization');
  };
  return {
    singleLogout: logout !== null,
    logoutRequestRedirect: (who, relayState) => (logout === null ? noSlo() : buildLogoutRequestRedirect(logout, who, org.sso.spEntityId, relayState)),
    validateLogoutRedirect: (rawQuery) => (logout === null ? noSlo() : validateLogoutRedirect(rawQuery, trust)),
    logoutResponseRedirect: (request, relayState, success) =>
      logout === null ? noSlo() : buildLogoutResponseRedirect(logout, request, org.sso.spEntityId, relayState, success),
    organizationId: org.id,
    verifyPostResponse: verify,
    authnRequestRedirect: (relayState) => buildAuthnRequestRedirect(assertionSigned, relayState),
    // The entityID, the HTTP-POST ACS URL, NameIDFormat emailAddress, WantAssertionsSigned="true", and with
    // `sso.sp_cert_file` a KeyDescriptor use="encryption" (the certificate IdPs encrypt to, with the AES
    // algorithms node-saml lists). With `sso.sign_authn_requests` the same certificate as
    // KeyDescriptor use="signing" and AuthnRequestsSigned="true"; otherwise no signing certificate.
    metadataXml: () => {
      if (logout === null) {
        return assertionSigned.generateServiceProviderMetadata(
          org.sso.decryption?.cert ?? null,
          org.sso.signAuthnRequests === true ? (org.sso.decryption?.cert ?? null) : null,
        );
      }
      // With Single Logout: the signing certificate (our logout messages are signed) and the SLO endpoint.
      // node-saml ties the signing KeyDescriptor to AuthnRequestsSigned="true" and offers only the
      // HTTP-POST binding for SingleLogoutService; rolegate's endpoint is HTTP-Redirect.
      const cert = org.sso.decryption?.cert ?? null;
      let xml = logout.generateServiceProviderMetadata(cert, cert);
      if (org.sso.signAuthnRequests !== true) xml = xml.replace('AuthnRequestsSigned="true"', 'AuthnRequestsSigned="false"');
      return xml.replace(
        /<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"/,
        '<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"',
      );
    },
  };
}

type Outcome = { readonly ok: true; readonly login: VerifiedLogin } | { readonly ok: false; readonly code: string; readonly error: unknown };

async function outcomeOf(run: Promise<VerifiedLogin>): Promise<Outcome> {
  try {
    return { ok: true, login: await run };
  } catch (error) {
    return { ok: false, code: error instanceof RolegateError ? error.code : `not a RolegateError: ${String(error)}`, error };
  }
}

/**
 * ROLEGATE_SAML_DIFFERENTIAL=1 (the test suite sets it; see vitest.config.ts): every Response is validated by
 * both pipelines, and any difference in the decision, the error code or the VerifiedLogin is an
 * ERR_INTERNAL, which fails whichever test posted it. With both agreeing, their shared answer is returned,
 * so this mode is never more permissive than either pipeline alone.
 */
function differential(verifiers: ReturnType<typeof createResponseVerifiers>): (form: Readonly<Record<string, unknown>>) => Promise<VerifiedLogin> {
  return async (form) => {
    const stock = await outcomeOf(verifiers.stock(form));
    const fast = await outcomeOf(verifiers.fast(form));
    const same = stock.ok && fast.ok ? isDeepStrictEqual(stock.login, fast.login) : !stock.ok && !fast.ok && stock.code === fast.code;
    if (!same) {
      const describe = (o: Outcome): string => (o.ok ? `accepted ${JSON.stringify(o.login)}` : `rejected ${o.code}`);
      throw new RolegateError('ERR_INTERNAL', `the fast path and stock node-saml disagree: stock ${describe(stock)}, fast ${describe(fast)}`);
    }
    if (stock.ok) return stock.login;
    throw (stock as { error: unknown }).error;
  };
}

/**
 * Fail at start-up, not at the first login: a key that does not load would otherwise surface as
 * "signature invalid" for every user. A PEM public key ("BEGIN PUBLIC KEY", the development IdP's) is
 * accepted as well as a certificate: node-saml passes either to xml-crypto, which hands it to
 * crypto.verify unchanged.
 */
function checkTrustInputs(org: OrganizationConfig, saml: SamlSettings, idp: IdpTrust): void {
  const problems: string[] = [];
  if (idp.certs.length === 0) problems.push('no IdP certificate configured');
  idp.certs.forEach((pem, i) => {
    if (!/^-----BEGIN (CERTIFICATE|PUBLIC KEY)-----\r?\n/.test(pem.trim() + '\n')) {
      problems.push(`IdP certificate #${i + 1} is not a PEM certificate or public key`);
      return;
    }
    try {
      createPublicKey(pem);
    } catch {
      problems.push(`IdP certificate #${i + 1} does not load`);
    }
  });
  if (!Number.isInteger(saml.clockSkewSeconds) || saml.clockSkewSeconds < 0 || saml.clockSkewSeconds > 300) {
    problems.push('clock skew must be 0..300 seconds');
  }
  if (!Number.isInteger(saml.maxResponseBytes) || saml.maxResponseBytes <= 0) problems.push('maxResponseBytes must be positive');
  if (idp.entityId === '' || org.sso.acsUrl === '' || org.sso.spEntityId === '') problems.push('empty entity id or ACS URL');
  if (problems.length > 0) {
    throw new RolegateError('ERR_CONFIG_INVALID', `organization ${org.id} SAML: ${problems.join('; ')}`);
  }
}
