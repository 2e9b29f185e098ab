/**
 * The error model. Every failure a caller can see has a stable code from this closed union; tests and
 * callers switch on `code`, never on English. `status` and `expose` follow koa's contract so that even an
 * error escaping our own handler degrades safely (koa only shows the message when `expose` is true).
 */
export const ERROR_STATUS = {
  // configuration
  ERR_CONFIG_INVALID: 500,
  // SAML: the message itself
  ERR_SAML_MALFORMED: 400,
  ERR_SAML_TOO_LARGE: 413,
  ERR_SAML_SIGNATURE: 401,
  ERR_SAML_ALGORITHM: 401,
  ERR_SAML_ISSUER: 401,
  ERR_SAML_AUDIENCE: 401,
  ERR_SAML_DESTINATION: 401,
  ERR_SAML_RECIPIENT: 401,
  ERR_SAML_SUBJECT_CONFIRMATION: 401,
  ERR_SAML_STATUS: 401,
  ERR_SAML_EXPIRED: 401,
  ERR_SAML_IN_RESPONSE_TO: 401,
  ERR_SAML_UNSOLICITED: 401,
  ERR_SAML_REPLAY: 401,
  ERR_SAML_ATTRIBUTES: 401,
  ERR_SAML_ENCRYPTED: 401,
  // SAML: the outcome for the person
  ERR_ACCESS_REVOKED: 403,
  // HTTP surface
  ERR_UNAUTHENTICATED: 401,
  ERR_FORBIDDEN: 403,
  ERR_NOT_FOUND: 404,
  ERR_BAD_REQUEST: 400,
  ERR_PAYLOAD_TOO_LARGE: 413,
  // a known path with a method it does not serve (Allow lists those it does); a method no route serves
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_NOT_IMPLEMENTED: 501,
  // too many requests on /saml/* from one address or for one organization
  ERR_RATE_LIMITED: 429,
  ERR_DEV_IDP_DISABLED: 404,
  ERR_UNAVAILABLE: 503,
  ERR_INTERNAL: 500,
  // admin surface. Refusals answer 400/403/405 as Label Studio does, never 409: Label Studio's SDK retries
  // 408, 409, 429 and 5xx, so a refusal sent as 409 would be re-sent twice and take seconds to fail.
  ERR_CSRF: 403,
  ERR_INVALID_ROLE: 400,
  ERR_ROLE_MANAGED_BY_IDP: 403,
  // a hand change of the organization role of a member SCIM deactivated (active: false): the IdP reactivates
  ERR_DEACTIVATED_BY_IDP: 403,
  ERR_LAST_ADMIN: 400,
  ERR_MEMBER_EXISTS: 400,
  ERR_MEMBER_INACTIVE: 400,
  // Label Studio compatibility: a query parameter the route does not apply (never an unfiltered answer),
  // deleting oneself (Label Studio's 405 "User cannot soft delete self"), and `role: OW` without the
  // confirmation that it transfers ownership.
  ERR_UNKNOWN_PARAMETER: 400,
  ERR_CANNOT_DELETE_SELF: 405,
  ERR_TRANSFER_NOT_CONFIRMED: 400,
  // SCIM 2.0 provisioning: each maps to RFC 7644 §3.12's scimType of the same name (src/scim/errors.ts)
  ERR_SCIM_INVALID_SYNTAX: 400,
  ERR_SCIM_INVALID_VALUE: 400,
  ERR_SCIM_INVALID_FILTER: 400,
  ERR_SCIM_INVALID_PATH: 400,
  ERR_SCIM_NO_TARGET: 400,
  ERR_SCIM_MUTABILITY: 400,
  ERR_SCIM_UNIQUENESS: 409,
  // a push refused by a guard (mass demotion, Owner, last administrator): nothing changed
  ERR_SCIM_GUARD: 409,
  // forward-auth: always 403, since nginx's auth_request turns anything but 2xx/401/403 into a 500
  ERR_FORWARD_AUTH_UNTRUSTED_PEER: 403,
  ERR_FORWARD_AUTH_REQUEST: 403,
  ERR_FORWARD_AUTH_UNKNOWN_UPSTREAM: 403,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}

export class RolegateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Whether `message` may be shown to the client. Internals (ERR_INTERNAL) never are. */
  readonly expose: boolean;
  /** Per-field messages (a request parameter or body field → what is wrong with it), shown to API clients. */
  readonly fields: Readonly<Record<string, readonly string[]>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; fields?: Record<string, readonly string[]> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RolegateError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.expose = code !== 'ERR_INTERNAL' && code !== 'ERR_CONFIG_INVALID';
    this.fields = options?.fields;
  }
}

/**
 * What kind of mistake a configuration issue is: a closed set, stable across rewordings of the message, so
 * tools and tests can tell them apart without reading English.
 */
export const CONFIG_ISSUE_CODES = [
  /** Not YAML rolegate can read: syntax, tabs, duplicate keys, aliases, non-string keys. */
  'ERR_CONFIG_YAML',
  /** A `${VAR}` reference to an unset variable, or a malformed one. */
  'ERR_CONFIG_ENV',
  /** A key the schema does not have (a misspelt group key is a security bug). */
  'ERR_CONFIG_UNKNOWN_KEY',
  /** A required key is absent. */
  'ERR_CONFIG_MISSING_KEY',
  /** A value of the wrong kind (a list where a map belongs, a number read where a name was meant). */
  'ERR_CONFIG_TYPE',
  /** A value of the right kind but not acceptable (out of range, not a URL, not an email, empty). */
  'ERR_CONFIG_VALUE',
  /** Something that must be unique is not (organization or project ids, groups, owners). */
  'ERR_CONFIG_DUPLICATE',
  /** A role name the mapping does not have (or Owner, which only `owner:` grants). */
  'ERR_CONFIG_ROLE',
  /** A referenced file (certificate, key, IdP metadata) is missing or not what it must be. */
  'ERR_CONFIG_FILE',
  /** Keys that cannot be combined, or one that needs another. */
  'ERR_CONFIG_CONFLICT',
  /** Refused because it is unsafe: a short secret, the development IdP in production. */
  'ERR_CONFIG_INSECURE',
] as const;
export type ConfigIssueCode = (typeof CONFIG_ISSUE_CODES)[number];

/** One problem in a configuration file, positioned for a human: `file:line:col path: message`. */
export interface ConfigIssue {
  code: ConfigIssueCode;
  file: string;
  line: number;
  col: number;
  /** e.g. `organizations[0].roles.LS-Admins` */
  path: string;
  message: string;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.col} ${issue.path || '(root)'}: ${issue.message}`;
}

export class ConfigError extends RolegateError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super('ERR_CONFIG_INVALID', `invalid configuration:\n${issues.map(formatConfigIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
