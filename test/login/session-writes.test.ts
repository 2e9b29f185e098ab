/**
 * What a login does to the sessions table: one INSERT for a browser without a session, and for a browser
 * that has one, the old row deleted and the new one written once (a new key: no fixation); both inside the
 * login's own transaction (one commit for the member, the audit and the session). Counted from knex's query
 * events on the app's own database handle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { signIn } from '../support/flow.js';

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app.close();
});

/** The SQL statements touching `sessions` while `run` runs (first word), and every statement. */
async function sessionStatements(run: () => Promise<unknown>, all: string[] = []): Promise<string[]> {
  const seen: string[] = [];
  const listener = (q: { sql: string }): void => {
    all.push(q.sql.trim());
    if (/\bsessions\b/.test(q.sql)) seen.push(q.sql.trim().split(/\s+/)[0]!.toLowerCase());
  };
  app.db.on('query', listener);
  try {
    await run();
  } finally {
    app.db.off('query', listener);
  }
  return seen;
}

async function sessionRows(): Promise<string[]> {
  return ((await app.db('sessions').select('id')) as { id: string }[]).map((r) => r.id);
}

describe('session rows written by a login', () => {
  it('a browser without a session: one insert, no delete of a session that never existed', async () => {
    const browser = app.browser();
    const statements = await sessionStatements(async () => {
      expect((await signIn(app, browser, { email: 'nina@acme.example', groups: ['LS-Reviewers'] })).status).toBe(302);
    });
    expect(statements).toEqual(['insert']);
    expect((await browser.whoami()).status).toBe(200);
  });

  it('a browser with a session: the old row is deleted, the new key written once', async () => {
    const browser = app.browser();
    await signIn(app, browser, { email: 'omar@acme.example', groups: ['LS-Reviewers'] });
    const oldKey = browser.jar.get('rolegate.sid');
    expect(oldKey).toBeDefined();
    const before = await sessionRows();
    const all: string[] = [];
    const statements = await sessionStatements(async () => {
      expect((await signIn(app, browser, { email: 'omar@acme.example', groups: ['LS-Reviewers'] })).status).toBe(302);
    }, all);
    // select: koa-session loads the session the cookie names (on the login start and on the ACS request).
    expect(statements.filter((s) => s !== 'select')).toEqual(['delete', 'insert']);
    // Both in the login's transaction: after its BEGIN, before its COMMIT, and nothing after that COMMIT.
    const writes = all.map((sql, i) => [sql, i] as const).filter(([sql]) => /\bsessions\b/.test(sql) && !/^select/i.test(sql)).map(([, i]) => i);
    const begin = all.findIndex((sql) => /^begin/i.test(sql));
    const commit = all.findIndex((sql) => /^commit/i.test(sql));
    expect(begin).toBeGreaterThanOrEqual(0);
    for (const i of writes) {
      expect(i).toBeGreaterThan(begin);
      expect(i).toBeLessThan(commit);
    }
    expect(commit).toBe(all.length - 1);
    const newKey = browser.jar.get('rolegate.sid');
    expect(newKey).toBeDefined();
    expect(newKey).not.toBe(oldKey);
    const after = await sessionRows();
    // One row replaced by one row.
    expect(after.length).toBe(before.length);
    expect((await browser.whoami()).status).toBe(200);
    // The old key's row is the one that went.
    expect(before.filter((id) => !after.includes(id))).toHaveLength(1);
  });
});
