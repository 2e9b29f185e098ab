/**
 * The configuration file → a typed, deeply frozen `Config`, or every problem in it at once. The schema
 * is written out here key by key (snake_case in YAML, camelCase in types.ts); defaults come from
 * defaults.ts. Validation is eager and complete: certificate files and IdP metadata are read and parsed
 * now, so a server that starts has a configuration that works.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, isSeq, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue, type ConfigIssueCode } from '../errors.js';
import { errorReason, keyMatchesCertificate, readCertificateFile, readPemFile, readPrivateKeyFile } from './certs.js';
import {
  ATTRIBUTE_DEFAULTS,
  DATABASE_DEFAULT_URL,
  GUARDS_DEFAULTS,
  GUARDS_LIMITS,
  ORG_DEFAULTS,
  RATE_LIMIT_DEFAULTS,
  RATE_LIMIT_LIMITS,
  ROLE_MANAGEMENTS,
  SAML_DEFAULTS,
  SAML_LIMITS,
  SCIM_DEFAULTS,
  SERVER_DEFAULTS,
  SERVER_LIMITS,
  SSO_DEFAULTS,
  defaultPersonas,
  samlDefaultWorkers,
} from './defaults.js';
import { readForwardAuth } from './forward-auth.js';
import { type GroupMatch, groupKey } from './groups.js';
import { readIdpMetadata } from './metadata.js';
import { type Entry, type Field, type Fields, Reader, childPath } from './reader.js';
import { parseOrgRoleName, parseProjectRoleName } from './role-names.js';
import { readWebhooks } from './webhooks.js';
import type {
  AttributeNames,
  Config,
  DatabaseConfig,
  DevPersona,
  GuardsConfig,
  IdpConfig,
  OrgRoleRule,
  OrganizationConfig,
  ProjectConfig,
  ProjectRoleRule,
  RateLimits,
  RoleManagement,
  SamlSettings,
  ScimConfig,
  ServerConfig,
  SpDecryptionKeys,
  SsoConfig,
} from './types.js';

export interface LoadOptions {
  /** Variables for `${VAR}` expansion, NODE_ENV and the ROLEGATE_HOST / ROLEGATE_PORT / PORT overrides. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Base of relative paths (the file itself, certificate and metadata files, data_dir, sqlite file). */
  readonly cwd?: string | undefined;
}

export type CheckResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

const ROOT_KEYS = ['server', 'database', 'saml', 'organizations', 'guards', 'forward_auth', 'webhooks'] as const;
const SERVER_KEYS = [
  'public_url',
  'host',
  'port',
  'session_secret',
  'trust_proxy',
  'data_dir',
  'session_max_age_seconds',
  'metrics_token',
  'rate_limits',
  'hsts_max_age_seconds',
] as const;
const RATE_LIMIT_KEYS = ['per_ip_per_minute', 'per_organization_per_minute'] as const;
const DATABASE_KEYS = ['url'] as const;
const SAML_KEYS = ['clock_skew_seconds', 'max_response_bytes', 'request_ttl_seconds', 'workers', 'queue_limit'] as const;
const ORG_KEYS = ['id', 'title', 'owner', 'sso', 'roles', 'projects', 'guards', 'role_management', 'seats', 'scim'] as const;
const SCIM_KEYS = ['enabled'] as const;
const GUARDS_KEYS = ['max_demotion_percent', 'max_demotions', 'max_group_age_days'] as const;
const SSO_KEYS = [
  'development_idp',
  'idp_entity_id',
  'idp_sso_url',
  'idp_cert_file',
  'idp_metadata_file',
  'sp_entity_id',
  'allow_idp_initiated',
  'attributes',
  'group_match',
  'personas',
  'sp_private_key_file',
  'sp_cert_file',
  'sign_authn_requests',
] as const;
const EXTERNAL_IDP_KEYS = ['idp_entity_id', 'idp_sso_url', 'idp_cert_file'] as const;
const ATTRIBUTE_KEYS = ['email', 'first_name', 'last_name', 'groups'] as const;
const PERSONA_KEYS = ['email', 'first_name', 'last_name', 'groups', 'groups_attribute'] as const;
const PROJECT_KEYS = ['id', 'title', 'groups'] as const;
const GROUP_MATCHES: readonly GroupMatch[] = ['exact', 'case-insensitive'];

/** yaml's messages, where they speak to a programmer rather than to the person editing the file. */
const YAML_MESSAGES: Partial<Record<string, string>> = {
  MULTIPLE_DOCS: 'the file must hold one YAML document (remove the second "---")',
  TAG_RESOLVE_FAILED: 'custom tags (!name) are not supported; write a plain value',
};

/** yaml's codes for what is, in a configuration file, nearly always a key indented too far or not enough. */
const INDENTATION_ERRORS: ReadonlySet<string> = new Set(['BAD_INDENT', 'BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY']);

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:".][^\s@<>(),;:"]*$/;
const POSITIVE_ID = 'a positive integer';

