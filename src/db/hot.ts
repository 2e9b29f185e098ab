/**
 * Statements on the hottest paths (the session behind every request, the member behind every forward-auth
 * decision, the rows every login writes), written once as SQL instead of built by knex's query builder on
 * every call.
 *
 * On SQLite the statement runs on the connection's cache of prepared statements (connect.ts), without knex's
 * query building and runner (~10 µs a statement, a tenth of a first login's main thread over its eight). The
 * connection is the one knex would use for a query of its own: outside a transaction it is taken from knex's
 * pool (which holds one SQLite connection; a running transaction keeps it until it ends, so a hot read waits
 * for the transaction instead of reading its uncommitted rows); inside a knex transaction it is that
 * transaction's connection (knex's transaction client hands it out), so the statement is part of the
 * transaction exactly as `trx.raw` would be. On PostgreSQL the same SQL goes through `knex.raw` (which turns
 * `?` into `$n`).
 *
 * Only `?` placeholders, portable SQL, and values bound the way knex binds them (Date → epoch ms on SQLite,
 * boolean → 0/1), so that a hot statement reads and writes exactly what the knex-built one it replaces did.
 * Every statement is told as knex tells its own (a `query` event on the handle and, inside a transaction, on
 * the transaction), so that what counts a login's statements still sees all of them.
 */
import type { Knex } from 'knex';
import type { DbOrTrx } from './connect.js';
import type { Raw } from './rows.js';
import { databaseKind, rawRows } from './rows.js';

interface SqliteStatement {
  all(...params: unknown[]): Raw[];
  run(...params: unknown[]): { changes: number };
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}
interface PooledClient {
  acquireConnection(): Promise<SqliteConnection>;
  releaseConnection(conn: SqliteConnection): unknown;
  emit(event: 'query', data: { sql: string; bindings: readonly unknown[]; method: string }): boolean;
}

/** As knex's better-sqlite3 client binds values. */
function sqliteValue(v: unknown): unknown {
  if (v instanceof Date) return v.valueOf();
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** Run one statement on the connection knex would run it on (see the module comment). */
async function onSqlite<T>(db: DbOrTrx, sql: string, params: readonly Knex.Value[], use: (statement: SqliteStatement, values: unknown[]) => T): Promise<T> {
  const client = db.client as PooledClient;
  const conn = await client.acquireConnection();
  try {
    client.emit('query', { sql, bindings: params, method: 'raw' });
    // The connection keeps its prepared statements (connect.ts): prepare() is a cache lookup after the first call.
    return use(conn.prepare(sql), params.map(sqliteValue));
  } finally {
    client.releaseConnection(conn);
  }
}

/** Run a statement that returns rows (a SELECT, or a write with RETURNING) and return them. */
export async function hotRows(db: DbOrTrx, sql: string, params: readonly Knex.Value[]): Promise<Raw[]> {
  if (databaseKind(db) === 'postgres') return rawRows(await db.raw(sql, params));
  return onSqlite(db, sql, params, (statement, values) => statement.all(...values));
}

/** Run a write without RETURNING; the number of rows it changed. */
export async function hotRun(db: DbOrTrx, sql: string, params: readonly Knex.Value[]): Promise<number> {
  if (databaseKind(db) === 'postgres') return ((await db.raw(sql, params)) as { rowCount?: number | null }).rowCount ?? 0;
  return onSqlite(db, sql, params, (statement, values) => statement.run(...values).changes);
}

/**
 * `insert into <table> (<columns>) values (?, …), …` for `rows` rows, then `tail` (an ON CONFLICT clause, a
 * RETURNING). Identifiers are the caller's constants, double-quoted (standard SQL, both databases).
 */
export function insertSql(table: string, columns: readonly string[], rows: number, tail = ''): string {
  const row = `(${columns.map(() => '?').join(', ')})`;
  return `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${Array.from({ length: rows }, () => row).join(', ')}${tail === '' ? '' : ` ${tail}`}`;
}

/** `on conflict (<key>) do update set <c> = excluded.<c>, …`: an upsert that keeps the row's other columns. */
export function mergeSql(key: readonly string[], merge: readonly string[]): string {
  return `on conflict (${key.map((c) => `"${c}"`).join(', ')}) do update set ${merge.map((c) => `"${c}" = excluded."${c}"`).join(', ')}`;
}

/**
 * A many-row insert of fixed columns (the write path's batches: an apply or a SCIM push writes hundreds of
 * rows a statement), its SQL text kept per row count.
 */
export class HotInsert {
  readonly #texts = new Map<number, string>();

  constructor(
    readonly table: string,
    readonly columns: readonly string[],
    /** An ON CONFLICT clause, or ''. */
    readonly tail = '',
  ) {}

  sql(rows: number): string {
    let text = this.#texts.get(rows);
    if (text === undefined) {
      text = insertSql(this.table, this.columns, rows, this.tail);
      this.#texts.set(rows, text);
    }
    return text;
  }

  /** Insert `rows` (each in `columns` order) in one statement; nothing for none. */
  async run(db: DbOrTrx, rows: readonly (readonly Knex.Value[])[]): Promise<void> {
    if (rows.length === 0) return;
    await hotRun(db, this.sql(rows.length), rows.flat());
  }
}
