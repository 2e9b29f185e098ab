/** Opening the database: the only place that knows SQLite from PostgreSQL. */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { DatabaseConfig } from '../configuration/types.js';
import { migrationSource } from './migrations.js';

export type Db = Knex;
export type DbOrTrx = Knex | Knex.Transaction;

export interface OpenOptions {
  /** PostgreSQL only: run in this schema (tests use their own and drop it). */
  readonly schema?: string;
}

/**
 * knex prints every failed connection attempt with a stack trace before rejecting with the same error; the
 * error reaches the caller anyway (`serve` explains it in one line, see open-errors.ts), so only that
 * message is dropped. Every other knex warning still goes to the console.
 */
const QUIET_ACQUIRE_ERRORS = {
  warn(message: string): void {
    if (!message.startsWith('Acquire connection error')) console.warn(message);
  },
};

/*
 * `compileSqlOnError: false` (both databases): knex prefixes a failed statement's error message with the SQL;
 * by default with its bound values filled in (an email, a name, a session key's hash, an audit reason), and
 * that message is what an unexpected error's log line carries. With the option, the SQL keeps its `?`
 * placeholders. (Hot statements, hot.ts, raise the database's own error, without SQL.)
 */
export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<Db> {
  let db: Db;
  if (config.client === 'sqlite') {
    if (config.filename !== ':memory:') fs.mkdirSync(path.dirname(config.filename), { recursive: true });
    db = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: config.filename },
      useNullAsDefault: true,
      compileSqlOnError: false,
      pool: {
        min: 1,
        max: 1,
        // WAL lets readers proceed during a write (synchronous = NORMAL, see below); foreign keys are off by
        // default in SQLite; a busy timeout makes a second process wait for the write lock instead of failing.
        afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
          try {
            if (config.filename !== ':memory:') conn.pragma('journal_mode = WAL');
            // better-sqlite3's build default in WAL mode, said here so that it does not change under us: every
            // commit is atomic and survives a crash or SIGKILL of rolegate (the OS has the WAL); a power cut or
            // a kernel crash may lose the last commits, whole (a change and its outbox event together), never
            // half of one. FULL would fsync on every commit, blocking the event loop ~0.15 ms per login.
            conn.pragma('synchronous = NORMAL');
            conn.pragma('foreign_keys = ON');
            conn.pragma('busy_timeout = 5000');
            cachePreparedStatements(conn);
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    });
  } else {
    const schema = options.schema;
    db = knexFactory({
      client: 'pg',
      connection: { connectionString: config.connectionString },
      compileSqlOnError: false,
      log: QUIET_ACQUIRE_ERRORS,
      pool: {
        min: 0,
        max: 10,
        ...(schema === undefined
          ? {}
          : {
              afterCreate(conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
                conn.query(`SET search_path TO "${schema.replace(/"/g, '')}"`, (err) => done(err, conn));
              },
            }),
      },
    });
    if (schema !== undefined) await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
  }
  await db.migrate.latest({ migrationSource });
  return db;
}

interface SqliteConnection {
  pragma(sql: string): unknown;
  prepare(sql: string): unknown;
}

/** Distinct SQL texts kept prepared per SQLite connection (least recently used dropped first). */
const PREPARED_PER_CONNECTION = 256;

/**
 * knex's better-sqlite3 dialect prepares every query afresh (`connection.prepare(sql)` per query), which
 * was a tenth of a login's main-thread time. The connection keeps its prepared statements instead, by SQL
 * text. Safe under knex: a statement belongs to its connection (so it runs on the connection knex holds for
 * the transaction), knex only calls `all`/`run` on it (each completes before the next query starts) and
 * never sets per-statement modes (raw, pluck, expand; `safeIntegers` is not used here); SQLite re-prepares
 * a statement by itself after a schema change. knex still compiles the SQL text and emits its query events.
 */
function cachePreparedStatements(conn: SqliteConnection): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (sql: string): unknown => {
    let statement = cache.get(sql);
    if (statement !== undefined) {
      cache.delete(sql); // re-inserted below: Map order is the recency order
    } else {
      statement = prepare(sql);
      if (cache.size >= PREPARED_PER_CONNECTION) cache.delete(cache.keys().next().value as string);
    }
    cache.set(sql, statement);
    return statement;
  };
}

/** Run `fn` once `db`'s transaction commits (at once outside a transaction); never after a rollback. */
export function afterCommit(db: DbOrTrx, fn: () => void): void {
  if (db.isTransaction === true) {
    (db as { executionPromise?: Promise<unknown> }).executionPromise?.then(fn, () => {});
  } else {
    fn();
  }
}

/** A cheap round trip (readiness checks). */
export async function ping(db: Db): Promise<void> {
  await db.raw('select 1');
}

/** The connection pool's counters, for the metrics endpoint. */
export function connectionPool(db: Db): { numUsed(): number; numFree(): number; numPendingAcquires(): number } {
  return (db.client as { pool: { numUsed(): number; numFree(): number; numPendingAcquires(): number } }).pool;
}
