/**
 * A failed statement's error message is what an unexpected error's log line carries (http/errors.ts): it
 * must not carry the statement's bound values (personal data, a session key's hash). knex fills them into
 * the message by default; db/connect.ts turns that off. On SQLite and, with ROLEGATE_TEST_DATABASE=postgres,
 * PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { openTestDatabase } from '../support/database.js';

let db: Db;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ db, close } = await openTestDatabase());
  await db('organizations').insert({ id: 1, title: 'Errors', created_at: new Date() });
});
afterAll(async () => {
  await close();
});

describe('database errors', () => {
  it('a failed statement names its SQL but not its values', async () => {
    const row = { organization_id: 1, email: 'private.person@example.org', first_name: 'Private', last_name: 'Person', date_joined: new Date(), is_deleted: false };
    await db('users').insert(row);
    // The same (organization, email) again: a unique violation.
    const err = (await db('users').insert(row).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error | undefined;
    expect(err).toBeInstanceOf(Error);
    expect(err?.message).toMatch(/insert into/i);
    expect(err?.message).not.toContain('private.person@example.org');
    expect(err?.message).not.toContain('Private');
    expect(err?.stack ?? '').not.toContain('private.person@example.org');
  });
});
