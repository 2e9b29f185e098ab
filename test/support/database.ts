/**
 * Which database the tests run on. `ROLEGATE_TEST_DATABASE=postgres` runs every app (and every test that
 * opens a database) on PostgreSQL, each in a schema of its own that is dropped on close; anything else
 * (the default) is SQLite. `ROLEGATE_TEST_PG_URL` names the server (default: the CI machine's local one).
 */
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import type { DatabaseConfig } from '../../src/configuration/types.js';
import { openDatabase } from '../../src/db/connect.js';
import type { Db } from '../../src/db/connect.js';

export type TestDatabaseKind = 'sqlite' | 'postgres';

export const TEST_DATABASE: TestDatabaseKind = /^(postgres|pg|postgresql)$/i.test(process.env['ROLEGATE_TEST_DATABASE'] ?? '') ? 'postgres' : 'sqlite';

export const TEST_PG_URL = process.env['ROLEGATE_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A PostgreSQL database of the test's own: the server's URL and a fresh schema name. */
export interface PgTestDatabase {
  readonly config: DatabaseConfig;
  readonly schema: string;
  /** Drop the schema and everything in it. */
  drop(): Promise<void>;
}

export function pgTestDatabase(): PgTestDatabase {
  const schema = `rg_test_${Date.now().toString(36)}_${randomBytes(5).toString('hex')}`;
  return {
    config: { client: 'pg', url: TEST_PG_URL, connectionString: TEST_PG_URL },
    schema,
    async drop() {
      const admin = knexFactory({ client: 'pg', connection: { connectionString: TEST_PG_URL }, pool: { min: 0, max: 1 } });
      try {
        await admin.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      } finally {
        await admin.destroy();
      }
    },
  };
}

/**
 * A migrated database for tests that work below HTTP: `:memory:` SQLite, or a PostgreSQL schema of its own.
 * `close()` destroys the pool and drops the schema.
 */
export async function openTestDatabase(): Promise<{ db: Db; kind: TestDatabaseKind; close(): Promise<void> }> {
  if (TEST_DATABASE === 'sqlite') {
    const db = await openDatabase({ client: 'sqlite', url: 'sqlite::memory:', filename: ':memory:' });
    return { db, kind: 'sqlite', close: () => db.destroy() };
  }
  const pg = pgTestDatabase();
  const db = await openDatabase(pg.config, { schema: pg.schema });
  return {
    db,
    kind: 'postgres',
    async close() {
      await db.destroy();
      await pg.drop();
    },
  };
}
