/** SP-initiated sign-in through HTTP, as a browser does it, against the test IdP. */
import { readAuthnRequestId } from '../../src/devidp/routes.js';
import type { BuildResponseOptions } from '../../src/devidp/response.js';
import type { TestApp } from './app.js';
import type { Browser, TestResponse } from './http.js';
import { samlResponse } from './idp.js';
import type { Who } from './idp.js';

/** Start a login (GET /saml/:org/login) and return the AuthnRequest id the IdP would answer. */
export async function startLogin(browser: Browser, orgId = 1, next?: string): Promise<{ requestId: string; relayState: string | null; redirect: URL }> {
  const res = await browser.get(`/saml/${orgId}/login${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`);
  if (res.status !== 302 || res.location === null) throw new Error(`login did not redirect: ${res.status} ${res.text}`);
  const redirect = new URL(res.location);
  const samlRequest = redirect.searchParams.get('SAMLRequest');
  if (samlRequest === null) throw new Error('no SAMLRequest in the redirect');
  return { requestId: readAuthnRequestId(samlRequest), relayState: redirect.searchParams.get('RelayState'), redirect };
}

export async function postAcs(browser: Browser, orgId: number, SAMLResponse: string, relayState?: string): Promise<TestResponse> {
  const form: Record<string, string> = { SAMLResponse };
  if (relayState !== undefined) form['RelayState'] = relayState;
  return browser.post(`/saml/${orgId}/acs`, form, { accept: 'application/json' });
}

/** A complete SP-initiated sign-in; returns the ACS response. */
export async function signIn(app: TestApp, browser: Browser, who: Who, overrides: Partial<BuildResponseOptions> = {}): Promise<TestResponse> {
  const { requestId, relayState } = await startLogin(browser);
  return postAcs(browser, 1, samlResponse(app, who, { inResponseTo: requestId, ...overrides }), relayState ?? undefined);
}