interface Ctx {
  readonly r: Reader;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Where an id was first seen, for "duplicate … (first at line N)". */
interface Seen {
  readonly path: string;
  readonly line: number;
}

// ---- entry points -----------------------------------------------------------------------------------------

/** Validates without throwing: `rolegate check-config` prints `issues` with formatConfigIssue. */
export function checkConfig(file: string, opts: LoadOptions = {}): CheckResult {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const absFile = resolve(cwd, file);
  const fail = (code: ConfigIssueCode, message: string): CheckResult => ({ ok: false, issues: [{ code, file, line: 1, col: 1, path: '', message }] });

  let bytes: Buffer;
  try {
    bytes = readFileSync(absFile);
  } catch (err) {
    return fail('ERR_CONFIG_FILE', `cannot read the configuration file (${errorReason(err)})`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('ERR_CONFIG_YAML', 'the configuration file is not valid UTF-8');
  }

  const lineCounter = new LineCounter();
  // prettyErrors off: messages stay one line; positions come from the same LineCounter as everything else.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const r = new Reader(file, lineCounter, env);
  // One mistake (a key indented one space too far) makes the parser report two or three errors that all
  // follow from the first; only the first is worth reading, so a syntax error is reported once.
  const firstError = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0])[0];
  const yamlProblems = firstError === undefined ? doc.warnings : [firstError];
  for (const e of yamlProblems) {
    const hint = INDENTATION_ERRORS.has(e.code) ? ' (check the indentation here: the keys of one map start in the same column)' : '';
    r.issues.push({ code: 'ERR_CONFIG_YAML', file, ...lineCounter.linePos(e.pos[0]), path: '', message: `YAML: ${YAML_MESSAGES[e.code] ?? e.message}${hint}` });
  }
  // A document with syntax errors has no reliable tree; validating it would only add noise.
  if (firstError !== undefined) return { ok: false, issues: r.issues };

  const root: Field = { key: null, value: doc.contents, path: '' };
  r.prepare(doc.contents, '');
  const config = readConfig({ r, cwd, env }, root, absFile, bytes);
  if (r.issues.length > 0 || config === undefined) {
    if (r.issues.length === 0) r.report('ERR_CONFIG_YAML', doc.contents, '', 'the configuration could not be read');
    return { ok: false, issues: sortIssues(r.issues) };
  }
  return { ok: true, config: deepFreeze(config) };
}

/** Loads and validates; throws ConfigError (ERR_CONFIG_INVALID) listing every issue. */
export function loadConfig(file: string, opts: LoadOptions = {}): Config {
  const result = checkConfig(file, opts);
  if (!result.ok) throw new ConfigError(result.issues);
  return result.config;
}

function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Object.freeze all the way down: no module can change the configuration another one reads. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// ---- helpers ----------------------------------------------------------------------------------------------

/** Reads an optional key with `read`, or gives the default when the key is absent. */
function optional<T>(fields: Fields | undefined, name: string, dflt: T, read: (f: Field) => T | undefined): T | undefined {
  const field = fields?.get(name);
  return field === undefined ? dflt : read(field);
}

