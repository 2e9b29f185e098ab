/**
 * Web-layer findings of an outside review: sign-ins of an organization blocked by a handful of addresses
 * (through the metadata or the login endpoints), and Strict-Transport-Security on an https public_url.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkConfig } from '../../src/configuration/index.js';
import { FairShareBuckets } from '../../src/http/ratelimit.js';
import { standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { cleanup, writeFile } from '../configuration/helpers.js';
import { readAuthnRequestId } from '../../src/devidp/routes.js';
import type { Browser } from '../support/http.js';
import { samlResponse } from '../support/idp.js';

/** standardYaml with extra keys under `server:` (indented two spaces). */
function withServer(extra: string, publicUrl?: string) {
  return (dir: string, url: string): string => standardYaml({ dir, publicUrl: publicUrl ?? url }).replace('server:\n', `server:\n${extra}`);
}

/** GET /saml/1/login from `ip` (behind the trusted proxy); the AuthnRequest id the IdP would answer. */
async function startLogin(b: Browser, ip: string): Promise<{ requestId: string }> {
  const res = await b.get('/saml/1/login', { 'x-forwarded-for': ip });
  expect(res.status, res.text).toBe(302);
  return { requestId: readAuthnRequestId(new URL(res.location ?? '').searchParams.get('SAMLRequest') ?? '') };
}

describe('an organization’s sign-in budget cannot be emptied by a handful of addresses', () => {
  let app: TestApp;
  beforeAll(async () => {
    // Behind a trusted proxy, so that each X-Forwarded-For value is a distinct client address.
    app = await startApp({ yaml: withServer('  trust_proxy: true\n  rate_limits:\n    per_ip_per_minute: 20\n    per_organization_per_minute: 60\n') });
  });
  afterAll(async () => app.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  const FLOODERS = Array.from({ length: 11 }, (_, i) => `198.51.100.${i + 1}`);

  it('metadata requests from eleven addresses spend no sign-in budget, and the metadata is cacheable', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const b = app.browser();
    const cacheControl = new Set<string | null>();
    // Each flooder until its own address is limited: 11 × 20 = 220 requests, far past the organization's 60.
    for (const ip of FLOODERS) {
      for (let i = 0; i < 20; i++) {
        const res = await b.get('/saml/1/metadata', { 'x-forwarded-for': ip });
        expect(res.status).toBe(200);
        cacheControl.add(res.headers.get('cache-control'));
      }
      expect((await b.get('/saml/1/metadata', { 'x-forwarded-for': ip })).status).toBe(429);
    }
    // Someone else of the organization signs in.
    const person = app.browser();
    const { requestId } = await startLogin(person, '203.0.113.50');
    const res = await person.request('POST', '/saml/1/acs', {
      form: { SAMLResponse: samlResponse(app, { email: 'meta@acme.example', groups: ['LS-Annotators'] }, { inResponseTo: requestId }) },
      headers: { 'x-forwarded-for': '203.0.113.50' },
    });
    expect(res.status, res.text).toBe(302);
    expect((await person.whoami()).status).toBe(200);
    expect([...cacheControl]).toEqual(['public, max-age=3600']);
  });

  it('eleven addresses hammering the login endpoint are refused once over their share; a person from a twelfth signs in', async () => {
    // Fresh buckets: another app on the same configuration (the clock stays real-ish, for validation workers).
    await app.close();
    app = await startApp({ yaml: withServer('  trust_proxy: true\n  rate_limits:\n    per_ip_per_minute: 20\n    per_organization_per_minute: 60\n') });
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const b = app.browser();
    const statuses = new Map<string, number[]>();
    for (let round = 0; round < 20; round++) {
      for (const ip of FLOODERS) {
        const res = await b.get('/saml/1/login', { 'x-forwarded-for': ip, accept: 'application/json' });
        statuses.set(ip, [...(statuses.get(ip) ?? []), res.status]);
      }
    }
    // The flood did empty the organization's bucket (60): every flooder ended up refused.
    for (const [ip, s] of statuses) expect([ip, s.at(-1)]).toEqual([ip, 429]);
    const admitted = [...statuses.values()].flat().filter((s) => s === 302).length;
    expect(admitted).toBeGreaterThanOrEqual(60);
    expect(admitted).toBeLessThanOrEqual(2 * 60);
    // A person from another address: login and ACS both admitted (far under the fair share of 60 / 12).
    const person = app.browser();
    const { requestId } = await startLogin(person, '203.0.113.77');
    const res = await person.request('POST', '/saml/1/acs', {
      form: { SAMLResponse: samlResponse(app, { email: 'fair@acme.example', groups: ['LS-Annotators'] }, { inResponseTo: requestId }) },
      headers: { 'x-forwarded-for': '203.0.113.77' },
    });
    expect(res.status, res.text).toBe(302);
    expect((await person.whoami()).status).toBe(200);
  });
});

