/**
 * Every default of the configuration file, in one place, with the reason for it. `load.ts` applies them;
 * the key table of docs/configuration.md is written from this file.
 */
import os from 'node:os';
import type { AttributeNames, DevPersona, GuardsConfig, RoleManagement, SamlSettings, ScimConfig } from './types.js';

export const SERVER_DEFAULTS = {
  /** Loopback only: exposing the service is a decision (set `host: 0.0.0.0` behind a proxy). */
  host: '127.0.0.1',
  port: 8080,
  /** koa's `proxy: false`: X-Forwarded-* is not trusted unless a proxy is declared. */
  trustProxy: false,
  /** Generated state (the development IdP's key pair); relative to the working directory. */
  dataDir: './data',
  /** 8 hours: a working day. */
  sessionMaxAgeSeconds: 28800,
  /**
   * Strict-Transport-Security max-age when public_url is https: one year, the figure browsers' preload lists
   * ask for. Sent only on https (a browser ignores it over http, and an http public_url has no TLS to pin).
   */
  hstsMaxAgeSeconds: 31536000,
} as const;

export const SERVER_LIMITS = {
  port: { min: 1, max: 65535 },
  /** Shorter secrets are guessable enough to forge session cookies. */
  sessionSecretMinLength: 16,
  /** One minute to one week. */
  sessionMaxAgeSeconds: { min: 60, max: 604800 },
  /** `server.metrics_token` (no default: GET /metrics is off until one is set). Short tokens are guessable. */
  metricsTokenMinLength: 16,
  /** 0 sends `max-age=0` (browsers drop a policy they remember); at most two years. */
  hstsMaxAgeSeconds: { min: 0, max: 63072000 },
} as const;

/**
 * `server.rate_limits`: requests per minute on `/saml/*`, as token buckets (bursts up to the
 * per-minute figure). Per client address 300: a login costs two requests, so an office of 150 people behind
 * one NAT can all sign in within a minute, while one source cannot keep a CPU busy with Responses that each
 * cost 20–200 ms to validate. Per organization 3000: a flood against one organization leaves capacity for
 * the others. In memory, per instance.
 */
export const RATE_LIMIT_DEFAULTS = {
  perIpPerMinute: 300,
  perOrganizationPerMinute: 3000,
} as const;

export const RATE_LIMIT_LIMITS = { min: 1, max: 1_000_000 } as const;

/** SQLite file under ./data, so `npm start` works on a fresh clone without a database server. */
export const DATABASE_DEFAULT_URL = 'sqlite:./data/rolegate.db';

export const SAML_DEFAULTS = {
  /** One minute of tolerated clock difference with the IdP (NotBefore / NotOnOrAfter). */
  clockSkewSeconds: 60,
  /** 256 KiB of POST body at the ACS: generous for an assertion with many groups, small enough to parse safely. */
  maxResponseBytes: 262144,
  /** Ten minutes for a person to complete sign-in at the IdP. */
  requestTtlSeconds: 600,
  /**
   * Responses waiting for a validation worker before the ACS answers 503 + Retry-After. 64 at ~20–125 ms per
   * validation and two workers is a wait of at most ~1–4 s: longer than that, the person is better told to retry.
   */
  queueLimit: 64,
} as const;

/**
 * `saml.workers` default: one validation thread per CPU the process may use (os.availableParallelism), as
 * SAML validation is CPU-bound XML work that would otherwise block the event loop for 20–200 ms per login.
 */
export function samlDefaultWorkers(): number {
  return Math.min(os.availableParallelism(), SAML_LIMITS.workers.max);
}

export const SAML_LIMITS = {
  /** Bounded and never "off": the assertion time window is always checked. */
  clockSkewSeconds: { min: 0, max: 300 },
  maxResponseBytes: { min: 1024, max: 1048576 },
  requestTtlSeconds: { min: 30, max: 3600 },
  /** 0 = validate inline on the main thread (small installs, tests). */
  workers: { min: 0, max: 64 },
  queueLimit: { min: 0, max: 100000 },
} as const;

/**
 * Guards on reloads and `rolegate apply`. A mapping change that would demote or deactivate more
 * than 20 % of an organization's active members, or more than 50 of them, is far more often a mistake
 * (a renamed group, a typo) than an intent: it is refused unless `apply --force`. No group-age limit by
 * default: without SCIM, groups are only as fresh as the last login.
 */
export const GUARDS_DEFAULTS = {
  maxDemotionPercent: 20,
  maxDemotions: 50,
  maxGroupAgeDays: null,
} as const;

export const GUARDS_LIMITS = {
  maxDemotionPercent: { min: 0, max: 100 },
  maxDemotions: { min: 0, max: 1_000_000_000 },
  /** A day to a hundred years. */
  maxGroupAgeDays: { min: 1, max: 36500 },
} as const;

/** Label Studio's attribute names, so an IdP configured for Label Studio works unchanged. */
export const ATTRIBUTE_DEFAULTS: AttributeNames = {
  email: 'Email',
  firstName: 'FirstName',
  lastName: 'LastName',
  groups: 'Groups',
};

/**
 * Organization-level defaults. `role_management: idp`: where the mapping grants a role, the IdP
 * owns it, so an admin's change that the next login would silently undo is refused instead.
 */
export const ORG_DEFAULTS = {
  roleManagement: 'idp',
  /** No seat count: the Organization page shows the active members without a limit. */
  seats: null,
} as const;

