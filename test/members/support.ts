/** Helpers for the write-path suites: the CLI against a running app's database, tokens, roles by email. */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { runCli } from '../../src/cli.js';
import type { TestApp } from '../support/app.js';
import { TEST_PG_URL } from '../support/database.js';
import type { Browser } from '../support/http.js';
import { call } from '../admin/support.js';

/**
 * A configuration file for `rolegate` commands run against `app`'s database: the app's own file with the
 * mapping edited by `edit`, and on PostgreSQL the URL pointed at the app's schema (through the connection's
 * `options`, as an operator would name a schema).
 */
export function cliConfig(app: TestApp, name: string, edit: (yaml: string) => string = (y) => y): string {
  let yaml = edit(fs.readFileSync(app.config.file, 'utf8'));
  if (app.pgSchema !== undefined) {
    const url = `${TEST_PG_URL}${TEST_PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${app.pgSchema}`)}`;
    yaml = yaml.replace(/^  url: .*$/m, `  url: ${url}`);
  }
  const file = path.join(app.dir, name);
  fs.writeFileSync(file, yaml);
  return file;
}

export async function cli(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env: { ...process.env, NODE_ENV: 'test' } });
  return { code, out: out.join(''), err: err.join('') };
}

export async function newToken(app: TestApp, b: Browser): Promise<{ id: number; key: string }> {
  const res = await call(app, b, 'POST', '/api/tokens', { body: { name: 'finding' } });
  expect(res.status, res.text).toBe(201);
  return res.json<{ id: number; key: string }>();
}

/** The status a token gets from the admin API (200 live, 401 dead). */
export async function tokenStatus(app: TestApp, key: string): Promise<number> {
  return (await call(app, app.browser(), 'GET', '/api/organizations/0/memberships', { token: key, sameOrigin: false })).status;
}

export async function revokedAt(app: TestApp, id: number): Promise<unknown> {
  const row = (await app.db('api_tokens').where({ id }).first('revoked_at')) as { revoked_at: unknown } | undefined;
  return row?.revoked_at ?? null;
}
