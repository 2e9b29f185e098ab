/**
 * Attack suite, part 2: protocol checks node-saml leaves to the caller: each knob set
 * BEFORE signing, so the signature is valid and only the policy is wrong; time windows at the exact skew
 * edges with a pinned clock; InResponseTo binding; replay on one instance and across two instances sharing
 * one database.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodePostBinding } from '../../src/devidp/response.js';
import type { BuildResponseOptions } from '../../src/devidp/response.js';
import { standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { assertionOf, expectRejected, mutate, NS_A, NS_P, parse, serialize } from '../support/attacks.js';
import { postAcs, startLogin } from '../support/flow.js';
import { Browser } from '../support/http.js';
import type { TestResponse } from '../support/http.js';
import { responseXml, samlResponse } from '../support/idp.js';

let app: TestApp;
/** Same configuration with allow_idp_initiated: true (unsolicited responses allowed). */
let idpInit: TestApp;
// Validation inline (saml.workers 0): the time-window cases pin the clock with vi, which worker threads do not see.
beforeAll(async () => {
  app = await startApp({ samlWorkers: 0 });
  idpInit = await startApp({ samlWorkers: 0, yaml: (dir, url) => standardYaml({ dir, publicUrl: url, sso1Extra: '      allow_idp_initiated: true' }) });
});
afterAll(async () => {
  await app.close();
  await idpInit.close();
});

const MALLORY = { email: 'mallory@acme.example', groups: ['Staff'] } as const;

async function solicited(b: Browser, overrides: Partial<BuildResponseOptions>, change: (xml: string) => string = (x) => x, target: TestApp = app): Promise<TestResponse> {
  const { requestId } = await startLogin(b);
  return postAcs(b, 1, encodePostBinding(change(responseXml(target, MALLORY, { inResponseTo: requestId, ...overrides }))));
}

