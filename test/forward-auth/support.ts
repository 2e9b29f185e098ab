/** Shared by the forward-auth tests: the policy they configure, people, and raw requests to rolegate. */
import http from 'node:http';
import { expect } from 'vitest';
import { readAuthnRequestId } from '../../src/devidp/routes.js';
import type { TestApp } from '../support/app.js';
import type { Browser, TestResponse } from '../support/http.js';
import { samlResponse } from '../support/idp.js';
import type { Who } from '../support/idp.js';
import { postAcs } from '../support/flow.js';

/** The rules every proxy test runs against, for one or more upstream origins (organization 1). */
export function forwardAuthYaml(origins: readonly string[], extra = ''): string {
  return `forward_auth:
  trusted_proxies: [127.0.0.1]
${extra}  upstreams:
${origins
  .map(
    (origin) => `    - origin: ${origin}
      organization: 1
      rules:
        - path: /
          min_role: Annotator
        - path: /admin
          min_role: Administrator
        - path: /owner
          min_role: Owner
        - path: /projects/42
          project: 42
          min_project_role: Reviewer
        - path: /projects/43
          project: 43
          min_project_role: Annotator
`,
  )
  .join('')}`;
}

export const PEOPLE = {
  OW: { email: 'owner@acme.example', groups: [], firstName: 'Olivia', lastName: 'Owner' },
  AD: { email: 'admin@acme.example', groups: ['LS-Admins'], firstName: 'Ada', lastName: 'Admin' },
  MA: { email: 'manager@acme.example', groups: ['LS-Managers'], firstName: 'Max', lastName: 'Manager' },
  RE: { email: 'reviewer@acme.example', groups: ['LS-Reviewers', 'LS-Project42-Reviewers'], firstName: 'Rita', lastName: 'Reviewer' },
  AN: { email: 'annotator@acme.example', groups: ['LS-Annotators', 'LS-Project43-Annotators'], firstName: 'José', lastName: 'Annotator' },
  NO: { email: 'pending@acme.example', groups: ['Staff'], firstName: 'Pat', lastName: 'Pending' },
} as const satisfies Record<string, Who>;

/**
 * The sign-in a proxied application starts: rolegate's /auth/signin?rd=… → SAML login → the test IdP's signed
 * Response at the ACS → back to /auth/signin → the return URL. Returns where the browser is sent at the end.
 */
export async function signInThroughRd(app: TestApp, browser: Browser, signInUrl: string, who: Who): Promise<string | null> {
  const start = await browser.get(signInUrl);
  expect(start.status, start.text).toBe(302);
  const login = await browser.get(start.location ?? '');
  expect(login.status, login.text).toBe(302);
  const idp = new URL(login.location ?? '');
  const requestId = readAuthnRequestId(idp.searchParams.get('SAMLRequest') ?? '');
  const acs = await postAcs(browser, 1, samlResponse(app, who, { inResponseTo: requestId }), idp.searchParams.get('RelayState') ?? undefined);
  expect(acs.status, acs.text).toBe(302);
  const back = await browser.get(acs.location ?? '');
  // To the application's origin by a page that moves on by itself (see goTo in src/http/forwardauth.ts).
  expect(back.status, back.text).toBe(200);
  const refresh = /^0; url=(.+)$/.exec(back.headers.get('refresh') ?? '')?.[1] ?? null;
  const link = /<a id="continue" href="([^"]+)"/.exec(back.text)?.[1]?.replace(/&amp;/g, '&') ?? null;
  expect(link).toBe(refresh);
  return refresh;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A request with full control of the headers and of the local address it comes from (127.0.0.x). */
export function rawRequest(url: string, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers: { accept: 'application/json', ...headers }, localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export function codeOf(res: RawResponse | TestResponse): string | undefined {
  const text = 'body' in res ? res.body : res.text;
  try {
    return (JSON.parse(text) as { error?: string }).error;
  } catch {
    return undefined;
  }
}

/** The session cookie of a signed-in test browser, as a Cookie header value. */
export function cookieHeader(browser: Browser): string {
  return [...browser.jar].map(([k, v]) => `${k}=${v}`).join('; ');
}
