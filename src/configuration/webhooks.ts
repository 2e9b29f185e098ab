/**
 * `webhooks:` → WebhooksConfig. Same rules as the rest of the file: closed key sets, every problem reported
 * at its node with its path, defaults from defaults.ts. A secret is never echoed in a message.
 */
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../domain/webhook-events.js';
import { WEBHOOK_DEFAULTS, WEBHOOK_LIMITS } from './defaults.js';
import { type Field, type Fields, Reader } from './reader.js';
import type { WebhookEndpointConfig, WebhookRetryConfig, WebhooksConfig } from './types.js';

const WEBHOOKS_KEYS = ['endpoints', 'timeout_seconds', 'max_response_bytes', 'concurrency', 'poll_interval_ms', 'retry', 'retention_days'] as const;
const RETRY_KEYS = ['max_attempts', 'initial_delay_ms', 'max_delay_ms'] as const;
const ENDPOINT_KEYS = ['name', 'url', 'secret', 'events', 'organizations', 'allow_private_targets'] as const;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

export const NO_WEBHOOKS: WebhooksConfig = {
  endpoints: [],
  timeoutSeconds: WEBHOOK_DEFAULTS.timeoutSeconds,
  maxResponseBytes: WEBHOOK_DEFAULTS.maxResponseBytes,
  concurrency: WEBHOOK_DEFAULTS.concurrency,
  pollIntervalMs: WEBHOOK_DEFAULTS.pollIntervalMs,
  retry: WEBHOOK_DEFAULTS.retry,
  retentionDays: WEBHOOK_DEFAULTS.retentionDays,
};

function optional<T>(fields: Fields, name: string, dflt: T, read: (f: Field) => T | undefined): T | undefined {
  const field = fields.get(name);
  return field === undefined ? dflt : read(field);
}

/**
 * @param orgIds the configured organizations' ids (undefined when the organizations section had problems:
 * the cross-check is then skipped rather than reported twice).
 */
export function readWebhooks(r: Reader, field: Field | undefined, orgIds: readonly number[] | undefined): WebhooksConfig | undefined {
  if (field === undefined || r.isNull(field)) return NO_WEBHOOKS;
  const w = r.map(field, 'the webhook settings (endpoints, timeout_seconds, max_response_bytes, concurrency, poll_interval_ms, retry, retention_days)', WEBHOOKS_KEYS);
  if (w === undefined) return undefined;
  const L = WEBHOOK_LIMITS;
  const timeoutSeconds = optional(w, 'timeout_seconds', WEBHOOK_DEFAULTS.timeoutSeconds, (f) =>
    r.integer(f, L.timeoutSeconds.min, L.timeoutSeconds.max, `an integer number of seconds from ${L.timeoutSeconds.min} to ${L.timeoutSeconds.max}`),
  );
  const maxResponseBytes = optional(w, 'max_response_bytes', WEBHOOK_DEFAULTS.maxResponseBytes, (f) =>
    r.integer(f, L.maxResponseBytes.min, L.maxResponseBytes.max, `an integer number of bytes from ${L.maxResponseBytes.min} to ${L.maxResponseBytes.max}`),
  );
  const concurrency = optional(w, 'concurrency', WEBHOOK_DEFAULTS.concurrency, (f) =>
    r.integer(f, L.concurrency.min, L.concurrency.max, `an integer number of deliveries in flight from ${L.concurrency.min} to ${L.concurrency.max}`),
  );
  const pollIntervalMs = optional(w, 'poll_interval_ms', WEBHOOK_DEFAULTS.pollIntervalMs, (f) =>
    r.integer(f, L.pollIntervalMs.min, L.pollIntervalMs.max, `an integer number of milliseconds from ${L.pollIntervalMs.min} to ${L.pollIntervalMs.max}`),
  );
  const retentionDays = optional(w, 'retention_days', WEBHOOK_DEFAULTS.retentionDays, (f) =>
    r.integer(f, L.retentionDays.min, L.retentionDays.max, `an integer number of days from ${L.retentionDays.min} to ${L.retentionDays.max}`),
  );
  const retry = readRetry(r, w.get('retry'));
  const endpoints = readEndpoints(r, w.get('endpoints'), orgIds);
  if (
    timeoutSeconds === undefined ||
    maxResponseBytes === undefined ||
    concurrency === undefined ||
    pollIntervalMs === undefined ||
    retry === undefined ||
    retentionDays === undefined ||
    endpoints === undefined
  ) {
    return undefined;
  }
  return { endpoints, timeoutSeconds, maxResponseBytes, concurrency, pollIntervalMs, retry, retentionDays };
}