function httpUrl(r: Reader, field: Field, opts: { allowQuery: boolean }): string | undefined {
  const value = r.string(field, 'an absolute http(s) URL');
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    r.reportField('ERR_CONFIG_VALUE', field, `expected an absolute http(s) URL, got "${value}"`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    r.reportField('ERR_CONFIG_VALUE', field, `expected an http or https URL, got scheme "${url.protocol}"`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    r.reportField('ERR_CONFIG_VALUE', field, 'expected a URL without user:password@');
    return undefined;
  }
  if (value.includes('#') || (!opts.allowQuery && value.includes('?'))) {
    r.reportField('ERR_CONFIG_VALUE', field, `expected a URL without ${opts.allowQuery ? 'a fragment (#…)' : 'a query (?…) or fragment (#…)'}`);
    return undefined;
  }
  return url.href;
}

/** A path resolved against the working directory. */
function pathValue(ctx: Ctx, field: Field, what: string): { given: string; abs: string } | undefined {
  const given = ctx.r.string(field, what);
  return given === undefined ? undefined : { given, abs: resolve(ctx.cwd, given) };
}

function email(r: Reader, field: Field): string | undefined {
  const value = r.string(field, 'an email address');
  if (value === undefined) return undefined;
  if (!EMAIL.test(value.trim())) {
    r.reportField('ERR_CONFIG_VALUE', field, `expected an email address (name@domain), got "${value}"`);
    return undefined;
  }
  return value.trim();
}

/** A string without whitespace: an entity id is compared byte for byte with what the IdP sends. */
function identifier(r: Reader, field: Field, what: string): string | undefined {
  const value = r.string(field, what);
  if (value !== undefined && /\s/.test(value)) {
    r.reportField('ERR_CONFIG_VALUE', field, `expected ${what} without spaces, got "${value}"`);
    return undefined;
  }
  return value;
}

function nonEmptyEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

// ---- the document -----------------------------------------------------------------------------------------

function readConfig(ctx: Ctx, rootField: Field, absFile: string, bytes: Buffer): Config | undefined {
  const { r } = ctx;
  const root = r.map(rootField, 'the configuration', ROOT_KEYS);
  if (root === undefined) return undefined;

  const serverField = r.required(root, 'server', 'public_url and session_secret at least');
  const server = readServer(ctx, serverField, root);
  const database = readDatabase(ctx, root.get('database'));
  const saml = readSaml(ctx, root.get('saml'));
  const guards = readGuards(ctx, root.get('guards'), GUARDS_DEFAULTS);
  const organizations = readOrganizations(ctx, root, server?.publicUrl, guards ?? GUARDS_DEFAULTS);
  const forwardAuth = readForwardAuth(r, ctx.cwd, root.get('forward_auth'), organizations, server?.publicUrl);
  const webhooks = readWebhooks(r, root.get('webhooks'), organizations?.map((o) => o.id));
  if (
    server === undefined ||
    database === undefined ||
    saml === undefined ||
    organizations === undefined ||
    guards === undefined ||
    forwardAuth === undefined ||
    webhooks === undefined
  ) {
    return undefined;
  }
  return {
    file: absFile,
    revision: createHash('sha256').update(bytes).digest('hex'),
    server,
    database,
    saml,
    organizations,
    guards,
    forwardAuth,
    webhooks,
  };
}

/**
 * `guards:` at the top level (over the defaults) or in an organization (over the top level), key by key.
 * An empty section means the inherited values; `max_group_age_days: null` lifts an inherited limit.
 */
function readGuards(ctx: Ctx, field: Field | undefined, inherited: GuardsConfig): GuardsConfig | undefined {
  const { r } = ctx;
  if (field === undefined || r.isNull(field)) return inherited;
  const g = r.map(field, 'the guards (max_demotion_percent, max_demotions, max_group_age_days)', GUARDS_KEYS);
  if (g === undefined) return undefined;
  const pct = GUARDS_LIMITS.maxDemotionPercent;
  const maxDemotionPercent = optional(g, 'max_demotion_percent', inherited.maxDemotionPercent, (f) =>
    r.integer(f, pct.min, pct.max, `an integer percentage from ${pct.min} to ${pct.max}`),
  );
  const cnt = GUARDS_LIMITS.maxDemotions;
  const maxDemotions = optional(g, 'max_demotions', inherited.maxDemotions, (f) =>
    r.integer(f, cnt.min, cnt.max, `a whole number of members, ${cnt.min} or more`),
  );
  const age = GUARDS_LIMITS.maxGroupAgeDays;
  const maxGroupAgeDays = optional<number | null>(g, 'max_group_age_days', inherited.maxGroupAgeDays, (f) =>
    r.isNull(f) ? null : r.integer(f, age.min, age.max, `a whole number of days from ${age.min} to ${age.max}, or null for no limit`),
  );
  if (maxDemotionPercent === undefined || maxDemotions === undefined || maxGroupAgeDays === undefined) return undefined;
  return { maxDemotionPercent, maxDemotions, maxGroupAgeDays };
}

function readServer(ctx: Ctx, field: Field | undefined, root: Fields): ServerConfig | undefined {
  const { r, env } = ctx;
  const s = field && r.map(field, 'the server settings', SERVER_KEYS);

  const urlField = s && r.required(s, 'public_url', 'the http(s) URL browsers use, e.g. http://localhost:8080');
  // No trailing slash: every SAML URL is `${publicUrl}/saml/…`.
  const publicUrl = urlField && httpUrl(r, urlField, { allowQuery: false })?.replace(/\/+$/, '');

  const secretField = s && r.required(s, 'session_secret', `a random string of at least ${SERVER_LIMITS.sessionSecretMinLength} characters`);
  let sessionSecret = secretField && r.string(secretField, 'a secret string');
  if (secretField && sessionSecret !== undefined && sessionSecret.length < SERVER_LIMITS.sessionSecretMinLength) {
    r.reportField('ERR_CONFIG_INSECURE',
      secretField,
      `session_secret must be at least ${SERVER_LIMITS.sessionSecretMinLength} characters (got ${sessionSecret.length}); it signs session cookies`,
    );
    sessionSecret = undefined;
  }

  let host = optional(s, 'host', SERVER_DEFAULTS.host, (f) => identifier(r, f, 'a host name or IP address'));
  let port = optional(s, 'port', SERVER_DEFAULTS.port, (f) =>
    r.integer(f, SERVER_LIMITS.port.min, SERVER_LIMITS.port.max, 'a TCP port from 1 to 65535'),
  );

  // The environment overrides host and port (containers and PaaS set PORT); its values are checked too.
  const envHost = nonEmptyEnv(env, 'ROLEGATE_HOST');
  if (envHost !== undefined) {
    if (/\s/.test(envHost)) {
      r.report('ERR_CONFIG_VALUE', s?.get('host')?.value ?? s?.node ?? root.node, 'server.host (from ROLEGATE_HOST)', `expected a host name or IP address, got "${envHost}"`);
      host = undefined;
    } else host = envHost;
  }
  const portVar = nonEmptyEnv(env, 'ROLEGATE_PORT') !== undefined ? 'ROLEGATE_PORT' : nonEmptyEnv(env, 'PORT') !== undefined ? 'PORT' : undefined;
  if (portVar !== undefined) {
    const raw = env[portVar] ?? '';
    const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!Number.isInteger(n) || n < SERVER_LIMITS.port.min || n > SERVER_LIMITS.port.max) {
      r.report('ERR_CONFIG_VALUE', s?.get('port')?.value ?? s?.node ?? root.node, `server.port (from ${portVar})`, `expected a TCP port from 1 to 65535, got "${raw}"`);
      port = undefined;
    } else port = n;
  }

  const trustProxy = optional(s, 'trust_proxy', SERVER_DEFAULTS.trustProxy, (f) => r.boolean(f));
  const dataDir = optional(s, 'data_dir', resolve(ctx.cwd, SERVER_DEFAULTS.dataDir), (f) => pathValue(ctx, f, 'a directory path')?.abs);
  const { min, max } = SERVER_LIMITS.sessionMaxAgeSeconds;
  const sessionMaxAgeSeconds = optional(s, 'session_max_age_seconds', SERVER_DEFAULTS.sessionMaxAgeSeconds, (f) =>
    r.integer(f, min, max, `an integer number of seconds from ${min} to ${max}`),
  );

  // GET /metrics is off unless a token is set: deny by default, and a short token is guessable.
  const metricsField = s?.get('metrics_token');
  let metricsToken: string | undefined;
  let metricsOk = true;
  if (metricsField !== undefined && !r.isNull(metricsField)) {
    metricsToken = r.string(metricsField, 'a secret string');
    if (metricsToken !== undefined && metricsToken.length < SERVER_LIMITS.metricsTokenMinLength) {
      r.reportField('ERR_CONFIG_INSECURE',
        metricsField,
        `metrics_token must be at least ${SERVER_LIMITS.metricsTokenMinLength} characters (got ${metricsToken.length}); it guards GET /metrics`,
      );
      metricsToken = undefined;
    }
    metricsOk = metricsToken !== undefined;
  }

  const rateLimits = readRateLimits(ctx, s?.get('rate_limits'));
  const hsts = SERVER_LIMITS.hstsMaxAgeSeconds;
  const hstsMaxAgeSeconds = optional(s, 'hsts_max_age_seconds', SERVER_DEFAULTS.hstsMaxAgeSeconds, (f) =>
    r.integer(f, hsts.min, hsts.max, `an integer number of seconds from ${hsts.min} (tell browsers to forget the policy) to ${hsts.max}`),
  );

  if (
    s === undefined ||
    publicUrl === undefined ||
    sessionSecret === undefined ||
    host === undefined ||
    port === undefined ||
    trustProxy === undefined ||
    dataDir === undefined ||
    sessionMaxAgeSeconds === undefined ||
    !metricsOk ||
    rateLimits === undefined ||
    hstsMaxAgeSeconds === undefined
  ) {
    return undefined;
  }
  return { publicUrl, host, port, sessionSecret, trustProxy, dataDir, sessionMaxAgeSeconds, rateLimits, hstsMaxAgeSeconds, metricsToken: metricsToken ?? null };
}

