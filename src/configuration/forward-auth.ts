/**
 * `forward_auth:`: which reverse proxies may ask, what each upstream requires, and the keys that sign
 * X-Rolegate-Assertion. Read with the same Reader as the rest of the file (closed key sets, positions, every
 * issue at once); defaults are in FORWARD_AUTH_DEFAULTS below.
 */
import { type KeyObject, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { ACTIVE_ORG_ROLES, type ActiveOrgRole, ORG_ROLE_NAMES } from '../domain/roles.js';
import { errorReason } from './certs.js';
import type { Field, Fields, Reader } from './reader.js';
import { didYouMean, oneOf } from './suggest.js';
import type { ForwardAuthConfig, ForwardAuthRule, IpRange, OrganizationConfig, UpstreamConfig } from './types.js';

export const FORWARD_AUTH_DEFAULTS = {
  /** rw for rolegate's user and group: put the proxy's user in that group (or the socket in a private folder). */
  socketMode: 0o660,
  /**
   * 30 s: long enough for an upstream to verify the assertion of the request it is serving (and for clocks a
   * few seconds apart), short enough that a copied assertion is worthless almost at once. Never above 60 s.
   */
  assertionTtlSeconds: 30,
} as const;

export const FORWARD_AUTH_LIMITS = {
  assertionTtlSeconds: { min: 1, max: 60 },
  /** RSA keys shorter than this are refused for signing (NIST SP 800-131A). */
  rsaMinBits: 2048,
} as const;

const KEYS = ['trusted_proxies', 'socket', 'socket_mode', 'assertion_ttl_seconds', 'signing_key_files', 'upstreams', 'cookie_domain'] as const;
const UPSTREAM_KEYS = ['origin', 'organization', 'rules'] as const;
const RULE_KEYS = ['path', 'min_role', 'project', 'min_project_role'] as const;

/** Role names a rule may require, highest first (Owner included: a path only the Owner may reach). */
const ROLE_NAMES: readonly string[] = ACTIVE_ORG_ROLES.map((code) => ORG_ROLE_NAMES[code]);

/**
 * The JWS algorithm a signing key is used with, or why it cannot sign. One algorithm per key type, so a key
 * never signs under two algorithms (and the JWKS names the one it is used with).
 */
export function jwsAlgorithmOf(key: KeyObject): { ok: true; alg: 'ES256' | 'ES384' | 'RS256' | 'EdDSA' } | { ok: false; message: string } {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { ok: true, alg: 'ES256' };
    if (curve === 'secp384r1') return { ok: true, alg: 'ES384' };
    return { ok: false, message: `holds an EC key on curve ${curve ?? 'unknown'}; use P-256 or P-384` };
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < FORWARD_AUTH_LIMITS.rsaMinBits) return { ok: false, message: `holds a ${bits}-bit RSA key; at least ${FORWARD_AUTH_LIMITS.rsaMinBits} bits` };
    return { ok: true, alg: 'RS256' };
  }
  if (type === 'ed25519') return { ok: true, alg: 'EdDSA' };
  return { ok: false, message: `holds a ${type ?? 'unknown'} key; use EC P-256 (recommended), P-384, RSA or Ed25519` };
}

function optional<T>(fields: Fields, name: string, dflt: T, read: (f: Field) => T | undefined): T | undefined {
  const field = fields.get(name);
  return field === undefined ? dflt : read(field);
}