describe('FairShareBuckets', () => {
  it('grants the capacity at once; past it, an address under its share is admitted, one over it waits', () => {
    let now = 1_000_000;
    const b = new FairShareBuckets(10, () => now);
    for (let i = 0; i < 10; i++) expect(b.take('1', 'flood')).toBe(0);
    // One address alone: its share is the whole figure, which it has used.
    expect(b.take('1', 'flood')).toBeGreaterThan(0);
    // A second address: share 10 / 2 = 5, it has used nothing.
    for (let i = 0; i < 5; i++) expect(b.take('1', 'person')).toBe(0);
    expect(b.take('1', 'person')).toBeGreaterThan(0);
    // Another organization has its own budget.
    expect(b.take('2', 'flood')).toBe(0);
    // Use decays with time: a minute later, both have a full share again.
    now += 60_000;
    expect(b.take('1', 'flood')).toBe(0);
  });

  it('a flood from twenty addresses for three minutes: about twice the figure a minute gets through, a person always', () => {
    let now = 5_000_000;
    const b = new FairShareBuckets(60, () => now);
    let admittedLastMinute = 0;
    let personRefused = 0;
    for (let t = 0; t < 180_000; t += 500) {
      now = 5_000_000 + t;
      for (let i = 0; i < 20; i++) {
        const granted = b.take('1', `flood-${i}`) === 0;
        if (granted && t >= 120_000) admittedLastMinute += 1;
      }
      if (t % 30_000 === 0 && b.take('1', 'person') !== 0) personRefused += 1;
    }
    // 20 addresses × 120 requests a minute = 2400 asked for; the figure is 60.
    expect(admittedLastMinute).toBeGreaterThanOrEqual(60);
    expect(admittedLastMinute).toBeLessThanOrEqual(2 * 60 + 20);
    expect(personRefused).toBe(0);
  });
});

describe('Strict-Transport-Security', () => {
  afterAll(() => cleanup());

  it('is sent on every response, errors included, when public_url is https (default one year)', async () => {
    const app = await startApp({ yaml: withServer('', 'https://rolegate.example') });
    try {
      const b = app.browser();
      for (const path of ['/', '/healthz', '/saml/1/metadata', '/nope', '/api/current-user/whoami']) {
        const res = await b.get(path, { accept: 'application/json' });
        expect([path, res.headers.get('strict-transport-security')]).toEqual([path, 'max-age=31536000']);
      }
    } finally {
      await app.close();
    }
  });

  it('server.hsts_max_age_seconds sets max-age; 0 tells browsers to forget; out of range is a config error', async () => {
    const app = await startApp({ yaml: withServer('  hsts_max_age_seconds: 600\n', 'https://rolegate.example') });
    try {
      expect((await app.browser().get('/healthz')).headers.get('strict-transport-security')).toBe('max-age=600');
    } finally {
      await app.close();
    }
    const base = (v: string) => standardYaml({ dir: '/tmp/rolegate-hsts', publicUrl: 'https://rolegate.example' }).replace('port: 0', 'port: 8080').replace('server:\n', `server:\n  hsts_max_age_seconds: ${v}\n`);
    const zero = checkConfig(writeFile(base('0')), { env: {} });
    expect(zero.ok && zero.config.server.hstsMaxAgeSeconds).toBe(0);
    for (const bad of ['-1', '63072001', 'yes']) {
      const r = checkConfig(writeFile(base(bad)), { env: {} });
      expect([bad, r.ok]).toEqual([bad, false]);
      if (!r.ok) expect(r.issues[0]?.path).toBe('server.hsts_max_age_seconds');
    }
  });

  it('is not sent when public_url is http (there is no TLS to hold the browser to)', async () => {
    const app = await startApp();
    try {
      expect((await app.browser().get('/healthz')).headers.get('strict-transport-security')).toBeNull();
    } finally {
      await app.close();
    }
  });
});
