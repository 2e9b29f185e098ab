/**
 * Signing in as people meet it, in Chromium on the shipped configuration: a signed-out visit to an admin
 * page goes to sign-in and comes back (scripts still get JSON 401), and the SAML errors of ordinary use
 * (the Back button after signing in, a sign-in started too long ago) say what happened in words, offer
 * "Sign in again", and keep the error code visible.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { type ChromiumSession, DOC_VIEWPORT, openChromiumSession, screenshot } from '../support/browser.js';

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

async function sessions(): Promise<number> {
  const row = (await app.db('sessions').count({ n: '*' }).first()) as { n: number | string };
  return Number(row.n);
}

describe('signing in, in a real browser', () => {
  it('a signed-out visit to an admin page goes to sign-in and comes back there afterwards', async () => {
    const context = await browser.newContext({ viewport: DOC_VIEWPORT });
    const page = await context.newPage();
    await page.goto(app.url + '/organization/audit?action=login');
    await page.waitForURL(`${app.url}/?next=${encodeURIComponent('/organization/audit?action=login')}`);
    expect(await page.textContent('main')).toContain('Sign in to continue to /organization/audit?action=login');
    await screenshot(page, 'sign-in', { docs: true });
    await page.getByRole('link', { name: 'Sign in with SSO to Acme Labs' }).click();
    await page.waitForURL(/\/dev-idp\/1\/sso/);
    await screenshot(page, 'development-idp', { docs: true });
    await page.getByRole('button', { name: 'Sign in as Ada' }).click();
    await page.waitForURL(app.url + '/organization/audit?action=login');
    expect(await page.textContent('h1')).toBe('Audit log');
    await context.close();
  });

  it('API clients still get JSON 401, not a redirect', async () => {
    const res = await fetch(app.url + '/api/organizations/0/memberships', { redirect: 'manual' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'ERR_UNAUTHENTICATED' });
    const asJson = await fetch(app.url + '/organization', { redirect: 'manual', headers: { accept: 'application/json' } });
    expect(asJson.status).toBe(401);
    expect(await asJson.json()).toMatchObject({ error: 'ERR_UNAUTHENTICATED' });
  });

  it('the next path cannot leave the site', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url + '/?next=' + encodeURIComponent('//evil.example/'));
    expect(await page.getByRole('link', { name: 'Sign in with SSO to Acme Labs' }).getAttribute('href')).toBe('/saml/1/login');
    await context.close();
  });

  it('the Back button after signing in: words, "Sign in again" and the code, and no new session', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url + '/saml/1/login');
    await page.waitForURL(/\/dev-idp\/1\/sso/);
    const idpPage = page.url();
    await page.getByRole('button', { name: 'Sign in as Rita' }).click();
    await page.waitForURL(app.url + '/');
    const before = await sessions();
    const roles = await app.db('memberships').select('user_id', 'role').orderBy('user_id');
    // Back to the IdP's page (its URL still carries the used AuthnRequest), and the same persona again.
    await page.goto(idpPage);
    await page.getByRole('button', { name: 'Sign in as Rita' }).click();
    await page.waitForSelector('.card.error');
    const res = await page.evaluate(() => document.title);
    expect(res).toContain('already been used or has expired');
    const text = (await page.textContent('main')) ?? '';
    expect(text).toContain('Back button');
    expect(text).toContain('ERR_SAML_IN_RESPONSE_TO');
    await screenshot(page, 'sign-in-back-button');
    expect(await sessions()).toBe(before);
    expect(await app.db('memberships').select('user_id', 'role').orderBy('user_id')).toEqual(roles);
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await page.waitForURL(/\/dev-idp\/1\/sso\?SAMLRequest=/);
    await page.getByRole('button', { name: 'Sign in as Rita' }).click();
    await page.waitForURL(app.url + '/');
    expect(await page.textContent('main')).toContain('reviewer@acme.example');
    await context.close();
  });

  it('a sign-in started too long ago: words, "Sign in again" and the code', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url + '/saml/1/login');
    await page.waitForURL(/\/dev-idp\/1\/sso/);
    // saml.request_ttl_seconds passing: the request this page answers is now past its expiry.
    await app.db('authn_requests').update({ expires_at: new Date(Date.now() - 1000) });
    const before = await sessions();
    const status = page.waitForResponse((r) => r.url().endsWith('/saml/1/acs'));
    await page.getByRole('button', { name: 'Sign in as Max' }).click();
    expect((await status).status()).toBe(401);
    await page.waitForSelector('.card.error');
    const text = (await page.textContent('main')) ?? '';
    expect(text).toContain('started too long ago');
    expect(text).toContain('ERR_SAML_IN_RESPONSE_TO');
    expect(await page.getByRole('link', { name: 'Sign in again' }).getAttribute('href')).toBe('/saml/1/login');
    expect(await sessions()).toBe(before);
    expect(Number(((await app.db('users').where({ email: 'manager@acme.example' }).count({ n: '*' }).first()) as { n: number | string }).n)).toBe(0);
    await context.close();
  });
});
