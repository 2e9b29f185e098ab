/**
 * Starts the real app on 127.0.0.1 (random port) with a real SQLite file in a temporary folder, from a
 * YAML configuration written by the test. Nothing is stubbed: config loader, migrations, SAML, sessions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/configuration/index.js';
import type { Config } from '../../src/configuration/types.js';
import type { Db } from '../../src/db/connect.js';
import { serve } from '../../src/main.js';
import type { RunningServer } from '../../src/main.js';
import { silentLogger } from '../../src/log.js';
import type { Logger } from '../../src/log.js';
import { Browser } from './http.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const IDP_ENTITY_ID = 'https://idp.test/metadata';
export const IDP_SSO_URL = 'https://idp.test/sso';

export interface TestApp {
  readonly config: Config;
  readonly db: Db;
  readonly url: string;
  readonly dir: string;
  browser(): Browser;
  close(): Promise<void>;
}

/** A two-organization configuration: org 1 and 2 trust the test IdP keys in fixtures/keys (different entity ids). */
export function standardYaml(opts: { publicUrl: string; dir: string; org1Extra?: string; sso1Extra?: string; org1Roles?: string }): string {
  const cert = path.join(ROOT, 'fixtures/keys/idp.crt');
  const cert2 = path.join(ROOT, 'fixtures/keys/idp-rollover.crt');
  return `
server:
  public_url: ${opts.publicUrl}
  port: 0
  session_secret: test-secret-0123456789abcdef
  data_dir: ${opts.dir}/data
database:
  url: sqlite:${opts.dir}/rolegate.db
saml:
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

export async function startApp(opts: { yaml?: (dir: string, publicUrl: string) => string; log?: Logger } = {}): Promise<TestApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-test-'));
  // public_url must be known before listening; reserve a port by listening once, then reuse it.
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const yaml = (opts.yaml ?? ((d, u) => standardYaml({ dir: d, publicUrl: u })))(dir, publicUrl).replace('port: 0', `port: ${port}`);
  const file = path.join(dir, 'rolegate.yaml');
  fs.writeFileSync(file, yaml);
  const config = loadConfig(file, { env: { ...process.env, NODE_ENV: 'test' } });
  const running: RunningServer = await serve(config, opts.log ?? silentLogger);
  return {
    config,
    db: running.db,
    url: publicUrl,
    dir,
    browser: () => new Browser(publicUrl),
    async close() {
      await running.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
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
