/**
 * A local webhook receiver for the tests: a real HTTP server on 127.0.0.1 that verifies every request with the
 * `standardwebhooks` package (the independent verifier: rolegate's own signing code is never used here) and
 * answers as the test scripts it.
 */
import http from 'node:http';
import { Webhook } from 'standardwebhooks';
import { freePort } from '../support/app.js';

export interface Received {
  readonly id: string;
  readonly timestamp: string;
  readonly body: string;
  /** The payload as standardwebhooks returned it after verifying; undefined when verification failed. */
  readonly payload: { type: string; timestamp: string; data: Record<string, unknown> } | undefined;
  readonly verifyError: string | undefined;
}

export interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Never answer (the relay's timeout is what ends the request). */
  readonly hang?: boolean;
  /** Answer after this many milliseconds (a receiver that does its work before acknowledging). */
  readonly delayMs?: number;
}

export class Receiver {
  readonly received: Received[] = [];
  answer: (req: Received, n: number) => Answer = () => ({ status: 204 });
  private server: http.Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();
  private constructor(
    readonly secret: string,
    readonly port: number,
  ) {}

  static async start(secret: string, port?: number): Promise<Receiver> {
    const r = new Receiver(secret, port ?? (await freePort()));
    await r.up();
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Ids received, deduplicated, as a receiver following Standard Webhooks would keep them. */
  uniqueIds(): string[] {
    return [...new Set(this.received.map((r) => r.id))];
  }

  async up(): Promise<void> {
    const verifier = new Webhook(this.secret);
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(req.headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
        };
        let payload: Received['payload'];
        let verifyError: string | undefined;
        try {
          payload = verifier.verify(body, headers) as Received['payload'];
        } catch (err) {
          verifyError = (err as Error).message;
        }
        const rec: Received = { id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], body, payload, verifyError };
        this.received.push(rec);
        const a = this.answer(rec, this.received.length);
        if (a.hang === true) return;
        const respond = (): void => {
          res.writeHead(a.status, a.headers ?? {});
          res.end(a.body ?? '');
        };
        if (a.delayMs === undefined) respond();
        else setTimeout(respond, a.delayMs);
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  /** Stop listening and cut every connection: the receiver is down. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A fresh Standard Webhooks secret. */
export function newSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`;
}
