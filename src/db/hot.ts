/**
 * Statements on the hottest read paths (the session behind every request, the member behind every
 * forward-auth decision), written once as SQL instead of built by knex's query builder on every call.
 *
 * On SQLite the statement runs on the connection's cache of prepared statements (connect.ts), without knex's
 * query building. The connection is taken from knex's pool, exactly as
 * knex does for a query of its own: the pool holds one SQLite connection and a knex transaction keeps it
 * until it ends, so a hot read waits for a running transaction instead of reading its uncommitted rows.
 * On PostgreSQL the same SQL goes through `knex.raw` (which turns `?` into `$n`).
 *
 * Only `?` placeholders, portable SQL, and values bound the way knex binds them (Date → epoch ms on SQLite,
 * boolean → 0/1), so that a hot statement reads exactly what the knex-built one it replaces reads.
 */
import type { Knex } from 'knex';
import type { DbOrTrx } from './connect.js';
import type { Raw } from './rows.js';
import { databaseKind, rawRows } from './rows.js';

interface SqliteStatement {
  all(...params: unknown[]): Raw[];
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}
interface PooledClient {
  acquireConnection(): Promise<SqliteConnection>;
  releaseConnection(conn: SqliteConnection): void;
}

/** As knex's better-sqlite3 client binds values. */
function sqliteValue(v: unknown): unknown {
  if (v instanceof Date) return v.valueOf();
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/**
 * Run a read-only statement and return its rows. Inside a knex transaction (`db.isTransaction`) it runs
 * through that transaction (knex.raw), since the transaction holds the connection.
 */
export async function hotRows(db: DbOrTrx, sql: string, params: readonly Knex.Value[]): Promise<Raw[]> {
  if (databaseKind(db) === 'postgres' || db.isTransaction === true) {
    return rawRows(await db.raw(sql, params));
  }
  const client = db.client as PooledClient;
  const conn = await client.acquireConnection();
  try {
    // The connection keeps its prepared statements (connect.ts): prepare() is a cache lookup after the first call.
    return conn.prepare(sql).all(...params.map(sqliteValue));
  } finally {
    client.releaseConnection(conn);
  }
}