/** `server.rate_limits`: requests per minute on /saml/*, per client address and per organization. */
function readRateLimits(ctx: Ctx, field: Field | undefined): RateLimits | undefined {
  const { r } = ctx;
  if (field === undefined || r.isNull(field)) return RATE_LIMIT_DEFAULTS;
  const m = r.map(field, 'the rate limits (per_ip_per_minute, per_organization_per_minute)', RATE_LIMIT_KEYS);
  if (m === undefined) return undefined;
  const { min, max } = RATE_LIMIT_LIMITS;
  const expected = `an integer number of requests per minute from ${min} to ${max} (rate limits are never off)`;
  const perIpPerMinute = optional(m, 'per_ip_per_minute', RATE_LIMIT_DEFAULTS.perIpPerMinute, (f) => r.integer(f, min, max, expected));
  const perOrganizationPerMinute = optional(m, 'per_organization_per_minute', RATE_LIMIT_DEFAULTS.perOrganizationPerMinute, (f) =>
    r.integer(f, min, max, expected),
  );
  if (perIpPerMinute === undefined || perOrganizationPerMinute === undefined) return undefined;
  return { perIpPerMinute, perOrganizationPerMinute };
}

function readDatabase(ctx: Ctx, field: Field | undefined): DatabaseConfig | undefined {
  const { r } = ctx;
  // An empty section (`database:` with its lines commented out) means the defaults, like an absent one.
  const present = field !== undefined && !r.isNull(field) ? field : undefined;
  const d = present && r.map(present, 'the database settings', DATABASE_KEYS);
  if (present !== undefined && d === undefined) return undefined;
  const urlField = d?.get('url');
  const url = urlField === undefined ? DATABASE_DEFAULT_URL : r.string(urlField, 'a database URL');
  if (url === undefined) return undefined;
  // Never echo the URL itself in a message: a postgres URL carries a password.
  const bad = (message: string): undefined => {
    if (urlField !== undefined) r.reportField('ERR_CONFIG_VALUE', urlField, message);
    return undefined;
  };
  const expected = 'expected sqlite:<path>, sqlite::memory: or postgres://user:password@host:5432/database';
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    if (rest.trim() === '') return bad(`${expected}; the sqlite file path is empty`);
    return { client: 'sqlite', url, filename: rest === ':memory:' ? ':memory:' : resolve(ctx.cwd, rest) };
  }
  if (/^postgres(ql)?:\/\//i.test(url)) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.hostname === '') return bad(`${expected}; the postgres URL is malformed`);
    return { client: 'pg', url, connectionString: url };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  return bad(`${expected}; got ${scheme === undefined ? 'no scheme' : `scheme "${scheme}:"`}`);
}

function readSaml(ctx: Ctx, field: Field | undefined): SamlSettings | undefined {
  const { r } = ctx;
  const present = field !== undefined && !r.isNull(field) ? field : undefined;
  const s = present && r.map(present, 'the SAML settings', SAML_KEYS);
  if (present !== undefined && s === undefined) return undefined;
  const skew = SAML_LIMITS.clockSkewSeconds;
  const clockSkewSeconds = optional(s, 'clock_skew_seconds', SAML_DEFAULTS.clockSkewSeconds, (f) =>
    r.integer(f, skew.min, skew.max, `an integer number of seconds from ${skew.min} to ${skew.max} (the time check is never off)`),
  );
  const size = SAML_LIMITS.maxResponseBytes;
  const maxResponseBytes = optional(s, 'max_response_bytes', SAML_DEFAULTS.maxResponseBytes, (f) =>
    r.integer(f, size.min, size.max, `an integer number of bytes from ${size.min} to ${size.max}`),
  );
  const ttl = SAML_LIMITS.requestTtlSeconds;
  const requestTtlSeconds = optional(s, 'request_ttl_seconds', SAML_DEFAULTS.requestTtlSeconds, (f) =>
    r.integer(f, ttl.min, ttl.max, `an integer number of seconds from ${ttl.min} to ${ttl.max}`),
  );
  const w = SAML_LIMITS.workers;
  const workers = optional(s, 'workers', samlDefaultWorkers(), (f) =>
    r.integer(f, w.min, w.max, `an integer number of worker threads from ${w.min} to ${w.max} (0 = validate on the main thread)`),
  );
  const q = SAML_LIMITS.queueLimit;
  const queueLimit = optional(s, 'queue_limit', SAML_DEFAULTS.queueLimit, (f) =>
    r.integer(f, q.min, q.max, `an integer number of waiting responses from ${q.min} to ${q.max}`),
  );
  if (
    clockSkewSeconds === undefined ||
    maxResponseBytes === undefined ||
    requestTtlSeconds === undefined ||
    workers === undefined ||
    queueLimit === undefined
  ) {
    return undefined;
  }
  return { clockSkewSeconds, maxResponseBytes, requestTtlSeconds, workers, queueLimit };
}

// ---- organizations ----------------------------------------------------------------------------------------

