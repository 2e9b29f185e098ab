/**
 * AD FS's SAML shape, end to end through the ACS: NameID = the UPN (`alice@corp.example`,
 * format `…:1.1:nameid-format:unspecified` from a "Transform an Incoming Claim" rule), claim-URI attribute
 * names with NameFormat `…:attrname-format:uri`, email from the UPN or the emailaddress claim, and groups
 * from the role claim (rule "Send Group Membership as a Claim" / "Token-Groups – Qualified by Domain Name",
 * so `CORP\LS-Admins`) or from a custom `Group` claim.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { shapedSignIn, startShapeApp, whoami } from '../support/idp-shapes.js';
import type { ShapedResponse } from '../support/idp-shapes.js';

const CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';
const UPN = `${CLAIMS}/upn`;
const EMAIL = `${CLAIMS}/emailaddress`;
const GIVEN_NAME = `${CLAIMS}/givenname`;
const SURNAME = `${CLAIMS}/surname`;
const ROLE = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
const URI = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';
const UNSPECIFIED_NAMEID = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';

function adfs(upn: string, attributes: ShapedResponse['attributes'], nameIdFormat: string | null = UNSPECIFIED_NAMEID): ShapedResponse {
  return { nameId: upn, nameIdFormat, attributes, attributeNameFormat: URI };
}

describe('AD FS: UPN NameID, email from the upn claim, groups from the role claim', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startShapeApp({
      attributes: { email: UPN, first_name: GIVEN_NAME, last_name: SURNAME, groups: ROLE },
      roles: { 'CORP\\LS-Admins': 'Administrator', 'CORP\\LS-Annotators': 'Annotator' },
      project42: { 'CORP\\LS-Project42-Reviewers': 'Reviewer' },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it('domain-qualified role claims map to the organization and project roles', async () => {
    const browser = app.browser();
    const res = await shapedSignIn(
      app,
      browser,
      adfs('alice@corp.example', { [UPN]: ['alice@corp.example'], [GIVEN_NAME]: ['Alice'], [SURNAME]: ['Liddell'], [ROLE]: ['CORP\\Domain Users', 'CORP\\LS-Admins', 'CORP\\LS-Project42-Reviewers'] }),
    );
    expect(res.status, res.text.slice(0, 300)).toBe(302);
    const me = await whoami(browser);
    expect(me).toMatchObject({ email: 'alice@corp.example', first_name: 'Alice', last_name: 'Liddell' });
    expect(me.organization.role).toBe('AD');
    expect(me.projects).toEqual([expect.objectContaining({ id: 42, role: 'RE' })]);
  });

  it('a NameID without Format and no upn claim: the email is the UPN NameID', async () => {
    const browser = app.browser();
    const res = await shapedSignIn(app, browser, adfs('Bob@Corp.example', { [GIVEN_NAME]: ['Bob'], [ROLE]: ['CORP\\LS-Annotators'] }, null));
    expect(res.status).toBe(302);
    const me = await whoami(browser);
    expect(me.email).toBe('bob@corp.example');
    expect(me.organization.role).toBe('AN');
  });

  it('a group name without the domain prefix does not match a domain-qualified rule (exact match)', async () => {
    const browser = app.browser();
    const res = await shapedSignIn(app, browser, adfs('carol@corp.example', { [UPN]: ['carol@corp.example'], [ROLE]: ['LS-Admins'] }));
    expect(res.status).toBe(302);
    expect((await whoami(browser)).organization.role).toBe('NO');
  });
});

describe('AD FS: email from the emailaddress claim, groups from a custom Group claim', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startShapeApp({
      attributes: { email: EMAIL, first_name: GIVEN_NAME, last_name: SURNAME, groups: 'Group' },
      roles: { 'LS-Managers': 'Manager' },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it('the emailaddress claim wins over the UPN NameID; the Group claim maps', async () => {
    const browser = app.browser();
    const res = await shapedSignIn(
      app,
      browser,
      adfs('a.liddell@corp.local', { [EMAIL]: ['Alice.Liddell@Corp.example'], [GIVEN_NAME]: ['Alice'], [SURNAME]: ['Liddell'], Group: ['LS-Managers'], [ROLE]: ['CORP\\LS-Admins'] }),
    );
    expect(res.status, res.text.slice(0, 300)).toBe(302);
    const me = await whoami(browser);
    expect(me.email).toBe('alice.liddell@corp.example');
    // The role claim is not the configured groups attribute: it grants nothing.
    expect(me.organization.role).toBe('MA');
  });
});
