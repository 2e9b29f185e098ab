/**
 * The typed, frozen configuration every other module consumes. Produced only by `loadConfig` in
 * configuration/load.ts from the YAML file (snake_case there, camelCase here). Relative paths in the
 * file resolve against the process's working directory (as `npm start` runs from the project root).
 */
import type { ActiveOrgRole, MappableOrgRole, ProjectMappingRole } from '../domain/roles.js';
import type { WebhookEventType } from '../domain/webhook-events.js';

export interface ServerConfig {
  /** Origin (and optional path prefix) browsers use, without trailing slash. All SAML URLs derive from it. */
  readonly publicUrl: string;
  readonly host: string;
  readonly port: number;
  readonly sessionSecret: string;
  readonly trustProxy: boolean;
  /** Directory for generated state (development IdP key pair). Default `./data`. */
  readonly dataDir: string;
  /** Session lifetime in seconds. Default 28800 (8 h). */
  readonly sessionMaxAgeSeconds: number;
  /** Bearer token that may read `GET /metrics`; null (no `metrics_token`) = the endpoint is off (404). */
  readonly metricsToken: string | null;
  /** `Strict-Transport-Security: max-age=<this>` on every response when public_url is https. Default one year. */
  readonly hstsMaxAgeSeconds: number;
  /** Rate limits on `/saml/*`. */
  readonly rateLimits: RateLimits;
}

/** `server.rate_limits`: token buckets on `/saml/*`, per instance. Requests per minute. */
export interface RateLimits {
  readonly perIpPerMinute: number;
  readonly perOrganizationPerMinute: number;
}

export type DatabaseConfig =
  | { readonly client: 'sqlite'; readonly url: string; readonly filename: string }
  | { readonly client: 'pg'; readonly url: string; readonly connectionString: string };

export interface SamlSettings {
  /** 0..300, never "off". */
  readonly clockSkewSeconds: number;
  /** Largest accepted POST body at the ACS, bytes. Default 262144 (256 KiB). */
  readonly maxResponseBytes: number;
  /** How long an issued AuthnRequest id stays usable, seconds. Default 600. */
  readonly requestTtlSeconds: number;
  /** Worker threads validating SAML Responses; 0 = inline on the main thread. Default: os.availableParallelism(). */
  readonly workers: number;
  /** Responses allowed to wait for a worker; beyond that the ACS answers 503 + Retry-After. Default 64. */
  readonly queueLimit: number;
}

export interface AttributeNames {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly groups: string;
}

/** A persona of the development IdP (sign-in without a real IdP). */
export interface DevPersona {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  /** `null` = the Response carries no groups attribute at all (to demonstrate "groups unknown"). */
  readonly groups: readonly string[] | null;
}

export type IdpConfig =
  | {
      readonly kind: 'development';
      /** Personas offered on the development IdP page (configured, or the shipped defaults). */
      readonly personas: readonly DevPersona[];
    }
  | {
      readonly kind: 'external';
      readonly entityId: string;
      readonly ssoUrl: string;
      /** PEM texts (certificates or public keys); more than one during key rollover. */
      readonly certs: readonly string[];
      /** From idp_metadata_file: the IdP's HTTP-Redirect SingleLogoutService (Single Logout needs it). */
      readonly sloUrl?: string;
    };

export interface SsoConfig {
  readonly idp: IdpConfig;
  /** `{public_url}/saml/{org}/metadata` unless `sso.sp_entity_id` sets one. */
  readonly spEntityId: string;
  /** `{public_url}/saml/{org}/acs`. */
  readonly acsUrl: string;
  readonly allowIdpInitiated: boolean;
  readonly attributes: AttributeNames;
  readonly groupMatch: 'exact' | 'case-insensitive';
  /**
   * `sso.sp_private_key_file` + `sso.sp_cert_file`: the key pair the IdP encrypts assertions to. Absent =
   * EncryptedAssertion is refused (ERR_SAML_ENCRYPTED).
   */
  readonly decryption?: SpDecryptionKeys;
  /**
   * `sso.sign_authn_requests: true`: AuthnRequests are signed (HTTP-Redirect, RSA-SHA256) with the key of
   * `decryption`, which must be set; the SP metadata says AuthnRequestsSigned="true". Absent = unsigned.
   */
  readonly signAuthnRequests?: true;
}

