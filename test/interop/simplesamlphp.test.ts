/**
 * rolegate against a real IdP: SimpleSAMLphp 1.19 (Debian) on 127.0.0.1, rolegate on localhost (another
 * site, so Chromium's real cross-site cookie rules apply to the IdP's POST), Debian's Chromium driven by
 * playwright-core. rolegate is configured from the IdP's published metadata (idp_metadata_file) and the
 * IdP imports rolegate's published SP metadata. Screenshots: test-results/interop-*.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, freePort, serverYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { startSimpleSamlPhp, sspInstalled } from './simplesamlphp.js';
import type { SpRemoteOptions, SspIdp, SspUser } from './simplesamlphp.js';

const SHOTS = path.join(ROOT, 'test-results');

function user(username: string, groups: readonly string[]): SspUser {
  const given = username.charAt(0).toUpperCase() + username.slice(1);
  return { username, password: `${username}-pass`, mail: `${username}@acme.example`, givenName: given, sn: 'Interop', groups };
}

const USERS: SspUser[] = [
  user('ada', ['LS-Admins']),
  user('rita', ['LS-Reviewers', 'LS-Project42-Annotators']),
  user('mona', ['LS-Managers', 'LS-Project43-Annotators']),
  user('nora', ['Staff']),
  user('tim', ['LS-Annotators']),
  user('ivy', ['LS-Annotators']),
];

if (!sspInstalled()) {
  throw new Error('SimpleSAMLphp is not installed: apt-get install -y simplesamlphp php-cli php-xml php-mbstring xmlsec1');
}

/** The SimpleSAMLphp recipe of docs/identity-providers.md: the per-SP options on top of rolegate's imported metadata. */
const SP_REMOTE: SpRemoteOptions = {
  'simplesaml.nameidattribute': 'mail',
  attributes: ['mail', 'givenName', 'sn', 'groups'],
  'signature.algorithm': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'saml20.sign.assertion': true,
};
const SP_KEYS = `      sp_private_key_file: ${path.join(ROOT, 'fixtures/keys/sp.key')}
      sp_cert_file: ${path.join(ROOT, 'fixtures/keys/sp.crt')}
`;

let idp: SspIdp;
/** The Responses posted to the ACS during the last spLogin. */
let lastResponses: string[] = [];
let app: TestApp;
let url: string;
let browser: Browser;

function orgYaml(id: number, title: string, metadataFile: string, extra: string): string {
  return `  - id: ${id}
    title: ${title}
    owner: owner@acme.example
    sso:
      idp_metadata_file: ${metadataFile}
      attributes:
        email: mail
        first_name: givenName
        last_name: sn
        groups: groups
${extra}    roles:
      LS-Admins: Administrator
      LS-Managers: Manager
      LS-Reviewers: Reviewer
      LS-Annotators: Annotator
    projects:
      - id: ${id * 100 + 42}
        title: Radiology
        groups:
          LS-Project42-Annotators: Annotator
      - id: ${id * 100 + 43}
        title: Pathology
        groups:
          LS-Project43-Annotators: Annotator
`;
}

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  idp = await startSimpleSamlPhp({ port: await freePort(), users: USERS });
  const metadataFile = path.join(idp.dir, 'idp-metadata.xml');
  fs.writeFileSync(metadataFile, await idp.fetchMetadata());
  app = await startApp({
    yaml: (dir, ownUrl) => {
      url = ownUrl.replace('127.0.0.1', 'localhost');
      return `${serverYaml(dir, url)}saml:
  clock_skew_seconds: 60
organizations:
${orgYaml(1, 'Acme Labs', metadataFile, '      allow_idp_initiated: true\n')}${orgYaml(2, 'Acme Strict', metadataFile, '      allow_idp_initiated: false\n')}${orgYaml(3, 'Acme Encrypted', metadataFile, SP_KEYS)}${orgYaml(4, 'Acme Signed', metadataFile, SP_KEYS + '      sign_authn_requests: true\n')}${orgYaml(5, 'Acme Unsigned', metadataFile, '')}${orgYaml(6, 'Acme SLO', metadataFile, SP_KEYS)}`;
    },
  });
  // The IdP imports rolegate's SP metadata (SAMLParser, as its metadata converter does) plus the per-SP
  // options of that recipe. Org 3 publishes an encryption certificate; the IdP encrypts to it.
  // Orgs 4 and 5: the IdP requires signed AuthnRequests (validate.authnrequest). Org 4 signs and publishes
  // its signing certificate in its metadata; org 5 does not sign (the IdP is given the certificate by hand).
  const spCertBody = fs.readFileSync(path.join(ROOT, 'fixtures/keys/sp.crt'), 'utf8').replace(/-----[^-]+-----|\s/g, '');
  const extra: Record<number, SpRemoteOptions> = {
    3: { 'assertion.encryption': true },
    4: { 'validate.authnrequest': true },
    5: { 'validate.authnrequest': true, certData: spCertBody },
    // Single Logout: the SLO endpoint and signing certificate come from rolegate's metadata.
    6: { 'sign.logout': true, 'validate.logout': true },
  };
  for (const org of [1, 2, 3, 4, 5, 6]) {
    await importSp(app.url, org, extra[org] ?? {});
  }
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

