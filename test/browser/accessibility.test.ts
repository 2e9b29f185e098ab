/**
 * Keyboard use and screen-reader labels, checked in Chromium's own accessibility tree (the DevTools
 * protocol's Accessibility.getFullAXTree, what assistive technology is given): every control on every page
 * has a name, each page has its landmarks, and the Organization page works from the keyboard alone.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { openChromiumSession, type ChromiumSession } from '../support/browser.js';

let session: ChromiumSession | undefined;
let app: TestApp;
let context: BrowserContext;
let page: Page;

interface AxNode {
  readonly nodeId: string;
  readonly ignored: boolean;
  readonly role?: { readonly value: string };
  readonly name?: { readonly value: string };
}

beforeAll(async () => {
  session = await openChromiumSession({ seed: ['Pat', 'Andy'], signIn: 'Ada' });
  ({ app, context, page } = session);
});

afterAll(async () => {
  await session?.close();
});

/** Chromium's accessibility tree of the page, as the browser exposes it to assistive technology. */
async function axTree(p: Page): Promise<AxNode[]> {
  const cdp = await p.context().newCDPSession(p);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AxNode[] };
    return nodes.filter((n) => !n.ignored);
  } finally {
    await cdp.detach();
  }
}

const CONTROLS = new Set(['button', 'link', 'textbox', 'searchbox', 'combobox', 'checkbox', 'ListBox', 'listbox', 'radio']);

describe('accessibility in Chromium’s accessibility tree', () => {
  it.each([
    ['/', 'Your access'],
    ['/organization', 'Members'],
    ['/organization/audit', 'Audit log'],
    ['/organization/mapping', 'Mapping'],
    ['/organization/tokens', 'API tokens'],
  ])('%s: every control has a name, and the page has its landmarks', async (url) => {
    await page.goto(app.url + url);
    const nodes = await axTree(page);
    const unnamed = nodes.filter((n) => CONTROLS.has(n.role?.value ?? '') && (n.name?.value ?? '').trim() === '').map((n) => n.role?.value);
    expect(unnamed).toEqual([]);
    const roles = new Set(nodes.map((n) => n.role?.value));
    for (const landmark of ['banner', 'main', 'navigation']) expect(roles, landmark).toContain(landmark);
    expect(nodes.filter((n) => n.role?.value === 'heading' && n.name?.value !== '').length).toBeGreaterThan(0);
  });

  it('the Members table’s controls are named after the member they act on', async () => {
    await page.goto(app.url + '/organization');
    const names = (await axTree(page)).map((n) => `${n.role?.value}: ${n.name?.value ?? ''}`);
    expect(names).toContain('combobox: Role of pending@acme.example');
    expect(names).toContain('checkbox: Select pending@acme.example');
    expect(names).toContain('link: Delete pending@acme.example');
    expect(names).toContain('link: Details of annotator@acme.example');
    expect(names).toContain('checkbox: Select all members on this page');
    expect(names).toContain('combobox: Action for the selected members');
    expect(names).toContain('searchbox: Search');
    // The disabled drop-down of an IdP-managed role says why.
    const cdp = await context.newCDPSession(page);
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: (AxNode & { description?: { value: string } })[] };
    await cdp.detach();
    const andy = nodes.find((n) => n.role?.value === 'combobox' && n.name?.value === 'Role of annotator@acme.example');
    expect(andy?.description?.value).toContain('Managed by the IdP group LS-Annotators');
  });

  it('works from the keyboard: skip link, then a role change that waits for Save', async () => {
    await page.goto(app.url + '/organization');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(new URL(page.url()).hash).toBe('#main');
    // To Pat's role drop-down by keyboard, then change it with the arrow keys: nothing is sent yet.
    const select = page.locator('select[aria-label], select').filter({ has: page.locator('option') }).and(page.getByLabel('Role of pending@acme.example'));
    await select.focus();
    const before = page.url();
    await page.keyboard.press('ArrowDown');
    expect(await select.inputValue()).not.toBe('NO');
    expect(page.url()).toBe(before);
    expect((await app.db('memberships').join('users', 'users.id', 'memberships.user_id').where('users.email', 'pending@acme.example').first('role')).role).toBe('NO');
    const save = page.getByRole('button', { name: 'Save the role of pending@acme.example' });
    expect(await save.isVisible()).toBe(true);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Save the role of pending@acme.example');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.flash.ok');
    expect((await app.db('memberships').join('users', 'users.id', 'memberships.user_id').where('users.email', 'pending@acme.example').first('role')).role).not.toBe('NO');
  });

  it('the confirmation dialog takes focus, and Escape cancels it', async () => {
    await page.goto(app.url + '/organization');
    await page.getByRole('link', { name: 'Delete pending@acme.example' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('#confirm-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    const nodes = await axTree(page);
    expect(nodes.some((n) => n.role?.value === 'dialog' && n.name?.value === 'Delete pending@acme.example?')).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.locator('table.members tbody tr', { hasText: 'pending@acme.example' }).count()).toBe(1);
  });
});