interface CrossChecks {
  readonly orgIds: Map<number, Seen>;
  /** Project ids are global in Label Studio, so they are unique across all organizations. */
  readonly projectIds: Map<number, Seen>;
  readonly spEntityIds: Map<string, Seen>;
}

function readOrganizations(ctx: Ctx, root: Fields, publicUrl: string | undefined, guards: GuardsConfig): OrganizationConfig[] | undefined {
  const { r } = ctx;
  const field = r.required(root, 'organizations', 'a list with at least one organization');
  const items = field && r.list(field, 'a list of organizations');
  if (field === undefined || items === undefined) return undefined;
  if (items.length === 0) {
    r.reportField('ERR_CONFIG_VALUE', field, 'expected at least one organization');
    return undefined;
  }
  const seen: CrossChecks = { orgIds: new Map(), projectIds: new Map(), spEntityIds: new Map() };
  const orgs = items.map((item) => readOrganization(ctx, item, publicUrl, seen, guards));
  return orgs.every((o): o is OrganizationConfig => o !== undefined) ? orgs : undefined;
}

/** Reports `field`'s value if `key` was seen before; records it otherwise. */
function unique<K>(r: Reader, seen: Map<K, Seen>, key: K, field: Field, message: (first: Seen) => string): boolean {
  const first = seen.get(key);
  if (first !== undefined) {
    r.reportField('ERR_CONFIG_DUPLICATE', field, message(first));
    return false;
  }
  seen.set(key, { path: field.path, line: r.position(r.anchor(field)).line });
  return true;
}

function readOrganization(
  ctx: Ctx,
  item: Field,
  publicUrl: string | undefined,
  seen: CrossChecks,
  inheritedGuards: GuardsConfig,
): OrganizationConfig | undefined {
  const { r } = ctx;
  const o = r.map(item, 'an organization', ORG_KEYS);
  if (o === undefined) return undefined;

  const idField = r.required(o, 'id', POSITIVE_ID);
  let id = idField && r.integer(idField, 1, Number.MAX_SAFE_INTEGER, POSITIVE_ID);
  if (idField && id !== undefined) {
    const value = id;
    if (!unique(r, seen.orgIds, value, idField, (first) => `duplicate organization id ${value}: ${first.path} at line ${first.line} has it already`)) {
      id = undefined;
    }
  }
  const titleField = r.required(o, 'title', 'the organization name');
  const title = titleField && r.string(titleField);
  const ownerField = r.required(o, 'owner', 'the email of the one Owner');
  const owner = ownerField && email(r, ownerField)?.toLowerCase();

  const ssoField = r.required(o, 'sso', 'how members sign in: development_idp, idp_metadata_file or idp_entity_id + idp_sso_url + idp_cert_file');
  const { sso, groupMatch } = ssoField
    ? readSso(ctx, ssoField, { id, owner, publicUrl, seen })
    : { sso: undefined, groupMatch: SSO_DEFAULTS.groupMatch };

  const ownerPath = childPath(item.path, 'owner');
  const roles = readOrgRules(ctx, o.get('roles'), groupMatch, ownerPath);

  const projectsField = o.get('projects');
  let projects: (ProjectConfig | undefined)[] | undefined = [];
  if (projectsField !== undefined && !r.isNull(projectsField)) {
    projects = r.list(projectsField, 'a list of projects')?.map((p) => readProject(ctx, p, groupMatch, seen));
  }

  const guards = readGuards(ctx, o.get('guards'), inheritedGuards);
  const roleManagement = optional<RoleManagement>(o, 'role_management', ORG_DEFAULTS.roleManagement, (f) => r.choice(f, ROLE_MANAGEMENTS));
  const seats = optional<number | null>(o, 'seats', ORG_DEFAULTS.seats, (f) => r.integer(f, 1, 10_000_000, 'a number of seats from 1 to 10000000'));
  const scim = readScim(ctx, o.get('scim'));

  if (
    id === undefined ||
    title === undefined ||
    owner === undefined ||
    sso === undefined ||
    roles === undefined ||
    projects === undefined ||
    guards === undefined ||
    roleManagement === undefined ||
    seats === undefined ||
    scim === undefined ||
    !projects.every((p): p is ProjectConfig => p !== undefined)
  ) {
    return undefined;
  }
  return { id, title, owner, sso, roles, projects, guards, roleManagement, seats, scim };
}

/** `scim:` of an organization: SCIM 2.0 provisioning at `{public_url}/scim/v2`, off unless `enabled: true`. */
function readScim(ctx: Ctx, field: Field | undefined): ScimConfig | undefined {
  const { r } = ctx;
  if (field === undefined || r.isNull(field)) return { enabled: SCIM_DEFAULTS.enabled };
  const s = r.map(field, 'the SCIM settings (enabled)', SCIM_KEYS);
  if (s === undefined) return undefined;
  const enabled = optional(s, 'enabled', SCIM_DEFAULTS.enabled, (f) => r.boolean(f));
  return enabled === undefined ? undefined : { enabled };
}

interface OrgContext {
  readonly id: number | undefined;
  readonly owner: string | undefined;
  readonly publicUrl: string | undefined;
  readonly seen: CrossChecks;
}