export interface SpDecryptionKeys {
  /** PEM private key (RSA). */
  readonly privateKey: string;
  /** PEM certificate of that key, advertised in SP metadata as KeyDescriptor use="encryption". */
  readonly cert: string;
}

/** Where a rule was written, so explanations and audit rows can point at it. */
export interface RuleSource {
  readonly line: number;
  /** e.g. `organizations[0].roles.LS-Admins` */
  readonly path: string;
}

export interface OrgRoleRule {
  readonly group: string;
  readonly role: MappableOrgRole;
  readonly source: RuleSource;
}

export interface ProjectRoleRule {
  readonly group: string;
  readonly role: ProjectMappingRole;
  readonly source: RuleSource;
}

export interface ProjectConfig {
  readonly id: number;
  readonly title: string;
  readonly rules: readonly ProjectRoleRule[];
}

/**
 * Guards on mapping changes applied by a reload or `rolegate apply`. Top-level `guards:` sets
 * them for every organization; an organization's own `guards:` overrides key by key.
 */
export interface GuardsConfig {
  /** Refuse a reload/apply demoting or deactivating more than this percentage of an organization's active members. */
  readonly maxDemotionPercent: number;
  /** …or more than this many of them. */
  readonly maxDemotions: number;
  /** Groups asserted longer ago than this are treated as unknown by plan/apply (listed as stale); null = no limit. */
  readonly maxGroupAgeDays: number | null;
}

export interface OrganizationConfig {
  readonly id: number;
  readonly title: string;
  /** Lower-cased email of the one Owner. */
  readonly owner: string;
  readonly sso: SsoConfig;
  readonly roles: readonly OrgRoleRule[];
  readonly projects: readonly ProjectConfig[];
  /** The effective guards (top-level merged with the organization's own). */
  readonly guards: GuardsConfig;
  /**
   * Who owns organization roles: `idp` (default) refuses an admin's role change where a mapped group applies;
   * `manual` lets it stick (role_source `manual`) and the mapping stops changing that member's organization role.
   */
  readonly roleManagement: RoleManagement;
  /**
   * `seats:` the number of active members (Owner to Annotator) the organization has paid or planned for;
   * null when not set. Shown on the Organization page against the active count; never enforced at login
   * (refusing a sign-in for want of a seat would lock out people the IdP says belong).
   */
  readonly seats: number | null;
  /** `scim:` SCIM 2.0 provisioning of this organization (default: disabled). */
  readonly scim: ScimConfig;
}

export interface ScimConfig {
  /** `scim.enabled` (default false): `/scim/v2` answers this organization's SCIM tokens. */
  readonly enabled: boolean;
}

export type RoleManagement = 'idp' | 'manual';

export interface Config {
  /** Absolute path of the file this came from. */
  readonly file: string;
  /** sha256 of the file's bytes, hex: the config revision named by audit rows. */
  readonly revision: string;
  readonly server: ServerConfig;
  readonly database: DatabaseConfig;
  readonly saml: SamlSettings;
  readonly organizations: readonly OrganizationConfig[];
  /** Top-level guards (the defaults, overridden key by key by `guards:`). */
  readonly guards: GuardsConfig;
  /** `webhooks:` signed change events (no endpoints when the section is absent: nothing is recorded or sent). */
  readonly webhooks: WebhooksConfig;
  /** `forward_auth:` (proxies ask rolegate who may reach an upstream); null when the section is absent. */
  readonly forwardAuth: ForwardAuthConfig | null;
}