describe('Destination, Recipient, Audience, Issuer, bearer, Status (signed, only the policy wrong)', () => {
  const OTHER_ACS = 'https://other-sp.example/saml/1/acs';
  const cases: Array<[string, Partial<BuildResponseOptions>, string]> = [
    ['Destination = another ACS (node-saml alone accepts it)', { destination: OTHER_ACS }, 'ERR_SAML_DESTINATION'],
    ['Destination = our ACS on another scheme', { destination: 'https://127.0.0.1/saml/1/acs' }, 'ERR_SAML_DESTINATION'],
    ['Destination = empty', { destination: '' }, 'ERR_SAML_DESTINATION'],
    ['Recipient = another ACS (node-saml alone accepts it)', { recipient: OTHER_ACS }, 'ERR_SAML_RECIPIENT'],
    ['Recipient missing', { recipient: null }, 'ERR_SAML_RECIPIENT'],
    ['Audience = another SP', { audience: 'https://other-sp.example/metadata' }, 'ERR_SAML_AUDIENCE'],
    ['no AudienceRestriction', { audience: null }, 'ERR_SAML_AUDIENCE'],
    ['Assertion Issuer = another entity, same key (node-saml alone accepts it)', { assertionIssuer: 'https://evil-idp.example/metadata' }, 'ERR_SAML_ISSUER'],
    ['Response Issuer = another entity', { responseIssuer: 'https://evil-idp.example/metadata' }, 'ERR_SAML_ISSUER'],
    ["Issuer = organization 2's IdP, signed with organization 1's key", { issuer: 'https://idp2.test/metadata' }, 'ERR_SAML_ISSUER'],
    ['SubjectConfirmation method holder-of-key, not bearer', { subjectConfirmationMethod: 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key' }, 'ERR_SAML_SUBJECT_CONFIRMATION'],
    ['SubjectConfirmation method sender-vouches', { subjectConfirmationMethod: 'urn:oasis:names:tc:SAML:2.0:cm:sender-vouches' }, 'ERR_SAML_SUBJECT_CONFIRMATION'],
    ['StatusCode Responder with a signed assertion (node-saml alone accepts it)', { statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder' }, 'ERR_SAML_STATUS'],
    ['StatusCode Requester, Response signed too', { statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Requester', sign: 'both' }, 'ERR_SAML_STATUS'],
  ];
  for (const [name, overrides, code] of cases) {
    it(`${name} → ${code}`, async () => {
      await expectRejected(app, (b) => solicited(b, overrides), 401, code);
    });
  }

  it('status changed to Responder in the unsigned Response around a signed assertion → STATUS', async () => {
    await expectRejected(app, (b) => solicited(b, {}, (xml) => xml.replace('urn:oasis:names:tc:SAML:2.0:status:Success', 'urn:oasis:names:tc:SAML:2.0:status:Responder')), 401, 'ERR_SAML_STATUS');
  });

  it('a second-level StatusCode AuthnFailed under Success is still Success at the top (accepted) — only the top level counts', async () => {
    const b = app.browser();
    const res = await solicited(b, {}, (xml) =>
      xml.replace(/<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"\/>/, '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></samlp:StatusCode>'),
    );
    expect(res.status).toBe(302);
  });
});

// The exact edges need the validating thread's clock pinned, and vi.setSystemTime pins this thread's only: a
// validation worker keeps the real clock. So these cases run on an app that validates inline whatever the
// run's mode; the coarse cases (an hour, a day off) run again on the run's own app (workers when
// ROLEGATE_TEST_SAML_WORKERS is set), where a few real milliseconds do not matter.
describe('time window at the skew edges (clock pinned; clock_skew_seconds: 60)', () => {
  const SKEW = 60_000;
  let now: number;
  let inline: TestApp;
  beforeAll(async () => {
    now = Math.floor(Date.now() / 1000) * 1000;
    inline = await startApp({ samlWorkers: 0 });
  });
  afterAll(async () => {
    await inline.close();
  });
  const pin = (): void => {
    vi.useFakeTimers({ toFake: ['Date'], now });
  };
  afterEach(() => {
    vi.useRealTimers();
  });
  const at = (ms: number): Date => new Date(now + ms);

  const rejected: Array<[string, () => Partial<BuildResponseOptions>]> = [
    ['Conditions@NotOnOrAfter = now − skew (expired exactly at the edge)', () => ({ now: at(-10 * 60_000), notOnOrAfter: at(-SKEW), scdNotOnOrAfter: at(5 * 60_000) })],
    ['SubjectConfirmationData@NotOnOrAfter = now − skew, Conditions still valid', () => ({ scdNotOnOrAfter: at(-SKEW) })],
    ['Conditions@NotBefore = now + skew + 1 ms (not yet valid)', () => ({ notBefore: at(SKEW + 1) })],
    ['SubjectConfirmationData without NotOnOrAfter', () => ({ scdNotOnOrAfter: null })],
    ['an assertion that expired an hour ago', () => ({ now: at(-2 * 3600_000), notOnOrAfter: at(-3600_000) })],
    ['an assertion issued a day in the future', () => ({ now: at(86400_000) })],
  ];
  for (const [name, overrides] of rejected) {
    it(`${name} → EXPIRED`, async () => {
      pin();
      await expectRejected(inline, (b) => solicited(b, overrides(), undefined, inline), 401, 'ERR_SAML_EXPIRED');
    });
  }
  for (const [name, overrides] of rejected.slice(-2)) {
    it(`${name} → EXPIRED (in this run's validation mode)`, async () => {
      pin();
      await expectRejected(app, (b) => solicited(b, overrides()), 401, 'ERR_SAML_EXPIRED');
    });
  }

  const accepted: Array<[string, () => Partial<BuildResponseOptions>]> = [
    ['Conditions@NotOnOrAfter = now − skew + 1 ms', () => ({ now: at(-10 * 60_000), notOnOrAfter: at(-SKEW + 1), scdNotOnOrAfter: at(-SKEW + 1) })],
    ['Conditions@NotBefore = now + skew exactly', () => ({ notBefore: at(SKEW) })],
  ];
  for (const [name, overrides] of accepted) {
    it(`${name} → accepted (inside the window)`, async () => {
      pin();
      const b = inline.browser();
      expect((await solicited(b, overrides(), undefined, inline)).status).toBe(302);
      expect((await b.whoami()).status).toBe(200);
    });
  }
});

describe('InResponseTo and unsolicited responses', () => {
  it('unsolicited (no InResponseTo) when IdP-initiated login is not allowed → UNSOLICITED', async () => {
    await expectRejected(app, (b) => postAcs(b, 1, samlResponse(app, MALLORY)), 401, 'ERR_SAML_UNSOLICITED');
  });

  it('InResponseTo of a request issued to another browser → IN_RESPONSE_TO', async () => {
    const { requestId } = await startLogin(app.browser());
    await expectRejected(app, async (b) => {
      await startLogin(b);
      return postAcs(b, 1, samlResponse(app, MALLORY, { inResponseTo: requestId }));
    }, 401, 'ERR_SAML_IN_RESPONSE_TO');
  });

  it('InResponseTo of an unknown request → IN_RESPONSE_TO', async () => {
    await expectRejected(app, async (b) => {
      await startLogin(b);
      return postAcs(b, 1, samlResponse(app, MALLORY, { inResponseTo: '_never_issued' }));
    }, 401, 'ERR_SAML_IN_RESPONSE_TO');
  });

  it('a request of organization 2 answered at organization 1 → IN_RESPONSE_TO', async () => {
    await expectRejected(app, async (b) => {
      const { requestId } = await startLogin(b, 2);
      return postAcs(b, 1, samlResponse(app, MALLORY, { inResponseTo: requestId }));
    }, 401, 'ERR_SAML_IN_RESPONSE_TO');
  });

  it("the browser's own request id grafted onto the unsigned Response around an unsolicited signed assertion → IN_RESPONSE_TO", async () => {
    await expectRejected(app, async (b) => {
      const { requestId } = await startLogin(b);
      const xml = responseXml(app, { email: 'owner@acme.example', groups: ['LS-Admins'] });
      return postAcs(b, 1, encodePostBinding(mutate(xml, (doc) => doc.documentElement.setAttribute('InResponseTo', requestId))));
    }, 401, 'ERR_SAML_IN_RESPONSE_TO');
  });

  it('the same graft on an app that allows IdP-initiated login → IN_RESPONSE_TO (a Response may not claim a request its assertion does not answer)', async () => {
    await expectRejected(idpInit, async (b) => {
      const { requestId } = await startLogin(b);
      const xml = responseXml(idpInit, MALLORY);
      return postAcs(b, 1, encodePostBinding(mutate(xml, (doc) => doc.documentElement.setAttribute('InResponseTo', requestId))));
    }, 401, 'ERR_SAML_IN_RESPONSE_TO');
  });

  it('Response@InResponseTo changed to another request of the same browser → IN_RESPONSE_TO', async () => {
    await expectRejected(app, async (b) => {
      const { requestId } = await startLogin(b);
      const { requestId: second } = await startLogin(b);
      const xml = responseXml(app, MALLORY, { inResponseTo: requestId });
      return postAcs(b, 1, encodePostBinding(mutate(xml, (doc) => doc.documentElement.setAttribute('InResponseTo', second))));
    }, 401, 'ERR_SAML_IN_RESPONSE_TO');
  });

  it('an SP-initiated response without the binding cookie → IN_RESPONSE_TO', async () => {
    await expectRejected(app, async (b) => {
      const { requestId } = await startLogin(b);
      // Both copies: the Lax cookie and, public_url being http://127.0.0.1, the SameSite=None one.
      b.jar.delete('rolegate.authn');
      b.jar.delete('rolegate.authn.xs');
      return postAcs(b, 1, samlResponse(app, MALLORY, { inResponseTo: requestId }));
    }, 401, 'ERR_SAML_IN_RESPONSE_TO');
  });

  it('plain-http loopback public_url: a SameSite=None; Secure copy of the binding cookie, enough on its own (IdP on another site)', async () => {
    const b = app.browser();
    const res = await b.get('/saml/1/login');
    const copy = res.setCookies.find((c) => c.startsWith('rolegate.authn.xs='));
    expect(copy).toMatch(/; path=\/saml\/; max-age=\d+; samesite=none; secure; httponly$/);
    expect(copy?.slice('rolegate.authn.xs='.length, copy.indexOf(';'))).toBe(b.jar.get('rolegate.authn'));
    // A second login in the same browser keeps the binding value; its request id is the one to answer.
    const { requestId } = await startLogin(b);
    // A cross-site POST from the IdP: Chromium sends the None cookie, not the Lax one.
    b.jar.delete('rolegate.authn');
    const ok = await postAcs(b, 1, samlResponse(app, { email: 'crosssite@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId }));
    expect(ok.status, ok.text).toBe(302);
  });
});

describe('replay', () => {
  it('SP-initiated: the same response posted again by the same browser → IN_RESPONSE_TO (the request id is spent)', async () => {
    const victim = app.browser();
    const { requestId } = await startLogin(victim);
    const response = samlResponse(app, { email: 'victim1@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId });
    expect((await postAcs(victim, 1, response)).status).toBe(302);
    const again = new Browser(app.url);
    const binding = victim.jar.get('rolegate.authn');
    if (binding !== undefined) again.jar.set('rolegate.authn', binding);
    await expectRejected(app, (b) => postAcs(b, 1, response), 401, 'ERR_SAML_IN_RESPONSE_TO', { browser: again });
  });

  it('IdP-initiated: the same response posted twice → REPLAY', async () => {
    const response = samlResponse(idpInit, { email: 'victim2@acme.example', groups: ['LS-Reviewers'] });
    expect((await postAcs(idpInit.browser(), 1, response)).status).toBe(302);
    await expectRejected(idpInit, (b) => postAcs(b, 1, response), 401, 'ERR_SAML_REPLAY');
  });

  it('IdP-initiated: the same signed assertion re-wrapped in a new Response (new ID, instant, attribute order) → REPLAY', async () => {
    const xml = responseXml(idpInit, { email: 'victim3@acme.example', groups: ['LS-Reviewers'] });
    expect((await postAcs(idpInit.browser(), 1, encodePostBinding(xml))).status).toBe(302);
    // A new envelope built from scratch (new ID and instant, attributes in another order, no Destination),
    // holding the byte-identical signed assertion.
    const assertion = serialize(assertionOf(parse(xml)));
    const status = '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>';
    const envelope = `<samlp:Response xmlns:samlp="${NS_P}" xmlns:saml="${NS_A}" Version="2.0" ID="_rewrapped" IssueInstant="${new Date().toISOString()}"><saml:Issuer>https://idp.test/metadata</saml:Issuer>${status}${assertion}</samlp:Response>`;
    await expectRejected(idpInit, (b) => postAcs(b, 1, encodePostBinding(envelope)), 401, 'ERR_SAML_REPLAY');
  });

  describe('two app instances sharing one database', () => {
    let second: TestApp;
    beforeAll(async () => {
      second = await startApp({ share: idpInit });
    });
    afterAll(async () => {
      await second.close();
    });

    it('a response accepted by instance A is a REPLAY at instance B', async () => {
      const response = samlResponse(idpInit, { email: 'victim4@acme.example', groups: ['LS-Reviewers'] });
      expect((await postAcs(idpInit.browser(), 1, response)).status).toBe(302);
      await expectRejected(second, (b) => postAcs(b, 1, response), 401, 'ERR_SAML_REPLAY');
    });

    it('a login started at A can finish at B, once; the same response at A again is refused', async () => {
      const a = idpInit.browser();
      const { requestId } = await startLogin(a);
      const response = samlResponse(idpInit, { email: 'victim5@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId });
      const b = second.browser();
      for (const [k, v] of a.jar) b.jar.set(k, v);
      expect((await postAcs(b, 1, response)).status).toBe(302);
      const again = idpInit.browser();
      for (const [k, v] of a.jar) again.jar.set(k, v);
      await expectRejected(idpInit, (x) => postAcs(x, 1, response), 401, 'ERR_SAML_IN_RESPONSE_TO', { browser: again });
    });
  });
});
