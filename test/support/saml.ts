/**
 * SAML test support: a baseline organization, its SAML settings and IdP trust, and a valid baseline
 * Response (really signed with fixtures/keys) that each negative test changes in exactly one place.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { resolvedOrganizationDefaults, resolvedSamlSettings } from '../../src/configuration/defaults.js';
import type { OrganizationConfig, SamlSettings } from '../../src/configuration/types.js';
import { buildSignedResponse, encodePostBinding, type BuildResponseOptions } from '../../src/devidp/response.js';
import { RolegateError } from '../../src/errors.js';
import { createServiceProvider, type IdpTrust, type SamlServiceProvider } from '../../src/saml/index.js';

function key(name: string): string {
  return readFileSync(new URL(`../../fixtures/keys/${name}`, import.meta.url), 'utf8');
}

export const KEYS = {
  idpKey: key('idp.key'),
  idpCert: key('idp.crt'),
  rolloverKey: key('idp-rollover.key'),
  rolloverCert: key('idp-rollover.crt'),
  evilKey: key('evil.key'),
  evilCert: key('evil.crt'),
} as const;

export const PUBLIC_URL = 'http://sp.test';
export const IDP_ENTITY_ID = 'https://idp.test/metadata';
export const IDP_SSO_URL = 'https://idp.test/sso';
/** The pinned clock of the SAML tests. */
export const NOW = new Date('2026-12-01T12:00:00.000Z');
export const REQUEST_ID = '_request-1';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface TestOrgOptions {
  readonly id?: number;
  readonly allowIdpInitiated?: boolean;
  readonly certs?: readonly string[];
  readonly groupMatch?: 'exact' | 'case-insensitive';
}

/** A baseline organization: id 1, public URL http://sp.test, external IdP https://idp.test/metadata. */
export function testOrg(opts: TestOrgOptions = {}): OrganizationConfig {
  const id = opts.id ?? 1;
  const org: Mutable<OrganizationConfig> = {
    id,
    title: `Test Org ${id}`,
    owner: 'owner@example.com',
    sso: {
      idp: { kind: 'external', entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, certs: opts.certs ?? [KEYS.idpCert] },
      spEntityId: `${PUBLIC_URL}/saml/${id}/metadata`,
      acsUrl: `${PUBLIC_URL}/saml/${id}/acs`,
      allowIdpInitiated: opts.allowIdpInitiated ?? false,
      attributes: { email: 'Email', firstName: 'FirstName', lastName: 'LastName', groups: 'Groups' },
      groupMatch: opts.groupMatch ?? 'exact',
    },
    roles: [],
    projects: [],
    ...resolvedOrganizationDefaults(),
  };
  return org;
}

export function testSamlSettings(overrides: Partial<SamlSettings> = {}): SamlSettings {
  return resolvedSamlSettings(overrides);
}

export function idpTrust(org: OrganizationConfig): IdpTrust {
  const idp = org.sso.idp;
  if (idp.kind !== 'external') throw new Error('test org must use an external IdP');
  return { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certs: idp.certs };
}

export function testProvider(org: OrganizationConfig = testOrg(), saml: SamlSettings = testSamlSettings()): SamlServiceProvider {
  return createServiceProvider(org, saml, idpTrust(org));
}

export const BASELINE_ATTRIBUTES = {
  Email: ['Alice@Example.com'],
  FirstName: ['Alice'],
  LastName: ['Liddell'],
  Groups: ['LS-Admins'],
} as const;

/** The valid baseline Response for `org`, signed by the IdP key (assertion only); override any knob. */
export function baselineResponse(overrides: Partial<BuildResponseOptions> = {}, org: OrganizationConfig = testOrg()): string {
  return buildSignedResponse({
    issuer: IDP_ENTITY_ID,
    acsUrl: org.sso.acsUrl,
    audience: org.sso.spEntityId,
    inResponseTo: REQUEST_ID,
    nameId: 'alice@example.com',
    sessionIndex: '_session-1',
    assertionId: '_assertion-1',
    responseId: '_response-1',
    attributes: BASELINE_ATTRIBUTES,
    now: NOW,
    privateKey: KEYS.idpKey,
    cert: KEYS.idpCert,
    ...overrides,
  });
}

export function postForm(xml: string): Record<string, unknown> {
  return { SAMLResponse: encodePostBinding(xml) };
}

/** Expect a RolegateError with this code (never the message). */
export async function expectSamlError(promise: Promise<unknown>, code: string): Promise<void> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}, but the response was accepted`).toBeInstanceOf(RolegateError);
  expect((err as RolegateError).code).toBe(code);
}

/** Replace exactly one occurrence of `from` (fails loudly if the mutation would not apply). */
export function replaceOnce(xml: string, from: string | RegExp, to: string): string {
  const count = typeof from === 'string' ? xml.split(from).length - 1 : (xml.match(new RegExp(from.source, `${from.flags.replace('g', '')}g`)) ?? []).length;
  if (count !== 1) throw new Error(`mutation target ${String(from)} found ${count} times`);
  return xml.replace(from, to);
}