async function importSp(base: string, org: number, extra: SpRemoteOptions = {}): Promise<void> {
  const res = await fetch(`${base}/saml/${org}/metadata`);
  expect(res.status).toBe(200);
  idp.addSp(await res.text(), { ...SP_REMOTE, ...extra });
}

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await idp?.close();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `interop-${name}.png`), fullPage: true });
}

/** At the IdP's login form: type the user's credentials; the IdP then auto-posts the Response to the ACS. */
async function idpLogin(page: Page, u: SspUser, shotName?: string, back = url): Promise<void> {
  await page.waitForURL((target) => target.href.startsWith(idp.url), { timeout: 15_000 });
  await page.waitForSelector('input[name="username"]');
  await page.fill('input[name="username"]', u.username);
  await page.fill('input[name="password"]', u.password);
  if (shotName !== undefined) await shot(page, shotName);
  await Promise.all([page.waitForURL((target) => target.href.startsWith(back), { timeout: 15_000 }), page.click('button[type="submit"], input[type="submit"]')]);
  await page.waitForLoadState('load');
}

/** SP-initiated: start at rolegate's start page link for `org`, sign in at the IdP, land back on rolegate. */
async function spLogin(context: BrowserContext, org: number, u: SspUser, step: string, base = url): Promise<Page> {
  const page = await context.newPage();
  lastResponses = captureResponses(page);
  await page.goto(`${base}/saml/${org}/login`);
  await idpLogin(page, u, `${step}-idp-login`, base);
  await shot(page, step);
  return page;
}

/** The SAMLResponses the browser posts to rolegate's ACS from `page`, decoded. */
function captureResponses(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && /\/saml\/\d+\/acs$/.test(new URL(req.url()).pathname)) {
      const value = new URLSearchParams(req.postData() ?? '').get('SAMLResponse');
      if (value !== null) seen.push(Buffer.from(value, 'base64').toString('utf8'));
    }
  });
  return seen;
}

async function mainText(page: Page): Promise<string> {
  return (await page.textContent('main')) ?? '';
}

