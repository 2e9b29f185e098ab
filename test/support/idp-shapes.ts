/**
 * Support for the IdP-shape tests: an app configured as an admin would configure it for one
 * kind of IdP (`attributes:` and `roles:` in YAML), and SP-initiated sign-ins with Responses shaped like
 * that IdP's (its attribute names and NameFormat, its NameID format), really signed by the test IdP key.
 */
import path from 'node:path';
import { expect } from 'vitest';
import { buildSignedResponse, encodePostBinding } from '../../src/devidp/response.js';
import type { BuildResponseOptions, ResponseAttributes } from '../../src/devidp/response.js';
import { IDP_ENTITY_ID, IDP_SSO_URL, ROOT, serverYaml, startApp } from './app.js';
import type { TestApp } from './app.js';
import { postAcs, startLogin } from './flow.js';
import type { Browser, TestResponse } from './http.js';
import { KEYS } from './saml.js';

export interface ShapeConfig {
  /** The `attributes:` block, as YAML lines under `sso:` (indented by the caller's text). */
  readonly attributes: Readonly<Record<'email' | 'first_name' | 'last_name' | 'groups', string>>;
  /** `roles:` group → role name. */
  readonly roles: Readonly<Record<string, string>>;
  /** Project 42's `groups:` group → project role. */
  readonly project42?: Readonly<Record<string, string>>;
}

/** YAML keys and values are written single-quoted: claim URIs, GUIDs and `CORP\\Group` names as written. */
function q(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function shapeYaml(dir: string, publicUrl: string, shape: ShapeConfig): string {
  const cert = path.join(ROOT, 'fixtures/keys/idp.crt');
  const entries = (map: Readonly<Record<string, string>>, indent: string): string =>
    Object.entries(map)
      .map(([k, v]) => `${indent}${q(k)}: ${v}`)
      .join('\n');
  return `${serverYaml(dir, publicUrl)}organizations:
  - id: 1
    title: Acme Labs
    owner: owner@corp.example
    sso:
      idp_entity_id: ${IDP_ENTITY_ID}
      idp_sso_url: ${IDP_SSO_URL}
      idp_cert_file: ${cert}
      attributes:
        email: ${q(shape.attributes.email)}
        first_name: ${q(shape.attributes.first_name)}
        last_name: ${q(shape.attributes.last_name)}
        groups: ${q(shape.attributes.groups)}
    roles:
${entries(shape.roles, '      ')}
    projects:
      - id: 42
        title: Radiology
        groups:
${shape.project42 === undefined ? "          'unused-project-group': Reviewer" : entries(shape.project42, '          ')}
`;
}

export function startShapeApp(shape: ShapeConfig): Promise<TestApp> {
  return startApp({ yaml: (dir, url) => shapeYaml(dir, url, shape) });
}

export interface ShapedResponse {
  readonly nameId: string;
  /** `null` omits NameID@Format. */
  readonly nameIdFormat: string | null;
  readonly attributes: ResponseAttributes;
  /** `null` omits Attribute@NameFormat. */
  readonly attributeNameFormat: string | null;
  readonly sign?: BuildResponseOptions['sign'];
}

/** An SP-initiated sign-in at organization 1 answered with a Response of this shape. */
export async function shapedSignIn(app: TestApp, browser: Browser, shape: ShapedResponse): Promise<TestResponse> {
  const org = app.config.organizations[0];
  if (org === undefined) throw new Error('no organization');
  const { requestId } = await startLogin(browser);
  const xml = buildSignedResponse({
    issuer: IDP_ENTITY_ID,
    acsUrl: org.sso.acsUrl,
    audience: org.sso.spEntityId,
    inResponseTo: requestId,
    nameId: shape.nameId,
    nameIdFormat: shape.nameIdFormat,
    attributes: shape.attributes,
    attributeNameFormat: shape.attributeNameFormat,
    sign: shape.sign ?? 'assertion',
    privateKey: KEYS.idpKey,
    cert: KEYS.idpCert,
  });
  return postAcs(browser, 1, encodePostBinding(xml));
}

export interface WhoAmI {
  readonly email: string;
  readonly first_name: string;
  readonly last_name: string;
  readonly organization: { readonly id: number; readonly role: string; readonly role_source: string };
  readonly projects: readonly { readonly id: number; readonly role: string }[];
}

export async function whoami(browser: Browser): Promise<WhoAmI> {
  const res = await browser.whoami();
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return res.json<WhoAmI>();
}
