/**
 * Web-layer hardening: rate limits on /saml/* (config, 429 + Retry-After, per address and
 * per organization, forwarded headers only behind trust_proxy), cookies behind https, security headers on
 * every kind of response, error pages that never reflect input unescaped, header limits, and audit rows
 * carrying the right client address.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkConfig } from '../../src/configuration/index.js';
import { RATE_LIMIT_DEFAULTS } from '../../src/configuration/defaults.js';
import { TokenBuckets } from '../../src/http/ratelimit.js';
import { standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { expectRejected } from '../support/attacks.js';
import { auditRows } from '../support/db.js';
import { postAcs, startLogin } from '../support/flow.js';
import type { Browser, TestResponse } from '../support/http.js';
import { samlResponse } from '../support/idp.js';
import { cleanup, writeFile } from '../configuration/helpers.js';

/** standardYaml with extra keys under `server:` (indented two spaces). */
function withServer(extra: string, opts: { sso1Extra?: string; publicUrl?: string } = {}) {
  return (dir: string, url: string): string =>
    standardYaml({ dir, publicUrl: opts.publicUrl ?? url, ...(opts.sso1Extra === undefined ? {} : { sso1Extra: opts.sso1Extra }) }).replace(
      'server:\n',
      `server:\n${extra}`,
    );
}

describe('server.rate_limits configuration', () => {
  afterAll(() => cleanup());
  const base = (server: string) =>
    standardYaml({ dir: '/tmp/rolegate-rl', publicUrl: 'http://localhost:8080' }).replace('port: 0', 'port: 8080').replace('server:\n', `server:\n${server}`);
  const load = (server: string) => checkConfig(writeFile(base(server)), { env: {} });

  it('defaults to 300 per address and 3000 per organization per minute', () => {
    const result = load('');
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.config.server.rateLimits).toEqual({ perIpPerMinute: 300, perOrganizationPerMinute: 3000 });
    expect(RATE_LIMIT_DEFAULTS).toEqual({ perIpPerMinute: 300, perOrganizationPerMinute: 3000 });
  });

  it('reads both keys', () => {
    const result = load('  rate_limits:\n    per_ip_per_minute: 20\n    per_organization_per_minute: 50\n');
    expect(result.ok && result.config.server.rateLimits).toEqual({ perIpPerMinute: 20, perOrganizationPerMinute: 50 });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['zero (rate limits are never off)', '  rate_limits:\n    per_ip_per_minute: 0\n', /server\.rate_limits\.per_ip_per_minute: .*from 1 to 1000000/],
    ['negative', '  rate_limits:\n    per_organization_per_minute: -5\n', /server\.rate_limits\.per_organization_per_minute/],
    ['not an integer', '  rate_limits:\n    per_ip_per_minute: 2.5\n', /server\.rate_limits\.per_ip_per_minute/],
    ['a string', '  rate_limits:\n    per_ip_per_minute: lots\n', /server\.rate_limits\.per_ip_per_minute/],
    ['an unknown key (a misspelling is an error)', '  rate_limits:\n    per_ip: 5\n', /server\.rate_limits\.per_ip\b/],
    ['not a map', '  rate_limits: 5\n', /server\.rate_limits/],
  ];
  for (const [name, server, message] of bad) {
    it(`rejects ${name}, naming the path`, () => {
      const result = load(server);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.issues.map((i) => `${i.path}: ${i.message}`).join('\n')).toMatch(message);
    });
  }
});

describe('TokenBuckets', () => {
  it('grants `capacity` at once, then refills capacity per minute, and says how long to wait', () => {
    let now = 1_000_000;
    const buckets = new TokenBuckets(6, () => now); // one token per 10 s
    for (let i = 0; i < 6; i++) expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(10);
    expect(buckets.take('b')).toBe(0);
    now += 9_000;
    expect(buckets.take('a')).toBe(1);
    now += 1_000;
    expect(buckets.take('a')).toBe(0);
    now -= 60_000; // a clock that goes back refills nothing
    expect(buckets.take('a')).toBeGreaterThan(0);
  });
});

