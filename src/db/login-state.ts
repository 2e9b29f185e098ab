/**
 * What a login decides from, read in the fewest statements: the member (by email), their project memberships
 * in the organization's projects and the organization's ownership-transfer facts. Read once per login and
 * handed to the write path (which would otherwise read the same rows again), and read by the statement that
 * consumes the assertion id (`INSERT … RETURNING` with subqueries, on SQLite ≥ 3.35 and PostgreSQL): a
 * returning user's login needs no separate read at all.
 */
import type { DbOrTrx } from './connect.js';
import type { MembershipRow } from './memberships.js';
import { toMembership } from './memberships.js';
import type { ProjectMembershipRow } from './project-memberships.js';
import { toProjectMembership } from './project-memberships.js';
import type { Raw } from './rows.js';
import { hotRows } from './hot.js';
import { bool, databaseKind, numOrNull } from './rows.js';

export interface LoginSnapshot {
  /** The live member with this email (undefined: no live user with a membership); `reason` not read (null). */
  readonly member: MembershipRow | undefined;
  /** That user's project memberships in the organization's projects, by id; `reason` not read (null). */
  readonly projects: readonly ProjectMembershipRow[];
  /** As `ownershipOf`, narrowed to what the mapping asks: the configured owner gave ownership away. */
  readonly ownerLineTransferred: boolean;
  /** The member holding ownership by the latest recorded transfer. */
  readonly holderUserId: number | null;
}

export interface LoginSubject {
  readonly organizationId: number;
  /** Lower-cased, as the users table stores it. */
  readonly email: string;
  /** The organization's configured projects. */
  readonly projectIds: readonly number[];
  /** The configured `owner:` email. */
  readonly owner: string;
}

// The member's row as MembershipRow has it, but for `reason` (see PROJECT_FIELDS).
const MEMBER_FIELDS = [
  ['membership_id', 'm.id'],
  ['organization_id', 'm.organization_id'],
  ['user_id', 'm.user_id'],
  ['role', 'm.role'],
  ['role_source', 'm.role_source'],
  ['created_at', 'm.created_at'],
  ['updated_at', 'm.updated_at'],
  ['email', 'u.email'],
  ['first_name', 'u.first_name'],
  ['last_name', 'u.last_name'],
  ['date_joined', 'u.date_joined'],
  ['last_login_at', 'u.last_login_at'],
  ['is_deleted', 'u.is_deleted'],
] as const;

// Without the stored reasons (`reason` reads as null): the login and the write path decide from roles, and a
// reason holds the asserted groups (hundreds of names) that SQLite would quote into the JSON and we parse twice.
const PROJECT_FIELDS = ['id', 'project_id', 'user_id', 'role', 'role_source'] as const;

/** The snapshot as four result columns (member, projects, owner_gave_away, holder) and their bindings. */
function snapshotColumns(db: DbOrTrx, s: LoginSubject): { sql: string; bindings: unknown[] } {
  const pg = databaseKind(db) === 'postgres';
  const object = (pairs: readonly (readonly [string, string])[]): string =>
    `${pg ? 'json_build_object' : 'json_object'}(${pairs.map(([k, v]) => `'${k}', ${v}`).join(', ')})`;
  const bindings: unknown[] = [s.organizationId, s.organizationId, s.email, false];
  // The live member with this email (users.email is unique per organization among live users).
  const member = `(select ${object(MEMBER_FIELDS)} from memberships m join users u on u.id = m.user_id
    where m.organization_id = ? and u.organization_id = ? and u.email = ? and u.is_deleted = ? limit 1) as member`;
  // The same rows as listProjectMemberships(projectIds, { userIds: [that user] }), in id order.
  let projects = 'null as projects';
  if (s.projectIds.length > 0) {
    const marks = s.projectIds.map(() => '?').join(', ');
    const fields = object(PROJECT_FIELDS.map((f) => [f, `p.${f}`] as const));
    projects = pg
      ? `(select json_agg(${fields} order by p.id) from project_memberships p join users u on u.id = p.user_id
          where u.organization_id = ? and u.email = ? and u.is_deleted = ? and p.project_id in (${marks})) as projects`
      : `(select json_group_array(${fields}) from (select p.* from project_memberships p join users u on u.id = p.user_id
          where u.organization_id = ? and u.email = ? and u.is_deleted = ? and p.project_id in (${marks}) order by p.id) p) as projects`;
    bindings.push(s.organizationId, s.email, false, ...s.projectIds);
  }
  // The same facts as ownershipOf + ownershipFacts: the configured owner's email gave ownership away; the
  // receiver of the latest transfer.
  const ownership = `exists(select 1 from ownership_transfers t where t.organization_id = ? and t.from_email = ?) as owner_gave_away,
    (select t.to_user_id from ownership_transfers t where t.organization_id = ? order by t.id desc limit 1) as holder`;
  bindings.push(s.organizationId, s.owner, s.organizationId);
  return { sql: `${member}, ${projects}, ${ownership}`, bindings };
}

/** A JSON value from a subquery: text on SQLite, already parsed on PostgreSQL. */
function jsonColumn(v: unknown): unknown {
  return typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
}

function toSnapshot(row: Raw): LoginSnapshot {
  const member = jsonColumn(row['member']);
  const projects = jsonColumn(row['projects']);
  return {
    member: member === null || member === undefined ? undefined : toMembership(member as Raw),
    projects: Array.isArray(projects) ? projects.map((p) => toProjectMembership(p as Raw)) : [],
    ownerLineTransferred: bool(row['owner_gave_away']),
    holderUserId: numOrNull(row['holder']),
  };
}

/** Read the snapshot alone (after taking a lock, or when the user row turned out to be another one). */
export async function readLoginSnapshot(db: DbOrTrx, s: LoginSubject): Promise<LoginSnapshot> {
  const cols = snapshotColumns(db, s);
  const rows = await hotRows(db, `select ${cols.sql}`, cols.bindings as never[]);
  return toSnapshot(rows[0] as Raw);
}

/**
 * Record an assertion id as used and read the login snapshot in the same statement. undefined when the id
 * was already used (a replay). Insert-if-absent (ON CONFLICT DO NOTHING … RETURNING) rather than catching the
 * unique violation: on PostgreSQL a failed statement aborts the surrounding transaction, and a concurrent
 * inserter waits for the first to commit, then inserts nothing. The subqueries see the database as of the statement.
 */
export async function consumeAssertionReadingSnapshot(
  db: DbOrTrx,
  a: { issuer: string; assertionId: string; expiresAt: Date },
  s: LoginSubject,
): Promise<LoginSnapshot | undefined> {
  const cols = snapshotColumns(db, s);
  const rows = await hotRows(
    db,
    `insert into consumed_assertions (issuer, assertion_id, expires_at) values (?, ?, ?)
     on conflict (issuer, assertion_id) do nothing returning ${cols.sql}`,
    [a.issuer, a.assertionId, a.expiresAt, ...cols.bindings] as never[],
  );
  return rows.length === 1 ? toSnapshot(rows[0] as Raw) : undefined;
}