describe('SimpleSAMLphp 1.19 in headless Chromium', () => {
  it('SP-initiated: an Administrator from the start page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url + '/');
    await shot(page, '01-start');
    await page.getByRole('link', { name: 'Sign in with SSO' }).first().click();
    await idpLogin(page, USERS[0]!, '02-idp-login');
    expect(new URL(page.url()).pathname).toBe('/');
    await shot(page, '03-admin-profile');
    const text = await mainText(page);
    expect(text).toContain('ada@acme.example');
    expect(text).toContain('Administrator');
    await context.close();
  });

  it('SP-initiated: a Reviewer with a project role, a Manager with another project', async () => {
    const context = await browser.newContext();
    const rita = await spLogin(context, 1, USERS[1]!, '04-reviewer');
    let text = await mainText(rita);
    expect(text).toContain('rita@acme.example');
    expect(text).toContain('Reviewer');
    expect(text).toContain('Radiology');
    expect(text).toContain('Annotator');
    await context.close();
    const context2 = await browser.newContext();
    const mona = await spLogin(context2, 1, USERS[2]!, '05-manager');
    text = await mainText(mona);
    expect(text).toContain('Manager');
    expect(text).toContain('Pathology');
    expect(text).not.toContain('Radiology');
    await context2.close();
  });

  it('a user in no mapped group sees the pending page', async () => {
    const context = await browser.newContext();
    const page = await spLogin(context, 1, USERS[3]!, '06-pending');
    expect(await page.textContent('h1')).toBe('Your account is pending');
    await context.close();
  });

  it('groups changed at the IdP: the next login demotes to Deactivated and is refused', async () => {
    const context = await browser.newContext();
    const page = await spLogin(context, 1, USERS[4]!, '07-annotator');
    expect(await mainText(page)).toContain('Annotator');
    await context.close();
    // The IdP's directory changes: tim leaves every mapped group.
    USERS[4] = { ...USERS[4]!, groups: ['Staff'] };
    idp.setUsers(USERS);
    const again = await browser.newContext();
    const refused = await spLogin(again, 1, USERS[4]!, '08-revoked');
    await refused.waitForSelector('h1:has-text("Access revoked")');
    expect(await mainText(refused)).toContain('ERR_ACCESS_REVOKED');
    const member = (await app.db('memberships').join('users', 'users.id', 'memberships.user_id').where({ 'users.email': 'tim@acme.example', 'memberships.organization_id': 1 }).first('memberships.role')) as { role: string } | undefined;
    expect(member?.role).toBe('DI'); // Deactivated
    await again.close();
  });

  it('IdP-initiated (unsolicited SSOService.php?spentityid=…) with allow_idp_initiated: true', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(idp.unsolicitedUrl(`${url}/saml/1/metadata`, '/'));
    await idpLogin(page, USERS[5]!, '09-idp-initiated-login');
    expect(new URL(page.url()).pathname).toBe('/');
    await shot(page, '10-idp-initiated');
    const text = await mainText(page);
    expect(text).toContain('ivy@acme.example');
    expect(text).toContain('Annotator');
    await context.close();
  });

  it('IdP-initiated with allow_idp_initiated: false is refused (ERR_SAML_UNSOLICITED)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(idp.unsolicitedUrl(`${url}/saml/2/metadata`));
    await idpLogin(page, USERS[0]!);
    await page.waitForSelector('h1:has-text("Sign-in failed")');
    await shot(page, '11-idp-initiated-refused');
    expect(await mainText(page)).toContain('ERR_SAML_UNSOLICITED');
    // Nobody was signed in: the start page offers SSO again.
    await page.goto(url + '/');
    await expect(page.getByRole('link', { name: 'Sign in with SSO' }).first().isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('encrypted assertion (to the SP certificate imported from the metadata) is accepted end to end', async () => {
    const context = await browser.newContext();
    const page = await spLogin(context, 3, USERS[0]!, '12-encrypted');
    const text = await mainText(page);
    expect(text).toContain('Acme Encrypted');
    expect(text).toContain('Administrator');
    // What SimpleSAMLphp 1.19 really sends with a certificate: AES-128-CBC content, RSA-OAEP key transport
    // (fixed in its EncryptedAssertion::setAssertion; `sharedkey_algorithm` applies to shared keys only, so
    // GCM, 3DES or rsa-1_5 cannot be produced by it: test/attacks/encrypted.test.ts covers those).
    const xml = lastResponses.at(-1) ?? '';
    expect(xml).toContain('EncryptedAssertion');
    expect(xml).not.toMatch(/<saml:Assertion[\s>]/);
    expect(xml).toContain('http://www.w3.org/2001/04/xmlenc#aes128-cbc');
    expect(xml).toContain('http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p');
    await context.close();
  });
});