/** `forward_auth:`; null when absent (then no forward-auth route exists). */
export function readForwardAuth(
  r: Reader,
  cwd: string,
  field: Field | undefined,
  organizations: readonly OrganizationConfig[] | undefined,
  publicUrl: string | undefined,
): ForwardAuthConfig | null | undefined {
  if (field === undefined || r.isNull(field)) return null;
  const f = r.map(field, 'the forward-auth settings (trusted_proxies, upstreams, …)', KEYS);
  if (f === undefined) return undefined;

  const socket = readSocket(r, cwd, f);
  // With a socket, the proxy may ask there only: trusted_proxies may then be left out (or empty).
  const withSocket = socket !== undefined && socket !== null;
  const proxiesField = withSocket ? f.get('trusted_proxies') : r.required(f, 'trusted_proxies', 'the addresses or networks of the proxies that ask, e.g. [127.0.0.1, 10.0.0.0/8], or a socket');
  const trustedProxies = proxiesField === undefined ? [] : readProxies(r, proxiesField, withSocket);
  const ttl = FORWARD_AUTH_LIMITS.assertionTtlSeconds;
  const assertionTtlSeconds = optional(f, 'assertion_ttl_seconds', FORWARD_AUTH_DEFAULTS.assertionTtlSeconds, (x) =>
    r.integer(x, ttl.min, ttl.max, `an integer number of seconds from ${ttl.min} to ${ttl.max}`),
  );
  const keysField = f.get('signing_key_files');
  const signingKeys = keysField === undefined ? [] : readSigningKeys(r, cwd, keysField);
  const upstreamsField = r.required(f, 'upstreams', 'a list of upstream origins with their rules');
  const domainField = f.get('cookie_domain');
  // Without cookie_domain the session cookie is rolegate's host's only: every upstream must be on that host.
  const hostOnly = domainField === undefined || r.isNull(domainField) ? publicHost(publicUrl) : undefined;
  const upstreams = upstreamsField && readUpstreams(r, upstreamsField, organizations, hostOnly);
  const cookieDomain = domainField === undefined || r.isNull(domainField) ? null : readCookieDomain(r, domainField, publicUrl, upstreams);
  if (trustedProxies === undefined || socket === undefined || assertionTtlSeconds === undefined || signingKeys === undefined || upstreams === undefined || cookieDomain === undefined) {
    return undefined;
  }
  return { trustedProxies, socket, assertionTtlSeconds, signingKeys, upstreams, cookieDomain };
}

/**
 * `socket` (a path; relative to the working directory, as every path in the file) and `socket_mode` (octal text, "0660" by
 * default). A mode that lets other users connect would let any local process ask as the proxy: refused.
 */
function readSocket(r: Reader, cwd: string, f: Fields): { path: string; mode: number } | null | undefined {
  const pathField = f.get('socket');
  const modeField = f.get('socket_mode');
  if (pathField === undefined || r.isNull(pathField)) {
    if (modeField !== undefined) {
      r.reportField('ERR_CONFIG_CONFLICT', modeField, 'socket_mode without socket: set forward_auth.socket to the socket file the proxy connects to');
      return undefined;
    }
    return null;
  }
  const given = r.string(pathField, 'the path of a Unix socket file, e.g. /run/rolegate/forward-auth.sock');
  if (given === undefined) return undefined;
  const path = resolve(cwd, given);
  // sockaddr_un holds 108 bytes on Linux (104 on macOS), the terminating NUL included.
  if (Buffer.byteLength(path) > 103) {
    r.reportField('ERR_CONFIG_VALUE', pathField, `the socket path ${path} is ${Buffer.byteLength(path)} bytes long; Unix sockets allow at most 103`);
    return undefined;
  }
  if (modeField === undefined) return { path, mode: FORWARD_AUTH_DEFAULTS.socketMode };
  const text = r.string(modeField, 'an octal file mode in quotes, e.g. "0660"');
  if (text === undefined) return undefined;
  if (!/^0?[0-7]{3}$/.test(text.trim())) {
    r.reportField('ERR_CONFIG_VALUE', modeField, `expected an octal file mode in quotes such as "0660", got "${text}"`);
    return undefined;
  }
  const mode = Number.parseInt(text.trim(), 8);
  if ((mode & 0o002) !== 0) {
    r.reportField('ERR_CONFIG_INSECURE', modeField, `socket_mode "${text}" lets every local user connect and ask as the proxy; use "0660" and put the proxy's user in rolegate's group`);
    return undefined;
  }
  if ((mode & 0o200) === 0) {
    r.reportField('ERR_CONFIG_VALUE', modeField, `socket_mode "${text}" leaves the owner without write permission; connecting to a socket needs it`);
    return undefined;
  }
  return { path, mode };
}

function publicHost(publicUrl: string | undefined): string | undefined {
  if (publicUrl === undefined) return undefined;
  try {
    return new URL(publicUrl).hostname;
  } catch {
    return undefined;
  }
}

