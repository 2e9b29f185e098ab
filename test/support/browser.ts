/** Debian's Chromium driven by playwright-core, and the shipped example configuration moved into a test's folder. */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ROOT, startApp, type StartOptions, type TestApp } from './app.js';

/** Headless, and with every background connection off: the machine's network is closed. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * config/rolegate.yaml as shipped, with its database and data folder in `dir`. Port and public URL are left
 * alone: start it with `shippedEnv`, as `PORT=… npm start` would, so the test follows whatever the file says.
 */
export function shippedConfigYaml(dir: string): string {
  return fs
    .readFileSync(path.join(ROOT, 'config/rolegate.yaml'), 'utf8')
    .replace('sqlite:./data/rolegate.db', `sqlite:${dir}/rolegate.db`)
    .replace('  trust_proxy: false', `  trust_proxy: false\n  data_dir: ${dir}/data`);
}

/** The environment of `PORT=<port> npm start`: nothing else that could move the port or the public URL. */
export function shippedEnv(port: number): NodeJS.ProcessEnv {
  return { PORT: String(port), ROLEGATE_PORT: '', ROLEGATE_PUBLIC_URL: '', ROLEGATE_HOST: '' };
}

/** Screenshots every browser test may take (not committed). */
export const SHOTS = path.join(ROOT, 'test-results');
/**
 * The few screenshots the docs show (committed, so they follow the pages): taken at 1280×800, the viewport
 * only, so each stays around 100 KB. They are rewritten only when asked, with
 * `ROLEGATE_DOC_SCREENSHOTS=1 npx vitest run test/browser` (times on the pages change with every run, and a
 * test run should not leave the tree modified); otherwise they land in test-results/ like the others.
 */
export const DOC_SHOTS = path.join(ROOT, 'docs/screenshots');

export async function screenshot(page: Page, name: string, opts: { docs?: boolean; fullPage?: boolean } = {}): Promise<void> {
  const dir = opts.docs === true && process.env['ROLEGATE_DOC_SCREENSHOTS'] === '1' ? DOC_SHOTS : SHOTS;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: opts.fullPage ?? false, animations: 'disabled', caret: 'hide' });
}

/** A context the size of the docs' screenshots. */
export const DOC_VIEWPORT = { width: 1280, height: 800 } as const;

/** Sign in through the development IdP as one of its personas, from the start page. */
export async function signInAs(page: Page, baseUrl: string, persona: string): Promise<void> {
  await page.goto(baseUrl + '/');
  await page.getByRole('link', { name: 'Sign in with SSO' }).first().click();
  await page.waitForURL(/\/dev-idp\/1\/sso/);
  await page.getByRole('button', { name: `Sign in as ${persona}` }).click();
  await page.waitForURL(baseUrl + '/');
}

/** Sign in through the development IdP's custom user form. */
export async function signInCustom(page: Page, baseUrl: string, email: string, groups: string, name?: { first: string; last: string }): Promise<void> {
  await page.goto(baseUrl + '/saml/1/login');
  await page.fill('#email', email);
  if (name !== undefined) {
    await page.fill('#first_name', name.first);
    await page.fill('#last_name', name.last);
  }
  await page.fill('#groups', groups);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(baseUrl + '/');
}

export interface ChromiumSession {
  readonly app: TestApp;
  readonly browser: Browser;
  /** The context and page signed in as `signIn` (only when it was given). */
  readonly context: BrowserContext;
  readonly page: Page;
  /** Page, browser and app, in that order. */
  close(): Promise<void>;
}

export interface ChromiumSessionOptions {
  /** The configuration; default the shipped one (`shippedConfigYaml`). */
  readonly yaml?: (dir: string, publicUrl: string) => string;
  /** Default `shippedEnv`: started as `PORT=… npm start` would. */
  readonly env?: StartOptions['env'];
  /** Personas signed in once each, in throw-away contexts, so that they exist as members. */
  readonly seed?: readonly string[];
  /** A persona to sign in as in `context`/`page`. */
  readonly signIn?: string;
  /** The viewport of that context (e.g. DOC_VIEWPORT). */
  readonly viewport?: { readonly width: number; readonly height: number };
}

/**
 * What every browser test starts with: the app (the shipped configuration unless told otherwise), Debian's
 * Chromium, the seeded personas, and optionally a page signed in as one of them. On a failure half-way, what
 * was started is closed again.
 */
export async function openChromiumSession(opts: ChromiumSessionOptions = {}): Promise<ChromiumSession> {
  const app = await startApp({ yaml: opts.yaml ?? shippedConfigYaml, env: opts.env ?? shippedEnv });
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  const close = async (): Promise<void> => {
    await context?.close();
    await browser?.close();
    await app.close();
  };
  try {
    browser = await launchChromium();
    for (const persona of opts.seed ?? []) {
      const c = await browser.newContext();
      await signInAs(await c.newPage(), app.url, persona);
      await c.close();
    }
    if (opts.signIn !== undefined) {
      context = await browser.newContext(opts.viewport === undefined ? {} : { viewport: { ...opts.viewport } });
      page = await context.newPage();
      await signInAs(page, app.url, opts.signIn);
    }
  } catch (err) {
    await close();
    throw err;
  }
  const launched = browser;
  const none = (what: string): never => {
    throw new Error(`openChromiumSession: no ${what} without signIn`);
  };
  return {
    app,
    browser: launched,
    get context() {
      return context ?? none('context');
    },
    get page() {
      return page ?? none('page');
    },
    close,
  };
}
