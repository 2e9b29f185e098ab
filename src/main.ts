/** Process entry for `rolegate serve`: load config, open and migrate the database, listen, handle signals. */
import http from 'node:http';
import type { Config } from './configuration/types.js';
import { buildMemberWriter, closeApp, createApp, requestListener } from './app.js';
import { openDatabase } from './db/connect.js';
import { purgeExpired } from './db/saml-state.js';
import { checkModeOfUrl } from './http/forwardauth.js';
import { type ProxySocket, listenProxySocket } from './http/proxy-socket.js';
import type { Logger } from './log.js';
import type { Db, OpenOptions } from './db/connect.js';
import { Reloader, recordStartRevision } from './reload/reloader.js';
import { ConfigState, type ReloadStatus } from './reload/state.js';
import { Relay } from './webhooks/relay.js';

export interface ServeOptions {
  /** Passed to openDatabase (tests: a PostgreSQL schema of their own). */
  readonly database?: OpenOptions;
  /** Reload on file change (fs.watch) and/or SIGHUP. Both off unless asked (the CLI asks). */
  readonly reload?: { readonly watch?: boolean; readonly signals?: boolean; readonly env?: NodeJS.ProcessEnv; readonly debounceMs?: number };
}

export interface RunningServer {
  readonly server: http.Server;
  readonly db: Db;
  readonly url: string;
  /** The live configuration (swapped by reloads). */
  readonly state: ConfigState;
  /** Validate → plan → guard → apply the configuration file now (what SIGHUP does). */
  reload(trigger?: string): Promise<ReloadStatus>;
  close(): Promise<void>;
}

/** Header and request limits (Node's defaults are generous): the biggest legitimate request is an ACS POST. */
function limitServer(server: http.Server): void {
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.maxHeadersCount = 100;
  // Idle keep-alive connections close after 5 s (Node's default, pinned here): the shipped nginx snippet keeps
  // its connections to rolegate for 4 s, so that the proxy, never rolegate, ends an idle one.
  server.keepAliveTimeout = 5_000;
}

export async function serve(config: Config, log: Logger, options: ServeOptions = {}): Promise<RunningServer> {
  const db = await openDatabase(config.database, options.database);
  const state = new ConfigState(config);
  const writer = buildMemberWriter({ config, log, current: () => state.current() });
  const app = await createApp({ config, db, log, state, writer });
  await recordStartRevision(db, config);
  const reloader = new Reloader({ db, state, log, writer, ...(options.reload?.env === undefined ? {} : { env: options.reload.env }), ...(options.reload?.debounceMs === undefined ? {} : { debounceMs: options.reload.debounceMs }) });
  if (options.reload?.watch === true) reloader.watch();
  if (options.reload?.signals === true) reloader.handleSignals();
  const listener = requestListener(app);
  const server = http.createServer(listener);
  limitServer(server);
  let proxySocket: ProxySocket | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.server.port, config.server.host, () => resolve());
    });
    const socket = config.forwardAuth?.socket ?? null;
    if (socket !== null) {
      proxySocket = await listenProxySocket({ path: socket.path, mode: socket.mode, listener, isCheck: (url) => checkModeOfUrl(url) !== undefined, limits: limitServer });
    }
  } catch (err) {
    // Port or socket in use, or not allowed: release what was opened so the process can exit with the error.
    if (server.listening) await new Promise((resolve) => server.close(resolve));
    await reloader.stop();
    await closeApp(app);
    await db.destroy();
    throw err;
  }
  // Signed change events: delivers the outbox to the configured endpoints (idle when there are none).
  const relay = new Relay({ db, config: () => state.current(), log });
  relay.start();
  const housekeeping = setInterval(() => {
    purgeExpired(db, new Date()).catch((err: unknown) => log('error', 'housekeeping failed', { cause: String(err) }));
  }, 10 * 60 * 1000);
  housekeeping.unref();
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.server.port;
  const url = `http://${config.server.host}:${port}`;
  log('info', 'listening', {
    url,
    ...(proxySocket === undefined ? {} : { proxy_socket: proxySocket.path }),
    public_url: config.server.publicUrl,
    database: config.database.client,
    config: config.file,
    config_revision: config.revision,
  });
  let closing: Promise<void> | undefined;
  return {
    server,
    db,
    url,
    state,
    reload: (trigger = 'api') => reloader.reload(trigger),
    close() {
      closing ??= (async () => {
        clearInterval(housekeeping);
        await reloader.stop();
        await relay.stop();
        await proxySocket?.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await closeApp(app);
        await db.destroy();
      })();
      return closing;
    },
  };
}
