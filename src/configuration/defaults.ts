/**
 * Every default of the configuration file, in one place, with the reason for it. `load.ts` applies them;
 * the README's key table is written from this file.
 */
import type { AttributeNames, DevPersona } from './types.js';

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
} as const;

export const SERVER_LIMITS = {
  port: { min: 1, max: 65535 },
  /** Shorter secrets are guessable enough to forge session cookies. */
  sessionSecretMinLength: 16,
  /** One minute to one week. */
  sessionMaxAgeSeconds: { min: 60, max: 604800 },
} as const;

/** SQLite file under ./data, so `npm start` works on a fresh clone without a database server. */
export const DATABASE_DEFAULT_URL = 'sqlite:./data/rolegate.db';

export const SAML_DEFAULTS = {
  /** One minute of tolerated clock difference with the IdP (NotBefore / NotOnOrAfter). */
  clockSkewSeconds: 60,
  /** 256 KiB of POST body at the ACS: generous for an assertion with many groups, small enough to parse safely. */
  maxResponseBytes: 262144,
  /** Ten minutes for a person to complete sign-in at the IdP. */
  requestTtlSeconds: 600,
} as const;

export const SAML_LIMITS = {
  /** Bounded and never "off": the assertion time window is always checked. */
  clockSkewSeconds: { min: 0, max: 300 },
  maxResponseBytes: { min: 1024, max: 1048576 },
  requestTtlSeconds: { min: 30, max: 3600 },
} as const;

/** Label Studio's attribute names, so an IdP configured for Label Studio works unchanged. */
export const ATTRIBUTE_DEFAULTS: AttributeNames = {
  email: 'Email',
  firstName: 'FirstName',
  lastName: 'LastName',
  groups: 'Groups',
};

export const SSO_DEFAULTS = {
  /** Unsolicited responses have no InResponseTo to bind them to a browser: refused unless opted in. */
  allowIdpInitiated: false,
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
