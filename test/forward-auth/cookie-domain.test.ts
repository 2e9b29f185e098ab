/**
 * forward_auth.cookie_domain: rolegate on auth.acme.test and applications on app.acme.test share the session
 * cookie only when it carries Domain=acme.test; without the key it stays host-only.
 */
import { describe, expect, it } from 'vitest';
import { standardYaml, startApp } from '../support/app.js';
import { signIn } from '../support/flow.js';
import { PEOPLE, forwardAuthYaml } from './support.js';

async function sessionCookie(extra: string, upstream = 'https://app.acme.test'): Promise<string | undefined> {
  const app = await startApp({
    // Browsers use auth.acme.test (public_url); the test talks to the listening address directly.
    yaml: (dir, url) => standardYaml({ dir, publicUrl: url.replace('127.0.0.1', 'auth.acme.test') }) + forwardAuthYaml([upstream], extra),
  });
  try {
    const res = await signIn(app, app.browser(), PEOPLE.AN);
    expect(res.status, res.text).toBe(302);
    return res.setCookies.find((c) => c.startsWith('rolegate.sid='));
  } finally {
    await app.close();
  }
}

describe('the session cookie for forward-auth', () => {
  it('carries Domain=<cookie_domain> when configured', async () => {
    expect(await sessionCookie('  cookie_domain: acme.test\n')).toMatch(/; domain=acme\.test(;|$)/i);
  });
  it("is host-only otherwise (the upstreams are then on rolegate's host)", async () => {
    expect(await sessionCookie('', 'https://auth.acme.test:8443')).not.toMatch(/domain=/i);
  });
});
