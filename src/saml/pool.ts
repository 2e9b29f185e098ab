/**
 * SAML validation off the event loop. node-saml's validation is 20–200 ms of synchronous XML work
 * per Response; run inline it stalls every other request. With `saml.workers: N > 0` it runs in a piscina
 * pool of N threads; `saml.workers: 0` keeps it inline (tests, tiny installs).
 *
 * Backpressure: at most `workers + saml.queue_limit` Responses are admitted at once (being validated or
 * waiting); beyond that the ACS answers 503 ERR_UNAVAILABLE with Retry-After, so latency stays bounded
 * instead of growing with the storm. Only plain data crosses the thread boundary (pool-protocol.ts); a
 * worker's error code is turned back into a RolegateError here.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { RolegateError } from '../errors.js';
import { rejectedBusyTotal, validationSeconds } from '../metrics/index.js';
import type { ProviderInputs, WorkerReply, WorkerTask } from './pool-protocol.js';
import type { SamlServiceProvider, VerifiedLogin } from './types.js';

export type { ProviderInputs } from './pool-protocol.js';

/** 503 with koa's `headers` contract: the error middleware copies them onto the response. */
export class BusyError extends RolegateError {
  readonly headers: Readonly<Record<string, string>>;
  constructor(retryAfterSeconds: number) {
    super('ERR_UNAVAILABLE', 'too many sign-ins at once; please retry in a few seconds');
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}

export interface SamlVerifier {
  readonly mode: 'inline' | 'worker';
  /** Validation threads (0 inline). */
  readonly workers: number;
  readonly queueLimit: number;
  /** Validate a posted form for an organization; RolegateError (ERR_SAML_*, ERR_UNAVAILABLE) on failure. */
  verify(organizationId: number, form: Readonly<Record<string, unknown>>): Promise<VerifiedLogin>;
  /** Responses waiting for a worker. */
  queued(): number;
  /** Responses admitted and not finished (being validated or waiting). */
  inFlight(): number;
  close(): Promise<void>;
}

export interface VerifierOptions {
  readonly workers: number;
  readonly queueLimit: number;
}

/**
 * The worker's module. From the build (`dist/saml/pool.js`) it is the sibling `worker.js`. From TypeScript
 * sources (vitest) a thread cannot load `.ts`, so the build of the same sources is used: `npm test` runs
 * `npm run build` first.
 */
export function workerFileUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new URL('./worker.js', here);
  const built = new URL('../../dist/saml/worker.js', here);
  if (!fs.existsSync(fileURLToPath(built))) {
    throw new Error(`SAML worker threads load the compiled worker; run "npm run build" first (missing ${fileURLToPath(built)})`);
  }
  return built;
}

export function createSamlVerifier(
  inputs: readonly ProviderInputs[],
  inline: ReadonlyMap<number, SamlServiceProvider>,
  options: VerifierOptions,
): SamlVerifier {
  const workers = Math.max(0, Math.floor(options.workers));
  const queueLimit = Math.max(0, Math.floor(options.queueLimit));
  const slots = Math.max(1, workers);
  const capacity = slots + queueLimit;
  let inFlight = 0;
  /** Moving average of one validation (ms), for Retry-After. */
  let averageMs = 50;

  const pool =
    workers === 0
      ? undefined
      : new Piscina<WorkerTask, WorkerReply>({
          filename: workerFileUrl().href,
          minThreads: workers,
          maxThreads: workers,
          // Threads stay: starting one costs more than a login.
          idleTimeout: 2_147_483_647,
          concurrentTasksPerWorker: 1,
          // piscina's own run/wait-time histograms (two clock reads and a record per task on each side): nothing
          // reads them; rolegate times each validation itself (the reply's `ms`, validationSeconds).
          recordTiming: false,
          workerData: { providers: inputs },
        });

  const observe = (mode: 'inline' | 'worker', ms: number): void => {
    averageMs = averageMs * 0.8 + ms * 0.2;
    validationSeconds.observe({ mode }, ms / 1000);
  };

  async function run(organizationId: number, form: Readonly<Record<string, unknown>>): Promise<VerifiedLogin> {
    if (pool === undefined) {
      const sp = inline.get(organizationId);
      if (sp === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no such organization');
      const started = performance.now();
      try {
        return await sp.verifyPostResponse(form);
      } finally {
        observe('inline', performance.now() - started);
      }
    }
    // The form is the body parser's object: copy it to a plain record of its own (structured clone).
    const reply = await pool.run({ organizationId, form: { ...form } });
    observe('worker', reply.ms);
    if (reply.ok) return reply.login;
    throw new RolegateError(reply.code, reply.message);
  }

  return {
    mode: pool === undefined ? 'inline' : 'worker',
    workers,
    queueLimit,
    async verify(organizationId, form) {
      if (inFlight >= capacity) {
        rejectedBusyTotal.inc();
        const waiting = Math.max(0, inFlight - slots) + 1;
        throw new BusyError(Math.min(30, Math.max(1, Math.ceil((waiting * averageMs) / 1000 / slots))));
      }
      inFlight += 1;
      try {
        return await run(organizationId, form);
      } finally {
        inFlight -= 1;
      }
    },
    queued: () => (pool === undefined ? Math.max(0, inFlight - 1) : pool.queueSize),
    inFlight: () => inFlight,
    async close() {
      await pool?.destroy();
    },
  };
}

/** The same provider, with Response validation going through the verifier (pool or inline, with admission). */
export function withVerifier(sp: SamlServiceProvider, verifier: SamlVerifier): SamlServiceProvider {
  return {
    organizationId: sp.organizationId,
    verifyPostResponse: (form) => verifier.verify(sp.organizationId, form),
    authnRequestRedirect: (relayState) => sp.authnRequestRedirect(relayState),
    metadataXml: () => sp.metadataXml(),
    // Logout messages are small and signature-checked inline (bounded before anything is inflated).
    singleLogout: sp.singleLogout,
    logoutRequestRedirect: (who, relayState) => sp.logoutRequestRedirect(who, relayState),
    validateLogoutRedirect: (rawQuery) => sp.validateLogoutRedirect(rawQuery),
    logoutResponseRedirect: (request, relayState, success) => sp.logoutResponseRedirect(request, relayState, success),
  };
}
