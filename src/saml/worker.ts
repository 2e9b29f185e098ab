/**
 * A SAML validation worker thread (piscina). It builds its own service providers from plain configuration
 * data (structured-cloned into the thread) and answers plain data: the VerifiedLogin, or an error code and
 * message that the main thread turns back into a RolegateError. Nothing here touches the database.
 */
import { workerData } from 'piscina';
import { RolegateError, isErrorCode } from '../errors.js';
import { createServiceProvider } from './provider.js';
import type { ProviderInputs, WorkerReply, WorkerTask } from './pool-protocol.js';
import type { SamlServiceProvider } from './types.js';

const inputs = (workerData as { providers: readonly ProviderInputs[] }).providers;
const providers = new Map<number, SamlServiceProvider>();
for (const { org, saml, idp } of inputs) providers.set(org.id, createServiceProvider(org, saml, idp));

export default async function verify(task: WorkerTask): Promise<WorkerReply> {
  const started = performance.now();
  const sp = providers.get(task.organizationId);
  if (sp === undefined) return { ok: false, code: 'ERR_NOT_FOUND', message: 'no such organization', ms: 0 };
  try {
    const login = await sp.verifyPostResponse(task.form);
    return { ok: true, login, ms: performance.now() - started };
  } catch (err) {
    const ms = performance.now() - started;
    if (err instanceof RolegateError && isErrorCode(err.code)) return { ok: false, code: err.code, message: err.message, ms };
    // Not a verdict on the Response: an internal failure. The detail stays server-side (logged by the caller).
    return { ok: false, code: 'ERR_INTERNAL', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err), ms };
  }
}