describe('signed AuthnRequests (sso.sign_authn_requests) with the IdP requiring them', () => {
  it('a signed request (RSA-SHA256, Redirect binding) is accepted', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (req) => {
      if (req.url().startsWith(idp.url) && req.url().includes('SAMLRequest=')) requests.push(req.url());
    });
    await page.goto(`${url}/saml/4/login`);
    await idpLogin(page, USERS[0]!, '19-signed-request-idp-login');
    await shot(page, '20-signed-request');
    const params = new URL(requests[0] ?? 'http://x/').searchParams;
    expect(params.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(params.get('Signature')).not.toBeNull();
    const text = await mainText(page);
    expect(text).toContain('Acme Signed');
    expect(text).toContain('Administrator');
    await context.close();
  });

  it('an unsigned request is refused by the IdP (no login form, an error page)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}/saml/5/login`);
    await page.waitForURL((target) => target.href.startsWith(idp.url));
    await page.waitForLoadState('load');
    await shot(page, '21-unsigned-request-refused');
    expect(await page.locator('input[name="password"]').count()).toBe(0);
    expect(await page.textContent('body')).toContain('Validation of received messages enabled, but no signature found on message');
    await context.close();
  });
});

describe('Single Logout (HTTP-Redirect, signed both ways)', () => {
  async function sessionsOf(email: string): Promise<number> {
    const row = (await app.db('sessions').join('users', 'users.id', 'sessions.user_id').where({ 'users.email': email, 'sessions.organization_id': 6 }).count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  }

  it('SP-initiated: GET /saml/6/logout → IdP → LogoutResponse ends the local session (and the IdP session)', async () => {
    const context = await browser.newContext();
    const page = await spLogin(context, 6, USERS[1]!, '22-slo-signed-in');
    expect(await mainText(page)).toContain('Acme SLO');
    expect(await sessionsOf('rita@acme.example')).toBe(1);
    const toIdp: string[] = [];
    page.on('request', (req) => {
      if (req.url().startsWith(idp.url) && req.url().includes('SAMLRequest=')) toIdp.push(req.url());
    });
    await page.goto(`${url}/saml/6/logout`);
    await page.waitForURL(url + '/');
    await shot(page, '23-slo-sp-initiated-done');
    const sent = new URL(toIdp[0] ?? 'http://x/').searchParams;
    expect(sent.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    await expect(page.getByRole('link', { name: 'Sign in with SSO' }).first().isVisible()).resolves.toBe(true);
    expect(await sessionsOf('rita@acme.example')).toBe(0);
    // The IdP session ended too: the next login asks for the password again.
    await page.goto(`${url}/saml/6/login`);
    await page.waitForURL((target) => target.href.startsWith(idp.url));
    await page.waitForSelector('input[name="password"]');
    await context.close();
  });

  it('IdP-initiated: the IdP\'s LogoutRequest ends the sessions with that NameID and SessionIndex only', async () => {
    const first = await browser.newContext();
    const a = await spLogin(first, 6, USERS[2]!, '24-slo-idp-a');
    expect(await mainText(a)).toContain('Acme SLO');
    // The same person in another browser: another IdP session, another SessionIndex.
    const second = await browser.newContext();
    const b = await spLogin(second, 6, USERS[2]!, '25-slo-idp-b');
    expect(await mainText(b)).toContain('Acme SLO');
    expect(await sessionsOf('mona@acme.example')).toBe(2);
    const toRolegate: string[] = [];
    a.on('request', (req) => {
      if (req.url().startsWith(`${url}/saml/6/slo`)) toRolegate.push(req.url());
    });
    // Logout started at the IdP (its SingleLogoutService with ReturnTo): the browser carries the
    // LogoutRequest to rolegate's /slo and the LogoutResponse back.
    const back = `${idp.url}/simplesaml/module.php/core/authenticate.php?as=admin&logout`;
    await a.goto(`${idp.url}/simplesaml/saml2/idp/SingleLogoutService.php?ReturnTo=${encodeURIComponent(back)}`);
    await a.waitForLoadState('load');
    await shot(a, '26-slo-idp-initiated-done');
    expect(toRolegate.length).toBeGreaterThan(0);
    expect(new URL(toRolegate[0] ?? 'http://x/').searchParams.get('SAMLRequest')).not.toBeNull();
    expect(await sessionsOf('mona@acme.example')).toBe(1);
    await a.goto(url + '/');
    await expect(a.getByRole('link', { name: 'Sign in with SSO' }).first().isVisible()).resolves.toBe(true);
    await b.goto(url + '/');
    expect(await mainText(b)).toContain('mona@acme.example');
    await first.close();
    await second.close();
  });
});

describe('IdP signing-certificate rollover through metadata', () => {
  const extraApps: TestApp[] = [];
  afterAll(async () => {
    for (const a of extraApps) await a.close();
    idp.setHostedKeys({ signWith: 'old', publishNew: false });
  });

  /** A rolegate (org 1 only) configured from the IdP's metadata as published now. */
  async function rolegateFromMetadata(name: string): Promise<{ app: TestApp; base: string; certs: number }> {
    const xml = await idp.fetchMetadata();
    const file = path.join(idp.dir, `idp-metadata-${name}.xml`);
    fs.writeFileSync(file, xml);
    let base = '';
    const a = await startApp({
      yaml: (dir, ownUrl) => {
        base = ownUrl.replace('127.0.0.1', 'localhost');
        return `${serverYaml(dir, base)}organizations:\n${orgYaml(1, 'Acme Rollover', file, '')}`;
      },
    });
    extraApps.push(a);
    await importSp(a.url, 1);
    const certs = new Set([...xml.matchAll(/<ds:X509Certificate>([^<]+)</g)].map((m) => m[1]?.replace(/\s/g, ''))).size;
    return { app: a, base, certs };
  }

  async function loginAt(base: string, step: string): Promise<string> {
    const context = await browser.newContext();
    const page = await spLogin(context, 1, USERS[0]!, step, base);
    const text = await mainText(page);
    await context.close();
    return text;
  }

  it('two certificates configured: logins verify before and after the IdP switches keys; the old one removed refuses old signatures', async () => {
    // 1. The IdP announces its next certificate (new_certificate) while still signing with the old key.
    idp.setHostedKeys({ signWith: 'old', publishNew: true });
    const both = await rolegateFromMetadata('both');
    expect(both.certs).toBe(2);
    expect(await loginAt(both.base, '14-rollover-old-key')).toContain('Administrator');
    // 2. The IdP signs with the new key (the old certificate still published).
    idp.setHostedKeys({ signWith: 'new', publishNew: true, publishOld: true });
    expect(await loginAt(both.base, '15-rollover-new-key')).toContain('Administrator');
    // …which a rolegate that only knows the old certificate refuses.
    const onlyOld = await loginAt(url, '16-rollover-old-only-refused');
    expect(onlyOld).toContain('ERR_SAML_SIGNATURE');
    // 3. The old certificate is removed from the IdP's metadata; rolegate re-imports it (one certificate).
    idp.setHostedKeys({ signWith: 'new', publishNew: true, publishOld: false });
    const next = await rolegateFromMetadata('new-only');
    expect(next.certs).toBe(1);
    expect(await loginAt(next.base, '17-rollover-new-only')).toContain('Administrator');
    // A Response signed with the retired key is refused now.
    idp.setHostedKeys({ signWith: 'old', publishNew: false });
    expect(await loginAt(next.base, '18-rollover-retired-key-refused')).toContain('ERR_SAML_SIGNATURE');
  });
});
