import { afterAll, describe, expect, it } from 'vitest';
import { cleanupDirs } from './support.js';
import { startReloadApp } from '../reload/support.js';

afterAll(cleanupDirs);

describe('the last-administrator guard at login', () => {
  it('the last active Administrator is not deactivated by a login: refused, audited, still signed in as Administrator', async () => {
    const app = await startReloadApp();
    try {
      const b = app.browser();
      expect((await app.signInDirect(b, { email: 'ada@acme.example', groups: ['LS-Admins'] })).status).toBe(302);
      expect((await app.signInDirect(b, { email: 'ada@acme.example', groups: [] })).status).toBe(302);
      const me = (await b.whoami()).json<{ organization: { role: string } }>();
      expect(me.organization.role).toBe('AD');
      const refused = (await app.db('audit_events').where({ action: 'role_change', outcome: 'refused' })) as Record<string, unknown>[];
      expect(refused).toEqual([expect.objectContaining({ actor: 'saml', subject_email: 'ada@acme.example', before: 'AD', after: 'DI' })]);
      expect(JSON.parse(String(refused[0]?.['reason']))).toMatchObject({ guard: 'last_admin' });

      // With a second administrator, the demotion goes through and the session is refused.
      await app.signInDirect(app.browser(), { email: 'bob@acme.example', groups: ['LS-Admins'] });
      const res = await app.signInDirect(b, { email: 'ada@acme.example', groups: [] });
      expect(res.status).toBe(403);
      expect(res.json<{ error: string }>().error).toBe('ERR_ACCESS_REVOKED');
      expect((await b.whoami()).status).toBe(401);
    } finally {
      await app.close();
    }
  });
});