function readRetry(r: Reader, field: Field | undefined): WebhookRetryConfig | undefined {
  if (field === undefined || r.isNull(field)) return WEBHOOK_DEFAULTS.retry;
  const m = r.map(field, 'the retry settings (max_attempts, initial_delay_ms, max_delay_ms)', RETRY_KEYS);
  if (m === undefined) return undefined;
  const { maxAttempts: a, delayMs: d } = WEBHOOK_LIMITS;
  const delay = `an integer number of milliseconds from ${d.min} to ${d.max}`;
  const maxAttempts = optional(m, 'max_attempts', WEBHOOK_DEFAULTS.retry.maxAttempts, (f) => r.integer(f, a.min, a.max, `an integer number of attempts from ${a.min} to ${a.max}`));
  const initialDelayMs = optional(m, 'initial_delay_ms', WEBHOOK_DEFAULTS.retry.initialDelayMs, (f) => r.integer(f, d.min, d.max, delay));
  const maxDelayMs = optional(m, 'max_delay_ms', WEBHOOK_DEFAULTS.retry.maxDelayMs, (f) => r.integer(f, d.min, d.max, delay));
  if (maxAttempts === undefined || initialDelayMs === undefined || maxDelayMs === undefined) return undefined;
  if (maxDelayMs < initialDelayMs) {
    const f = m.get('max_delay_ms') ?? m.get('initial_delay_ms');
    if (f !== undefined) r.reportField('ERR_CONFIG_VALUE', f, `max_delay_ms (${maxDelayMs}) must not be below initial_delay_ms (${initialDelayMs})`);
    return undefined;
  }
  return { maxAttempts, initialDelayMs, maxDelayMs };
}

function readEndpoints(r: Reader, field: Field | undefined, orgIds: readonly number[] | undefined): WebhookEndpointConfig[] | undefined {
  if (field === undefined || r.isNull(field)) return [];
  const items = r.list(field, 'a list of endpoints');
  if (items === undefined) return undefined;
  const names = new Map<string, number>();
  const endpoints = items.map((item) => readEndpoint(r, item, orgIds, names));
  return endpoints.every((e): e is WebhookEndpointConfig => e !== undefined) ? endpoints : undefined;
}