describe('rate limits on /saml/* (per instance, in memory)', () => {
  let app: TestApp;
  let proxied: TestApp;
  beforeAll(async () => {
    app = await startApp({ yaml: withServer('  rate_limits:\n    per_ip_per_minute: 5\n    per_organization_per_minute: 8\n') });
    proxied = await startApp({ yaml: withServer('  trust_proxy: true\n  rate_limits:\n    per_ip_per_minute: 3\n    per_organization_per_minute: 1000\n') });
  });
  afterAll(async () => {
    await app.close();
    await proxied.close();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the sixth request from one address within a minute is 429 ERR_RATE_LIMITED with Retry-After; other paths are not limited', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const b = app.browser();
    for (let i = 0; i < 5; i++) expect((await b.get('/saml/1/metadata')).status).toBe(200);
    const res = await b.get('/saml/1/metadata', { accept: 'application/json' });
    expect(res.status).toBe(429);
    expect(res.json()).toMatchObject({ error: 'ERR_RATE_LIMITED' });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect((await b.get('/healthz')).status).toBe(200);
    expect((await b.get('/')).status).toBe(200);
    // An ACS post from the limited address: refused before any SAML work, no session.
    const acs = await postAcs(b, 1, 'x');
    expect(acs.status).toBe(429);
    expect((await b.whoami()).status).toBe(401);
    // Tokens come back with time (5 per minute: one per 12 s).
    vi.setSystemTime(Date.now() + 12_000);
    expect((await b.get('/saml/1/metadata')).status).toBe(200);
    expect((await b.get('/saml/1/metadata')).status).toBe(429);
    vi.setSystemTime(Date.now() + 60_000);
  });

  it('without trust_proxy, X-Forwarded-For does not buy a new bucket (nor does /SAML/ in capitals)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 10 * 60_000 });
    const b = app.browser();
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await b.get(i % 2 === 0 ? '/saml/1/metadata' : '/SAML/1/metadata', { 'x-forwarded-for': `10.0.0.${i}` })).status);
    expect(codes).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('per organization, with distinct addresses behind a trusted proxy: the organization bucket runs out; case, percent-encoding and leading zeros do not evade it', async () => {
    const perOrg = await startApp({ yaml: withServer('  trust_proxy: true\n  rate_limits:\n    per_ip_per_minute: 100\n    per_organization_per_minute: 4\n') });
    try {
      const b = perOrg.browser();
      // Spellings the router accepts for organization 1 (case, percent-encoding, leading zeros) share its bucket.
      const paths = ['/saml/1/login', '/SAML/01/login', '/saml/%31/login', '/Saml/001/login'];
      for (const [i, p] of paths.entries()) expect((await b.get(p, { 'x-forwarded-for': `198.51.100.${i}` })).status, p).toBe(302);
      // A fifth address: the bucket is empty and one in five addresses' fair share of 4 is under one request.
      const res = await b.get('/saml/1/login', { 'x-forwarded-for': '198.51.100.99', accept: 'application/json' });
      expect(res.status).toBe(429);
      expect((await b.get('/saml/2/login', { 'x-forwarded-for': '198.51.100.98' })).status).toBe(302);
    } finally {
      await perOrg.close();
    }
  });

  it('with trust_proxy, the address is the one the proxy appended: a forged first X-Forwarded-For entry buys nothing', async () => {
    const b = proxied.browser();
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await b.get('/saml/1/metadata', { 'x-forwarded-for': `6.6.6.${i}, 203.0.113.7` })).status);
    expect(codes).toEqual([200, 200, 200, 429]);
    // Another real client (another proxy-appended address) has its own bucket.
    expect((await b.get('/saml/1/metadata', { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
  });
});

describe('audit rows name the client address, trusting forwarded headers only behind trust_proxy', () => {
  let plain: TestApp;
  let proxied: TestApp;
  beforeAll(async () => {
    plain = await startApp();
    proxied = await startApp({ yaml: withServer('  trust_proxy: true\n') });
  });
  afterAll(async () => {
    await plain.close();
    await proxied.close();
  });

  const rejectedPost = (app: TestApp, headers: Record<string, string>) => async (b: Browser): Promise<TestResponse> => {
    await startLogin(b);
    return b.request('POST', '/saml/1/acs', {
      form: { SAMLResponse: samlResponse(app, { email: 'ip@acme.example', groups: [] }) },
      headers: { accept: 'application/json', ...headers },
    });
  };

  it('without trust_proxy: the socket address, X-Forwarded-For ignored', async () => {
    await expectRejected(plain, rejectedPost(plain, { 'x-forwarded-for': '198.51.100.23' }), 401, 'ERR_SAML_UNSOLICITED', { ip: '127.0.0.1' });
  });

  it('with trust_proxy: the address the proxy appended (the last entry), not a forged first one', async () => {
    await expectRejected(proxied, rejectedPost(proxied, { 'x-forwarded-for': '6.6.6.6, 198.51.100.23' }), 401, 'ERR_SAML_UNSOLICITED', { ip: '198.51.100.23' });
  });

  it('with trust_proxy: a successful login records the forwarded address too', async () => {
    const b = proxied.browser();
    const { requestId } = await startLogin(b);
    const res = await b.request('POST', '/saml/1/acs', {
      form: { SAMLResponse: samlResponse(proxied, { email: 'ipok@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId }) },
      headers: { 'x-forwarded-for': '198.51.100.24' },
    });
    expect(res.status).toBe(302);
    const rows = (await auditRows(proxied.db)).filter((r) => r['subject_email'] === 'ipok@acme.example' && r['action'] === 'login');
    expect(rows.map((r) => r['ip'])).toEqual(['198.51.100.24']);
  });
});

describe('cookies behind https (public_url https, trust_proxy, X-Forwarded-Proto: https)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ yaml: withServer('  trust_proxy: true\n', { publicUrl: 'https://rolegate.test' }) });
  });
  afterAll(async () => {
    await app.close();
  });

  it('the session cookie is HttpOnly, SameSite=Lax and Secure; the login-binding cookie is HttpOnly, SameSite=None, Secure', async () => {
    const b = app.browser();
    const proto = { 'x-forwarded-proto': 'https' };
    const login = await b.get('/saml/1/login', proto);
    expect(login.status).toBe(302);
    const binding = login.setCookies.find((c) => c.startsWith('rolegate.authn='));
    expect(binding).toMatch(/httponly/i);
    expect(binding).toMatch(/samesite=none/i);
    expect(binding).toMatch(/;\s*secure/i);
    const samlRequest = new URL(login.location ?? '').searchParams.get('SAMLRequest') ?? '';
    const { readAuthnRequestId } = await import('../../src/devidp/routes.js');
    const requestId = readAuthnRequestId(samlRequest);
    const res = await b.request('POST', '/saml/1/acs', {
      form: { SAMLResponse: samlResponse(app, { email: 'secure@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId }) },
      headers: proto,
    });
    expect(res.status).toBe(302);
    const sid = res.setCookies.filter((c) => c.startsWith('rolegate.sid'));
    expect(sid.length).toBeGreaterThan(0);
    for (const c of sid) {
      expect(c).toMatch(/httponly/i);
      expect(c).toMatch(/samesite=lax/i);
      expect(c).toMatch(/;\s*secure/i);
    }
  });

  it('cookies stay Secure even if the proxy forgot X-Forwarded-Proto (the public URL is https)', async () => {
    const login = await app.browser().get('/saml/1/login');
    expect(login.setCookies.find((c) => c.startsWith('rolegate.authn='))).toMatch(/;\s*secure/i);
  });
});

describe('security headers on every kind of response; error pages never reflect input unescaped', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app.close();
  });

  function expectSecurityHeaders(res: TestResponse, what: string, noStore = true): void {
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp, what).toContain("frame-ancestors 'none'");
    expect(csp, what).toContain("default-src 'none'");
    expect(csp, what).toMatch(/script-src 'self'(;|$)/);
    expect(csp, what).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
    expect(res.headers.get('x-frame-options'), what).toBe('DENY');
    expect(res.headers.get('referrer-policy'), what).toBe('same-origin');
    if (noStore) expect(res.headers.get('cache-control'), what).toBe('no-store');
  }

  it('pages, the API, SAML endpoints, and their errors (401, 404, 405, 413, 400) all carry them', async () => {
    const b = app.browser();
    const checks: Array<[string, () => Promise<TestResponse>, number]> = [
      ['home', () => b.get('/'), 200],
      ['whoami 401', () => b.whoami(), 401],
      ['healthz', () => b.get('/healthz'), 200],
      ['metadata', () => b.get('/saml/1/metadata'), 200],
      ['login redirect', () => b.get('/saml/1/login'), 302],
      ['unknown page (HTML 404)', () => b.get('/nope', { accept: 'text/html' }), 404],
      ['unknown org (JSON 404)', () => b.get('/saml/99/login', { accept: 'application/json' }), 404],
      ['GET on the ACS (405)', () => b.get('/saml/1/acs'), 405],
      ['ACS oversized (413)', () => postAcs(b, 1, 'A'.repeat(600_000)), 413],
      ['ACS malformed (400, HTML)', () => b.post('/saml/1/acs', { SAMLResponse: '!!!' }, { accept: 'text/html' }), 400],
      ['cross-origin logout (403)', () => b.request('POST', '/logout', { headers: { origin: 'https://evil.example' } }), 403],
    ];
    for (const [what, call, status] of checks) {
      const res = await call();
      expect(res.status, what).toBe(status);
      // The SAML metadata is public and cacheable; everything else is no-store.
      expectSecurityHeaders(res, what, what !== 'metadata');
      if (what === 'metadata') expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    }
  });

  it('static assets carry the headers too (cacheable, so not no-store)', async () => {
    const res = await app.browser().get('/assets/app.css');
    expect(res.status).toBe(200);
    expectSecurityHeaders(res, 'app.css', false);
  });

  it('an HTML error page shows attacker-controlled values (Destination, Issuer) escaped, never as markup', async () => {
    const payload = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    for (const overrides of [{ destination: payload }, { responseIssuer: payload }]) {
      const b = app.browser();
      const { requestId } = await startLogin(b);
      const res = await b.post('/saml/1/acs', { SAMLResponse: samlResponse(app, { email: 'xss@acme.example', groups: [] }, { inResponseTo: requestId, ...overrides }) }, { accept: 'text/html' });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.text).not.toContain('<script>alert');
      expect(res.text).not.toContain('<img src=x');
      expect(res.text).toContain('&lt;script&gt;');
    }
  });

  it('a 404 for a path full of markup does not echo it', async () => {
    const res = await app.browser().get('/%3Cscript%3Ealert(1)%3C/script%3E', { accept: 'text/html' });
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('<script>alert');
  });

  it('header limits: a 20 KB header is refused by the HTTP server (431) before the app runs', async () => {
    const res = await app.browser().get('/saml/1/metadata', { 'x-padding': 'a'.repeat(20_000) });
    expect(res.status).toBe(431);
  });
});
