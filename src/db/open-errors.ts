/**
 * Why the database could not be opened, in one line a person can act on (`rolegate serve` prints it instead
 * of a driver stack trace). Knows the error codes of pg and better-sqlite3; anything else is left to the
 * caller. Never repeats a password: PostgreSQL URLs are reduced to host, port and database name.
 */
import type { DatabaseConfig } from '../configuration/types.js';

interface Target {
  readonly host: string;
  readonly port: string;
  readonly database: string;
  readonly user: string;
}

function pgTarget(connectionString: string): Target {
  try {
    const u = new URL(connectionString);
    return {
      host: u.hostname || 'localhost',
      port: u.port || '5432',
      database: decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres',
      user: decodeURIComponent(u.username) || 'postgres',
    };
  } catch {
    return { host: 'localhost', port: '5432', database: '(the database in database.url)', user: 'postgres' };
  }
}

function codeOf(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** A one-line explanation of a failure to open `config`'s database, or undefined when it is not recognised. */
export function explainOpenError(err: unknown, config: DatabaseConfig): string | undefined {
  const code = codeOf(err) ?? codeOf((err as { cause?: unknown } | null)?.cause);
  if (config.client === 'pg') {
    const t = pgTarget(config.connectionString);
    const where = `PostgreSQL at ${t.host}:${t.port}`;
    switch (code) {
      // SQLSTATE 3D000 invalid_catalog_name
      case '3D000':
        return `database "${t.database}" does not exist on ${where}; create it (createdb -h ${t.host} -p ${t.port} -U ${t.user} ${t.database}, or CREATE DATABASE "${t.database.replace(/"/g, '""')}";) or change database.url`;
      // 28P01 invalid_password, 28000 invalid_authorization_specification
      case '28P01':
      case '28000':
        return `${where} refused user "${t.user}" (wrong password or no pg_hba.conf entry); check the user and password in database.url`;
      case 'ECONNREFUSED':
        return `nothing answers at ${where}; start PostgreSQL or fix the host and port in database.url`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `the host "${t.host}" in database.url does not resolve`;
      default:
        return undefined;
    }
  }
  switch (code) {
    case 'SQLITE_CANTOPEN':
      return `cannot open the SQLite file ${config.filename}; check that its folder is writable, or change database.url`;
    case 'SQLITE_NOTADB':
      return `${config.filename} is not an SQLite database; point database.url at another file`;
    case 'EACCES':
    case 'EROFS':
      return `cannot create the folder of the SQLite file ${config.filename} (${code}); change database.url or the folder's permissions`;
    default:
      return undefined;
  }
}