function readEndpoint(r: Reader, item: Field, orgIds: readonly number[] | undefined, names: Map<string, number>): WebhookEndpointConfig | undefined {
  const e = r.map(item, 'an endpoint (name, url, secret, events)', ENDPOINT_KEYS);
  if (e === undefined) return undefined;

  const nameField = r.required(e, 'name', 'a unique name for this endpoint, e.g. hr-sync');
  let name = nameField && r.string(nameField, 'an endpoint name');
  if (nameField !== undefined && name !== undefined) {
    const line = r.position(r.anchor(nameField)).line;
    if (!NAME.test(name) || name.length > WEBHOOK_LIMITS.nameLength) {
      r.reportField('ERR_CONFIG_VALUE', nameField, `expected a name of letters, digits, ".", "_" and "-" (at most ${WEBHOOK_LIMITS.nameLength}), got ${JSON.stringify(name)}`);
      name = undefined;
    } else if (names.has(name)) {
      r.reportField('ERR_CONFIG_DUPLICATE', nameField, `duplicate endpoint name "${name}": the endpoint at line ${names.get(name) ?? 0} has it already`);
      name = undefined;
    } else names.set(name, line);
  }

  const urlField = r.required(e, 'url', 'the https URL events are POSTed to');
  const url = urlField && targetUrl(r, urlField);

  const secretField = r.required(e, 'secret', 'a Standard Webhooks secret, whsec_<base64>; write ${VARIABLE} to keep it out of the file');
  const secret = secretField && readSecret(r, secretField);

  const eventsField = r.required(e, 'events', `a list of events: ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  const events = eventsField && readEvents(r, eventsField);

  const orgField = e.get('organizations');
  const organizations = orgField === undefined || r.isNull(orgField) ? (orgIds ?? []) : readOrganizations(r, orgField, orgIds);

  const allowField = e.get('allow_private_targets');
  const allowPrivateTargets = allowField === undefined ? WEBHOOK_DEFAULTS.allowPrivateTargets : r.boolean(allowField);

  if (name === undefined || url === undefined || secret === undefined || events === undefined || organizations === undefined || allowPrivateTargets === undefined) {
    return undefined;
  }
  return { name, url, secret, events, organizations, allowPrivateTargets };
}

/** http or https, no credentials in the URL (they would be logged with it), no fragment. */
function targetUrl(r: Reader, field: Field): string | undefined {
  const value = r.string(field, 'an absolute http(s) URL');
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    r.reportField('ERR_CONFIG_VALUE', field, 'expected an absolute http(s) URL');
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    r.reportField('ERR_CONFIG_VALUE', field, `expected an http or https URL, got scheme "${url.protocol}"`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    r.reportField('ERR_CONFIG_INSECURE', field, 'expected a URL without user:password@ (authenticate the receiver by the signature)');
    return undefined;
  }
  if (value.includes('#')) {
    r.reportField('ERR_CONFIG_VALUE', field, 'expected a URL without a fragment (#…)');
    return undefined;
  }
  return url.href;
}

/** `whsec_` + base64 of 24–64 bytes. Messages say what is wrong, never what was written. */
function readSecret(r: Reader, field: Field): string | undefined {
  const expanded = r.string(field, 'a Standard Webhooks secret (whsec_<base64>)');
  if (expanded === undefined) return undefined;
  const m = SECRET.exec(expanded);
  const { min, max } = WEBHOOK_LIMITS.secretBytes;
  if (m?.[1] === undefined) {
    r.reportField('ERR_CONFIG_VALUE', field, `expected a Standard Webhooks secret: "whsec_" followed by the base64 of ${min} to ${max} random bytes (e.g. from: openssl rand -base64 32)`);
    return undefined;
  }
  const bytes = Buffer.from(m[1], 'base64').length;
  if (bytes < min || bytes > max) {
    r.reportField('ERR_CONFIG_INSECURE', field, `the secret decodes to ${bytes} bytes; Standard Webhooks secrets are ${min} to ${max} random bytes`);
    return undefined;
  }
  return expanded;
}

function readEvents(r: Reader, field: Field): WebhookEventType[] | undefined {
  const items = r.list(field, `a list of events (${WEBHOOK_EVENT_TYPES.join(', ')})`);
  if (items === undefined) return undefined;
  if (items.length === 0) {
    r.reportField('ERR_CONFIG_VALUE', field, 'expected at least one event; remove the endpoint to send nothing');
    return undefined;
  }
  const out: WebhookEventType[] = [];
  let ok = true;
  for (const item of items) {
    const type = r.choice(item, WEBHOOK_EVENT_TYPES);
    if (type === undefined) ok = false;
    else if (out.includes(type)) {
      r.reportField('ERR_CONFIG_DUPLICATE', item, `event "${type}" is listed twice`);
      ok = false;
    } else out.push(type);
  }
  return ok ? out : undefined;
}

function readOrganizations(r: Reader, field: Field, orgIds: readonly number[] | undefined): number[] | undefined {
  const items = r.list(field, 'a list of organization ids');
  if (items === undefined) return undefined;
  if (items.length === 0) {
    r.reportField('ERR_CONFIG_VALUE', field, 'expected at least one organization id; remove the key for all organizations');
    return undefined;
  }
  const out: number[] = [];
  let ok = true;
  for (const item of items) {
    const id = r.integer(item, 1, Number.MAX_SAFE_INTEGER, 'an organization id');
    if (id === undefined) ok = false;
    else if (orgIds !== undefined && !orgIds.includes(id)) {
      r.reportField('ERR_CONFIG_VALUE', item, `no organization has id ${id} (configured: ${orgIds.join(', ')})`);
      ok = false;
    } else if (!out.includes(id)) out.push(id);
  }
  return ok ? out : undefined;
}
