/**
 * The ACS pipeline, in order. Each step only rejects, with a stable ERR_SAML_* code; identity is read in
 * the last two steps and only from what the signature covers.
 */
import type { SAML } from '@node-saml/node-saml';
import type { OrganizationConfig, SamlSettings } from '../configuration/types.js';
import { checkSignedAssertion } from './assertion.js';
import { checkEncryptedAssertion } from './encrypted.js';
import { mapNodeSamlError } from './errors-map.js';
import { reject } from './fail.js';
import type { IdpTrust } from './node-saml-options.js';
import { toVerifiedLogin } from './normalise.js';
import { decodePostBinding } from './precheck.js';
import { checkResponseStructure } from './structure.js';
import type { VerifiedLogin } from './types.js';
import { parseStrict } from './xml.js';

export interface VerifyContext {
  readonly org: OrganizationConfig;
  readonly saml: SamlSettings;
  readonly idp: IdpTrust;
  /** wantAuthnResponseSigned: false — for Responses without a Response-level Signature. */
  readonly assertionSigned: SAML;
  /** wantAuthnResponseSigned: true — for Responses that carry one: it must then verify. */
  readonly responseSigned: SAML;
}

export async function verifyPostResponse(form: Readonly<Record<string, unknown>>, ctx: VerifyContext): Promise<VerifiedLogin> {
  const { org, saml, idp } = ctx;
  const acsUrl = org.sso.acsUrl;
  const clockSkewMs = saml.clockSkewSeconds * 1000;

  // a. Before any XML work: type, size, base64 alphabet, UTF-8, no DTD, nothing before the root.
  const posted = decodePostBinding(form, saml.maxResponseBytes);

  // b. One strict parse of the posted document for what node-saml does not check.
  const decryption = org.sso.decryption;
  const response = checkResponseStructure(parseStrict(posted.xml, 'SAMLResponse'), {
    acsUrl,
    idpEntityId: idp.entityId,
    canDecrypt: decryption !== undefined,
  });

  // b2. An EncryptedAssertion (allowed algorithms only, checked in b): decrypted once for the checks the
  // ciphertext hid (signed, one assertion, signature algorithms); node-saml decrypts again in c.
  if (response.encryptedAssertion !== null && decryption !== undefined) {
    await checkEncryptedAssertion(response.encryptedAssertion, decryption.privateKey);
  }

  // c. Signatures (configured keys only), Conditions time window, Audience: node-saml.
  const nodeSaml = response.responseSigned ? ctx.responseSigned : ctx.assertionSigned;
  let result: Awaited<ReturnType<SAML['validatePostResponseAsync']>>;
  try {
    result = await nodeSaml.validatePostResponseAsync({ SAMLResponse: posted.base64 });
  } catch (err) {
    throw mapNodeSamlError(err);
  }
  const profile = result.profile;
  if (profile === null || result.loggedOut) return reject('ERR_SAML_MALFORMED', 'the message is not a login response');
  const assertionXml = profile.getAssertionXml?.();
  if (typeof assertionXml !== 'string') return reject('ERR_SAML_SIGNATURE', 'node-saml returned no signed assertion');

  // d. The verified assertion: Issuer, bearer confirmation, Recipient, SCD time window, InResponseTo.
  const { attributes } = org.sso;
  const assertion = checkSignedAssertion(assertionXml, {
    idpEntityId: idp.entityId,
    acsUrl,
    clockSkewMs,
    allowIdpInitiated: org.sso.allowIdpInitiated,
    responseInResponseTo: response.responseInResponseTo,
    singleValuedAttributeNames: [attributes.groups, attributes.email, attributes.firstName, attributes.lastName],
    nowMs: Date.now(),
  });

  // e. Normalise into plain data.
  return toVerifiedLogin(profile['attributes'], assertion, { organizationId: org.id, attributeNames: attributes, clockSkewMs });
}
