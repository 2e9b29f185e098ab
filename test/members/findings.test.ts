/**
 * What an outside review found when three code paths wrote roles, reproduced end to end: through HTTP
 * logins and the admin API of a running app, and through the `rolegate apply` command on its database.
 *  - An API token outlived a deactivation by the IdP (a login without the admin group, or an apply of a
 *    mapping without it) and answered 200 again once the member was reactivated.
 *  - An Administrator could pre-empt the configured owner by inviting that email and setting a role by
 *    hand before the owner's first login, leaving the organization without an Owner.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { auditRows, memberRole } from '../support/db.js';
import { signIn } from '../support/flow.js';
import { PEOPLE, call, errorOf, signedIn, userIdOf } from '../admin/support.js';
import { cli, cliConfig, newToken, revokedAt, tokenStatus } from './support.js';

let app: TestApp;
beforeEach(async () => {
  app = await startApp();
});
afterEach(async () => {
  await app.close();
});

describe('a deactivation ends API tokens for good', () => {
  it('through HTTP: a login without the admin group deactivates, the token is revoked, and a later login with the group does not revive it', async () => {
    await signedIn(app, PEOPLE.OW);
    const admin = await signedIn(app, PEOPLE.AD);
    const token = await newToken(app, admin);
    expect(await tokenStatus(app, token.key)).toBe(200);

    const refused = await signIn(app, app.browser(), { ...PEOPLE.AD, groups: [] });
    expect([refused.status, errorOf(refused)]).toEqual([403, 'ERR_ACCESS_REVOKED']);
    expect((await memberRole(app.db, 1, PEOPLE.AD.email))?.role).toBe('DI');
    expect(await tokenStatus(app, token.key)).toBe(401);
    expect(await revokedAt(app, token.id)).not.toBeNull();
    // The session the deactivation ended does not come back either.
    expect((await admin.whoami()).status).toBe(401);

    const again = await signIn(app, app.browser(), PEOPLE.AD);
    expect(again.status, again.text).toBe(302);
    expect((await memberRole(app.db, 1, PEOPLE.AD.email))?.role).toBe('AD');
    expect(await tokenStatus(app, token.key)).toBe(401);
    expect((await admin.whoami()).status).toBe(401);
  });

  it('through `rolegate apply`: a mapping without the admin group revokes the token; applying the group back does not revive it', async () => {
    await signedIn(app, PEOPLE.OW);
    const admin = await signedIn(app, PEOPLE.AD);
    const token = await newToken(app, admin);
    expect(await tokenStatus(app, token.key)).toBe(200);

    const without = cliConfig(app, 'without-admins.yaml', (y) => y.replace(/^ {6}LS-Admins: Administrator\n/m, ''));
    const dropped = await cli(['apply', '--config', without, '--force']);
    expect(dropped.code, dropped.err).toBe(0);
    expect((await memberRole(app.db, 1, PEOPLE.AD.email))?.role).toBe('DI');
    expect(await tokenStatus(app, token.key)).toBe(401);
    expect(await revokedAt(app, token.id)).not.toBeNull();
    expect((await admin.whoami()).status).toBe(401);

    const restored = await cli(['apply', '--config', cliConfig(app, 'restored.yaml'), '--force']);
    expect(restored.code, restored.err).toBe(0);
    expect((await memberRole(app.db, 1, PEOPLE.AD.email))?.role).toBe('AD');
    expect(await tokenStatus(app, token.key)).toBe(401);
    const deactivation = (await auditRows(app.db)).find((r) => r['action'] === 'role_change' && r['after'] === 'DI' && r['actor'] === 'config');
    expect(JSON.parse(String(deactivation?.['reason']))).toMatchObject({ tokens_revoked: 1 });
  });
});

describe('the configured owner is Owner at every login', () => {
  for (const handSet of ['AN', 'DI'] as const) {
    it(`an Administrator who invites the owner's email and sets ${handSet} by hand cannot pre-empt the owner: line`, async () => {
      const admin = await signedIn(app, PEOPLE.AD);
      const invited = await call(app, admin, 'POST', '/api/organizations/0/invites', { body: { email: PEOPLE.OW.email } });
      expect(invited.status, invited.text).toBe(201);
      const ownerId = await userIdOf(app, PEOPLE.OW.email);
      const set = await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: ownerId, role: handSet } });
      expect(set.status, set.text).toBe(200);
      expect((await memberRole(app.db, 1, PEOPLE.OW.email))?.role).toBe(handSet);

      const owner = app.browser();
      const res = await signIn(app, owner, PEOPLE.OW);
      expect(res.status, res.text).toBe(302);
      expect(await memberRole(app.db, 1, PEOPLE.OW.email)).toEqual({ role: 'OW', role_source: 'manual' });
      expect((await owner.whoami()).status).toBe(200);
      // And at every later login, whatever was set by hand in between.
      const again = await call(app, admin, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: ownerId, role: 'AN' } });
      expect([again.status, errorOf(again)]).toEqual([403, 'ERR_FORBIDDEN']);
      expect((await signIn(app, app.browser(), PEOPLE.OW)).status).toBe(302);
      expect((await memberRole(app.db, 1, PEOPLE.OW.email))?.role).toBe('OW');
    });
  }

  it('only a recorded transfer moves ownership: after one, the owner: line no longer applies to the former owner', async () => {
    const owner = await signedIn(app, PEOPLE.OW);
    await signedIn(app, PEOPLE.AD);
    const adminId = await userIdOf(app, PEOPLE.AD.email);
    const res = await call(app, owner, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: adminId, role: 'OW', transfer_ownership: true } });
    expect(res.status, res.text).toBe(200);
    expect(await app.db('ownership_transfers').select('from_email', 'to_user_id')).toEqual([{ from_email: PEOPLE.OW.email, to_user_id: adminId }]);
    expect((await signIn(app, app.browser(), PEOPLE.OW)).status).toBe(302);
    // Set through the admin API: Label Studio's role source `api`.
    expect(await memberRole(app.db, 1, PEOPLE.OW.email)).toEqual({ role: 'AD', role_source: 'api' });
    expect((await memberRole(app.db, 1, PEOPLE.AD.email))?.role).toBe('OW');
  });
});