function readSso(ctx: Ctx, field: Field, org: OrgContext): { sso: SsoConfig | undefined; groupMatch: GroupMatch } {
  const { r } = ctx;
  const s = r.map(field, 'the SSO settings', SSO_KEYS);
  if (s === undefined) return { sso: undefined, groupMatch: SSO_DEFAULTS.groupMatch };

  const groupMatchRead = optional<GroupMatch>(s, 'group_match', SSO_DEFAULTS.groupMatch, (f) => r.choice(f, GROUP_MATCHES));
  const idp = readIdp(ctx, s, org);
  const allowIdpInitiated = optional(s, 'allow_idp_initiated', SSO_DEFAULTS.allowIdpInitiated, (f) => r.boolean(f));
  const attributes = readAttributes(ctx, s.get('attributes'));
  const decryption = readDecryptionKeys(ctx, s);
  const signField = s.get('sign_authn_requests');
  let signAuthnRequests: boolean | undefined = signField === undefined ? SSO_DEFAULTS.signAuthnRequests : r.boolean(signField);
  if (signAuthnRequests === true && signField !== undefined && decryption === null && !s.misspelt.has('sp_private_key_file')) {
    r.reportField('ERR_CONFIG_CONFLICT', signField, 'sign_authn_requests: true needs the SP key pair: set sp_private_key_file and sp_cert_file (the certificate is published in the SP metadata for the IdP to verify with)');
    signAuthnRequests = undefined;
  }

  let spEntityId: string | undefined;
  const spField = s.get('sp_entity_id');
  if (spField !== undefined) {
    spEntityId = identifier(r, spField, 'an entity id (usually a URL)');
  } else if (org.publicUrl !== undefined && org.id !== undefined) {
    spEntityId = `${org.publicUrl}/saml/${org.id}/metadata`;
  }
  // Two organizations with one SP entity id would accept each other's assertions (same Audience).
  if (spEntityId !== undefined) {
    const value = spEntityId;
    const where: Field = spField ?? { key: null, value: s.node, path: childPath(s.path, 'sp_entity_id') };
    const fresh = unique(
      r,
      org.seen.spEntityIds,
      value,
      where,
      (first) => `sp_entity_id "${value}" is already used by ${first.path} (line ${first.line}); each organization needs its own`,
    );
    if (!fresh) spEntityId = undefined;
  }

  const groupMatch = groupMatchRead ?? SSO_DEFAULTS.groupMatch;
  if (
    idp === undefined ||
    spEntityId === undefined ||
    org.publicUrl === undefined ||
    org.id === undefined ||
    allowIdpInitiated === undefined ||
    attributes === undefined ||
    groupMatchRead === undefined ||
    decryption === undefined ||
    signAuthnRequests === undefined
  ) {
    return { sso: undefined, groupMatch };
  }
  const acsUrl = `${org.publicUrl}/saml/${org.id}/acs`;
  const sso: SsoConfig = {
    idp,
    spEntityId,
    acsUrl,
    allowIdpInitiated,
    attributes,
    groupMatch,
    ...(decryption === null ? {} : { decryption }),
    ...(signAuthnRequests ? { signAuthnRequests: true as const } : {}),
  };
  return { sso, groupMatch };
}

/**
 * `sp_private_key_file` + `sp_cert_file`, both or neither: the key pair an IdP encrypts assertions to.
 * `null` when neither is set (EncryptedAssertion then stays refused), `undefined` after a reported problem.
 */
function readDecryptionKeys(ctx: Ctx, s: Fields): SpDecryptionKeys | null | undefined {
  const { r } = ctx;
  const keyField = s.get('sp_private_key_file');
  const certField = s.get('sp_cert_file');
  if (keyField === undefined && certField === undefined) return null;
  if (keyField === undefined || certField === undefined) {
    const [given, missing] = keyField === undefined ? ['sp_cert_file', 'sp_private_key_file'] : ['sp_private_key_file', 'sp_cert_file'];
    const field = keyField ?? certField;
    if (field !== undefined && !s.misspelt.has(missing)) {
      r.report('ERR_CONFIG_CONFLICT', field.key ?? field.value, field.path, `"${given}" needs "${missing}" too: encrypted assertions need both the SP private key and its certificate (or neither)`);
    }
    return undefined;
  }
  const keyFile = pathValue(ctx, keyField, 'a path to the PEM private key that decrypts assertions');
  const certFile = pathValue(ctx, certField, 'a path to the PEM certificate of sp_private_key_file');
  let privateKey: string | undefined;
  let cert: string | undefined;
  if (keyFile !== undefined) {
    const read = readPrivateKeyFile(keyFile.abs);
    if (read.ok) privateKey = read.value;
    else r.reportField('ERR_CONFIG_FILE', keyField, `private key file "${keyFile.given}" ${read.message}`);
  }
  if (certFile !== undefined) {
    const read = readCertificateFile(certFile.abs);
    if (read.ok) cert = read.value;
    else r.reportField('ERR_CONFIG_FILE', certField, `certificate file "${certFile.given}" ${read.message}`);
  }
  if (privateKey === undefined || cert === undefined) return undefined;
  if (!keyMatchesCertificate(privateKey, cert)) {
    r.reportField('ERR_CONFIG_CONFLICT', certField, `certificate file "${certFile?.given ?? ''}" is not the certificate of sp_private_key_file "${keyFile?.given ?? ''}" (their public keys differ)`);
    return undefined;
  }
  return { privateKey, cert };
}

/**
 * Exactly one IdP source: the development IdP, a metadata file, or the three explicit keys. Mixing
 * them would leave it unclear which certificate is trusted, so it is an error, not a precedence rule.
 */
