/**
 * The one place that reads raw rows and knows which database it talks to. SQLite returns integers as
 * numbers, booleans as 0/1 and timestamps as ISO strings; PostgreSQL returns bigint counts as strings,
 * booleans as booleans and timestamps as Date. Repositories parse every column through these helpers.
 */
import type { ActiveOrgRole, OrgRole, RoleSource } from '../domain/roles.js';
import { isOrgRole, isRoleSource } from '../domain/roles.js';
import type { DbOrTrx } from './connect.js';

export type Raw = Record<string, unknown>;

export type DatabaseKind = 'sqlite' | 'postgres';

export function databaseKind(db: DbOrTrx): DatabaseKind {
  const client = (db as unknown as { client?: { config?: { client?: unknown } } }).client?.config?.client;
  return client === 'pg' || client === 'postgres' || client === 'postgresql' ? 'postgres' : 'sqlite';
}

export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  throw new TypeError(`not a number: ${String(v)}`);
}

export function numOrNull(v: unknown): number | null {
  return v == null ? null : num(v);
}

export function str(v: unknown): string {
  if (typeof v !== 'string') throw new TypeError('not text');
  return v;
}

export function strOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

export function bool(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 't' || v === 'true';
}

/** A JSON text column; null when absent or not JSON (a reason is explanation, never worth failing a read). */
export function json(v: unknown): unknown {
  if (typeof v !== 'string') return null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return null;
  }
}

/** A JSON list of strings (asserted groups); null = never known. */
export function stringList(v: unknown): string[] | null {
  const parsed = json(v);
  return Array.isArray(parsed) ? parsed.filter((g): g is string => typeof g === 'string') : null;
}

/** Timestamps are stored as ISO strings on SQLite and timestamptz on PostgreSQL; read both back as Date. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string' || typeof value === 'number') return new Date(value);
  throw new TypeError('not a timestamp');
}

export function dateOrNull(value: unknown): Date | null {
  return value == null ? null : toDate(value);
}

export function orgRole(v: unknown): OrgRole {
  if (!isOrgRole(v)) throw new TypeError(`unknown role ${String(v)}`);
  return v;
}

/** A project membership holds a role, never a state. */
export function projectRole(v: unknown): ActiveOrgRole {
  const role = orgRole(v);
  if (role === 'NO' || role === 'DI') throw new TypeError('a project membership holds a state');
  return role;
}

export function roleSource(v: unknown): RoleSource {
  if (!isRoleSource(v)) throw new TypeError(`unknown role_source ${String(v)}`);
  return v;
}

/** The rows of `db.raw(…)`: an array on SQLite, `{ rows }` on PostgreSQL. */
export function rawRows(result: unknown): Raw[] {
  return (Array.isArray(result) ? result : (result as { rows: Raw[] }).rows) as Raw[];
}

/** The id `insert … returning('id')` gave back (an object on PostgreSQL, a number on SQLite). */
export function insertedId(rows: readonly unknown[]): number {
  const first = rows[0];
  return typeof first === 'object' && first !== null ? num((first as Raw)['id']) : num(first);
}

/** True when `err` is a unique-constraint violation on either database. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}
