/**
 * One HTTP POST of a signed event, with the limits every outbound call needs: a deadline for the whole
 * exchange, a cap on the bytes of the answer read, no redirects followed (a 3xx is a failed attempt, as
 * Standard Webhooks asks), and the target address checked where the socket connects (see target.ts).
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { TargetRefused, blockedReason, guardedLookup, literalRefusal } from './target.js';

/** Stable codes of a failed attempt, stored with it and shown on the Organization page. */
export type AttemptErrorCode =
  | 'ERR_WEBHOOK_TARGET_REFUSED'
  | 'ERR_WEBHOOK_TIMEOUT'
  | 'ERR_WEBHOOK_NETWORK'
  | 'ERR_WEBHOOK_STATUS'
  | 'ERR_WEBHOOK_GONE'
  | 'ERR_WEBHOOK_RESPONSE_TOO_LARGE';

export interface SendRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly allowPrivateTargets: boolean;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

export interface SendResult {
  readonly statusCode: number | null;
  readonly errorCode: AttemptErrorCode | null;
  readonly error: string | null;
  /** From a `Retry-After` header (seconds or an HTTP date), relative to when the answer came. */
  readonly retryAfterMs: number | null;
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30_000 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30_000 }),
};

/** `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT` (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function snippet(text: string): string {
  // One line, printable, short: it is stored and shown, never interpreted.
  return text.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 200);
}

export function sendWebhook(req: SendRequest, now: () => number = Date.now): Promise<SendResult> {
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (r: SendResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const fail = (errorCode: AttemptErrorCode, error: string, statusCode: number | null = null): void =>
      finish({ statusCode, errorCode, error, retryAfterMs: null });

    const url = new URL(req.url);
    const refusedLiteral = literalRefusal(url.hostname, req.allowPrivateTargets);
    // Assigned before any early return so that finish() can always clear it.
    const timer = setTimeout(() => {
      fail('ERR_WEBHOOK_TIMEOUT', `no complete answer within ${req.timeoutMs} ms`);
      request?.destroy();
    }, req.timeoutMs);
    let request: http.ClientRequest | undefined;
    if (refusedLiteral !== null) {
      fail('ERR_WEBHOOK_TARGET_REFUSED', `${refusedLiteral}; set allow_private_targets: true on the endpoint to allow it`);
      return;
    }
    const isHttps = url.protocol === 'https:';
    const options: https.RequestOptions = {
      method: 'POST',
      agent: isHttps ? agents.https : agents.http,
      headers: { ...req.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(req.body)), 'user-agent': 'rolegate-webhooks/1' },
      lookup: guardedLookup(req.allowPrivateTargets),
    };
    request = (isHttps ? https : http).request(url, options, (res) => {
      const statusCode = res.statusCode ?? 0;
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now());
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > req.maxResponseBytes) {
          tooLarge = true;
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      const done = (): void => {
        const text = snippet(Buffer.concat(chunks).toString('utf8'));
        const ok = statusCode >= 200 && statusCode < 300;
        if (tooLarge) {
          // The status line is already in: a 2xx was accepted by the receiver even if its answer is oversized.
          finish({ statusCode, errorCode: ok ? null : 'ERR_WEBHOOK_RESPONSE_TOO_LARGE', error: `answer larger than ${req.maxResponseBytes} bytes; not read`, retryAfterMs });
          request?.destroy();
          return;
        }
        if (ok) finish({ statusCode, errorCode: null, error: null, retryAfterMs });
        else
          finish({
            statusCode,
            errorCode: statusCode === 410 ? 'ERR_WEBHOOK_GONE' : 'ERR_WEBHOOK_STATUS',
            error: `HTTP ${statusCode}${text === '' ? '' : `: ${text}`}`,
            retryAfterMs,
          });
      };
      res.on('end', done);
      res.on('close', done);
      res.on('error', () => done());
    });
    // Belt and braces to the lookup guard: the address the socket is connected to (also for a reused socket).
    request.on('socket', (socket: net.Socket) => {
      const check = (): void => {
        const remote = socket.remoteAddress;
        const reason = remote === undefined || req.allowPrivateTargets ? null : blockedReason(remote);
        if (reason !== null) request?.destroy(new TargetRefused(reason));
      };
      if (socket.remoteAddress !== undefined && !socket.connecting) check();
      else socket.once('connect', check);
    });
    request.on('error', (err: Error & { code?: string }) => {
      if (err instanceof TargetRefused || err.code === 'ERR_WEBHOOK_TARGET_REFUSED') {
        fail('ERR_WEBHOOK_TARGET_REFUSED', `${err.message}; set allow_private_targets: true on the endpoint to allow it`);
      } else fail('ERR_WEBHOOK_NETWORK', `${err.code ?? 'error'}: ${snippet(err.message)}`);
    });
    request.end(req.body);
  });
}

/** Close idle keep-alive sockets (shutdown, tests). */
export function closeIdleSockets(): void {
  agents.http.destroy();
  agents.https.destroy();
}
