/** JSON shapes of the admin API, as Label Studio's (field names from its SDK types), plus rolegate's extras. */
import { DELETED_USER } from '../../admin/audit.js';
import type { IdpManaged } from '../../admin/managed.js';
import type { MemberDetail, MemberView } from '../../admin/members.js';
import type { MemberRow } from '../../admin/members.js';
import type { ProjectRoleRow } from '../../admin/projects.js';
import type { TokenRow } from '../../admin/tokens.js';
import { isActiveOrgRole } from '../../domain/roles.js';

function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

function managedJson(m: IdpManaged | null) {
  return m === null ? null : { group: m.group, rule: m.rule, line: m.line, role: m.role };
}

function userJson(m: MemberRow) {
  const initials = ((m.firstName[0] ?? '') + (m.lastName[0] ?? '')).toUpperCase() || (m.email?.[0] ?? '').toUpperCase();
  return {
    id: m.userId,
    email: m.email ?? '',
    first_name: m.firstName,
    last_name: m.lastName,
    username: m.isDeleted || m.email === null ? DELETED_USER : m.email,
    initials,
    avatar: null,
    phone: '',
    last_activity: iso(m.lastLoginAt),
    date_joined: m.dateJoined.toISOString(),
    active_organization: m.organizationId,
    allow_newsletters: false,
    lse_fields: { invite_activated: m.lastLoginAt !== null },
  };
}

/** Label Studio's user object (GET /api/users/…). */
export function lsUserJson(m: MemberRow) {
  return { ...userJson(m), org_membership: [{ organization_id: m.organizationId, role: m.role, active: isActiveOrgRole(m.role) }] };
}

/**
 * One item of Label Studio's member list (LseOrganizationMemberList), plus rolegate's extras (`is_deleted`,
 * `managed_by_idp`). `created_projects`/`contributed_to_projects` are null unless `contributed_to_projects`
 * was asked for, as in Label Studio; rolegate records no annotations or project authorship, so they are then
 * empty lists.
 */
export function membershipJson(v: MemberView, opts: { withProjects?: boolean } = {}) {
  const m = v.member;
  const projects = opts.withProjects === true ? [] : null;
  return {
    id: m.membershipId,
    organization: m.organizationId,
    role: m.role,
    role_source: m.roleSource,
    tags: [],
    created_projects: projects,
    contributed_to_projects: projects,
    is_deleted: m.isDeleted,
    managed_by_idp: managedJson(v.managed),
    user: userJson(m),
  };
}

/**
 * GET …/memberships/{user_id}: Label Studio's OrganizationMember (`user` is the user id), plus rolegate's
 * extras under names Label Studio does not use (`member`, `projects`, `explain`).
 */
export function memberDetailJson(d: MemberDetail, opts: { withProjects?: boolean } = {}) {
  const projects = opts.withProjects === true ? [] : null;
  return {
    user: d.member.userId,
    organization: d.member.organizationId,
    role: d.member.role,
    created_at: d.member.createdAt.toISOString(),
    // rolegate records no annotations: Label Studio's counts are zero.
    annotations_count: 0,
    contributed_projects_count: 0,
    created_projects: projects,
    contributed_to_projects: projects,
    role_source: d.member.roleSource,
    updated_at: d.member.updatedAt.toISOString(),
    member: membershipJson(d),
    projects: d.projects.map((p) => ({ id: p.id, project: p.project, title: p.title, role: p.role, role_source: p.role_source })),
    explain: {
      role: d.member.role,
      role_source: d.member.roleSource,
      reason: d.member.reason,
      groups: d.groups,
      groups_asserted_at: iso(d.groupsAssertedAt),
      managed_by_idp: managedJson(d.managed),
      projects: d.projects.map((p) => ({ project: p.project, role: p.role, role_source: p.role_source, reason: p.reason })),
    },
  };
}

export function projectRoleJson(r: ProjectRoleRow) {
  return { id: r.id, project: r.projectId, user: r.userId, role: r.role, role_source: r.roleSource };
}

export function tokenJson(t: TokenRow) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.keyPrefix,
    user: t.userId,
    created_by: t.createdBy,
    created_at: t.createdAt.toISOString(),
    last_used_at: iso(t.lastUsedAt),
    revoked_at: iso(t.revokedAt),
  };
}
