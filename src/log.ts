/**
 * One JSON line per event on stdout. Callers pass fields, never whole assertions, cookies or secrets; the
 * `redact` list is a second line of defence for keys that must never be printed.
 */
export type LogLevel = 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, msg: string, fields?: Readonly<Record<string, unknown>>) => void;

const REDACT = new Set(['SAMLResponse', 'SAMLRequest', 'session_secret', 'sessionSecret', 'cookie', 'authorization', 'password']);

export function jsonLogger(write: (line: string) => void = (line) => process.stdout.write(line + '\n')): Logger {
  return (level, msg, fields = {}) => {
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
    for (const [key, value] of Object.entries(fields)) entry[key] = REDACT.has(key) ? '[redacted]' : value;
    write(JSON.stringify(entry));
  };
}

export const silentLogger: Logger = () => {};

/** The streams and environment of a command (the CLI writes only through these, so tests can run it). */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}
