/**
 * The member behind a session, read from the database on every forward-auth request (never cached and never
 * taken from the session), so that a demotion, a deactivation or a SCIM removal applies to the next request.
 */
import type { OrganizationConfig } from '../configuration/types.js';
import type { Db } from '../db/connect.js';
import { findMemberGroups } from '../db/member-groups.js';
import { findMembership } from '../db/memberships.js';
import { listProjectMemberships } from '../db/project-memberships.js';
import { findUser } from '../db/users.js';
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
  const user = await findUser(db, org.id, userId);
  if (user === undefined) return undefined;
  const membership = await findMembership(db, org.id, userId);
  if (membership === undefined) return undefined;
  if (!isActiveOrgRole(membership.role)) {
    return { state: { userId, organizationId: org.id, role: membership.role, projects: new Map() }, identity: undefined };
  }
  const [projectRows, groups] = await Promise.all([
    listProjectMemberships(db, org.projects.map((p) => p.id), { userIds: [userId] }),
    findMemberGroups(db, userId),
  ]);
  const projects = projectRows.map((p) => ({ id: p.projectId, role: p.role })).sort((a, b) => a.id - b.id);
  return {
    state: { userId, organizationId: org.id, role: membership.role, projects: new Map(projects.map((p) => [p.id, p.role])) },
    identity: {
      userId,
      email: user.email,
      firstName: user.firstName,
      lastName: user.lastName,
      organizationId: org.id,
      projects,
      groups: groups?.groups ?? [],
    },
  };
}
