/**
 * The member list as Label Studio's API filters, orders and pages it: every filter the API accepts is
 * applied here (a filter that is parsed but not applied would answer an unfiltered list). Portable SQL only
 * (SQLite and PostgreSQL).
 */
import type { OrgRole } from '../domain/roles.js';
import type { DbOrTrx } from './connect.js';
import type { MembershipRow } from './memberships.js';
import { COLUMNS, ROLE_RANK_SQL, base, likePattern, toMembership } from './memberships.js';

/** Sort keys (the API maps Label Studio's `user__…` names onto these). */
export const MEMBER_SORT_KEYS = ['username', 'email', 'first_name', 'last_name', 'last_activity', 'date_joined', 'role', 'membership_id', 'user_id', 'created_at'] as const;
export type MemberSortKey = (typeof MEMBER_SORT_KEYS)[number];

export interface MemberSort {
  readonly key: MemberSortKey;
  readonly desc: boolean;
}

export interface MemberFilter {
  readonly organizationId: number;
  /** true: only deleted members; false: only live ones. */
  readonly deleted: boolean;
  readonly search?: string;
  readonly roles?: readonly OrgRole[];
  /** Only members with an active role (not Not Activated, not Deactivated). */
  readonly activeOnly?: boolean;
  readonly lastActivityGte?: Date;
  readonly lastActivityLte?: Date;
  /** Leave out members already in this project: its members, and Owners/Administrators (they reach every project). */
  readonly excludeProjectId?: number;
  /** Only members of at least one of these projects, plus `alsoUserId` (a Manager's "accessible" scope). */
  readonly inProjects?: { readonly projectIds: readonly number[]; readonly alsoUserId: number };
}

/** `pageSize` null = everything on one page; `page` 'last' = the last page (Django REST framework's `page=last`). */
export interface MemberWindow {
  readonly pageSize: number | null;
  readonly page: number | 'last';
}

function filtered(db: DbOrTrx, f: MemberFilter) {
  const q = base(db, f.organizationId).andWhere('users.is_deleted', f.deleted);
  if (f.roles !== undefined && f.roles.length > 0) q.whereIn('memberships.role', [...f.roles]);
  if (f.activeOnly === true) q.whereNotIn('memberships.role', ['NO', 'DI']);
  if (f.search !== undefined && f.search !== '') {
    const pattern = likePattern(f.search);
    q.andWhere((w) => {
      w.whereRaw("lower(users.email) like ? escape '\\'", [pattern])
        .orWhereRaw("lower(users.first_name) like ? escape '\\'", [pattern])
        .orWhereRaw("lower(users.last_name) like ? escape '\\'", [pattern]);
    });
  }
  // A member who never signed in has no last activity: neither bound matches them (as an SQL comparison
  // with NULL, which is what Label Studio's `user__last_activity__gte/lte` filters do).
  if (f.lastActivityGte !== undefined) q.andWhere('users.last_login_at', '>=', f.lastActivityGte);
  if (f.lastActivityLte !== undefined) q.andWhere('users.last_login_at', '<=', f.lastActivityLte);
  if (f.excludeProjectId !== undefined) {
    const projectId = f.excludeProjectId;
    q.whereNotIn('memberships.role', ['OW', 'AD']).whereNotExists((s) => {
      s.select(db.raw('1')).from('project_memberships').whereRaw('project_memberships.user_id = users.id').andWhere('project_memberships.project_id', projectId);
    });
  }
  if (f.inProjects !== undefined) {
    const { projectIds, alsoUserId } = f.inProjects;
    q.andWhere((w) => {
      w.where('users.id', alsoUserId);
      if (projectIds.length > 0) {
        w.orWhereExists((s) => {
          s.select(db.raw('1')).from('project_memberships').whereRaw('project_memberships.user_id = users.id').whereIn('project_memberships.project_id', [...projectIds]);
        });
      }
    });
  }
  return q;
}

type Query = ReturnType<typeof filtered>;

function applySort(q: Query, sorts: readonly MemberSort[]): void {
  for (const { key, desc } of sorts) {
    const dir = desc ? 'desc' : 'asc';
    switch (key) {
      case 'username':
        // username is the email; deleted members (no email) read "Deleted User" and sort as the empty string.
        q.orderByRaw(`coalesce(users.email, '') ${dir}`);
        break;
      case 'email':
        q.orderByRaw(`coalesce(users.email, '') ${dir}`);
        break;
      case 'first_name':
        q.orderBy('users.first_name', dir);
        break;
      case 'last_name':
        q.orderBy('users.last_name', dir);
        break;
      case 'last_activity':
        // Never signed in sorts as the oldest activity, on both databases.
        q.orderByRaw(`case when users.last_login_at is null then 0 else 1 end ${dir}`).orderBy('users.last_login_at', dir);
        break;
      case 'date_joined':
        q.orderBy('users.date_joined', dir);
        break;
      case 'role':
        q.orderByRaw(`${ROLE_RANK_SQL} ${dir}`);
        break;
      case 'membership_id':
        q.orderBy('memberships.id', dir);
        break;
      case 'user_id':
        q.orderBy('users.id', dir);
        break;
      case 'created_at':
        q.orderBy('memberships.created_at', dir);
        break;
    }
  }
  // A total order, so that pages never overlap or skip.
  q.orderBy('users.id', 'asc');
}

export interface MembershipRowsPage {
  readonly count: number;
  /** The page number actually served (resolves 'last'). */
  readonly page: number;
  readonly lastPage: number;
  readonly rows: MembershipRow[];
}

/** One page of members. A page number past the end answers `rows: []` with `page > lastPage`: the caller decides. */
export async function queryMembers(db: DbOrTrx, f: MemberFilter, sorts: readonly MemberSort[], w: MemberWindow): Promise<MembershipRowsPage> {
  const countRow = (await filtered(db, f).count({ n: '*' }).first()) as { n: number | string } | undefined;
  const count = countRow === undefined ? 0 : Number(countRow.n);
  const lastPage = w.pageSize === null ? 1 : Math.max(1, Math.ceil(count / w.pageSize));
  const page = w.page === 'last' ? lastPage : w.page;
  if (page > lastPage) return { count, page, lastPage, rows: [] };
  const q = filtered(db, f).select(...COLUMNS);
  applySort(q, sorts);
  if (w.pageSize !== null) q.offset((page - 1) * w.pageSize).limit(w.pageSize);
  const rows = (await q) as Record<string, unknown>[];
  return { count, page, lastPage, rows: rows.map(toMembership) };
}

/** Ids of the projects (among `projectIds`) where this member holds a role. */
export async function projectsOfMember(db: DbOrTrx, userId: number, projectIds: readonly number[]): Promise<number[]> {
  if (projectIds.length === 0) return [];
  const rows = (await db('project_memberships').where('user_id', userId).whereIn('project_id', [...projectIds]).select('project_id')) as { project_id: number | string }[];
  return rows.map((r) => Number(r.project_id));
}

/** The live member with this email, if any. */
export async function findLiveMemberByEmail(db: DbOrTrx, organizationId: number, email: string): Promise<MembershipRow | undefined> {
  const row = (await base(db, organizationId).andWhere('users.is_deleted', false).andWhere('users.email', email).first(...COLUMNS)) as Record<string, unknown> | undefined;
  return row === undefined ? undefined : toMembership(row);
}