function within(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/** A DNS name that rolegate's host and every upstream's host are inside (a cookie reaches only those). */
function readCookieDomain(r: Reader, field: Field, publicUrl: string | undefined, upstreams: readonly UpstreamConfig[] | undefined): string | undefined {
  const value = r.string(field, 'a domain name such as example.com');
  if (value === undefined) return undefined;
  const domain = value.trim().toLowerCase().replace(/^\./, '');
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain)) {
    r.reportField('ERR_CONFIG_VALUE', field, `expected a domain name with at least two labels (example.com), got "${value}"; cookies have no domain on IP addresses`);
    return undefined;
  }
  const outside: string[] = [];
  if (publicUrl !== undefined && !within(new URL(publicUrl).hostname, domain)) outside.push(`server.public_url (${new URL(publicUrl).hostname})`);
  for (const u of upstreams ?? []) if (!within(new URL(u.origin).hostname, domain)) outside.push(u.origin);
  if (outside.length > 0) {
    r.reportField('ERR_CONFIG_VALUE', field, `cookie_domain "${domain}" does not cover ${outside.join(', ')}: the session cookie would never reach ${outside.length === 1 ? 'it' : 'them'}`);
    return undefined;
  }
  return domain;
}

/** `10.0.0.0/8`, `192.168.1.7`, `::1`, `fd00::/8`. Host names are refused: the check is on the TCP peer's address. */
export function parseIpRange(value: string): IpRange | string {
  const [address = '', prefixText, extra] = value.trim().split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return `expected an IP address or a network in CIDR form (10.0.0.0/8, ::1), got "${value}"`;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return `expected a prefix length from 0 to ${max} after "/", got "${value}"`;
  return { address, prefix: Number(prefixText), family };
}

function readProxies(r: Reader, field: Field, withSocket: boolean): IpRange[] | undefined {
  const items = r.list(field, 'a list of IP addresses or networks');
  if (items === undefined) return undefined;
  if (items.length === 0 && !withSocket) {
    r.reportField('ERR_CONFIG_VALUE', field, 'expected at least one proxy address (or a socket); without one every forward-auth request is refused');
    return undefined;
  }
  const out: IpRange[] = [];
  let ok = true;
  for (const item of items) {
    const text = r.string(item, 'an IP address or network');
    const parsed = text === undefined ? undefined : parseIpRange(text);
    if (typeof parsed === 'string') r.reportField('ERR_CONFIG_VALUE', item, parsed);
    if (parsed === undefined || typeof parsed === 'string') ok = false;
    else out.push(parsed);
  }
  return ok ? out : undefined;
}

function readSigningKeys(r: Reader, cwd: string, field: Field): string[] | undefined {
  const items = r.list(field, 'a list of PEM private key files (the first signs; all are published for verification)');
  if (items === undefined) return undefined;
  if (items.length === 0) {
    r.reportField('ERR_CONFIG_FILE', field, 'expected at least one key file; remove the key to have one generated under server.data_dir');
    return undefined;
  }
  const keys: string[] = [];
  let ok = true;
  for (const item of items) {
    const given = r.string(item, 'a path to a PEM private key file');
    if (given === undefined) {
      ok = false;
      continue;
    }
    let pem: string;
    try {
      pem = readFileSync(resolve(cwd, given), 'utf8');
    } catch (err) {
      r.reportField('ERR_CONFIG_FILE', item, `signing key file "${given}" cannot be read (${errorReason(err)})`);
      ok = false;
      continue;
    }
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (err) {
      r.reportField('ERR_CONFIG_FILE', item, `signing key file "${given}" does not hold an unencrypted PEM private key (${errorReason(err)})`);
      ok = false;
      continue;
    }
    const alg = jwsAlgorithmOf(key);
    if (!alg.ok) {
      r.reportField('ERR_CONFIG_FILE', item, `signing key file "${given}" ${alg.message}`);
      ok = false;
      continue;
    }
    keys.push(pem);
  }
  return ok ? keys : undefined;
}

/**
 * `hostOnly`: rolegate's host when no cookie_domain is set. A browser sends a host-only cookie to that host
 * alone (any port), so an upstream elsewhere would never see the session and every sign-in would loop.
 */