export const ROLE_MANAGEMENTS = ['idp', 'manual'] as const;

/**
 * `organizations[].scim`: SCIM 2.0 provisioning is off by default. Turning it on opens
 * `{public_url}/scim/v2` to bearers of that organization's SCIM tokens (`rolegate token create --scim`).
 */
export const SCIM_DEFAULTS = {
  enabled: false,
} as const;

export const SSO_DEFAULTS = {
  /** Unsolicited responses have no InResponseTo to bind them to a browser: refused unless opted in. */
  allowIdpInitiated: false,
  /** AuthnRequests unsigned unless asked (most IdPs do not require signed requests). */
  signAuthnRequests: false,
  /** Exact string comparison, as IdPs send group names verbatim. */
  groupMatch: 'exact',
  developmentIdp: false,
} as const;

/**
 * The personas the development IdP offers when `sso.personas` is not given. They exercise every mapping
 * rule with the group names of the example configuration (`LS-Admins`, `LS-Project42-Reviewers`, …), on
 * the owner's email domain so that they read as one organization.
 */
export function defaultPersonas(org: { readonly owner: string }): DevPersona[] {
  const owner = org.owner.toLowerCase();
  const at = owner.lastIndexOf('@');
  const domain = at >= 0 ? owner.slice(at + 1) : 'example.org';
  const persona = (local: string, firstName: string, lastName: string, groups: readonly string[] | null): DevPersona => ({
    email: `${local}@${domain}`,
    firstName,
    lastName,
    groups,
  });
  return [
    // The configured Owner: Owner whatever the groups say, so no group is needed.
    { email: owner, firstName: 'Olivia', lastName: 'Owner', groups: [] },
    // Administrator through LS-Admins; LS-AllProjects gives project 42 through Inherit (Administrator there).
    persona('admin', 'Ada', 'Admin', ['LS-Admins', 'LS-AllProjects']),
    // Manager through LS-Managers; no project group, so no project membership.
    persona('manager', 'Max', 'Manager', ['LS-Managers']),
    // Reviewer in the organization and, through its own group, in project 42.
    persona('reviewer', 'Rita', 'Reviewer', ['LS-Reviewers', 'LS-Project42-Reviewers']),
    // Annotator in the organization and in project 42.
    persona('annotator', 'Andy', 'Annotator', ['LS-Annotators', 'LS-Project42-Annotators']),
    // A group no rule maps: created as Not Activated (pending).
    persona('pending', 'Pat', 'Pending', ['Staff']),
    // An empty groups attribute: after a login with a mapped role (e.g. via a custom user), this demotes to Deactivated.
    persona('former', 'Fred', 'Former', []),
    // No groups attribute at all (Entra past its group limit): groups unknown, nothing is demoted.
    persona('entra-overage', 'Erin', 'Overage', null),
  ];
}

/**
 * SAML settings with every default resolved: what the loader produces for a file that sets only
 * `overrides`. For code that builds settings without a file (the benchmarks, unit tests of saml/).
 */
export function resolvedSamlSettings(overrides: Partial<SamlSettings> = {}): SamlSettings {
  return { ...SAML_DEFAULTS, workers: samlDefaultWorkers(), ...overrides };
}

/** The organization fields a file may leave out, resolved as the loader does (guards inherited from the top level). */
export function resolvedOrganizationDefaults(topLevelGuards: GuardsConfig = GUARDS_DEFAULTS): { guards: GuardsConfig; roleManagement: RoleManagement; seats: number | null; scim: ScimConfig } {
  return { guards: topLevelGuards, roleManagement: ORG_DEFAULTS.roleManagement, seats: ORG_DEFAULTS.seats, scim: { enabled: SCIM_DEFAULTS.enabled } };
}

/**
 * `webhooks:` (signed change events). Timeout 15 s: the low end of what Standard Webhooks senders use, long
 * enough for a receiver that does its work before answering. 64 KiB of answer is more than any
 * acknowledgement needs; it is read only for the attempt record. Eight deliveries in flight per instance
 * keep a slow endpoint from holding up the others without opening many sockets. Ten attempts from 5 s
 * doubling up to a day span about two and a half days, close to Standard Webhooks' example schedule.
 */
export const WEBHOOK_DEFAULTS = {
  timeoutSeconds: 15,
  maxResponseBytes: 65536,
  concurrency: 8,
  pollIntervalMs: 1000,
  retry: { maxAttempts: 10, initialDelayMs: 5000, maxDelayMs: 86_400_000 },
  allowPrivateTargets: false,
  /** Settled events (every delivery delivered or failed) are kept a month for the page and for resends. */
  retentionDays: 30,
} as const;

export const WEBHOOK_LIMITS = {
  timeoutSeconds: { min: 1, max: 60 },
  maxResponseBytes: { min: 1024, max: 1_048_576 },
  concurrency: { min: 1, max: 256 },
  pollIntervalMs: { min: 10, max: 60_000 },
  maxAttempts: { min: 1, max: 100 },
  /** Milliseconds, so that tests can retry quickly; a week at most. */
  delayMs: { min: 10, max: 604_800_000 },
  /** Standard Webhooks: symmetric secrets are 24 to 64 random bytes. */
  secretBytes: { min: 24, max: 64 },
  nameLength: 100,
  retentionDays: { min: 1, max: 3650 },
} as const;
