/**
 * What crosses the thread boundary is plain data: the provider inputs (frozen configuration, PEMs) survive a
 * structured clone and build a provider that verifies exactly like the original; the VerifiedLogin survives
 * one back (its Date included). The pool in inline mode applies the same admission limit.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deepFreeze } from '../../src/configuration/load.js';
import { RolegateError } from '../../src/errors.js';
import { createServiceProvider } from '../../src/saml/index.js';
import { BusyError, createSamlVerifier } from '../../src/saml/pool.js';
import type { ProviderInputs } from '../../src/saml/pool.js';
import { NOW, baselineResponse, idpTrust, postForm, testOrg, testSamlSettings } from '../support/saml.js';

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function inputs(): ProviderInputs {
  const org = testOrg({ allowIdpInitiated: true });
  return deepFreeze({ org, saml: testSamlSettings(), idp: idpTrust(org) });
}

describe('the thread boundary carries plain data', () => {
  it('frozen provider inputs survive a structured clone and verify like the original', async () => {
    const original = inputs();
    const copy = structuredClone(original);
    expect(copy).toEqual(original);
    const form = postForm(baselineResponse({ inResponseTo: null }));
    const a = await createServiceProvider(original.org, original.saml, original.idp).verifyPostResponse(form);
    const b = await createServiceProvider(copy.org, copy.saml, copy.idp).verifyPostResponse(form);
    expect(b).toEqual(a);
  });

  it('a VerifiedLogin survives the way back, Date included', async () => {
    const { org, saml, idp } = inputs();
    const login = await createServiceProvider(org, saml, idp).verifyPostResponse(postForm(baselineResponse({ inResponseTo: null })));
    const back = structuredClone(login);
    expect(back).toEqual(login);
    expect(back.replayCacheUntil).toBeInstanceOf(Date);
  });
});

describe('inline mode (saml.workers: 0)', () => {
  it('verifies on the main thread and keeps RolegateError codes', async () => {
    const i = inputs();
    const verifier = createSamlVerifier([i], new Map([[i.org.id, createServiceProvider(i.org, i.saml, i.idp)]]), { workers: 0, queueLimit: 4 });
    expect(verifier.mode).toBe('inline');
    await expect(verifier.verify(1, postForm(baselineResponse({ inResponseTo: null })))).resolves.toMatchObject({ email: 'alice@example.com' });
    const err = await verifier.verify(1, { SAMLResponse: 'not base64!' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RolegateError);
    expect((err as RolegateError).code).toMatch(/^ERR_SAML_/);
    await verifier.close();
  });

  it('refuses beyond 1 + queue_limit concurrent validations with BusyError (503, Retry-After)', async () => {
    const i = inputs();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const slow = { ...createServiceProvider(i.org, i.saml, i.idp), verifyPostResponse: async () => { await gate; throw new RolegateError('ERR_SAML_MALFORMED', 'x'); } };
    const verifier = createSamlVerifier([i], new Map([[1, slow]]), { workers: 0, queueLimit: 1 });
    const first = verifier.verify(1, {}).catch(() => 'done');
    const second = verifier.verify(1, {}).catch(() => 'done');
    expect(verifier.inFlight()).toBe(2);
    expect(verifier.queued()).toBe(1);
    const third = await verifier.verify(1, {}).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(BusyError);
    expect((third as BusyError).status).toBe(503);
    expect((third as BusyError).code).toBe('ERR_UNAVAILABLE');
    expect(Number((third as BusyError).headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    release();
    expect(await Promise.all([first, second])).toEqual(['done', 'done']);
    expect(verifier.inFlight()).toBe(0);
  });
});