function readUpstreams(r: Reader, field: Field, organizations: readonly OrganizationConfig[] | undefined, hostOnly: string | undefined): UpstreamConfig[] | undefined {
  const items = r.list(field, 'a list of upstreams');
  if (items === undefined) return undefined;
  if (items.length === 0) {
    r.reportField('ERR_CONFIG_VALUE', field, 'expected at least one upstream');
    return undefined;
  }
  const origins = new Map<string, number>();
  const out = items.map((item): UpstreamConfig | undefined => {
    const u = r.map(item, 'an upstream (origin, organization, rules)', UPSTREAM_KEYS);
    if (u === undefined) return undefined;
    const originField = r.required(u, 'origin', 'the exact origin browsers use for the upstream, e.g. https://app.example.com');
    let origin = originField && readOrigin(r, originField);
    if (originField && origin !== undefined) {
      const first = origins.get(origin.origin);
      if (first !== undefined) {
        r.reportField('ERR_CONFIG_DUPLICATE', originField, `duplicate origin ${origin.origin}: the upstream at line ${first} has it already`);
        origin = undefined;
      } else origins.set(origin.origin, r.position(r.anchor(originField)).line);
    }
    if (originField && origin !== undefined && hostOnly !== undefined && new URL(origin.origin).hostname !== hostOnly) {
      r.reportField(
        'ERR_CONFIG_VALUE',
        originField,
        `${origin.origin} is not on rolegate's host (${hostOnly}, from server.public_url) and forward_auth.cookie_domain is not set: browsers would never send the session cookie there, so every sign-in would loop back to sign-in; set cookie_domain to a domain covering both hosts, or serve the application on ${hostOnly}`,
      );
      origin = undefined;
    }
    const orgField = r.required(u, 'organization', 'the id of the organization whose members may reach it');
    let organizationId = orgField && r.integer(orgField, 1, Number.MAX_SAFE_INTEGER, 'an organization id');
    const org = organizations?.find((o) => o.id === organizationId);
    if (orgField && organizationId !== undefined && organizations !== undefined && org === undefined) {
      r.reportField('ERR_CONFIG_VALUE', orgField, `no organization has id ${organizationId} (configured: ${oneOf(organizations.map((o) => String(o.id)))})`);
      organizationId = undefined;
    }
    const rulesField = r.required(u, 'rules', 'a list of path prefixes with the role each requires');
    const rules = rulesField && readRules(r, rulesField, org, organizations === undefined);
    if (origin === undefined || organizationId === undefined || rules === undefined) return undefined;
    return { origin: origin.origin, host: origin.host, organizationId, rules };
  });
  return out.every((x): x is UpstreamConfig => x !== undefined) ? out : undefined;
}

function readOrigin(r: Reader, field: Field): { origin: string; host: string } | undefined {
  const value = r.string(field, 'an origin such as https://app.example.com');
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    r.reportField('ERR_CONFIG_VALUE', field, `expected an origin such as https://app.example.com, got "${value}"`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    r.reportField('ERR_CONFIG_VALUE', field, `expected an http or https origin, got scheme "${url.protocol}"`);
    return undefined;
  }
  // An origin is scheme, host and port only: a path here would suggest a rule it does not make.
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || value.includes('?') || value.includes('#')) {
    r.reportField('ERR_CONFIG_VALUE', field, `expected an origin (scheme://host[:port], no path, query or user), got "${value}"; paths go in rules`);
    return undefined;
  }
  return { origin: url.origin, host: url.host };
}

/**
 * A path prefix as written: starts with `/`, no `.`/`..` segments, no `//`, no `%`, query or fragment,
 * no spaces. A trailing `/` is dropped (`/admin/` and `/admin` are one prefix: it matches whole segments).
 */
export function parsePathPrefix(value: string): string | { error: string } {
  if (!value.startsWith('/')) return { error: `a path prefix starts with "/", got "${value}"` };
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f%?#\\]/.test(value)) return { error: `a path prefix is a plain path without spaces, %-escapes, ?, # or \\, got "${value}"` };
  const trimmed = value.length > 1 ? value.replace(/\/+$/, '') : value;
  const segments = trimmed.split('/').slice(1);
  if (trimmed !== '/' && segments.some((s) => s === '' || s === '.' || s === '..')) return { error: `a path prefix has no empty, "." or ".." segments, got "${value}"` };
  return trimmed === '' ? '/' : trimmed;
}

