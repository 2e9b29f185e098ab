/**
 * The Organization page as an administrator uses it, in Debian's Chromium driven by playwright-core, on the
 * shipped configuration: the header, seat and status counts, words instead of codes, sorting, page size,
 * filters that say when nothing matches, invitations, confirmations before ownership moves or an
 * administrator removes themselves, bulk actions through the same guards and audit, the audit log at
 * 1280 px and at phone width. A few screenshots go to docs/screenshots/ (the docs show them), the rest to
 * test-results/.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { type ChromiumSession, DOC_VIEWPORT, openChromiumSession, screenshot, SHOTS, signInAs, signInCustom } from '../support/browser.js';

let session: ChromiumSession | undefined;
let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  session = await openChromiumSession();
  ({ app, browser } = session);
});

afterAll(async () => {
  await session?.close();
});

/** A one-off sign-in in a context of its own (the member exists afterwards). */
async function once(run: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext();
  await run(await context.newPage());
  await context.close();
}

function row(page: Page, email: string) {
  return page.locator('table.members tbody tr', { hasText: email });
}

async function stored(email: string): Promise<{ role: string; role_source: string } | undefined> {
  return (await app.db('memberships').join('users', 'users.id', 'memberships.user_id').where('users.email', email).first('role', 'role_source')) as { role: string; role_source: string } | undefined;
}

async function auditRows(action: string, email: string): Promise<{ actor: string; before: string | null; after: string | null }[]> {
  const user = (await app.db('users').where({ email }).first('id')) as { id: number } | undefined;
  return (await app.db('audit_events').where({ action, subject_user_id: user?.id ?? -1 }).select('actor', 'before', 'after')) as { actor: string; before: string | null; after: string | null }[];
}

