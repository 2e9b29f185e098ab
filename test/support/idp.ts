/**
 * The test IdP for HTTP tests: really signed Responses (fixtures/keys/idp.key) for organization 1 of the
 * standard test configuration, with every knob of the builder available for one-change negative tests.
 */
import { buildSignedResponse, encodePostBinding } from '../../src/devidp/response.js';
import type { BuildResponseOptions } from '../../src/devidp/response.js';
import type { TestApp } from './app.js';
import { IDP_ENTITY_ID } from './app.js';
import { KEYS } from './saml.js';

export const IDP_KEY = KEYS.idpKey;
export const ROLLOVER_KEY = KEYS.rolloverKey;

export interface Who {
  readonly email: string;
  readonly groups?: readonly string[] | null;
  readonly firstName?: string;
  readonly lastName?: string;
}

/** XML of a Response for `who` at organization `orgId` of `app`, signed by the test IdP. */
export function responseXml(app: TestApp, who: Who, overrides: Partial<BuildResponseOptions> = {}, orgId = 1): string {
  const org = app.config.organizations.find((o) => o.id === orgId);
  if (org === undefined) throw new Error(`no org ${orgId}`);
  const attrs: Record<string, string[]> = {
    Email: [who.email],
    FirstName: [who.firstName ?? 'Test'],
    LastName: [who.lastName ?? 'User'],
  };
  const groups = who.groups === undefined ? [] : who.groups;
  if (groups !== null) attrs['Groups'] = [...groups];
  return buildSignedResponse({
    issuer: IDP_ENTITY_ID,
    acsUrl: org.sso.acsUrl,
    audience: org.sso.spEntityId,
    nameId: who.email,
    attributes: attrs,
    privateKey: IDP_KEY,
    ...overrides,
  });
}

export function samlResponse(app: TestApp, who: Who, overrides: Partial<BuildResponseOptions> = {}, orgId = 1): string {
  return encodePostBinding(responseXml(app, who, overrides, orgId));
}