function readRules(r: Reader, field: Field, org: OrganizationConfig | undefined, orgsBroken: boolean): ForwardAuthRule[] | undefined {
  const items = r.list(field, 'a list of rules (path, and min_role or project + min_project_role)');
  if (items === undefined) return undefined;
  if (items.length === 0) {
    r.reportField('ERR_CONFIG_VALUE', field, 'expected at least one rule; a path no rule covers is denied, so an upstream without rules serves nobody');
    return undefined;
  }
  const paths = new Map<string, number>();
  const out = items.map((item): ForwardAuthRule | undefined => {
    const m = r.map(item, 'a rule (path, and min_role or project + min_project_role)', RULE_KEYS);
    if (m === undefined) return undefined;
    const pathField = r.required(m, 'path', 'the path prefix the rule covers, e.g. / or /admin');
    const pathText = pathField && r.string(pathField, 'a path prefix');
    let path: string | undefined;
    if (pathField && pathText !== undefined) {
      const parsed = parsePathPrefix(pathText);
      if (typeof parsed !== 'string') r.reportField('ERR_CONFIG_VALUE', pathField, parsed.error);
      else {
        const first = paths.get(parsed);
        if (first !== undefined) r.reportField('ERR_CONFIG_DUPLICATE', pathField, `duplicate path ${parsed}: the rule at line ${first} covers it already`);
        else {
          paths.set(parsed, r.position(r.anchor(pathField)).line);
          path = parsed;
        }
      }
    }
    const source = { line: r.position(item.value).line, path: item.path };
    const roleField = m.get('min_role');
    const projectField = m.get('project');
    const projectRoleField = m.get('min_project_role');
    if (roleField !== undefined && (projectField !== undefined || projectRoleField !== undefined)) {
      const other = projectField ?? projectRoleField;
      r.report('ERR_CONFIG_CONFLICT', other?.key ?? m.node, other?.path ?? m.path, 'a rule requires either min_role, or project + min_project_role, not both');
      return undefined;
    }
    if (roleField !== undefined) {
      const minRole = readRole(r, roleField);
      return path === undefined || minRole === undefined ? undefined : { path, kind: 'organization', minRole, source };
    }
    if (projectField === undefined && projectRoleField === undefined) {
      if (!m.misspelt.has('min_role') && !m.misspelt.has('project') && !m.misspelt.has('min_project_role')) {
        r.report('ERR_CONFIG_CONFLICT', m.node, m.path, 'a rule needs min_role (an organization role), or project + min_project_role');
      }
      return undefined;
    }
    if (projectField === undefined || projectRoleField === undefined) {
      const given = projectField ?? projectRoleField;
      const missing = projectField === undefined ? 'project' : 'min_project_role';
      if (!m.misspelt.has(missing)) r.report('ERR_CONFIG_CONFLICT', given?.key ?? m.node, given?.path ?? m.path, `"${given === projectField ? 'project' : 'min_project_role'}" needs "${missing}" too`);
      return undefined;
    }
    let projectId = r.integer(projectField, 1, Number.MAX_SAFE_INTEGER, 'a project id');
    if (projectId !== undefined && org !== undefined && !org.projects.some((p) => p.id === projectId)) {
      const ids = org.projects.map((p) => String(p.id));
      r.reportField('ERR_CONFIG_VALUE', projectField, `organization ${org.id} has no project ${projectId}${ids.length === 0 ? ' (it has no projects)' : ` (its projects: ${oneOf(ids)})`}`);
      projectId = undefined;
    }
    if (org === undefined && !orgsBroken) projectId = undefined; // the upstream's organization was reported
    const minProjectRole = readRole(r, projectRoleField);
    return path === undefined || projectId === undefined || minProjectRole === undefined
      ? undefined
      : { path, kind: 'project', projectId, minProjectRole, source };
  });
  return out.every((x): x is ForwardAuthRule => x !== undefined) ? out : undefined;
}

function readRole(r: Reader, field: Field): ActiveOrgRole | undefined {
  const name = r.string(field, 'a role name');
  if (name === undefined) return undefined;
  const code = ACTIVE_ORG_ROLES.find((c) => ORG_ROLE_NAMES[c] === name);
  if (code !== undefined) return code;
  const states = [ORG_ROLE_NAMES.NO, ORG_ROLE_NAMES.DI];
  const why = states.includes(name) ? `; ${name} is a state, never a way in (it is always denied)` : didYouMean(name, ROLE_NAMES);
  r.reportField('ERR_CONFIG_ROLE', field, `unknown role "${name}"; expected ${oneOf(ROLE_NAMES.map((n) => `"${n}"`))}${why}`);
  return undefined;
}
