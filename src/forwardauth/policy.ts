/**
 * The forward-auth decision: (configuration, the original request, the member as stored now) → allow, or
 * deny with a code. Pure: no I/O, no clock. The order of the checks reads top to bottom in `decide`.
 */
import type { ForwardAuthConfig, ForwardAuthRule, UpstreamConfig } from '../configuration/types.js';
import type { ActiveOrgRole, OrgRole } from '../domain/roles.js';
import { compareOrgRoles, isActiveOrgRole } from '../domain/roles.js';
import type { ErrorCode } from '../errors.js';
import type { OriginalRequest } from './request.js';

/** The member as stored at the moment of the request (never as it was when the session began). */
export interface MemberState {
  readonly userId: number;
  readonly organizationId: number;
  readonly role: OrgRole;
  /** project id → role there */
  readonly projects: ReadonlyMap<number, ActiveOrgRole>;
}

export type Decision =
  | { readonly allow: true; readonly upstream: UpstreamConfig; readonly rules: readonly ForwardAuthRule[]; readonly role: ActiveOrgRole }
  | {
      readonly allow: false;
      readonly code: ErrorCode;
      readonly reason: string;
      /** The person must (re)sign in: 401 / redirect. Otherwise the answer is 403. */
      readonly signIn: boolean;
      readonly upstream?: UpstreamConfig;
    };

export function findUpstream(config: ForwardAuthConfig, origin: string): UpstreamConfig | undefined {
  return config.upstreams.find((u) => u.origin === origin);
}

/** Whether `prefix` covers `path` on whole segments: `/admin` covers `/admin` and `/admin/x`, not `/administrator`. */
function covers(prefix: string, path: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

function longest(rules: readonly ForwardAuthRule[], path: string, fold: boolean): ForwardAuthRule | undefined {
  const p = fold ? path.toLowerCase() : path;
  let best: ForwardAuthRule | undefined;
  for (const rule of rules) {
    const prefix = fold ? rule.path.toLowerCase() : rule.path;
    if (covers(prefix, p) && (best === undefined || rule.path.length > best.path.length)) best = rule;
  }
  return best;
}

/**
 * The rules a path falls under. Upstreams read paths differently (case-insensitive file systems; servers that
 * drop `;params` from segments), so the longest matching prefix is taken under each reading and every one
 * found must be satisfied: no reading can pick a laxer rule than another. Empty = no rule covers the path.
 */
export function rulesFor(upstream: UpstreamConfig, path: string): ForwardAuthRule[] {
  const stripped = path
    .split('/')
    .map((s) => (s.includes(';') ? s.slice(0, s.indexOf(';')) : s))
    .join('/');
  const found = new Set<ForwardAuthRule>();
  for (const candidate of new Set([path, stripped])) {
    for (const fold of [false, true]) {
      const rule = longest(upstream.rules, candidate, fold);
      if (rule === undefined) return [];
      found.add(rule);
    }
  }
  return [...found];
}

function satisfies(rule: ForwardAuthRule, member: MemberState, role: ActiveOrgRole): boolean {
  if (rule.kind === 'organization') return compareOrgRoles(role, rule.minRole) >= 0;
  const projectRole = member.projects.get(rule.projectId);
  // A project role is an organization role code (Label Studio's ProjectRole.role): one precedence for both.
  return projectRole !== undefined && compareOrgRoles(projectRole, rule.minProjectRole) >= 0;
}

/** `member` undefined: no session, or its member no longer exists. */
export function decide(config: ForwardAuthConfig, request: OriginalRequest, member: MemberState | undefined): Decision {
  // 1. Only a configured upstream selects a policy: an unknown host is denied, whoever asks.
  const upstream = findUpstream(config, request.origin);
  if (upstream === undefined) return { allow: false, code: 'ERR_FORWARD_AUTH_UNKNOWN_UPSTREAM', reason: `no upstream ${request.origin}`, signIn: false };
  // 2. A path no rule covers is denied (deny by default), before asking anyone to sign in.
  const rules = rulesFor(upstream, request.path);
  if (rules.length === 0) return { allow: false, code: 'ERR_FORBIDDEN', reason: 'no rule covers this path', signIn: false, upstream };
  // 3. Signed in, as a member of the upstream's organization.
  if (member === undefined) return { allow: false, code: 'ERR_UNAUTHENTICATED', reason: 'not signed in', signIn: true, upstream };
  if (member.organizationId !== upstream.organizationId) {
    return { allow: false, code: 'ERR_UNAUTHENTICATED', reason: "signed in to another organization than the upstream's", signIn: true, upstream };
  }
  // 4. Deactivated and Not Activated never pass, whatever a rule says.
  const role = member.role;
  if (role === 'DI') return { allow: false, code: 'ERR_ACCESS_REVOKED', reason: 'the member is deactivated', signIn: false, upstream };
  if (!isActiveOrgRole(role)) return { allow: false, code: 'ERR_FORBIDDEN', reason: 'the member is not activated', signIn: false, upstream };
  // 5. Every rule the path falls under.
  for (const rule of rules) {
    if (!satisfies(rule, member, role)) {
      const needs = rule.kind === 'organization' ? `organization role ${rule.minRole} or higher` : `role ${rule.minProjectRole} or higher in project ${rule.projectId}`;
      return { allow: false, code: 'ERR_FORBIDDEN', reason: `${rule.path} needs ${needs}`, signIn: false, upstream };
    }
  }
  return { allow: true, upstream, rules, role };
}
