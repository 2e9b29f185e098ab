/**
 * The read behind every forward-auth decision (readSessionAndMember): the session row of a cookie key and the
 * member its data names, as stored now. On SQLite one statement reads both through the row's user and
 * organization columns; these tests change the rows under it and check that what it returns follows, on
 * whichever database the suite runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrganizationConfig } from '../../src/configuration/types.js';
import { readSessionAndMember } from '../../src/forwardauth/member.js';
import { SESSION_COOKIE } from '../../src/http/session.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { signIn } from '../support/flow.js';
import { PEOPLE } from './support.js';

let app: TestApp;
let key = '';
let adminId = 0;
let annotatorId = 0;
let org: OrganizationConfig;

beforeAll(async () => {
  app = await startApp();
  const admin = app.browser();
  expect((await signIn(app, admin, PEOPLE.AD)).status).toBe(302);
  expect((await signIn(app, app.browser(), PEOPLE.AN)).status).toBe(302);
  key = admin.jar.get(SESSION_COOKIE) ?? '';
  expect(key).not.toBe('');
  const ids = (await app.db('users').whereIn('email', [PEOPLE.AD.email, PEOPLE.AN.email]).select('id', 'email')) as Array<{ id: number; email: string }>;
  adminId = Number(ids.find((u) => u.email === PEOPLE.AD.email)?.id);
  annotatorId = Number(ids.find((u) => u.email === PEOPLE.AN.email)?.id);
  const found = app.config.organizations.find((o) => o.id === 1);
  if (found === undefined) throw new Error('organization 1');
  org = found;
});

afterAll(async () => {
  await app?.close();
});

async function read(): Promise<{ role: string; email: string | undefined } | 'no member' | 'no session'> {
  const r = await readSessionAndMember(app.db, key, new Date());
  if (r === undefined) return 'no session';
  const m = r.member(org, adminId);
  return m === undefined ? 'no member' : { role: m.state.role, email: m.identity?.email };
}

describe('the session and its member, read together', () => {
  it('reads the signed-in member, and nothing for another organization, another user or an unknown key', async () => {
    expect(await read()).toEqual({ role: 'AD', email: PEOPLE.AD.email });
    const r = await readSessionAndMember(app.db, key, new Date());
    expect(r?.member({ ...org, id: 2 }, adminId)).toBeUndefined();
    expect(r?.member(org, annotatorId)).toBeUndefined();
    expect(await readSessionAndMember(app.db, `${key}x`, new Date())).toBeUndefined();
  });

  it('is one statement (on SQLite a hot statement on the prepared-statement cache, told as knex tells its own)', async () => {
    const seen: string[] = [];
    const listener = (q: { sql: string }): void => {
      seen.push(q.sql);
    };
    app.db.on('query', listener);
    try {
      expect(await read()).toEqual({ role: 'AD', email: PEOPLE.AD.email });
    } finally {
      app.db.off('query', listener);
    }
    expect(seen).toHaveLength(1);
  });

  it("follows the member's rows: a demotion, a project role, a deletion", async () => {
    await app.db('memberships').where({ user_id: adminId, organization_id: 1 }).update({ role: 'DI' });
    expect(await read()).toEqual({ role: 'DI', email: undefined });
    await app.db('memberships').where({ user_id: adminId, organization_id: 1 }).update({ role: 'RE' });
    const before = await readSessionAndMember(app.db, key, new Date());
    const projects = before?.member(org, adminId)?.identity?.projects ?? [];
    await app.db('project_memberships').where({ user_id: adminId }).delete();
    await app.db('project_memberships').insert({ user_id: adminId, project_id: 42, role: 'MA', role_source: 'manual', reason: 'set by this test', updated_at: new Date() });
    const after = await readSessionAndMember(app.db, key, new Date());
    expect(after?.member(org, adminId)?.identity?.projects).toEqual([{ id: 42, role: 'MA' }]);
    expect(projects).not.toEqual([{ id: 42, role: 'MA' }]);
    await app.db('users').where({ id: adminId }).update({ is_deleted: true });
    expect(await read()).toBe('no member');
    await app.db('users').where({ id: adminId }).update({ is_deleted: false });
    expect(await read()).toEqual({ role: 'RE', email: PEOPLE.AD.email });
  });

  it("reads the member the session's data names even when the row's columns say otherwise", async () => {
    await app.db('sessions').update({ user_id: annotatorId });
    expect(await read()).toEqual({ role: 'RE', email: PEOPLE.AD.email });
  });

  it('reads no session once the row has expired in the database', async () => {
    await app.db('sessions').update({ expires_at: new Date(Date.now() - 1000) });
    expect(await read()).toBe('no session');
  });
});
