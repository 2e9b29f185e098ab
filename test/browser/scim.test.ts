/**
 * SCIM on the Organization page, in Debian's Chromium: an Administrator creates a SCIM token on the API tokens
 * page, the IdP uses the key shown once to provision a member, the members list marks that member SCIM, and
 * the token is revoked from the same page. With `scim.enabled` turned off (a reload), the badge says SCIM is
 * off instead of claiming SCIM still decides.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { openChromiumSession, shippedConfigYaml, type ChromiumSession } from '../support/browser.js';

let session: ChromiumSession | undefined;
let app: TestApp;
let page: Page;

beforeAll(async () => {
  session = await openChromiumSession({ yaml: (dir) => shippedConfigYaml(dir).replace('    roles:', '    scim:\n      enabled: true\n    roles:'), signIn: 'Ada' });
  ({ app, page } = session);
});

afterAll(async () => {
  await session?.close();
});

async function scim(key: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${app.url}/scim/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/scim+json', accept: 'application/scim+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('SCIM on the Organization page in a real browser', () => {
  let key = '';

  it('creates a SCIM token and shows its key once', async () => {
    await page.goto(app.url + '/organization/tokens');
    expect(await page.locator('#scim h1').textContent()).toBe('SCIM provisioning');
    expect(await page.locator('#scim').textContent()).toContain(`${app.url}/scim/v2`);
    await page.fill('#scim-token-name', 'Okta');
    await page.getByRole('button', { name: 'Create SCIM token' }).click();
    await page.waitForURL(app.url + '/organization/tokens');
    key = await page.inputValue('#copy-value');
    expect(key).toMatch(/^rgscim_[A-Za-z0-9_-]{43}$/);
    expect(await page.locator('#scim tbody tr', { hasText: 'Okta' }).count()).toBe(1);
    await page.reload();
    expect(await page.content()).not.toContain(key);
  });

  it('the IdP provisions a member with it, and the members list marks that member SCIM', async () => {
    const res = await scim(key, 'POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'pushed@acme.example', active: true });
    expect(res.status).toBe(201);
    await page.goto(app.url + '/organization');
    const pushed = page.locator('table.members tbody tr', { hasText: 'pushed@acme.example' });
    expect(await pushed.locator('.managed.scim').textContent()).toBe('SCIM');
    const ada = page.locator('table.members tbody tr', { hasText: 'admin@acme.example' });
    expect(await ada.locator('.managed.scim').count()).toBe(0);
  });

  it('revokes the SCIM token from the page; the key stops working', async () => {
    await page.goto(app.url + '/organization/tokens');
    await page.locator('#scim tbody tr', { hasText: 'Okta' }).getByRole('button', { name: 'Revoke' }).click();
    await page.waitForURL(app.url + '/organization/tokens');
    expect(await page.locator('#scim tbody tr', { hasText: 'Okta' }).count()).toBe(0);
    expect((await scim(key, 'GET', '/Users')).status).toBe(401);
  });

  it('after scim.enabled is turned off, the badge reads "SCIM (off)", greyed, and says SAML decides again', async () => {
    const status = await app.reconfigure((yaml) => yaml.replace('    scim:\n      enabled: true\n', ''));
    expect(status.ok, status.message).toBe(true);
    await page.goto(app.url + '/organization');
    const badge = page.locator('table.members tbody tr', { hasText: 'pushed@acme.example' }).locator('.managed.scim');
    expect(await badge.textContent()).toBe('SCIM (off)');
    expect(await badge.getAttribute('class')).toBe('managed scim off');
    expect(await badge.getAttribute('title')).toContain('scim.enabled: false');
    // Greyed: the muted colour, not the text colour of an active badge.
    const [muted, color] = await badge.evaluate((el) => [getComputedStyle(document.documentElement).getPropertyValue('--muted').trim(), getComputedStyle(el).color]);
    expect(muted).not.toBe('');
    expect(color).toBe(await page.evaluate((c) => {
      const probe = document.createElement('span');
      probe.style.color = c;
      document.body.append(probe);
      const rgb = getComputedStyle(probe).color;
      probe.remove();
      return rgb;
    }, muted));
    expect(await page.locator('table.members .managed.scim:not(.off)').count()).toBe(0);
    // The member's own page says the same, and the SCIM section of the tokens page says SCIM is off.
    await page.locator('table.members tbody tr', { hasText: 'pushed@acme.example' }).locator('a').first().click();
    expect(await page.locator('.managed.scim.off').first().textContent()).toBe('SCIM (off)');
    expect(await page.content()).toContain('SAML logins decide this member again');
    await page.goto(app.url + '/organization/tokens');
    expect(await page.locator('#scim').textContent()).toContain('Off for this organization');
  });
});
