/** JSON shapes of the admin API, as Label Studio's (field names from its SDK types), plus rolegate's extras. */
import { DELETED_USER } from '../../admin/audit.js';
import type { IdpManaged } from '../../admin/managed.js';
import type { MemberDetail, MemberView } from '../../admin/members.js';
import type { ProjectRoleRow } from '../../admin/projects.js';
import type { TokenRow } from '../../admin/tokens.js';

function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

function managedJson(m: IdpManaged | null) {
  return m === null ? null : { group: m.group, rule: m.rule, line: m.line, role: m.role };
}

export function membershipJson(v: MemberView) {
  const m = v.member;
  const initials = ((m.firstName[0] ?? '') + (m.lastName[0] ?? '')).toUpperCase() || (m.email?.[0] ?? '').toUpperCase();
  return {
    id: m.membershipId,
    organization: m.organizationId,
    role: m.role,
    role_source: m.roleSource,
    is_deleted: m.isDeleted,
    managed_by_idp: managedJson(v.managed),
    user: {
      id: m.userId,
      email: m.email ?? '',
      first_name: m.firstName,
      last_name: m.lastName,
      username: m.isDeleted || m.email === null ? DELETED_USER : m.email,
      initials,
      last_activity: iso(m.lastLoginAt),
      date_joined: m.dateJoined.toISOString(),
      lse_fields: { invite_activated: m.lastLoginAt !== null },
    },
  };
}

export function memberDetailJson(d: MemberDetail) {
  return {
    ...membershipJson(d),
    created_at: d.member.createdAt.toISOString(),
    updated_at: d.member.updatedAt.toISOString(),
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
