/**
 * The member behind a session, read from the database on every forward-auth request (never cached and never
 * taken from the session), so that a demotion, a deactivation or a SCIM removal applies to the next request.
 */
import type { OrganizationConfig } from '../configuration/types.js';
import type { Db } from '../db/connect.js';
import { type CurrentMemberRow, readMemberNow, readSessionMember } from '../db/current-member.js';
import { isActiveOrgRole } from '../domain/roles.js';
import type { Identity } from './identity.js';
import type { MemberState } from './policy.js';

export interface CurrentMember {
  readonly state: MemberState;
  /** Present when the member may hold access (an active role): what the identity headers say. */
  readonly identity: Omit<Identity, 'role'> | undefined;
}

/** undefined: the user no longer exists (deleted) or has no membership in the organization. */
export async function readCurrentMember(db: Db, org: OrganizationConfig, userId: number): Promise<CurrentMember | undefined> {
  return currentMember(org, userId, await readMemberNow(db, org.id, userId));
}

/**
 * The session row of a cookie key (koa-session's data, undefined when there is none or it has expired in the
 * database) and the member its data names, both as stored now, for one forward-auth check. `member(org)`
 * gives the member in the organization the caller resolved from the data (undefined: none, or another one).
 */
export async function readSessionAndMember(
  db: Db,
  key: string,
  now: Date,
): Promise<{ readonly data: Record<string, unknown>; member(org: OrganizationConfig, userId: number): CurrentMember | undefined } | undefined> {
  const read = await readSessionMember(db, key, now);
  if (read === undefined) return undefined;
  const { data, member } = read;
  return {
    data,
    member: (org, userId) => (data['organizationId'] === org.id && data['userId'] === userId ? currentMember(org, userId, member) : undefined),
  };
}

function currentMember(org: OrganizationConfig, userId: number, member: CurrentMemberRow | undefined): CurrentMember | undefined {
  if (member === undefined) return undefined;
  if (!isActiveOrgRole(member.role)) {
    return { state: { userId, organizationId: org.id, role: member.role, projects: new Map() }, identity: undefined };
  }
  // Project roles in this organization's configured projects only.
  const configured = new Set(org.projects.map((p) => p.id));
  const projects = member.projects
    .filter((p) => configured.has(p.projectId))
    .map((p) => ({ id: p.projectId, role: p.role }))
    .sort((a, b) => a.id - b.id);
  return {
    state: { userId, organizationId: org.id, role: member.role, projects: new Map(projects.map((p) => [p.id, p.role])) },
    identity: {
      userId,
      email: member.email,
      firstName: member.firstName,
      lastName: member.lastName,
      organizationId: org.id,
      projects,
      groups: member.groups,
    },
  };
}