/** An address or network of `forward_auth.trusted_proxies`: `10.0.0.0/8`, `::1` (= `::1/128`). */
export interface IpRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** One line of an upstream's `rules`: who may reach paths under `path`. */
export type ForwardAuthRule =
  | { readonly path: string; readonly kind: 'organization'; readonly minRole: ActiveOrgRole; readonly source: RuleSource }
  | { readonly path: string; readonly kind: 'project'; readonly projectId: number; readonly minProjectRole: ActiveOrgRole; readonly source: RuleSource };

export interface UpstreamConfig {
  /** Exact origin (`https://app.example.com`, `http://127.0.0.1:8081`): what a request and an `rd` must match. */
  readonly origin: string;
  /** The origin's host[:port]: the assertion's `aud`. */
  readonly host: string;
  /** Whose members may reach it (a session of another organization is asked to sign in again). */
  readonly organizationId: number;
  /** Longest matching path prefix wins; a path no rule covers is denied. */
  readonly rules: readonly ForwardAuthRule[];
}

export interface ForwardAuthConfig {
  /** TCP peers whose X-Original-* / X-Forwarded-* headers are believed; anyone else is refused. */
  readonly trustedProxies: readonly IpRange[];
  /**
   * `socket` and `socket_mode`: a Unix domain socket the proxy may ask on instead (every connection on it is a
   * trusted proxy; the file's permissions decide who can connect). Read once at start.
   */
  readonly socket: { readonly path: string; readonly mode: number } | null;
  /** Lifetime of X-Rolegate-Assertion, seconds (1..60). */
  readonly assertionTtlSeconds: number;
  /**
   * PEM private keys from `signing_key_files`: the first signs, all are published in the JWKS (rotation).
   * Empty = a key generated under `server.data_dir` (see forwardauth/keys.ts).
   */
  readonly signingKeys: readonly string[];
  readonly upstreams: readonly UpstreamConfig[];
  /**
   * `cookie_domain`: the Domain of rolegate's session cookie, so that browsers send it to the applications'
   * hosts too (their proxies pass it on to the check). null = host-only cookie (rolegate and the
   * applications then share a host name, e.g. on different ports).
   */
  readonly cookieDomain: string | null;
}

/** `webhooks:`: where change events go and how the relay delivers them. See docs/webhooks.md. */
export interface WebhooksConfig {
  readonly endpoints: readonly WebhookEndpointConfig[];
  /** Per attempt: connect, send and read the answer within this many seconds. */
  readonly timeoutSeconds: number;
  /** Bytes of an endpoint's answer read at most; the connection is cut beyond. */
  readonly maxResponseBytes: number;
  /** Deliveries in flight at once, per instance. */
  readonly concurrency: number;
  /** How often an idle relay looks for due deliveries, milliseconds. */
  readonly pollIntervalMs: number;
  readonly retry: WebhookRetryConfig;
  /** Days a settled event (every delivery delivered or failed) and its attempts are kept. */
  readonly retentionDays: number;
}

export interface WebhookRetryConfig {
  /** Attempts per delivery before it is marked failed (a resend from the Organization page starts again). */
  readonly maxAttempts: number;
  /** Back-off before the second attempt; doubles each time, with jitter, up to maxDelayMs. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export interface WebhookEndpointConfig {
  /** Unique, stable name: deliveries and the endpoint's disabled state are recorded under it. */
  readonly name: string;
  readonly url: string;
  /** Standard Webhooks symmetric secret, `whsec_<base64 of 24–64 random bytes>`. Never logged. */
  readonly secret: string;
  readonly events: readonly WebhookEventType[];
  /** Organizations whose events go to this endpoint (all configured ones when the key is absent). */
  readonly organizations: readonly number[];
  /** Loopback, link-local and private addresses are refused unless this is true. */
  readonly allowPrivateTargets: boolean;
}
