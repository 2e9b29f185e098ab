/** Helpers for the admin surface's tests: signed-in browsers per role, JSON calls with or without Origin. */
import { expect } from 'vitest';
import type { TestApp } from '../support/app.js';
import { signIn } from '../support/flow.js';
import type { Browser, TestResponse } from '../support/http.js';
import type { Who } from '../support/idp.js';

export const PEOPLE = {
  OW: { email: 'owner@acme.example', groups: [], firstName: 'Olivia', lastName: 'Owner' },
  AD: { email: 'admin@acme.example', groups: ['LS-Admins'], firstName: 'Ada', lastName: 'Admin' },
  MA: { email: 'manager@acme.example', groups: ['LS-Managers'], firstName: 'Max', lastName: 'Manager' },
  RE: { email: 'reviewer@acme.example', groups: ['LS-Reviewers', 'LS-Project42-Reviewers'], firstName: 'Rita', lastName: 'Reviewer' },
  AN: { email: 'annotator@acme.example', groups: ['LS-Annotators'], firstName: 'Andy', lastName: 'Annotator' },
  NO: { email: 'pending@acme.example', groups: ['Staff'], firstName: 'Pat', lastName: 'Pending' },
} as const satisfies Record<string, Who>;

export async function signedIn(app: TestApp, who: Who): Promise<Browser> {
  const browser = app.browser();
  const res = await signIn(app, browser, who);
  expect(res.status, res.text).toBe(302);
  return browser;
}

export interface CallOptions {
  readonly body?: unknown;
  /** Send `Origin: <public url>` (what a browser does on a same-origin request). Default true. */
  readonly sameOrigin?: boolean;
  readonly headers?: Record<string, string>;
  readonly token?: string;
}

export function call(app: TestApp, browser: Browser, method: string, path: string, opts: CallOptions = {}): Promise<TestResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.sameOrigin !== false) headers['origin'] = app.url;
  if (opts.token !== undefined) headers['authorization'] = `Token ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return browser.request(method, path, { headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
}

/** The user id of a member by email (live members only). */
export async function userIdOf(app: TestApp, email: string): Promise<number> {
  const row = (await app.db('users').where({ email, organization_id: 1 }).first('id')) as { id: number } | undefined;
  if (row === undefined) throw new Error(`no user ${email}`);
  return row.id;
}

export function errorOf(res: TestResponse): string {
  return res.json<{ error: string }>().error;
}
