/**
 * Okta's SAML shape, end to end through the ACS: attribute NameFormat
 * `…:attrname-format:unspecified`, NameID format `…:1.1:nameid-format:unspecified` (Okta's default
 * "Name ID format: Unspecified" with "Application username: Okta username"), attribute statements named
 * as the admin typed them (`email`, `firstName`, `lastName`) and a group attribute statement `groups`
 * (filter "Starts with LS-"), Response and Assertion both signed (Okta's defaults).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { shapedSignIn, startShapeApp, whoami } from '../support/idp-shapes.js';
import type { ShapedResponse } from '../support/idp-shapes.js';

const UNSPECIFIED_NAME = 'urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified';
const UNSPECIFIED_NAMEID = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';

let app: TestApp;
beforeAll(async () => {
  app = await startShapeApp({
    attributes: { email: 'email', first_name: 'firstName', last_name: 'lastName', groups: 'groups' },
    roles: { 'LS-Admins': 'Administrator', 'LS-Reviewers': 'Reviewer' },
    project42: { 'LS-Project42-Annotators': 'Annotator' },
  });
});
afterAll(async () => {
  await app.close();
});

function okta(username: string, attributes: ShapedResponse['attributes']): ShapedResponse {
  return { nameId: username, nameIdFormat: UNSPECIFIED_NAMEID, attributes, attributeNameFormat: UNSPECIFIED_NAME, sign: 'both' };
}

describe('Okta: unspecified NameFormat and NameID format', () => {
  it('attributes with NameFormat unspecified map to roles; Response and Assertion both signed', async () => {
    const browser = app.browser();
    const res = await shapedSignIn(
      app,
      browser,
      okta('alice@corp.example', { email: ['alice@corp.example'], firstName: ['Alice'], lastName: ['Liddell'], groups: ['LS-Reviewers', 'LS-Project42-Annotators'] }),
    );
    expect(res.status, res.text.slice(0, 300)).toBe(302);
    const me = await whoami(browser);
    expect(me).toMatchObject({ email: 'alice@corp.example', first_name: 'Alice', last_name: 'Liddell' });
    expect(me.organization.role).toBe('RE');
    expect(me.projects).toEqual([expect.objectContaining({ id: 42, role: 'AN' })]);
  });

  it('one group value (Okta sends a single AttributeValue) means the same as a list', async () => {
    const browser = app.browser();
    const res = await shapedSignIn(app, browser, okta('bob@corp.example', { email: ['bob@corp.example'], firstName: ['Bob'], lastName: ['B'], groups: ['LS-Admins'] }));
    expect(res.status).toBe(302);
    expect((await whoami(browser)).organization.role).toBe('AD');
  });

  it('no email attribute statement: the email comes from the unspecified-format NameID when it is an address', async () => {
    const browser = app.browser();
    const res = await shapedSignIn(app, browser, okta('Carol@Corp.example', { firstName: ['Carol'], lastName: ['C'], groups: ['LS-Reviewers'] }));
    expect(res.status).toBe(302);
    const me = await whoami(browser);
    expect(me.email).toBe('carol@corp.example');
    expect(me.organization.role).toBe('RE');
  });

  it('a non-email Okta username as NameID and no email attribute: refused (no usable email)', async () => {
    const browser = app.browser();
    const res = await shapedSignIn(app, browser, okta('dave', { firstName: ['Dave'], groups: ['LS-Admins'] }));
    expect(res.status).toBe(401);
    expect(res.json<{ error: string }>().error).toBe('ERR_SAML_ATTRIBUTES');
    expect((await browser.whoami()).status).toBe(401);
  });
});
