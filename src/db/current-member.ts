/**
 * A member as stored right now, in two hot statements (db/hot.ts): what forward-auth decides from on every
 * request. Same rows as findUser + findMembership + listProjectMemberships + findMemberGroups. With the
 * session row, one statement (readSessionMember).
 */
import type { ActiveOrgRole, OrgRole } from '../domain/roles.js';
import { isActiveOrgRole } from '../domain/roles.js';
import type { DbOrTrx } from './connect.js';
import { hotRows } from './hot.js';
import { hashKey } from './sessions.js';
import { databaseKind, num, orgRole, projectRole, str, stringList } from './rows.js';

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

/**
 * The session row of a cookie key and the member it names, as stored now, in one statement: the member
 * through the row's user_id/organization_id columns (written with the data by storeSession), used only when
 * those columns agree with the data's userId/organizationId; otherwise the member is read by the data's ids
 * (readMemberNow). `member` is undefined when the data names no member or none exists.
 */
export async function readSessionMember(
  db: DbOrTrx,
  key: string,
  now: Date,
): Promise<{ readonly data: Record<string, unknown>; readonly member: CurrentMemberRow | undefined } | undefined> {
  const sql = databaseKind(db) === 'postgres' ? SESSION_MEMBER_PG : SESSION_MEMBER_SQLITE;
  const row = (await hotRows(db, sql, [false, hashKey(key), now]))[0];
  if (row === undefined || typeof row['data'] !== 'string') return undefined;
  const parsed = JSON.parse(row['data']) as unknown;
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const data = parsed as Record<string, unknown>;
  const { userId, organizationId } = data;
  if (typeof userId !== 'number' || typeof organizationId !== 'number') return { data, member: undefined };
  const same = (v: unknown, want: number): boolean => v !== null && v !== undefined && num(v) === want;
  if (same(row['session_user_id'], userId) && same(row['session_organization_id'], organizationId)) {
    return { data, member: row['role'] === null || row['role'] === undefined ? undefined : sessionMemberRow(row) };
  }
  return { data, member: await readMemberNow(db, organizationId, userId) };
}

/** The session (as loadSession reads it) with MEMBER and ACCESS of its member; project roles as a JSON array. */
const sessionMember = (projects: string): string => `select s.data, s.user_id as session_user_id, s.organization_id as session_organization_id,
  u.email, u.first_name, u.last_name, m.role,
  ${projects} as projects,
  (select g.groups from member_groups g where g.user_id = u.id) as groups
from sessions s
left join users u on u.id = s.user_id and u.organization_id = s.organization_id and u.is_deleted = ?
left join memberships m on m.user_id = u.id and m.organization_id = u.organization_id
where s.id = ? and s.expires_at > ?
limit 1`;
const SESSION_MEMBER_SQLITE = sessionMember('(select json_group_array(json_array(pm.project_id, pm.role)) from project_memberships pm where pm.user_id = u.id)');
const SESSION_MEMBER_PG = sessionMember("(select coalesce(json_agg(json_build_array(pm.project_id, pm.role)), '[]'::json)::text from project_memberships pm where pm.user_id = u.id)");

function sessionMemberRow(row: Record<string, unknown>): CurrentMemberRow {
  const role = orgRole(row['role']);
  const projects: Array<{ projectId: number; role: ActiveOrgRole }> = [];
  let groups: readonly string[] = [];
  if (isActiveOrgRole(role)) {
    const pairs = JSON.parse(str(row['projects'])) as Array<[unknown, unknown]>;
    for (const [projectId, projectRoleCode] of pairs) projects.push({ projectId: num(projectId), role: projectRole(projectRoleCode) });
    groups = row['groups'] === null || row['groups'] === undefined ? [] : (stringList(row['groups']) ?? []);
  }
  return { email: str(row['email']), firstName: str(row['first_name']), lastName: str(row['last_name']), role, projects, groups };
}
