/**
 * `forward_auth.socket`: a Unix domain socket for the reverse proxy's checks, beside the TCP port.
 *
 * A proxy on the same host can ask over a socket file instead of TCP: the kernel's loopback TCP stack is
 * skipped on both sides (measured in `npm run bench:forward-auth`), and who may ask is decided by the file's
 * permissions (`socket_mode`, owner and group) instead of an address that any local process can connect from.
 * A connection accepted on this socket is a trusted proxy; nothing but the check routes is served on it.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Connections accepted on the proxy socket (their peer has no address: the file's permissions admitted it). */
const viaProxySocket = new WeakSet<Socket>();

/** Whether this connection came in through `forward_auth.socket`. */
export function isProxySocket(socket: Socket): boolean {
  return viaProxySocket.has(socket);
}

/** Why the proxy socket cannot be opened; the message names the path and what to do (the CLI prints it). */
export class ProxySocketError extends Error {
  override readonly name = 'ProxySocketError';
}

function reason(err: unknown, path: string): string {
  const e = err as NodeJS.ErrnoException;
  // Node reports a bind in a missing folder as EACCES: look.
  if (!fs.existsSync(dirname(path))) return `its folder ${dirname(path)} does not exist`;
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return `rolegate may not create a file in its folder (${e.code})`;
    case 'EADDRINUSE':
      return 'something is already there';
    default:
      return e.code ?? (err instanceof Error ? err.message : String(err));
  }
}

export interface ProxySocket {
  readonly path: string;
  close(): Promise<void>;
}

/** Whether something answers on the socket file at `path` (then it is not ours to remove). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * A file left at `path` by a rolegate that did not stop cleanly is removed; anything else there (a regular file,
 * a directory, a socket something still answers on) stops the start with a message naming the path.
 */
async function clearStaleSocket(path: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ProxySocketError(`cannot look at forward_auth.socket ${path}: ${reason(err, path)}`);
  }
  if (!stat.isSocket()) throw new ProxySocketError(`forward_auth.socket ${path} exists and is not a socket; rolegate does not remove it`);
  if (await answers(path)) throw new ProxySocketError(`forward_auth.socket ${path} is in use by another process`);
  try {
    fs.unlinkSync(path);
  } catch (err) {
    throw new ProxySocketError(`forward_auth.socket ${path} is left from an earlier run and cannot be removed (${reason(err, path)})`);
  }
}

/**
 * Listen on `path` with `listener` (the app's, main.ts) for the check routes (`isCheck` of the request's raw
 * URL); every other request is answered 404 here. The file is created with `mode`.
 */
export async function listenProxySocket(opts: {
  readonly path: string;
  readonly mode: number;
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  readonly isCheck: (url: string | undefined) => boolean;
  /** Timeouts and header limits, as on the TCP server. */
  readonly limits: (server: http.Server) => void;
}): Promise<ProxySocket> {
  const { path, mode, listener, isCheck, limits } = opts;
  await clearStaleSocket(path);
  const server = http.createServer((req, res) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && isCheck(req.url)) {
      listener(req, res);
      return;
    }
    const body = JSON.stringify({ code: 'ERR_NOT_FOUND', detail: 'only /auth/nginx and /auth/forward are served on forward_auth.socket' });
    res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(body);
  });
  limits(server);
  server.on('connection', (socket: Socket) => viaProxySocket.add(socket));
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => resolve());
  });
  // bind() creates the file with 0777 & ~umask: with the umask set to the complement of `mode` it is born with
  // exactly `mode`, so there is no chmod by path afterwards (which a swapped path could redirect) and no moment
  // with wider permissions. listen() binds a path synchronously, so the umask is the process's own again before
  // anything else runs (a folder created meanwhile with 0777 & ~0117 would not be enterable).
  const umask = process.umask(0o777 & ~mode);
  try {
    server.listen(path);
  } finally {
    process.umask(umask);
  }
  try {
    await listening;
  } catch (err) {
    throw new ProxySocketError(`cannot listen on forward_auth.socket ${path}: ${reason(err, path)}`);
  }
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
