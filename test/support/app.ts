/**
 * Starts the real app on 127.0.0.1 (random port) with a real SQLite file in a temporary folder (or, with
 * ROLEGATE_TEST_DATABASE=postgres, a PostgreSQL schema of its own: see database.ts), from a
 * YAML configuration written by the test. Nothing is stubbed: config loader, migrations, SAML, sessions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/configuration/index.js';
import { deepFreeze } from '../../src/configuration/load.js';
import type { Config } from '../../src/configuration/types.js';
import type { Db } from '../../src/db/connect.js';
import { serve } from '../../src/main.js';
import type { RunningServer } from '../../src/main.js';
import type { ReloadStatus } from '../../src/reload/state.js';
import { silentLogger } from '../../src/log.js';
import type { Logger } from '../../src/log.js';
import { TEST_DATABASE, pgTestDatabase } from './database.js';
import type { PgTestDatabase } from './database.js';
import { Browser } from './http.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export { IDP_ENTITY_ID, IDP_SSO_URL } from './saml.js';
import { IDP_ENTITY_ID, IDP_SSO_URL } from './saml.js';

export interface TestApp {
  readonly config: Config;
  readonly db: Db;
  readonly url: string;
  readonly dir: string;
  /** PostgreSQL runs only: the schema this app's tables live in. */
  readonly pgSchema?: string;
  browser(): Browser;
  /**
   * Rewrite the configuration file with `edit` and reload it as SIGHUP does (validate → plan → swap → apply).
   * SQLite runs only: on PostgreSQL the app's database is not the one the file names (a reload refuses that).
   */
  reconfigure(edit: (yaml: string) => string): Promise<ReloadStatus>;
  close(): Promise<void>;
}

/**
 * The `server:` and `database:` sections every test configuration starts with: the given public URL, a port
 * the harness fills in, state and the SQLite file in the test's own folder (startApp moves it to PostgreSQL
 * when the suite runs there).
 */
export function serverYaml(dir: string, publicUrl: string): string {
  return `
server:
  public_url: ${publicUrl}
  port: 0
  session_secret: test-secret-0123456789abcdef
  data_dir: ${dir}/data
database:
  url: sqlite:${dir}/rolegate.db
`;
}

/** A two-organization configuration: org 1 and 2 trust the test IdP keys in fixtures/keys (different entity ids). */
export function standardYaml(opts: { publicUrl: string; dir: string; org1Extra?: string; sso1Extra?: string; org1Roles?: string }): string {
  const cert = path.join(ROOT, 'fixtures/keys/idp.crt');
  const cert2 = path.join(ROOT, 'fixtures/keys/idp-rollover.crt');
  return `${serverYaml(opts.dir, opts.publicUrl)}saml:
  clock_skew_seconds: 60
organizations:
  - id: 1
    title: Acme Labs
    owner: owner@acme.example
    sso:
      idp_entity_id: ${IDP_ENTITY_ID}
      idp_sso_url: ${IDP_SSO_URL}
      idp_cert_file: ${cert}
${opts.sso1Extra ?? ''}
    roles:
${opts.org1Roles ?? `      LS-Admins: Administrator
      LS-Managers: Manager
      LS-Reviewers: Reviewer
      LS-Annotators: Annotator`}
    projects:
      - id: 42
        title: Radiology
        groups:
          LS-Project42-Reviewers: Reviewer
          LS-Project42-Annotators: Annotator
          LS-AllProjects: Inherit
      - id: 43
        title: Pathology
        groups:
          LS-Project43-Annotators: Annotator
${opts.org1Extra ?? ''}
  - id: 2
    title: Globex
    owner: owner@globex.example
    sso:
      idp_entity_id: https://idp2.test/metadata
      idp_sso_url: https://idp2.test/sso
      idp_cert_file: ${cert2}
    roles:
      GX-Admins: Administrator
`;
}

export interface StartOptions {
  readonly yaml?: (dir: string, publicUrl: string) => string;
  readonly log?: Logger;
  /**
   * A second instance of `share`: the same configuration (so the same public_url and session secret, as
   * behind a load balancer) and the same database, listening on a port of its own. `url` is its own address.
   */
  readonly share?: TestApp;
  /**
   * Environment (over process.env) for loading the YAML, given the port the app will listen on. With it the
   * app's `url` is the configuration's public_url (the shipped file derives it from the port).
   */
  readonly env?: (port: number) => NodeJS.ProcessEnv;
  /** saml.workers for this app; default ROLEGATE_TEST_SAML_WORKERS, else what the file says (the loader's default). */
  readonly samlWorkers?: number;
}

/**
 * Worker threads for SAML validation in test apps: as configured, so that tests run the path production runs
 * (the loader's default is the worker pool); a test or ROLEGATE_TEST_SAML_WORKERS may pin a number.
 */
function testSamlWorkers(opts: StartOptions, configured: number): number {
  if (opts.samlWorkers !== undefined) return opts.samlWorkers;
  const env = process.env['ROLEGATE_TEST_SAML_WORKERS'];
  return env !== undefined && /^\d+$/.test(env) ? Number(env) : configured;
}

export async function startApp(opts: StartOptions = {}): Promise<TestApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-test-'));
  // public_url must be known before listening; reserve a port by listening once, then reuse it.
  const port = await freePort();
  const ownUrl = `http://127.0.0.1:${port}`;
  let config: Config;
  let env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test' };
  let pg: PgTestDatabase | undefined;
  let schema: string | undefined;
  if (opts.share !== undefined) {
    config = { ...opts.share.config, server: { ...opts.share.config.server, port } };
    schema = opts.share.pgSchema;
  } else {
    const yaml = (opts.yaml ?? ((d, u) => standardYaml({ dir: d, publicUrl: u })))(dir, ownUrl).replace('port: 0', `port: ${port}`);
    const file = path.join(dir, 'rolegate.yaml');
    fs.writeFileSync(file, yaml);
    env = { ...env, ...opts.env?.(port) };
    config = loadConfig(file, { env });
    // ROLEGATE_TEST_DATABASE=postgres: the same app on PostgreSQL, in a schema of its own (dropped on close).
    if (TEST_DATABASE === 'postgres') {
      pg = pgTestDatabase();
      schema = pg.schema;
      config = { ...config, database: pg.config };
    }
  }
  config = deepFreeze({ ...config, saml: { ...config.saml, workers: testSamlWorkers(opts, config.saml.workers) } });
  let running: RunningServer;
  try {
    running = await serve(config, opts.log ?? silentLogger, { reload: { env }, ...(schema === undefined ? {} : { database: { schema } }) });
  } catch (err) {
    await pg?.drop();
    throw err;
  }
  const url = opts.env === undefined ? ownUrl : config.server.publicUrl;
  return {
    config,
    db: running.db,
    url,
    dir,
    ...(schema === undefined ? {} : { pgSchema: schema }),
    browser: () => new Browser(url),
    async reconfigure(edit) {
      if (schema !== undefined) throw new Error('reconfigure: SQLite runs only (the file names SQLite, the app runs on PostgreSQL)');
      fs.writeFileSync(config.file, edit(fs.readFileSync(config.file, 'utf8')));
      return running.reload('SIGHUP');
    },
    async close() {
      await running.close();
      await pg?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A port nobody listens on right now (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
