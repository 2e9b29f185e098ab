/**
 * Sign-in through nginx in Debian's Chromium: a person opens an application behind nginx, is sent to rolegate,
 * picks a persona on the development IdP, and lands on the page they asked for with their identity headers.
 * nginx runs docs/forward-auth/nginx.conf. Screenshots land in test-results/ (not committed).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, freePort, serverYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { launchChromium } from '../support/browser.js';
import { type EchoUpstream, type RunningProxy, renderTemplate, requireBinary, startEchoUpstream, startNginx } from '../support/proxies.js';
import { forwardAuthYaml } from '../forward-auth/support.js';

const SHOTS = path.join(ROOT, 'test-results');
let app: TestApp;
let upstream: EchoUpstream;
let nginx: RunningProxy;
let origin = '';
let browser: Browser;

beforeAll(async () => {
  requireBinary('nginx');
  fs.mkdirSync(SHOTS, { recursive: true });
  upstream = await startEchoUpstream();
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  app = await startApp({
    yaml: (dir, url) => `${serverYaml(dir, url)}organizations:
  - id: 1
    title: Acme Labs
    owner: owner@acme.example
    sso:
      development_idp: true
    roles:
      LS-Admins: Administrator
      LS-Reviewers: Reviewer
      LS-Annotators: Annotator
    projects:
      - id: 42
        title: Radiology
        groups:
          LS-Project42-Reviewers: Reviewer
      - id: 43
        title: Pathology
        groups: {}
${forwardAuthYaml([origin])}`,
  });
  nginx = await startNginx(port, renderTemplate('nginx.conf', { LISTEN: `127.0.0.1:${port}`, APP_ORIGIN: origin, ROLEGATE_ADDRESS: new URL(app.url).host, UPSTREAM_URL: upstream.url }));
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await nginx?.close();
  await upstream?.close();
  await app?.close();
});

describe('an application behind nginx, in a real browser', () => {
  it('signs in through rolegate and comes back to the page asked for, with the identity headers', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/projects/42/tasks?view=grid`);
    // nginx → 401 from rolegate → 302 to /auth/signin → SAML login → the development IdP's persona page.
    await page.waitForURL(/\/dev-idp\/1\/sso/);
    await page.screenshot({ path: path.join(SHOTS, 'forward-auth-1-idp.png'), fullPage: true });
    await page.getByRole('button', { name: 'Sign in as Rita' }).click();
    await page.waitForURL(`${origin}/projects/42/tasks?view=grid`);
    await page.screenshot({ path: path.join(SHOTS, 'forward-auth-2-upstream.png') });
    const echoed = JSON.parse((await page.textContent('body')) ?? '{}') as { url: string; headers: Record<string, string> };
    expect(echoed.url).toBe('/projects/42/tasks?view=grid');
    expect([echoed.headers['x-rolegate-email'], echoed.headers['x-rolegate-org-role'], echoed.headers['x-rolegate-projects']]).toEqual(['reviewer@acme.example', 'RE', '42:RE']);

    // Same browser, a path the Reviewer may not reach: nginx's 403, and the upstream is not asked.
    const before = upstream.requests.length;
    const denied = await page.goto(`${origin}/admin`);
    expect(denied?.status()).toBe(403);
    expect(upstream.requests.length).toBe(before);
    await context.close();
  });
});
