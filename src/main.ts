/** Process entry for `rolegate serve`: load config, open and migrate the database, listen, handle signals. */
import http from 'node:http';
import type { Config } from './configuration/types.js';
import { createApp } from './app.js';
import { openDatabase } from './db/connect.js';
import { purgeExpired } from './db/saml-state.js';
import type { Logger } from './log.js';
import type { Db } from './db/connect.js';

export interface RunningServer {
  readonly server: http.Server;
  readonly db: Db;
  readonly url: string;
  close(): Promise<void>;
}

export async function serve(config: Config, log: Logger): Promise<RunningServer> {
  const db = await openDatabase(config.database);
  const app = await createApp({ config, db, log });
  const server = http.createServer(app.callback());
  // Header and request limits (Node's defaults are generous): the biggest legitimate request is an ACS POST.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.maxHeadersCount = 100;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => resolve());
  });
  const housekeeping = setInterval(() => {
    purgeExpired(db, new Date()).catch((err: unknown) => log('error', 'housekeeping failed', { cause: String(err) }));
  }, 10 * 60 * 1000);
  housekeeping.unref();
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.server.port;
  const url = `http://${config.server.host}:${port}`;
  log('info', 'listening', { url, public_url: config.server.publicUrl, database: config.database.client, config: config.file, config_revision: config.revision });
  let closing: Promise<void> | undefined;
  return {
    server,
    db,
    url,
    close() {
      closing ??= (async () => {
        clearInterval(housekeeping);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await db.destroy();
      })();
      return closing;
    },
  };
}
