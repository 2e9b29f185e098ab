/**
 * The configuration lock: several instances sharing one database reload the same file at about
 * the same moment (a ConfigMap update, SIGHUP sent to every pod). "plan → guard → apply → record revision"
 * runs under this lock, so exactly one of them applies the plan; the others, once they get the lock, find
 * the revision recorded as applied and only swap their in-memory configuration.
 *
 * Two mechanisms, one per database, because each is the robust one there:
 *
 * - PostgreSQL: `pg_advisory_xact_lock` taken in a transaction of its own that stays open (idle, holding no
 *   row locks) while the work runs on the pool's other connections, and commits when it is done. The lock
 *   belongs to that transaction, so it is released by the commit, by the rollback when the work throws, and
 *   by the server when the process dies and its connection drops: there is no lease to tune and no stale
 *   lock to clean up. Its key is a constant class id plus a hash of `current_schema()`, so two deployments
 *   (or two test runs) in different schemas of one database do not wait for each other. A transaction-level
 *   lock rather than `pg_advisory_lock` on a checked-out connection: a session lock survives an error path
 *   that forgets to unlock and would travel back into the pool with the connection. Waiting is bounded by
 *   `lock_timeout`.
 * - SQLite: a row in `config_locks`, inserted if absent (or taken over once its lease has expired) by one
 *   atomic statement, with the lease (`expires_at`) renewed while the work runs. SQLite has one writer at a
 *   time, but that only serializes single transactions, not the whole multi-transaction apply; and a knex
 *   SQLite pool has one connection, so the lock cannot be a transaction held open beside the work. The lease
 *   frees the lock of a process that died holding it. A waiter only reads while the lock is held and writes
 *   only when it is free or expired, so polling never waits on the holder's write transactions (with two
 *   connections in one process, better-sqlite3's synchronous busy wait would stall the holder too).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Db } from './connect.js';

export interface ConfigLockOptions {
  /** Give up waiting after this long (the caller reports the reload as failed). Default 5 minutes. */
  readonly waitMs?: number;
  /** SQLite: the lease, renewed every third of it while held. Default 60 s. */
  readonly leaseMs?: number;
  /** SQLite: pause between attempts. Default 50 ms. */
  readonly pollMs?: number;
}

export class ConfigLockTimeout extends Error {
  constructor(waitMs: number, holder: string | null) {
    super(`the configuration lock was not free after ${Math.round(waitMs / 1000)} s${holder === null ? '' : ` (held by ${holder})`}`);
    this.name = 'ConfigLockTimeout';
  }
}

/** Arbitrary constant: the advisory-lock "class" of rolegate's configuration lock. */
const PG_LOCK_CLASS = 0x726f6c65; // 'role'
const LOCK_NAME = 'config';
const DEFAULT_WAIT_MS = 5 * 60_000;
const DEFAULT_LEASE_MS = 60_000;

function isSqlite(db: Db): boolean {
  const client = (db.client as { config?: { client?: unknown } }).config?.client;
  return client === 'better-sqlite3' || client === 'sqlite3';
}

/** Runs `work` while holding the configuration lock of this database; other holders wait. */
export async function withConfigLock<T>(db: Db, work: () => Promise<T>, options: ConfigLockOptions = {}): Promise<T> {
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  return isSqlite(db) ? withSqliteLock(db, work, waitMs, options) : withPgLock(db, work, waitMs);
}

async function withPgLock<T>(db: Db, work: () => Promise<T>, waitMs: number): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(waitMs))}`);
    try {
      await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))', [PG_LOCK_CLASS]);
    } catch (err) {
      // 55P03 lock_not_available: lock_timeout expired.
      if ((err as { code?: unknown }).code === '55P03') throw new ConfigLockTimeout(waitMs, null);
      throw err;
    }
    return work();
  });
}

async function withSqliteLock<T>(db: Db, work: () => Promise<T>, waitMs: number, options: ConfigLockOptions): Promise<T> {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = options.pollMs ?? 50;
  const holder = `${os.hostname()}:${process.pid}:${randomUUID()}`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const current = (await db('config_locks').where('name', LOCK_NAME).first('holder', 'expires_at')) as { holder: string; expires_at: number | string } | undefined;
    if (current === undefined || Number(current.expires_at) < Date.now()) {
      // One statement, atomic on its own: insert the row, or take it over when its lease has run out.
      const now = Date.now();
      await db('config_locks')
        .insert({ name: LOCK_NAME, holder, acquired_at: now, expires_at: now + leaseMs })
        .onConflict('name')
        .merge(['holder', 'acquired_at', 'expires_at'])
        .where('config_locks.expires_at', '<', now);
      const row = (await db('config_locks').where('name', LOCK_NAME).first('holder')) as { holder: string } | undefined;
      if (row?.holder === holder) break;
    }
    if (Date.now() >= deadline) throw new ConfigLockTimeout(waitMs, current?.holder ?? null);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  let renewal: Promise<unknown> = Promise.resolve();
  const renew = setInterval(() => {
    renewal = db('config_locks')
      .where({ name: LOCK_NAME, holder })
      .update({ expires_at: Date.now() + leaseMs })
      .catch(() => undefined);
  }, Math.max(1, Math.floor(leaseMs / 3)));
  renew.unref();
  try {
    return await work();
  } finally {
    clearInterval(renew);
    await renewal;
    // Should this fail, the lease frees the lock; the work's own outcome is what the caller needs.
    await db('config_locks')
      .where({ name: LOCK_NAME, holder })
      .del()
      .catch(() => undefined);
  }
}
