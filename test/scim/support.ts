/** Helpers for the SCIM tests: an app with SCIM on for organization 1 (and 2), tokens, and SCIM calls. */
import { expect } from 'vitest';
import { createScimToken } from '../../src/scim/tokens.js';
import type { StartOptions, TestApp } from '../support/app.js';
import { standardYaml, startApp } from '../support/app.js';
import type { TestResponse } from '../support/http.js';

export const SCIM_JSON = 'application/scim+json';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** Organization 1 of the standard test configuration with `scim.enabled: true`, plus extra YAML for it. */
export function scimYaml(extra = ''): NonNullable<StartOptions['yaml']> {
  return (dir, publicUrl) =>
    standardYaml({ dir, publicUrl, org1Extra: `    scim:\n      enabled: true\n${extra}` }).replace(
      '    roles:\n      GX-Admins: Administrator\n',
      '    roles:\n      GX-Admins: Administrator\n    scim:\n      enabled: true\n',
    );
}

export async function startScimApp(extra = '', opts: Omit<StartOptions, 'yaml'> = {}): Promise<TestApp> {
  return startApp({ ...opts, yaml: scimYaml(extra) });
}

export async function scimToken(app: TestApp, orgId = 1): Promise<string> {
  const { key } = await createScimToken(app.db, { organizationId: orgId, name: 'test IdP', createdBy: 'cli', configRevision: null, ip: null }, new Date());
  return key;
}

export interface ScimOptions {
  readonly body?: unknown;
  /** A raw body, sent as is. */
  readonly raw?: string;
  readonly contentType?: string;
  /** The Authorization header; default `Bearer <key>`. */
  readonly authorization?: string | null;
}

export class ScimClient {
  constructor(
    readonly app: TestApp,
    readonly key: string,
  ) {}

  async call(method: string, path: string, opts: ScimOptions = {}): Promise<TestResponse> {
    const headers: Record<string, string> = { accept: SCIM_JSON, 'user-agent': 'rolegate-test SCIM client' };
    const auth = opts.authorization === undefined ? `Bearer ${this.key}` : opts.authorization;
    if (auth !== null) headers['authorization'] = auth;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] = opts.contentType ?? SCIM_JSON;
    return this.app.browser().request(method, `/scim/v2${path}`, { headers, ...(body === undefined ? {} : { body }) });
  }

  get(path: string): Promise<TestResponse> {
    return this.call('GET', path);
  }
  post(path: string, body: unknown): Promise<TestResponse> {
    return this.call('POST', path, { body });
  }
  put(path: string, body: unknown): Promise<TestResponse> {
    return this.call('PUT', path, { body });
  }
  patch(path: string, operations: unknown[]): Promise<TestResponse> {
    return this.call('PATCH', path, { body: { schemas: [PATCH_SCHEMA], Operations: operations } });
  }
  delete(path: string): Promise<TestResponse> {
    return this.call('DELETE', path);
  }

  /** Okta's create request (its documented shape), answered 201; returns the new id. */
  async createUser(email: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await this.post('/Users', {
      schemas: [USER_SCHEMA],
      userName: email,
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: email, type: 'work' }],
      displayName: 'Test User',
      active: true,
      ...extra,
    });
    expect(res.status, res.text).toBe(201);
    return res.json<{ id: string }>().id;
  }

  async createGroup(displayName: string, members: readonly string[] = []): Promise<string> {
    const res = await this.post('/Groups', { schemas: [GROUP_SCHEMA], displayName, members: members.map((value) => ({ value })) });
    expect(res.status, res.text).toBe(201);
    return res.json<{ id: string }>().id;
  }
}

/** The SCIM error of a response: status, scimType and rolegate's code, after checking the body's shape. */
export function scimErrorOf(res: TestResponse): { status: number; scimType: string | null; code: string | null } {
  expect(res.headers.get('content-type') ?? '').toContain(SCIM_JSON);
  const body = res.json<{ schemas: string[]; status: string; detail: string; scimType?: string }>();
  expect(body.schemas).toEqual([ERROR_SCHEMA]);
  expect(body.status).toBe(String(res.status));
  expect(typeof body.detail).toBe('string');
  return { status: res.status, scimType: body.scimType ?? null, code: res.headers.get('x-rolegate-error') };
}

export async function roleOf(app: TestApp, userId: string | number | undefined): Promise<{ role: string; role_source: string } | undefined> {
  if (userId === undefined) throw new Error('no user id');
  return (await app.db('memberships').where({ user_id: Number(userId) }).first('role', 'role_source')) as { role: string; role_source: string } | undefined;
}
