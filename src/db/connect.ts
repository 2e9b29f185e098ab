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

export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<Db> {
  let db: Db;
  if (config.client === 'sqlite') {
    if (config.filename !== ':memory:') fs.mkdirSync(path.dirname(config.filename), { recursive: true });
    db = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: config.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        // WAL lets readers proceed during a write; foreign keys are off by default in SQLite; a busy
        // timeout makes a second process wait for the write lock instead of failing at once.
        afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          try {
            if (config.filename !== ':memory:') conn.pragma('journal_mode = WAL');
            conn.pragma('foreign_keys = ON');
            conn.pragma('busy_timeout = 5000');
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
