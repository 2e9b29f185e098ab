/**
 * The Mapping page in Chromium on the shipped configuration: each rule with the members it grants now,
 * groups no rule maps, members whose groups were last seen long ago, and the plan of a pasted or chosen
 * configuration, validated by the real loader, shown before anyone applies it (and never applied).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { DOC_VIEWPORT, openChromiumSession, screenshot, type ChromiumSession } from '../support/browser.js';

let session: ChromiumSession | undefined;
let app: TestApp;
let context: BrowserContext;
let page: Page;
const SHIPPED = fs.readFileSync(path.join(ROOT, 'config/rolegate.yaml'), 'utf8');

beforeAll(async () => {
  session = await openChromiumSession({ seed: ['Andy', 'Rita', 'Pat', 'Erin'], signIn: 'Ada', viewport: DOC_VIEWPORT });
  ({ app, context, page } = session);
});

afterAll(async () => {
  await session?.close();
});

function ruleRow(group: string) {
  return page.locator('table.rules tbody tr', { has: page.locator('td[data-label="IdP group"]', { hasText: new RegExp(`^${group}$`) }) });
}

async function roles(): Promise<unknown[]> {
  return app.db('memberships').select('user_id', 'role', 'role_source').orderBy('user_id');
}

describe('the Mapping page in a real browser', () => {
  it('lists each rule with how many members it grants now, and who', async () => {
    // Rita's groups were last seen 40 days ago; the report still names the rules they match.
    const rita = (await app.db('users').where({ email: 'reviewer@acme.example' }).first('id')) as { id: number };
    await app.db('member_groups').where({ user_id: rita.id }).update({ asserted_at: new Date(Date.now() - 40 * 86_400_000) });
    await page.goto(app.url + '/organization');
    await page.getByRole('link', { name: 'Mapping' }).first().click();
    await page.waitForURL(app.url + '/organization/mapping');
    const cells = async (group: string) => (await ruleRow(group).locator('td').allTextContents()).map((t) => t.trim());
    const admins = await cells('LS-Admins');
    expect(admins[1]).toBe('Administrator');
    expect(admins[3]).toBe('1');
    expect(admins[4]).toBe('admin@acme.example');
    expect((await cells('LS-Annotators'))[4]).toBe('annotator@acme.example');
    expect((await cells('LS-Reviewers'))[4]).toBe('reviewer@acme.example');
    expect((await cells('LS-Managers')).slice(3)).toEqual(['0', 'nobody now']);
    const inherit = await cells('LS-AllProjects');
    expect(inherit[1]).toBe('Inherit');
    expect(inherit[2]).toContain('Project Radiology');
    expect(inherit[4]).toBe('admin@acme.example');
    // The config path is there as detail.
    expect(await ruleRow('LS-Admins').locator('.source').textContent()).toMatch(/^organizations\[0\]\.roles\.LS-Admins, line \d+$/);
  });

  it('lists groups the IdP sent that no rule maps, and members whose groups were seen long ago or never', async () => {
    const unmapped = page.locator('section', { has: page.getByRole('heading', { name: 'Groups no rule maps' }) });
    expect(await unmapped.locator('tbody tr').allTextContents()).toEqual([expect.stringContaining('Staff')]);
    expect(await unmapped.locator('tbody').textContent()).toContain('pending@acme.example');
    const old = page.locator('section', { has: page.getByRole('heading', { name: 'Groups last seen long ago' }) });
    const text = (await old.textContent()) ?? '';
    expect(text).toContain('more than 30 days ago');
    expect(text).toContain('entra-overage@acme.example');
    expect(text).toContain('never: the IdP sent no groups');
    expect(text).toMatch(/reviewer@acme\.example\s*Reviewer\s*\d{4}-\d{2}-\d{2} \(40 days ago\)/);
    expect(text).not.toContain('annotator@acme.example');
  });

  it('shows the loader’s errors, with line and column, for a pasted configuration that is not valid', async () => {
    const before = await roles();
    const broken = SHIPPED.replace('  host: 127.0.0.1', '   host: 127.0.0.1');
    await page.fill('#yaml', broken);
    await page.getByRole('button', { name: 'Show the plan' }).click();
    await page.waitForSelector('.flash.error');
    const text = (await page.textContent('.flash.error')) ?? '';
    expect(text).toContain('ERR_CONFIG_INVALID');
    expect(text).toMatch(/line \d+, column \d+/);
    expect(text).toContain('check the indentation here');
    expect(await page.locator('ul.issues li').count()).toBe(1);
    // The text stays in the box to be fixed.
    expect(await page.inputValue('#yaml')).toBe(broken);

    await page.fill('#yaml', SHIPPED.replace('LS-Reviewers: Reviewer', 'LS-Reviewers: Reviwer'));
    await page.getByRole('button', { name: 'Show the plan' }).click();
    await page.waitForSelector('.flash.error');
    expect(await page.textContent('.flash.error')).toMatch(/line \d+, column \d+ organizations\[0\]\.roles\.LS-Reviewers: .*Reviewer/);
    expect(await roles()).toEqual(before);
  });

  it('shows the plan of a chosen file before anyone applies it, and applies nothing', async () => {
    const before = await roles();
    const revisions = await app.db('config_revisions').count({ n: '*' }).first();
    // Annotators lose their mapped group; an upload is read into the box, then planned.
    const next = SHIPPED.replace(/\n\s+LS-Annotators: Annotator/, '');
    await page.setInputFiles('#yaml-file', { name: 'rolegate.yaml', mimeType: 'text/yaml', buffer: Buffer.from(next) });
    await expect.poll(() => page.inputValue('#yaml')).toBe(next);
    await page.getByRole('button', { name: 'Show the plan' }).click();
    await page.waitForSelector('.plan');
    const plan = page.locator('.plan');
    const change = plan.locator('table').nth(0).locator('tr', { hasText: 'annotator@acme.example' });
    expect(await change.locator('td[data-label=Change]').textContent()).toBe('Annotator → Deactivated');
    // Project 42 (Radiology) follows: the project role goes with the mapped group.
    const project = plan.locator('table').nth(1).locator('tr', { hasText: 'annotator@acme.example' });
    expect(await project.locator('td[data-label=Project]').textContent()).toBe('Radiology');
    expect(await project.locator('td[data-label=Change]').textContent()).toBe('Annotator → none');
    expect(await plan.textContent()).toContain('rolegate apply');
    await page.locator('#preview').scrollIntoViewIfNeeded();
    await screenshot(page, 'mapping', { docs: true });
    await screenshot(page, 'mapping-full', { fullPage: true });
    expect(await roles()).toEqual(before);
    expect(await app.db('config_revisions').count({ n: '*' }).first()).toEqual(revisions);
  });

  it('refuses a preview without the page’s CSRF token', async () => {
    const cookies = await context.cookies();
    const res = await fetch(app.url + '/organization/mapping/preview', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: app.url, cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') },
      body: new URLSearchParams({ yaml: SHIPPED, csrf: 'not-the-token' }).toString(),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('ERR_CSRF');
  });
});