describe('the Organization page in a real browser', () => {
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    // Members to administer: pending ones, an annotator from the mapping, one named for the name search,
    // the Owner, and a second administrator who will remove themselves.
    await once((p) => signInAs(p, app.url, 'Pat'));
    await once((p) => signInAs(p, app.url, 'Andy'));
    await once((p) => signInAs(p, app.url, 'Olivia'));
    await once((p) => signInCustom(p, app.url, 'leaver@acme.example', 'Staff'));
    await once((p) => signInCustom(p, app.url, 'grace@acme.example', 'Staff', { first: 'Grace', last: 'Hopper' }));
    await once((p) => signInCustom(p, app.url, 'admin2@acme.example', 'Staff', { first: 'Second', last: 'Admin' }));
    context = await browser.newContext({ acceptDownloads: true, viewport: DOC_VIEWPORT });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await signInAs(page, app.url, 'Ada');
  });

  afterAll(async () => {
    await context?.close();
  });

  it('the header names the signed-in person and organization, with the logo mark and the favicon', async () => {
    const who = page.locator('header .who');
    expect(await who.textContent()).toContain('Ada Admin');
    expect(await who.textContent()).toContain('Administrator · Acme Labs');
    expect(await page.locator('header .brand svg.mark').isVisible()).toBe(true);
    const icon = await page.locator('link[rel=icon]').getAttribute('href');
    const res = await fetch(app.url + icon);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('image/svg+xml');
    await page.getByRole('link', { name: 'Open the Organization page' }).click();
    await page.waitForURL(app.url + '/organization');
    expect(await page.textContent('h1')).toBe('Acme Labs');
    expect(await page.locator('header .who').textContent()).toContain('Ada Admin');
    for (const email of ['admin@acme.example', 'pending@acme.example', 'annotator@acme.example', 'leaver@acme.example', 'grace@acme.example']) {
      expect(await row(page, email).count()).toBe(1);
    }
  });

  it('shows seat and status counts at the top, against the configured seats', async () => {
    const stats = page.locator('ul.stats');
    const active = (await app.db('memberships').whereIn('role', ['OW', 'AD', 'MA', 'RE', 'AN']).count({ n: '*' }).first()) as { n: number | string };
    const pending = (await app.db('memberships').where('role', 'NO').count({ n: '*' }).first()) as { n: number | string };
    expect(await stats.locator('li').nth(0).textContent()).toContain(`${Number(active.n)} of 25`);
    expect(await stats.locator('li').nth(1).textContent()).toContain(`${Number(pending.n)}Pending`);
    expect(await stats.locator('li').nth(2).textContent()).toContain('1Deactivated'); // Fred Former, as the development IdP records him
    expect(await stats.locator('li').nth(3).textContent()).toContain('0Deleted');
  });

  it('says who manages a role in words, with the config path as detail', async () => {
    const andy = row(page, 'annotator@acme.example');
    const managed = andy.locator('details.managed');
    expect(await managed.locator('summary').textContent()).toBe('Managed by the IdP group LS-Annotators');
    expect(await managed.locator('.source').isVisible()).toBe(false);
    await managed.locator('summary').click();
    expect(await managed.locator('.source').textContent()).toMatch(/^organizations\[0\]\.roles\.LS-Annotators, line \d+ grants Annotator$/);
    expect(await andy.locator('select[name=role]').isDisabled()).toBe(true);
    // Role names, not codes, in the drop-downs and the filter.
    expect(await page.locator('#role-filter option').allTextContents()).toEqual(['All roles', 'Owner', 'Administrator', 'Manager', 'Reviewer', 'Annotator', 'Not Activated', 'Deactivated']);
    expect(await page.locator('table.members').textContent()).not.toMatch(/\b(AN|NO|RE|AD)\b/);
  });

  it('sorts by a column, both ways, and says so to screen readers', async () => {
    await page.getByRole('link', { name: 'Email' }).click();
    await page.waitForURL(/sort=email/);
    const asc = await page.locator('table.members tbody td[data-label=Email]').allTextContents();
    expect(asc).toEqual([...asc].sort());
    expect(await page.locator('th[aria-sort]').textContent()).toContain('Email');
    expect(await page.locator('th[aria-sort]').getAttribute('aria-sort')).toBe('ascending');
    await page.getByRole('link', { name: 'Email' }).click();
    await page.waitForURL(/dir=desc/);
    const desc = await page.locator('table.members tbody td[data-label=Email]').allTextContents();
    expect(desc).toEqual([...asc].reverse());
    expect(await page.locator('th[aria-sort]').getAttribute('aria-sort')).toBe('descending');
  });

  it('filters by email or by full name, and says so when nothing matches', async () => {
    await page.goto(app.url + '/organization');
    await page.fill('#search', 'Grace Hopper');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/search=Grace/);
    expect(await page.locator('table.members tbody td[data-label=Email]').allTextContents()).toEqual(['grace@acme.example']);
    await page.fill('#search', 'leaver@acme');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/search=leaver/);
    expect(await page.locator('table.members tbody td[data-label=Email]').allTextContents()).toEqual(['leaver@acme.example']);
    await page.fill('#search', 'nobody-by-that-name');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/search=nobody/);
    expect(await page.locator('p.empty').textContent()).toContain('No members match “nobody-by-that-name”');
    await screenshot(page, 'organization-empty-filter');
    await page.getByRole('link', { name: 'Clear the filter' }).click();
    await page.waitForURL(app.url + '/organization');
  });

  it('filters Not Activated and assigns a role from the drop-down', async () => {
    await page.selectOption('#role-filter', 'NO');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/role=NO/);
    const emails = await page.locator('table.members tbody tr td[data-label=Email]').allTextContents();
    expect(emails.sort()).toEqual(['admin2@acme.example', 'grace@acme.example', 'leaver@acme.example', 'pending@acme.example']);
    // Chosen without the mouse (as with the keyboard), the choice waits for its Save button.
    await row(page, 'pending@acme.example').locator('select[name=role]').selectOption('AN');
    expect(await page.locator('.flash').count()).toBe(0);
    await row(page, 'pending@acme.example').getByRole('button', { name: 'Save the role of pending@acme.example' }).click();
    await page.waitForSelector('.flash.ok');
    expect(await page.textContent('.flash')).toContain('pending@acme.example is now Annotator.');
    expect(await row(page, 'pending@acme.example').count()).toBe(0);
    expect(await stored('pending@acme.example')).toEqual({ role: 'AN', role_source: 'manual' });
    // With the mouse, the choice applies at once.
    await row(page, 'admin2@acme.example').locator('select[name=role]').click();
    await row(page, 'admin2@acme.example').locator('select[name=role]').selectOption('AD');
    await page.waitForSelector('.flash.ok');
    expect(await stored('admin2@acme.example')).toEqual({ role: 'AD', role_source: 'manual' });
  });

  it('offers a page size, kept by the other links', async () => {
    await page.goto(app.url + '/organization');
    for (let i = 1; i <= 6; i++) {
      await page.fill('#invite-email', `extra${i}@acme.example`);
      await page.getByRole('button', { name: 'Invite' }).click();
      await page.waitForSelector('.flash.ok');
    }
    await page.selectOption('#per-page', '10');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/per_page=10/);
    expect(await page.locator('table.members tbody tr').count()).toBe(10);
    expect(await page.locator('nav.pager').textContent()).toContain('Page 1 of 2');
    await page.getByRole('link', { name: 'Next →' }).click();
    await page.waitForURL(/page=2/);
    expect(new URL(page.url()).searchParams.get('per_page')).toBe('10');
    expect(await page.locator('table.members tbody tr').count()).toBeGreaterThan(0);
  });

  it('invites with a real invitation link that opens the organization’s sign-in, and says no email is sent', async () => {
    await page.goto(app.url + '/organization');
    expect(await page.locator('#invite-note').textContent()).toContain('rolegate sends no email');
    await page.fill('#invite-email', 'newcomer@acme.example');
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.waitForSelector('.flash.ok');
    expect(await page.textContent('.flash')).toContain('rolegate sends no email');
    const link = await page.inputValue('#copy-value');
    expect(link).toBe(`${app.url}/sign-in/1?invited=newcomer%40acme.example`);
    await screenshot(page, 'organization-invite');
    await once(async (p) => {
      await p.goto(link);
      expect(await p.textContent('h1')).toBe('You are invited to Acme Labs');
      expect(await p.textContent('main')).toContain('newcomer@acme.example');
      await screenshot(p, 'invitation-landing');
      await p.getByRole('link', { name: 'Sign in with SSO' }).click();
      await p.waitForURL(/\/dev-idp\/1\/sso\?SAMLRequest=/);
    });
  });

  it('deletes a member through the confirmation whose button reads "Delete Member"', async () => {
    await page.goto(app.url + '/organization');
    await row(page, 'leaver@acme.example').getByRole('link', { name: 'Delete leaver@acme.example' }).click();
    const dialog = page.locator('#confirm-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.locator('h2').textContent()).toBe('Delete leaver@acme.example?');
    await screenshot(page, 'organization-delete-confirmation');
    await dialog.getByRole('button', { name: 'Delete Member' }).click();
    await page.waitForSelector('.flash.ok');
    expect(await page.textContent('.flash')).toContain('Member deleted');
    expect(await row(page, 'leaver@acme.example').count()).toBe(0);
    expect(await page.locator('ul.stats li').nth(3).textContent()).toContain('1Deleted');
  });

  it('bulk actions go member by member through the same guards and audit as single changes', async () => {
    await page.goto(app.url + '/organization');
    // Pat was set by hand (may change); Andy's role is managed by the IdP (refused, as one at a time).
    await row(page, 'pending@acme.example').getByRole('checkbox').check();
    await row(page, 'annotator@acme.example').getByRole('checkbox').check();
    expect(await page.locator('[data-selected-count]').textContent()).toBe('2 selected:');
    await page.selectOption('#bulk-action', 'role:RE');
    await page.getByRole('button', { name: 'Apply to selected' }).click();
    await page.waitForSelector('.flash');
    const flash = (await page.textContent('.flash')) ?? '';
    expect(flash).toContain('1 member set to Reviewer; 1 refused:');
    expect(flash).toContain('annotator@acme.example');
    expect(flash).toContain('ERR_ROLE_MANAGED_BY_IDP');
    await screenshot(page, 'organization-bulk-result');
    expect(await stored('pending@acme.example')).toEqual({ role: 'RE', role_source: 'manual' });
    expect(await stored('annotator@acme.example')).toEqual({ role: 'AN', role_source: 'saml' });
    const admin = (await app.db('users').where({ email: 'admin@acme.example' }).first('id')) as { id: number };
    expect(await auditRows('role_change', 'pending@acme.example')).toContainEqual({ actor: `user:${admin.id}`, before: 'AN', after: 'RE' });

    // Deactivating asks first; Cancel changes nothing.
    await row(page, 'grace@acme.example').getByRole('checkbox').check();
    await row(page, 'newcomer@acme.example').getByRole('checkbox').check();
    await page.selectOption('#bulk-action', 'deactivate');
    await page.getByRole('button', { name: 'Apply to selected' }).click();
    const dialog = page.locator('#confirm-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.locator('h2').textContent()).toBe('Deactivate: 2 members?');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await stored('grace@acme.example')).toEqual({ role: 'NO', role_source: 'saml' });
    await page.getByRole('button', { name: 'Apply to selected' }).click();
    await dialog.waitFor({ state: 'visible' });
    await dialog.getByRole('button', { name: 'Deactivate' }).click();
    await page.waitForSelector('.flash.ok');
    expect(await page.textContent('.flash')).toContain('2 members deactivated.');
    expect((await stored('grace@acme.example'))?.role).toBe('DI');
    expect((await stored('newcomer@acme.example'))?.role).toBe('DI');
    expect(await auditRows('role_change', 'grace@acme.example')).toContainEqual({ actor: `user:${admin.id}`, before: 'NO', after: 'DI' });
  });

  it('without script, a bulk deletion needs its “Yes, do it” box, and nothing changes without it', async () => {
    const noScript = await browser.newContext({ javaScriptEnabled: false, storageState: await context.storageState() });
    const n = await noScript.newPage();
    await n.goto(app.url + '/organization?per_page=50');
    await row(n, 'extra5@acme.example').getByRole('checkbox').check();
    await row(n, 'extra6@acme.example').getByRole('checkbox').check();
    await n.selectOption('#bulk-action', 'delete');
    await n.getByRole('button', { name: 'Apply to selected' }).click();
    await n.waitForSelector('.flash.error');
    expect(await n.textContent('.flash.error')).toContain('ERR_BAD_REQUEST');
    expect((await stored('extra5@acme.example'))?.role).toBe('NO');
    await row(n, 'extra5@acme.example').getByRole('checkbox').check();
    await row(n, 'extra6@acme.example').getByRole('checkbox').check();
    await n.selectOption('#bulk-action', 'delete');
    await n.getByLabel('Yes, do it').check();
    await n.getByRole('button', { name: 'Apply to selected' }).click();
    await n.waitForSelector('.flash.ok');
    expect(await n.textContent('.flash.ok')).toContain('2 members deleted.');
    expect(await stored('extra5@acme.example')).toBeUndefined();
    await noScript.close();
  });

  it('shows deactivated and pending rows distinctly from active ones', async () => {
    await page.goto(app.url + '/organization?per_page=50');
    const background = (email: string) => row(page, email).locator('td[data-label=Email]').evaluate((td) => getComputedStyle(td).backgroundColor);
    const active = await background('annotator@acme.example');
    const deactivated = await background('grace@acme.example');
    const pending = await background('extra1@acme.example');
    expect(new Set([active, deactivated, pending]).size).toBe(3);
    expect(await row(page, 'grace@acme.example').locator('.role.DI').textContent()).toBe('Deactivated');
    expect(await row(page, 'extra1@acme.example').locator('.role.NO').textContent()).toBe('Not Activated');
    expect(await page.locator('ul.stats li').nth(2).textContent()).toContain('3Deactivated');
    await screenshot(page, 'organization-members', { docs: true });
  });

  it('shows a member’s reason and history in words', async () => {
    await page.goto(app.url + '/organization');
    await row(page, 'annotator@acme.example').getByRole('link', { name: 'Details of annotator@acme.example' }).click();
    await page.waitForURL(/\/organization\/members\/\d+$/);
    const text = (await page.textContent('main')) ?? '';
    expect(text).toContain('highest mapped role among: LS-Annotators → Annotator');
    expect(text).toContain('Managed by the IdP group LS-Annotators');
    expect(text).toContain('History');
    expect(text).toContain('Signed in');
    expect(text).toContain('— → Annotator');
    expect(text).not.toMatch(/→ (AN|NO|RE)\b/);
    await screenshot(page, 'organization-member', { fullPage: true });
  });

  it('the audit log filters by a member’s email or name, says when nothing matches, and fits at 1280 px', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL(app.url + '/organization/audit');
    // No cut-off column and one-line timestamps at 1280 px.
    const fit = await page.evaluate(() => {
      const wrap = document.querySelector('.table-wrap') as HTMLElement;
      const times = Array.from(document.querySelectorAll('table.audit td.time')).map((td) => (td as HTMLElement).getClientRects().length === 1 && (td.querySelector('time') as HTMLElement).getClientRects().length === 1);
      const lineHeights = Array.from(document.querySelectorAll('table.audit td.time time')).map((t) => (t as HTMLElement).offsetHeight);
      return { overflow: wrap.scrollWidth - wrap.clientWidth, times, maxTimeHeight: Math.max(...lineHeights) };
    });
    expect(fit.overflow).toBeLessThanOrEqual(0);
    expect(fit.times.every(Boolean)).toBe(true);
    expect(fit.maxTimeHeight).toBeLessThan(30);
    expect(await page.locator('table.audit').textContent()).toContain('Role changed');
    await screenshot(page, 'audit-log', { docs: true });

    await page.fill('#f-member', 'grace hopper');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/member=grace/);
    const subjects = await page.locator('table.audit tbody td[data-label=Member]').allTextContents();
    expect(subjects.length).toBeGreaterThan(0);
    expect(subjects.every((s) => s.includes('grace@acme.example'))).toBe(true);
    expect(await page.locator('table.audit tbody').textContent()).toContain('Not Activated → Deactivated');

    await page.fill('#f-member', 'pending@acme.example');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/member=pending/);
    expect((await page.locator('table.audit tbody td[data-label=Member]').allTextContents()).every((s) => s.includes('pending@acme.example'))).toBe(true);

    await page.fill('#f-member', 'no-such-person');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/member=no-such/);
    expect(await page.locator('p.empty').textContent()).toContain('No events match the member “no-such-person”');
  });

  it('the audit log filters by action in words and downloads the CSV', async () => {
    await page.goto(app.url + '/organization/audit');
    await page.selectOption('#f-action', { label: 'Member deleted' });
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=member_deleted/);
    // leaver@ by the row's Delete, extra5@ and extra6@ by the bulk action: one row each.
    expect(await page.locator('table.audit tbody tr').count()).toBe(3);
    expect(await page.textContent('table.audit tbody')).toContain('Deleted User');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    fs.mkdirSync(SHOTS, { recursive: true });
    const file = path.join(SHOTS, 'organization-audit.csv');
    await download.saveAs(file);
    const csv = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('time,actor,subject,action,outcome,error_code,before,after,reason,rule,config_revision,assertion_id,ip');
    expect(csv).toHaveLength(4);
    expect(csv.slice(1).every((line) => line.includes('member_deleted'))).toBe(true);
  });

  it('creates an API token on the page, shows the key once, and revokes it', async () => {
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.waitForURL(app.url + '/organization/tokens');
    await page.fill('#token-name', 'browser test');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.waitForSelector('.flash.ok');
    const key = await page.inputValue('#copy-value');
    expect(key).toMatch(/^rg_/);
    const res = await fetch(`${app.url}/api/organizations/0`, { headers: { authorization: `Token ${key}` } });
    expect(res.status).toBe(200);
    // The key was in that response only (a reload would re-post the form): the page shows it no more.
    await page.goto(app.url + '/organization/tokens');
    expect(await page.locator('#copy-value').count()).toBe(0);
    await page.getByRole('button', { name: 'Revoke token browser test' }).click();
    await page.waitForSelector('.flash.ok');
    expect((await fetch(`${app.url}/api/organizations/0`, { headers: { authorization: `Token ${key}` } })).status).toBe(401);
  });

  it('works at phone width', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await context.storageState() });
    const p = await phone.newPage();
    for (const url of ['/organization', '/organization/audit', '/organization/mapping']) {
      await p.goto(app.url + url);
      // No horizontal scrolling: tables become one card per row.
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, url).toBeLessThanOrEqual(0);
    }
    await p.goto(app.url + '/organization');
    expect(await p.locator('table.members thead').isVisible()).toBe(false);
    await screenshot(p, 'organization-phone', { fullPage: true });
    await phone.close();
  });

  it('asks before ownership moves, also without script, and Cancel changes nothing', async () => {
    const owner = await browser.newContext({ viewport: DOC_VIEWPORT });
    const p = await owner.newPage();
    await signInAs(p, app.url, 'Olivia');
    // Without script the drop-down's Save posts, and the server answers with a confirmation page first.
    const noScript = await browser.newContext({ javaScriptEnabled: false, storageState: await owner.storageState() });
    const n = await noScript.newPage();
    await n.goto(app.url + '/organization');
    await row(n, 'pending@acme.example').locator('select[name=role]').selectOption('OW');
    await row(n, 'pending@acme.example').getByRole('button', { name: 'Save' }).click();
    await n.waitForURL(/confirm=role&role=OW/);
    expect(await n.locator('.card.confirm h2').textContent()).toBe('Make pending@acme.example the Owner?');
    expect(await stored('pending@acme.example')).toEqual({ role: 'RE', role_source: 'manual' });
    await noScript.close();

    await p.goto(app.url + '/organization');
    const select = row(p, 'pending@acme.example').locator('select[name=role]');
    const save = row(p, 'pending@acme.example').getByRole('button', { name: 'Save the role of pending@acme.example' });
    await select.selectOption('OW');
    await save.click();
    const dialog = p.locator('#confirm-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.locator('h2').textContent()).toBe('Make pending@acme.example the Owner?');
    await screenshot(p, 'organization-ownership-confirmation');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => select.inputValue()).toBe('RE');
    expect(await stored('pending@acme.example')).toEqual({ role: 'RE', role_source: 'manual' });
    // Escape is a Cancel too.
    await select.selectOption('OW');
    await save.click();
    await dialog.waitFor({ state: 'visible' });
    await p.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => select.inputValue()).toBe('RE');
    expect(await stored('pending@acme.example')).toEqual({ role: 'RE', role_source: 'manual' });

    await select.selectOption('OW');
    await save.click();
    await dialog.getByRole('button', { name: 'Transfer ownership' }).click();
    await p.waitForSelector('.flash.ok');
    expect(await p.textContent('.flash')).toContain('pending@acme.example is now Owner. You are now an Administrator.');
    expect((await stored('pending@acme.example'))?.role).toBe('OW');
    expect((await stored('owner@acme.example'))?.role).toBe('AD');
    await owner.close();
  });

  it('asks before an administrator deletes themselves, then signs them out', async () => {
    const c = await browser.newContext();
    const p = await c.newPage();
    await signInCustom(p, app.url, 'admin2@acme.example', 'Staff');
    await p.goto(app.url + '/organization');
    await row(p, 'admin2@acme.example').getByRole('link', { name: 'Delete admin2@acme.example' }).click();
    const dialog = p.locator('#confirm-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.locator('h2').textContent()).toBe('Delete your own membership?');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await stored('admin2@acme.example'))?.role).toBe('AD');
    await row(p, 'admin2@acme.example').getByRole('link', { name: 'Delete admin2@acme.example' }).click();
    await dialog.getByRole('button', { name: 'Delete myself' }).click();
    await p.waitForURL(app.url + '/');
    expect(await p.textContent('h1')).toBe('Sign in');
    const gone = (await app.db('users').where({ id: (await app.db('audit_events').where({ action: 'member_deleted' }).orderBy('id', 'desc').first('subject_user_id')).subject_user_id }).first('is_deleted')) as { is_deleted: unknown };
    expect(Boolean(gone.is_deleted)).toBe(true);
    await c.close();
  });

  it('raised no console errors (CSP violations would show here)', () => {
    expect(errors).toEqual([]);
  });

  it('a Manager sees no Organization link and is refused the page', async () => {
    await once(async (p) => {
      await signInAs(p, app.url, 'Max');
      expect(await p.getByRole('link', { name: /Organization/ }).count()).toBe(0);
      const res = await p.goto(app.url + '/organization');
      expect(res?.status()).toBe(403);
      expect(await p.textContent('main')).toContain('ERR_FORBIDDEN');
    });
  });
});
