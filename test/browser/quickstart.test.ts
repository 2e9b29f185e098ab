/**
 * The quick start as a person does it, in Debian's Chromium driven by playwright-core: open the start page,
 * sign in through the development IdP, see your roles, reach the Organization page as the admin persona;
 * the personas show the states their names promise. Screenshots land in test-results/ (not committed).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { openChromiumSession, type ChromiumSession } from '../support/browser.js';

const SHOTS = path.join(ROOT, 'test-results');
let session: ChromiumSession | undefined;
let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  // The shipped example configuration, moved to a free port and a temporary database.
  session = await openChromiumSession();
  ({ app, browser } = session);
});

afterAll(async () => {
  await session?.close();
});

async function signIn(page: Page, button: string): Promise<void> {
  await page.goto(app.url + '/');
  await page.getByRole('link', { name: 'Sign in with SSO' }).click();
  await page.waitForURL(/\/dev-idp\/1\/sso/);
  await page.getByRole('button', { name: button }).click();
  // The IdP's page auto-posts the signed Response to the ACS, which redirects home.
  await page.waitForURL(app.url + '/');
}

describe('quick start in a real browser', () => {
  it('signs in as the Administrator persona and shows the organization and project roles', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(app.url + '/');
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'quickstart-1-start.png') });
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.waitForURL(/\/dev-idp\/1\/sso/);
    await page.screenshot({ path: path.join(SHOTS, 'quickstart-2-dev-idp.png'), fullPage: true });
    await page.getByRole('button', { name: 'Sign in as Ada' }).click();
    await page.waitForURL(app.url + '/');
    await page.screenshot({ path: path.join(SHOTS, 'quickstart-3-profile.png') });
    const text = await page.textContent('main');
    expect(text).toContain('admin@acme.example');
    expect(text).toContain('Administrator');
    expect(text).toContain('Radiology');
    // CSP violations (inline script, …) would show as console errors.
    expect(errors).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(app.url + '/');
    await expect(page.getByRole('link', { name: 'Sign in with SSO' }).isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('the README’s path: the admin persona Ada reaches the Organization page from the start page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'Sign in as Ada');
    await page.getByRole('link', { name: 'Open the Organization page' }).click();
    await page.waitForURL(app.url + '/organization');
    expect(await page.textContent('h1')).toBe('Acme Labs');
    await context.close();
  });

  it('each persona card says the state it signs in to', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url + '/saml/1/login');
    const state = async (name: string) => (await page.locator('form.persona', { hasText: name }).locator('.state').textContent())?.trim();
    expect(await state('Olivia Owner')).toBe('Owner: named in the configuration');
    expect(await state('Ada Admin')).toBe('Administrator through LS-Admins');
    expect(await state('Pat Pending')).toBe('Not Activated (pending): no group is mapped to a role');
    expect(await state('Fred Former')).toContain('Deactivated');
    expect(await state('Erin Overage')).toContain('Groups unknown');
    await context.close();
  });

  it('Fred Former is Deactivated, as his name says: his sign-in is refused with the access-revoked page', async () => {
    const fred = (await app.db('memberships').join('users', 'users.id', 'memberships.user_id').where('users.email', 'former@acme.example').first('role')) as { role: string };
    expect(fred.role).toBe('DI');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url + '/saml/1/login');
    await page.getByRole('button', { name: 'Sign in as Fred' }).click();
    await page.waitForSelector('h1:has-text("Access revoked")');
    expect(await page.textContent('main')).toContain('ERR_ACCESS_REVOKED');
    await context.close();
  });

  it('Erin Overage signs in with her groups unknown, and her page says so', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'Sign in as Erin');
    expect(await page.textContent('h1')).toBe('Your account is pending');
    expect(await page.textContent('main')).toContain('did not send your groups');
    expect(await page.textContent('main')).toContain('groups unknown');
    await context.close();
  });

  it('a pending persona sees only their pending state', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'Sign in as Pat');
    expect(await page.textContent('h1')).toBe('Your account is pending');
    await page.screenshot({ path: path.join(SHOTS, 'quickstart-4-pending.png') });
    await context.close();
  });

  it('a member whose groups disappear is refused with an access-revoked page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url + '/saml/1/login');
    await page.fill('#email', 'temp@acme.example');
    await page.fill('#groups', 'LS-Annotators');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(app.url + '/');
    expect(await page.textContent('main')).toContain('Annotator');
    await page.goto(app.url + '/saml/1/login');
    await page.fill('#email', 'temp@acme.example');
    await page.fill('#groups', 'Staff');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForSelector('h1:has-text("Access revoked")');
    await page.screenshot({ path: path.join(SHOTS, 'quickstart-5-revoked.png') });
    expect(await page.textContent('main')).toContain('ERR_ACCESS_REVOKED');
    await page.goto(app.url + '/');
    await expect(page.getByRole('link', { name: 'Sign in with SSO' }).isVisible()).resolves.toBe(true);
    await context.close();
  });
});
