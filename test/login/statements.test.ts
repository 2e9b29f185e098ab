/**
 * The SQL a login runs, counted from knex's query events on the app's database handle: a guard against
 * statements creeping back (each one is main-thread work on every login). The ceiling is today's count;
 * docs/performance.md lists the statements and which could still be merged.
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
  it("a returning user's SP-initiated login: at most 15 statements, one of them the session row", async () => {
    await loginStatements('quinn@acme.example');
    const statements = await loginStatements('quinn@acme.example');
    expect(statements.length, statements.join('\n')).toBeLessThanOrEqual(15);
    expect(statements.filter((s) => /\bsessions\b/.test(s))).toHaveLength(1);
    // The user row is updated and read back in one statement.
    expect(statements.filter((s) => /\busers\b/.test(s) && /^select/i.test(s.trim()) && !/join/i.test(s))).toHaveLength(0);
  });
});
