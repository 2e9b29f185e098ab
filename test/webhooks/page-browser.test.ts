/**
 * The Webhooks view in Debian's Chromium (playwright-core): an Administrator signs in through the development
 * IdP, opens the Webhooks tab from the Organization page, sees the failed deliveries of their own sign-in's
 * events, and resends one once the receiver is back. Screenshot in test-results/ (not committed).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type TestApp } from '../support/app.js';
import { openChromiumSession, shippedConfigYaml, type ChromiumSession } from '../support/browser.js';
import { Receiver, newSecret } from './receiver.js';
import { webhooksYaml } from './support.js';

const SHOTS = path.join(ROOT, 'test-results');
let session: ChromiumSession | undefined;
let app: TestApp;
let browser: Browser;
let receiver: Receiver;
let up = false;

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  receiver = await Receiver.start(newSecret());
  receiver.answer = () => (up ? { status: 204 } : { status: 503, body: 'maintenance' });
  process.env['WH_SECRET_0'] = receiver.secret;
  session = await openChromiumSession({
    yaml: (dir) => shippedConfigYaml(dir) + webhooksYaml([{ name: 'crm', url: receiver.url, secret: receiver.secret }], '  poll_interval_ms: 20\n  retry:\n    max_attempts: 1\n'),
  });
  ({ app, browser } = session);
});

afterAll(async () => {
  await session?.close();
  await receiver?.down();
  delete process.env['WH_SECRET_0'];
});

describe('the Webhooks view in a real browser', () => {
  it('shows failed deliveries and resends one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(app.url + '/saml/1/login');
    await page.getByRole('button', { name: 'Sign in as Ada' }).click();
    await page.waitForURL(app.url + '/');
    // Ada's first sign-in made her a member: its events fail (503, one attempt allowed).
    for (let i = 0; i < 200; i++) {
      const failed = (await app.db('webhook_deliveries').where({ status: 'failed' }).count({ n: '*' })) as { n: number | string }[];
      if (Number(failed[0]?.n) >= 2) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await page.goto(app.url + '/organization');
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL(app.url + '/organization/webhooks');
    await expect(page.locator('tr[data-endpoint="crm"]').textContent()).resolves.toContain('enabled');
    const failures = page.locator('section', { has: page.getByRole('heading', { name: 'Failures' }) }).locator('tbody tr[data-delivery-id]');
    const failed = await failures.count();
    expect(failed).toBeGreaterThanOrEqual(2);
    await expect(failures.first().textContent()).resolves.toContain('ERR_WEBHOOK_STATUS');
    await page.screenshot({ path: path.join(SHOTS, 'webhooks-failures.png'), fullPage: true });

    up = true;
    await failures.first().getByRole('button', { name: 'Resend' }).click();
    await page.waitForURL(app.url + '/organization/webhooks');
    await expect(page.getByRole('status').textContent()).resolves.toContain('queued again');
    for (let i = 0; i < 200 && !receiver.received.some((r) => r.verifyError === undefined && up && r.payload !== undefined && receiver.received.filter((x) => x.id === r.id).length === 2); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    await page.reload();
    expect(await failures.count()).toBe(failed - 1);
    expect(errors).toEqual([]);
    await context.close();
  });
});
