/**
 * Cross-site state changes in a real browser (Debian's Chromium): another site (served on `localhost` while
 * rolegate is on `127.0.0.1`, so Chromium treats them as different sites) links to the sign-out and posts the
 * development IdP's form. Chromium sends its own Sec-Fetch-Site and the SameSite=Lax session cookie on such a
 * top-level navigation, exactly what made the sign-out link work for an attacker.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { openChromiumSession, shippedEnv, type ChromiumSession } from '../support/browser.js';

let session: ChromiumSession | undefined;
let app: TestApp;
let browser: Browser;
let evil: http.Server;
let evilUrl: string;

beforeAll(async () => {
  // The shipped file, started as `PORT=… npm start`, with its public URL on 127.0.0.1 (the other site is on localhost).
  session = await openChromiumSession({ env: (port) => ({ ...shippedEnv(port), ROLEGATE_PUBLIC_URL: `http://127.0.0.1:${port}` }) });
  ({ app, browser } = session);
  evil = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html');
    if (req.url === '/link') res.end(`<!doctype html><a id="go" href="${app.url}/saml/1/logout">Win a prize</a>`);
    else if (req.url === '/idp-form') {
      res.end(`<!doctype html><form id="f" method="post" action="${app.url}/dev-idp/1/sso"><input type="hidden" name="persona" value="0"><button id="go" type="submit">Go</button></form>`);
    } else res.end('<!doctype html>nothing');
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await session?.close();
  await new Promise((r) => evil?.close(r));
});

async function whoamiStatus(page: Page): Promise<number> {
  const res = await page.goto(`${app.url}/api/current-user/whoami`);
  return res?.status() ?? 0;
}

describe('cross-site requests in Chromium', () => {
  it("a link on another site to /saml/1/logout is refused (403 ERR_CSRF) and the session lives; typing the address signs out", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url + '/');
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.waitForURL(/\/dev-idp\/1\/sso/);
    await page.getByRole('button', { name: 'Sign in as Ada' }).click();
    await page.waitForURL(app.url + '/');
    expect(await whoamiStatus(page)).toBe(200);

    await page.goto(`${evilUrl}/link`);
    const [response] = await Promise.all([page.waitForResponse(`${app.url}/saml/1/logout`), page.click('#go')]);
    expect(response.status()).toBe(403);
    expect(await response.text()).toContain('ERR_CSRF');
    expect(await whoamiStatus(page)).toBe(200);

    // Typed into the address bar (Sec-Fetch-Site: none): the person asked for it.
    await page.goto(`${app.url}/saml/1/logout`);
    expect(await whoamiStatus(page)).toBe(401);
    await context.close();
  });

  it("another site's form cannot make the development IdP sign a browser in", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${evilUrl}/idp-form`);
    const [response] = await Promise.all([page.waitForResponse(`${app.url}/dev-idp/1/sso`), page.click('#go')]);
    expect(response.status()).toBe(403);
    expect(await response.text()).toContain('ERR_CSRF');
    expect(await whoamiStatus(page)).toBe(401);
    await context.close();
  });
});
