/** The signed-in member as the API and the profile page show them (Label Studio's whoami shape, extended). */
import type { OrganizationConfig } from '../configuration/types.js';
import type { Db } from '../db/connect.js';
import { findMembership } from '../db/memberships.js';
import { listProjectMemberships } from '../db/project-memberships.js';
import { findUser } from '../db/users.js';
import type { ActiveOrgRole, OrgRole, RoleSource } from '../domain/roles.js';
import { isActiveOrgRole } from '../domain/roles.js';

export interface WhoAmI {
  readonly id: number;
  readonly email: string;
  readonly first_name: string;
  readonly last_name: string;
  readonly organization: { readonly id: number; readonly title: string; readonly role: OrgRole; readonly role_source: RoleSource };
  readonly projects: readonly { readonly id: number; readonly title: string; readonly role: ActiveOrgRole }[];
}

/** undefined when the member no longer exists or is Deactivated: the session must end. */
export async function whoAmI(db: Db, org: OrganizationConfig, userId: number): Promise<WhoAmI | undefined> {
  const user = await findUser(db, org.id, userId);
  if (user === undefined) return undefined;
  const membership = await findMembership(db, org.id, userId);
  if (membership === undefined || membership.role === 'DI') return undefined;
  const projects = isActiveOrgRole(membership.role)
    ? (await listProjectMemberships(db, org.projects.map((p) => p.id), { userIds: [userId] })).map((pm) => ({
        id: pm.projectId,
        title: org.projects.find((p) => p.id === pm.projectId)?.title ?? `Project ${pm.projectId}`,
        role: pm.role,
      }))
    : [];
  projects.sort((a, b) => a.id - b.id);
  return {
    id: user.id,
    email: user.email,
    first_name: user.firstName,
    last_name: user.lastName,
    organization: { id: org.id, title: org.title, role: membership.role, role_source: membership.roleSource },
    projects,
  };
}