function readIdp(ctx: Ctx, s: Fields, org: OrgContext): IdpConfig | undefined {
  const { r, env } = ctx;
  const devField = s.get('development_idp');
  const dev = devField === undefined ? SSO_DEFAULTS.developmentIdp : r.boolean(devField);
  const metaField = s.get('idp_metadata_file');
  const externalFields = EXTERNAL_IDP_KEYS.map((name) => ({ name, field: s.get(name) }));
  const presentExternal = externalFields.filter((e) => e.field !== undefined);
  const personasField = s.get('personas');

  if (dev === undefined) return undefined; // reported by r.boolean

  if (dev) {
    let ok = true;
    for (const { name, field } of [{ name: 'idp_metadata_file', field: metaField }, ...presentExternal]) {
      if (field === undefined || field.key === null) continue;
      r.report('ERR_CONFIG_CONFLICT', field.key, field.path, `"${name}" cannot be combined with development_idp: true; configure one IdP`);
      ok = false;
    }
    if (env.NODE_ENV === 'production' && devField !== undefined) {
      r.reportField('ERR_CONFIG_INSECURE', devField, 'the development IdP signs any identity; refused when NODE_ENV=production');
      ok = false;
    }
    const personas = readPersonas(ctx, personasField, org.owner);
    return ok && personas !== undefined ? { kind: 'development', personas } : undefined;
  }

  if (personasField !== undefined && personasField.key !== null) {
    r.report('ERR_CONFIG_CONFLICT', personasField.key, personasField.path, 'personas are only for the development IdP (development_idp: true)');
  }

  if (metaField !== undefined) {
    for (const { name, field } of presentExternal) {
      if (field === undefined || field.key === null) continue;
      r.report('ERR_CONFIG_CONFLICT', field.key, field.path, `"${name}" cannot be combined with idp_metadata_file, which supplies the entity id, SSO URL and certificates`);
    }
    const file = pathValue(ctx, metaField, 'a path to the IdP metadata XML file');
    if (file === undefined) return undefined;
    const meta = readIdpMetadata(file.abs);
    if (!meta.ok) {
      r.reportField('ERR_CONFIG_FILE', metaField, `IdP metadata file "${file.given}" ${meta.message}`);
      return undefined;
    }
    if (presentExternal.length > 0 || personasField !== undefined) return undefined;
    return { kind: 'external', ...meta.value };
  }

  const idpKeys = ['development_idp', 'idp_metadata_file', ...EXTERNAL_IDP_KEYS];
  if (presentExternal.length === 0) {
    // `developement_idp: true` was already reported as unknown with its correction; one issue is enough.
    if (idpKeys.some((k) => s.misspelt.has(k))) return undefined;
    r.report('ERR_CONFIG_MISSING_KEY',
      s.node,
      s.path,
      'no IdP configured: set development_idp: true, or idp_metadata_file, or idp_entity_id + idp_sso_url + idp_cert_file',
    );
    return undefined;
  }
  for (const { name, field } of externalFields) {
    if (field !== undefined || s.misspelt.has(name)) continue;
    r.report('ERR_CONFIG_MISSING_KEY',
      s.node,
      childPath(s.path, name),
      `missing required key "${name}": an external IdP needs idp_entity_id, idp_sso_url and idp_cert_file (or idp_metadata_file alone)`,
    );
  }
  const [entityField, ssoField, certField] = externalFields.map((e) => e.field);
  const entityId = entityField && identifier(r, entityField, 'the IdP entity id (Issuer)');
  const ssoUrl = ssoField && httpUrl(r, ssoField, { allowQuery: true });
  const certs = certField && readCertFiles(ctx, certField);
  if (entityId === undefined || ssoUrl === undefined || certs === undefined || personasField !== undefined) return undefined;
  return { kind: 'external', entityId, ssoUrl, certs };
}

/** One PEM file, or a list of them (key rollover: old and new certificate trusted side by side). */
function readCertFiles(ctx: Ctx, field: Field): string[] | undefined {
  const { r } = ctx;
  const items = isSeq(field.value) ? r.list(field, 'a list of PEM files') : [field];
  if (items === undefined) return undefined;
  if (items.length === 0) {
    r.reportField('ERR_CONFIG_FILE', field, 'expected at least one certificate file');
    return undefined;
  }
  const certs: string[] = [];
  let ok = true;
  for (const item of items) {
    const file = pathValue(ctx, item, 'a path to a PEM certificate file, or a list of them');
    if (file === undefined) {
      ok = false;
      continue;
    }
    const pems = readPemFile(file.abs);
    if (!pems.ok) {
      r.reportField('ERR_CONFIG_FILE', item, `certificate file "${file.given}" is ${pems.message}`);
      ok = false;
      continue;
    }
    for (const pem of pems.value) if (!certs.includes(pem)) certs.push(pem);
  }
  return ok ? certs : undefined;
}

function readAttributes(ctx: Ctx, field: Field | undefined): AttributeNames | undefined {
  const { r } = ctx;
  if (field === undefined || r.isNull(field)) return ATTRIBUTE_DEFAULTS;
  const a = r.map(field, 'the assertion attribute names', ATTRIBUTE_KEYS);
  if (a === undefined) return undefined;
  const read = (name: string, dflt: string): string | undefined => optional(a, name, dflt, (f) => r.string(f, 'an attribute name'));
  const email = read('email', ATTRIBUTE_DEFAULTS.email);
  const firstName = read('first_name', ATTRIBUTE_DEFAULTS.firstName);
  const lastName = read('last_name', ATTRIBUTE_DEFAULTS.lastName);
  const groups = read('groups', ATTRIBUTE_DEFAULTS.groups);
  if (email === undefined || firstName === undefined || lastName === undefined || groups === undefined) return undefined;
  // Reading groups from the email (or a name) attribute would grant roles from user-controlled text.
  const groupsField = a.get('groups');
  if ([email, firstName, lastName].includes(groups)) {
    const msg = `the groups attribute "${groups}" is also used for email or a name; it must be its own attribute`;
    if (groupsField !== undefined) r.reportField('ERR_CONFIG_VALUE', groupsField, msg);
    else r.report('ERR_CONFIG_VALUE', a.node, childPath(a.path, 'groups'), msg);
    return undefined;
  }
  return { email, firstName, lastName, groups };
}

