/**
 * The Organization page as an Administrator uses it, in Debian's Chromium driven by playwright-core:
 * sign in through the development IdP, open Organization, filter Not Activated, assign a role, see the
 * managed-by-IdP badge, delete a member through the confirmation, invite, download the audit CSV, and check
 * the page at phone width. Screenshots land in test-results/ (not committed).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { launchChromium, shippedConfigYaml } from '../support/browser.js';

const SHOTS = path.join(ROOT, 'test-results');
let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  app = await startApp({
    yaml: shippedConfigYaml,
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function persona(button: string): Promise<void> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(app.url + '/saml/1/login');
  await page.getByRole('button', { name: button }).click();
  await page.waitForURL(app.url + '/');
  await context.close();
}

async function custom(email: string, groups: string): Promise<void> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(app.url + '/saml/1/login');
  await page.fill('#email', email);
  await page.fill('#groups', groups);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(app.url + '/');
  await context.close();
}

function row(page: Page, email: string) {
  return page.locator('table.members tbody tr', { hasText: email });
}

describe('the Organization page in a real browser', () => {
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    // Members to administer: a pending one, an annotator from the mapping, and one to delete.
    await persona('Sign in as Pat');
    await persona('Sign in as Andy');
    await custom('leaver@acme.example', 'Staff');
    context = await browser.newContext({ acceptDownloads: true });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(app.url + '/');
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.waitForURL(/\/dev-idp\/1\/sso/);
    await page.getByRole('button', { name: 'Sign in as Ada' }).click();
    await page.waitForURL(app.url + '/');
  });

  afterAll(async () => {
    await context?.close();
  });

  it('the profile page offers Organization to an Administrator, and it lists the members', async () => {
    await page.getByRole('link', { name: 'Organization' }).click();
    await page.waitForURL(app.url + '/organization');
    await page.screenshot({ path: path.join(SHOTS, 'organization-1-members.png'), fullPage: true });
    expect(await page.textContent('h1')).toBe('Acme Labs');
    for (const email of ['admin@acme.example', 'pending@acme.example', 'annotator@acme.example', 'leaver@acme.example']) {
      expect(await row(page, email).count()).toBe(1);
    }
  });

  it('shows the managed-by-IdP badge and disables the drop-down of a mapped member', async () => {
    const andy = row(page, 'annotator@acme.example');
    expect(await andy.locator('.managed').textContent()).toBe('managed by IdP: LS-Annotators');
    expect(await andy.locator('select[name=role]').isDisabled()).toBe(true);
    expect(await andy.locator('select[name=role]').getAttribute('title')).toContain('organizations[0].roles.LS-Annotators');
  });

  it('filters Not Activated and assigns a role from the drop-down', async () => {
    await page.selectOption('#role-filter', 'NO');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/role=NO/);
    await page.screenshot({ path: path.join(SHOTS, 'organization-2-not-activated.png'), fullPage: true });
    const emails = await page.locator('table.members tbody tr td[data-label=Email]').allTextContents();
    expect(emails.sort()).toEqual(['leaver@acme.example', 'pending@acme.example']);
    await row(page, 'pending@acme.example').locator('select[name=role]').selectOption('AN');
    await page.waitForSelector('.flash.ok');
    expect(await page.textContent('.flash')).toContain('pending@acme.example is now Annotator.');
    await page.screenshot({ path: path.join(SHOTS, 'organization-3-role-assigned.png'), fullPage: true });
    expect(await row(page, 'pending@acme.example').count()).toBe(0);
    const stored = (await app.db('memberships').join('users', 'users.id', 'memberships.user_id').where('users.email', 'pending@acme.example').first('role', 'role_source')) as { role: string; role_source: string };
    expect(stored).toEqual({ role: 'AN', role_source: 'manual' });
  });

  it('deletes a member through the confirmation whose button reads "Delete Member"', async () => {
    await page.goto(app.url + '/organization');
    await row(page, 'leaver@acme.example').getByRole('link', { name: 'Delete' }).click();
    const dialog = page.locator('#delete-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.locator('[data-name]').textContent()).toBe('leaver@acme.example');
    await page.screenshot({ path: path.join(SHOTS, 'organization-4-delete-confirmation.png') });
    await dialog.getByRole('button', { name: 'Delete Member' }).click();
    await page.waitForSelector('.flash.ok');
    expect(await page.textContent('.flash')).toContain('Member deleted');
    expect(await row(page, 'leaver@acme.example').count()).toBe(0);
    await page.click('#deleted');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/deleted=1/);
    expect(await page.locator('table.members tbody').textContent()).toContain('Deleted User');
  });

  it('invites by email and shows the link to copy', async () => {
    await page.goto(app.url + '/organization');
    await page.fill('#invite-email', 'newcomer@acme.example');
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.waitForSelector('.flash.ok');
    expect(await page.inputValue('#copy-value')).toBe(`${app.url}/saml/1/login`);
    await page.screenshot({ path: path.join(SHOTS, 'organization-5-invite.png') });
    expect(await row(page, 'newcomer@acme.example').locator('.role, select').first().isVisible()).toBe(true);
  });

  it('shows a member’s explain trace and audit history', async () => {
    await page.goto(app.url + '/organization');
    await row(page, 'annotator@acme.example').getByRole('link', { name: 'Details' }).click();
    await page.waitForURL(/\/organization\/members\/\d+$/);
    const text = (await page.textContent('main')) ?? '';
    expect(text).toContain('highest mapped role among: LS-Annotators → AN');
    expect(text).toContain('Audit history');
    expect(text).toContain('SAML login');
    await page.screenshot({ path: path.join(SHOTS, 'organization-6-member.png'), fullPage: true });
  });

  it('the audit view filters and downloads the CSV', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL(app.url + '/organization/audit');
    await page.selectOption('#f-action', 'member_deleted');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=member_deleted/);
    expect(await page.locator('table.audit tbody tr').count()).toBe(1);
    expect(await page.textContent('table.audit tbody')).toContain('Deleted User');
    await page.screenshot({ path: path.join(SHOTS, 'organization-7-audit.png'), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    const file = path.join(SHOTS, 'organization-audit.csv');
    await download.saveAs(file);
    const csv = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('time,actor,subject,action,outcome,error_code,before,after,reason,rule,config_revision,assertion_id,ip');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain('Deleted User');
    expect(csv[1]).toContain('member_deleted');
  });

  it('creates an API token on the page, shows the key once, and revokes it', async () => {
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.waitForURL(app.url + '/organization/tokens');
    await page.fill('#token-name', 'browser test');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.waitForSelector('.flash.ok');
    const key = await page.inputValue('#copy-value');
    expect(key).toMatch(/^rg_/);
    await page.screenshot({ path: path.join(SHOTS, 'organization-9-tokens.png'), fullPage: true });
    const res = await fetch(`${app.url}/api/organizations/0`, { headers: { authorization: `Token ${key}` } });
    expect(res.status).toBe(200);
    // The key was in that response only (a reload would re-post the form): the page shows it no more.
    await page.goto(app.url + '/organization/tokens');
    expect(await page.locator('#copy-value').count()).toBe(0);
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.waitForSelector('.flash.ok');
    expect((await fetch(`${app.url}/api/organizations/0`, { headers: { authorization: `Token ${key}` } })).status).toBe(401);
  });

  it('works at phone width', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, storageState: await context.storageState() });
    const p = await phone.newPage();
    await p.goto(app.url + '/organization');
    await p.screenshot({ path: path.join(SHOTS, 'organization-8-phone.png'), fullPage: true });
    // No horizontal scrolling: the table becomes one card per member.
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await p.locator('table.members thead').isVisible()).toBe(false);
    await phone.close();
  });

  it('raised no console errors (CSP violations would show here)', () => {
    expect(errors).toEqual([]);
  });

  it('a Manager sees no Organization link and is refused the page', async () => {
    const c = await browser.newContext();
    const p = await c.newPage();
    await p.goto(app.url + '/saml/1/login');
    await p.getByRole('button', { name: 'Sign in as Max' }).click();
    await p.waitForURL(app.url + '/');
    expect(await p.getByRole('link', { name: 'Organization' }).count()).toBe(0);
    const res = await p.goto(app.url + '/organization');
    expect(res?.status()).toBe(403);
    await c.close();
  });
});
