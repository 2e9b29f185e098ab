/**
 * A member as stored right now, in two hot statements (db/hot.ts): what forward-auth decides from on every
 * request. Same rows as findUser + findMembership + listProjectMemberships + findMemberGroups.
 */
import type { ActiveOrgRole, OrgRole } from '../domain/roles.js';
import { isActiveOrgRole } from '../domain/roles.js';
import type { DbOrTrx } from './connect.js';
import { hotRows } from './hot.js';
import { num, orgRole, projectRole, str, stringList } from './rows.js';

export interface CurrentMemberRow {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly role: OrgRole;
  /** Every project role the member holds (any project id: the caller keeps its organization's), by project id. */
  readonly projects: ReadonlyArray<{ readonly projectId: number; readonly role: ActiveOrgRole }>;
  /** The groups the IdP last asserted (empty when never known); read only for an active role. */
  readonly groups: readonly string[];
}

const MEMBER = `select u.email, u.first_name, u.last_name, m.role
from users u join memberships m on m.user_id = u.id and m.organization_id = u.organization_id
where u.organization_id = ? and u.id = ? and u.is_deleted = ?`;

const ACCESS = `select 'p' as kind, project_id, role, null as groups from project_memberships where user_id = ?
union all
select 'g' as kind, null, null, groups from member_groups where user_id = ?`;

/**
 * undefined: no live user with this id in the organization, or no membership. Project roles and groups
 * are read only when the organization role is active (they grant nothing otherwise).
 */
export async function readMemberNow(db: DbOrTrx, organizationId: number, userId: number): Promise<CurrentMemberRow | undefined> {
  const row = (await hotRows(db, MEMBER, [organizationId, userId, false]))[0];
  if (row === undefined) return undefined;
  const role = orgRole(row['role']);
  const projects: Array<{ projectId: number; role: ActiveOrgRole }> = [];
  let groups: readonly string[] = [];
  if (isActiveOrgRole(role)) {
    for (const r of await hotRows(db, ACCESS, [userId, userId])) {
      if (r['kind'] === 'p') projects.push({ projectId: num(r['project_id']), role: projectRole(r['role']) });
      else groups = stringList(r['groups']) ?? [];
    }
  }
  return { email: str(row['email']), firstName: str(row['first_name']), lastName: str(row['last_name']), role, projects, groups };
}