function readPersonas(ctx: Ctx, field: Field | undefined, owner: string | undefined): DevPersona[] | undefined {
  const { r } = ctx;
  if (field === undefined || r.isNull(field)) return owner === undefined ? undefined : defaultPersonas({ owner });
  const items = r.list(field, 'a list of personas');
  if (items === undefined) return undefined;
  if (items.length === 0) {
    r.reportField('ERR_CONFIG_VALUE', field, 'expected at least one persona; remove the key to use the shipped defaults');
    return undefined;
  }
  const emails = new Map<string, Seen>();
  const personas = items.map((item): DevPersona | undefined => {
    const p = r.map(item, 'a persona', PERSONA_KEYS);
    if (p === undefined) return undefined;
    const emailField = r.required(p, 'email', 'the email address the persona signs in with');
    let address = emailField && email(r, emailField);
    if (emailField && address !== undefined) {
      const value = address;
      if (!unique(r, emails, value.toLowerCase(), emailField, (first) => `duplicate persona email "${value}": ${first.path} at line ${first.line} has it already`)) {
        address = undefined;
      }
    }
    const local = address?.split('@')[0] ?? '';
    const firstName = optional(p, 'first_name', local, (f) => r.string(f, 'a name'));
    const lastName = optional(p, 'last_name', '', (f) => r.string(f, 'a name'));
    const attr = optional(p, 'groups_attribute', true, (f) => r.boolean(f));
    const groupsField = p.get('groups');
    let groups: readonly string[] | null | undefined = [];
    if (groupsField !== undefined) {
      if (r.isNull(groupsField)) groups = null; // `groups: null`: the Response has no groups attribute
      else {
        const list = r.list(groupsField, 'a list of group names, or null for no groups attribute');
        const names = list?.map((g) => r.string(g, 'a group name'));
        groups = names?.every((n): n is string => n !== undefined) ? names : undefined;
      }
    }
    if (attr === false) {
      if (groupsField !== undefined && groups !== null) {
        r.reportField('ERR_CONFIG_CONFLICT', groupsField, 'groups_attribute: false means the Response has no groups attribute; remove groups');
        groups = undefined;
      } else if (groups !== undefined) groups = null;
    }
    if (address === undefined || firstName === undefined || lastName === undefined || attr === undefined || groups === undefined) {
      return undefined;
    }
    return { email: address, firstName, lastName, groups };
  });
  return personas.every((p): p is DevPersona => p !== undefined) ? personas : undefined;
}

// ---- rules ------------------------------------------------------------------------------------------------

/**
 * Group entries of one map; under case-insensitive matching, two names that fold to the same key would
 * be one group with two roles, so the second is an error naming the first.
 */
function groupEntries(ctx: Ctx, field: Field, what: string, groupMatch: GroupMatch): Entry[] | undefined {
  const { r } = ctx;
  const entries = r.entries(field, what);
  if (entries === undefined) return undefined;
  if (groupMatch !== 'case-insensitive') return entries;
  const seen = new Map<string, Entry>();
  let ok = true;
  for (const e of entries) {
    const k = groupKey(e.name, groupMatch);
    const first = seen.get(k);
    if (first === undefined) {
      seen.set(k, e);
      continue;
    }
    r.report('ERR_CONFIG_DUPLICATE',
      e.key,
      e.path,
      `group "${e.name}" differs from "${first.name}" (line ${r.position(first.key).line}) only by case, and group_match is case-insensitive; keep one`,
    );
    ok = false;
  }
  return ok ? entries : undefined;
}

function readOrgRules(ctx: Ctx, field: Field | undefined, groupMatch: GroupMatch, ownerPath: string): OrgRoleRule[] | undefined {
  const { r } = ctx;
  if (field === undefined || r.isNull(field)) return [];
  const entries = groupEntries(ctx, field, 'roles', groupMatch);
  if (entries === undefined) return undefined;
  const rules = entries.map((e): OrgRoleRule | undefined => {
    const name = r.string(e, 'a role name (Administrator, Manager, Reviewer or Annotator)');
    if (name === undefined) return undefined;
    const parsed = parseOrgRoleName(name, ownerPath);
    if (!parsed.ok) {
      r.reportField('ERR_CONFIG_ROLE', e, parsed.message);
      return undefined;
    }
    return { group: e.name, role: parsed.role, source: { line: r.position(e.key).line, path: e.path } };
  });
  return rules.every((x): x is OrgRoleRule => x !== undefined) ? rules : undefined;
}

function readProject(ctx: Ctx, item: Field, groupMatch: GroupMatch, seen: CrossChecks): ProjectConfig | undefined {
  const { r } = ctx;
  const p = r.map(item, 'a project', PROJECT_KEYS);
  if (p === undefined) return undefined;
  const idField = r.required(p, 'id', POSITIVE_ID);
  let id = idField && r.integer(idField, 1, Number.MAX_SAFE_INTEGER, POSITIVE_ID);
  if (idField && id !== undefined) {
    const value = id;
    const fresh = unique(
      r,
      seen.projectIds,
      value,
      idField,
      (first) => `duplicate project id ${value}: ${first.path} at line ${first.line} has it already (project ids are global, as in Label Studio)`,
    );
    if (!fresh) id = undefined;
  }
  const titleField = r.required(p, 'title', 'the project name');
  const title = titleField && r.string(titleField);

  const groupsField = p.get('groups');
  let rules: (ProjectRoleRule | undefined)[] | undefined = [];
  if (groupsField !== undefined && !r.isNull(groupsField)) {
    rules = groupEntries(ctx, groupsField, 'groups', groupMatch)?.map((e) => {
      const name = r.string(e, 'a project role (Reviewer, Annotator or Inherit)');
      if (name === undefined) return undefined;
      const parsed = parseProjectRoleName(name);
      if (!parsed.ok) {
        r.reportField('ERR_CONFIG_ROLE', e, parsed.message);
        return undefined;
      }
      return { group: e.name, role: parsed.role, source: { line: r.position(e.key).line, path: e.path } };
    });
  }
  if (id === undefined || title === undefined || rules === undefined || !rules.every((x): x is ProjectRoleRule => x !== undefined)) {
    return undefined;
  }
  return { id, title, rules };
}
