/**
 * The SQL a login runs, counted from knex's query events on the app's database handle (every statement: BEGIN,
 * COMMIT, the AuthnRequest, the session row; the hot statements of src/db/hot.ts, which bypass knex's builder,
 * tell theirs the same way, test/db/hot.test.ts): a guard against statements creeping back (each one is
 * main-thread work on every login). The ceilings are today's counts, on SQLite and PostgreSQL alike;
 * docs/performance.md lists the statements.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { postAcs, startLogin } from '../support/flow.js';
import { samlResponse } from '../support/idp.js';

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app.close();
});

async function loginStatements(email: string): Promise<string[]> {
  const b = app.browser();
  const { requestId } = await startLogin(b);
  const body = samlResponse(app, { email, groups: ['LS-Reviewers', 'LS-Project42-Annotators'] }, { inResponseTo: requestId });
  const seen: string[] = [];
  const listener = (q: { sql: string }): void => {
    seen.push(q.sql);
  };
  app.db.on('query', listener);
  try {
    expect((await postAcs(b, 1, body)).status).toBe(302);
  } finally {
    app.db.off('query', listener);
  }
  return seen;
}

describe('SQL statements per login (BEGIN and COMMIT included)', () => {
  it("a returning user's SP-initiated login: at most 8 statements, the session row inside the login's transaction", async () => {
    await loginStatements('quinn@acme.example');
    const statements = await loginStatements('quinn@acme.example');
    expect(statements.length, statements.join('\n')).toBeLessThanOrEqual(8);
    expect(statements.filter((s) => /\bsessions\b/.test(s))).toHaveLength(1);
    // One commit for the member, the audit and the session: the session row is written between BEGIN and
    // COMMIT, and nothing follows the COMMIT.
    const begin = statements.findIndex((s) => /^begin/i.test(s.trim()));
    const commit = statements.findIndex((s) => /^commit/i.test(s.trim()));
    const session = statements.findIndex((s) => /\bsessions\b/.test(s));
    expect(begin).toBe(0);
    expect(session).toBeGreaterThan(begin);
    expect(session).toBeLessThan(commit);
    expect(commit).toBe(statements.length - 1);
    // The AuthnRequest is consumed by one DELETE … RETURNING, not a select and a delete.
    expect(statements.filter((s) => /\bauthn_requests\b/.test(s)).map((s) => s.trim().split(' ')[0]?.toLowerCase())).toEqual(['delete']);
    // The user row is updated and read back in one statement.
    expect(statements.filter((s) => /\busers\b/.test(s) && /^select/i.test(s.trim()) && !/join/i.test(s))).toHaveLength(0);
    // The member, project and ownership rows are read by the statement that consumes the assertion id: no
    // select of its own, and the write path does not read them again.
    expect(statements.filter((s) => /^select/i.test(s.trim()))).toEqual([]);
    // Nothing changed for this member: no membership or project-membership write.
    expect(statements.filter((s) => /\b(memberships|project_memberships)\b/.test(s) && !/^insert into consumed_assertions/i.test(s.trim()))).toEqual([]);
  });

  it('a first login: at most 10 statements (the user, membership, project membership, audit and groups rows)', async () => {
    const statements = await loginStatements('sasha@acme.example');
    expect(statements.length, statements.join('\n')).toBeLessThanOrEqual(10);
    expect(statements.filter((s) => /^select/i.test(s.trim()))).toEqual([]);
  });
});
