/**
 * What crosses the thread boundary between the main thread and a SAML validation worker: plain,
 * structured-cloneable data only (no class instances, no functions). Configuration objects arrive in the
 * worker as unfrozen copies; the worker never changes them.
 */
import type { OrganizationConfig, SamlSettings } from '../configuration/types.js';
import type { ErrorCode } from '../errors.js';
import type { IdpTrust } from './node-saml-options.js';
import type { VerifiedLogin } from './types.js';

/** Everything createServiceProvider needs for one organization (sent once, as piscina workerData). */
export interface ProviderInputs {
  readonly org: OrganizationConfig;
  readonly saml: SamlSettings;
  readonly idp: IdpTrust;
}

/** One Response to validate: the posted form, as the body parser produced it, and the organization. */
export interface WorkerTask {
  readonly organizationId: number;
  readonly form: Readonly<Record<string, unknown>>;
}

/** The verdict. `ms` is the validation time inside the worker (the queue wait excluded). */
export type WorkerReply =
  | { readonly ok: true; readonly login: VerifiedLogin; readonly ms: number }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly ms: number };
