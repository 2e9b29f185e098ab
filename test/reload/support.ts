/** A running service on a configuration written from parts (test/plan/support.ts), with its reloader. */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/configuration/index.js';
import { jsonLogger } from '../../src/log.js';
import { serve, type RunningServer, type ServeOptions } from '../../src/main.js';
import type { TestApp } from '../support/app.js';
import { Browser } from '../support/http.js';
import { samlResponse, type Who } from '../support/idp.js';
import { postAcs } from '../support/flow.js';
import type { TestResponse } from '../support/http.js';
import { tempDir, yaml, type YamlParts } from '../plan/support.js';
import { freePort } from '../support/app.js';

export interface ReloadApp extends TestApp {
  readonly running: RunningServer;
  readonly file: string;
  readonly logs: Record<string, unknown>[];
  /** Rewrite the configuration file (same dir, same URL). */
  write(parts: YamlParts): void;
  /** IdP-initiated sign-in (allowed in this organization): one really signed Response to the ACS. */
  signInDirect(browser: Browser, who: Who): Promise<TestResponse>;
  health(): Promise<{ config_revision: string; config: { revision: string; last_reload: { ok: boolean; errors: string[]; message: string } | null } }>;
}


/** server.metrics_token of these apps: it opens /metrics and /healthz/details. */
export const OPERATOR_TOKEN = 'reload-test-operator-token';

export async function startReloadApp(parts: YamlParts = {}, reload: ServeOptions['reload'] = {}): Promise<ReloadApp> {
  const dir = tempDir();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const file = path.join(dir, 'rolegate.yaml');
  const text = (p: YamlParts): string => yaml(dir, { ...p, publicUrl: url }).replace('server:\n', `server:\n  port: ${port}\n  metrics_token: ${OPERATOR_TOKEN}\n`);
  fs.writeFileSync(file, text(parts));
  const env = { ...process.env, NODE_ENV: 'test' };
  const config = loadConfig(file, { env });
  const logs: Record<string, unknown>[] = [];
  const running = await serve(config, jsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>)), { reload: { env, ...reload } });
  const app: ReloadApp = {
    config,
    db: running.db,
    url,
    dir,
    running,
    file,
    logs,
    browser: () => new Browser(url),
    close: () => running.close(),
    write: (p) => fs.writeFileSync(file, text(p)),
    reconfigure: (edit) => {
      fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));
      return running.reload('SIGHUP');
    },
    signInDirect: (browser, who) => postAcs(browser, 1, samlResponse(app, who, { inResponseTo: null })),
    // The details (last reload, its messages) are for the operator: behind the metrics token.
    health: async () => (await new Browser(url).get('/healthz/details', { accept: 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` })).json(),
  };
  return app;
}
