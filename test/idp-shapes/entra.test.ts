/**
 * Microsoft Entra ID's SAML shape, end to end through the ACS with really signed Responses:
 * claim-URI attribute names without NameFormat, an opaque persistent NameID, groups as object ids
 * (GUIDs) mapped in `roles:`, and the groups-overage claim (`…/claims/groups.link`, sent INSTEAD of the
 * groups claim when a user is in more than 150 groups): groups unknown, nothing demoted, an audit warning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { auditRows, memberRole } from '../support/db.js';
import { shapedSignIn, startShapeApp, whoami } from '../support/idp-shapes.js';
import type { ShapedResponse } from '../support/idp-shapes.js';

const CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';
const EMAIL = `${CLAIMS}/emailaddress`;
const GIVEN_NAME = `${CLAIMS}/givenname`;
const SURNAME = `${CLAIMS}/surname`;
const NAME = `${CLAIMS}/name`;
const GROUPS = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups';
const GROUPS_LINK = 'http://schemas.microsoft.com/claims/groups.link';
const TENANT_ID = 'http://schemas.microsoft.com/identity/claims/tenantid';
const OBJECT_ID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

/** Group object ids as Entra sends them (Group claims → "Group ID"). */
const LS_ADMINS = '6d3f2a8e-1b4c-4f0a-9e7d-2c5b8a1f0e31';
const LS_ANNOTATORS = 'b91c7e02-55d4-4c3b-a8f1-0e6d9c2b7a45';
const RADIOLOGY_REVIEWERS = '0f8e4d2c-7a6b-4e19-b3c5-d1a2e3f40567';
const UNMAPPED = 'e4a1c9b7-3d2f-4a8e-9b6c-5f0d1e2a3b4c';

let app: TestApp;
beforeAll(async () => {
  app = await startShapeApp({
    attributes: { email: EMAIL, first_name: GIVEN_NAME, last_name: SURNAME, groups: GROUPS },
    roles: { [LS_ADMINS]: 'Administrator', [LS_ANNOTATORS]: 'Annotator' },
    project42: { [RADIOLOGY_REVIEWERS]: 'Reviewer' },
  });
});
afterAll(async () => {
  await app.close();
});

/** What Entra sends for a user: tenant and object ids, UPN as name, claim-URI names, no NameFormat. */
function entra(email: string, groups: readonly string[] | 'overage'): ShapedResponse {
  const common: Array<[string, string[]]> = [
    [TENANT_ID, ['72f988bf-86f1-41af-91ab-2d7cd011db47']],
    [OBJECT_ID, ['3c1e5f7a-9b2d-4e6f-8a0c-1d3e5f7a9b2d']],
    [NAME, [email]],
    [EMAIL, [email]],
    [GIVEN_NAME, ['Alice']],
    [SURNAME, ['Liddell']],
  ];
  const groupClaims: Array<[string, string[]]> =
    groups === 'overage' ? [[GROUPS_LINK, ['https://graph.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/users/3c1e5f7a/getMemberObjects']]] : [[GROUPS, [...groups]]];
  return {
    // Entra's default NameID is the UPN; an opaque persistent id is the other common choice, and shows
    // that the email comes from the claim, not from NameID.
    nameId: 'Zk3pX0yq1w2e3r4t5y6u7i8o9p0aSdFgHjKl',
    nameIdFormat: PERSISTENT,
    attributes: [...common, ...groupClaims],
    attributeNameFormat: null,
  };
}

describe('Entra ID: claim URIs, GUID groups, groups overage', () => {
  it('claim-URI attributes and GUID groups map to the organization and project roles', async () => {
    const browser = app.browser();
    const res = await shapedSignIn(app, browser, entra('Alice@Corp.example', [UNMAPPED, LS_ADMINS, RADIOLOGY_REVIEWERS]));
    expect(res.status, res.text.slice(0, 300)).toBe(302);
    const me = await whoami(browser);
    expect(me).toMatchObject({ email: 'alice@corp.example', first_name: 'Alice', last_name: 'Liddell' });
    expect(me.organization).toMatchObject({ role: 'AD', role_source: 'saml' });
    expect(me.projects).toEqual([expect.objectContaining({ id: 42, role: 'RE' })]);
  });

  it('a user only in unmapped groups is Not Activated (pending)', async () => {
    const browser = app.browser();
    const res = await shapedSignIn(app, browser, entra('bob@corp.example', [UNMAPPED]));
    expect(res.status).toBe(302);
    expect((await whoami(browser)).organization.role).toBe('NO');
  });

  it('groups overage (groups.link, no groups claim): groups unknown, nothing demoted, an audit warning', async () => {
    const browser = app.browser();
    expect((await shapedSignIn(app, browser, entra('carol@corp.example', [LS_ADMINS, RADIOLOGY_REVIEWERS]))).status).toBe(302);
    expect(await memberRole(app.db, 1, 'carol@corp.example')).toMatchObject({ role: 'AD' });

    const auditBefore = (await auditRows(app.db)).length;
    const again = app.browser();
    const res = await shapedSignIn(app, again, entra('carol@corp.example', 'overage'));
    expect(res.status, res.text.slice(0, 300)).toBe(302);
    const me = await whoami(again);
    expect(me.organization).toMatchObject({ role: 'AD', role_source: 'saml' });
    expect(me.projects).toEqual([expect.objectContaining({ id: 42, role: 'RE' })]);
    const audit = (await auditRows(app.db)).slice(auditBefore);
    expect(audit.map((a) => [a['action'], a['outcome']])).toEqual([
      ['groups_unknown', 'warning'],
      ['login', 'ok'],
    ]);
  });

  it('groups overage at a first login: Not Activated, with the warning', async () => {
    const auditBefore = (await auditRows(app.db)).length;
    const browser = app.browser();
    const res = await shapedSignIn(app, browser, entra('dave@corp.example', 'overage'));
    expect(res.status).toBe(302);
    expect((await whoami(browser)).organization.role).toBe('NO');
    const actions = (await auditRows(app.db)).slice(auditBefore).map((a) => a['action']);
    expect(actions).toContain('groups_unknown');
  });

  it('an empty groups claim is not overage: the member loses the mapped role (Deactivated, refused)', async () => {
    expect((await shapedSignIn(app, app.browser(), entra('erin@corp.example', [LS_ANNOTATORS]))).status).toBe(302);
    const res = await shapedSignIn(app, app.browser(), entra('erin@corp.example', []));
    expect(res.status).toBe(403);
    expect(res.json<{ error: string }>().error).toBe('ERR_ACCESS_REVOKED');
    expect(await memberRole(app.db, 1, 'erin@corp.example')).toMatchObject({ role: 'DI' });
  });
});
