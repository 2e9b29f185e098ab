/**
 * Synthetic populations for tests and the plan benchmark: rows written straight through knex, in chunks,
 * bypassing the write path on purpose (a population as an earlier version would have left it).
 */
import type { Db } from '../../src/db/connect.js';
import type { ActiveOrgRole, OrgRole, RoleSource } from '../../src/domain/roles.js';

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

export interface SyntheticMember {
  readonly email: string;
  readonly role: OrgRole;
  readonly roleSource: RoleSource;
  readonly groups: readonly string[] | null;
  readonly assertedAt: Date | null;
  readonly projects: readonly { readonly projectId: number; readonly role: ActiveOrgRole }[];
}

export async function insertSyntheticMembers(db: Db, organizationId: number, members: readonly SyntheticMember[], now: Date): Promise<number[]> {
  const ids: number[] = [];
  // SQLite allows 32766 bound parameters; 7 columns × 200 rows stays far below.
  const step = 200;
  for (let i = 0; i < members.length; i += step) {
    const slice = members.slice(i, i + step);
    const inserted = (await db('users')
      .insert(
        slice.map((m) => ({
          organization_id: organizationId,
          email: m.email,
          first_name: '',
          last_name: '',
          date_joined: now,
          last_login_at: m.assertedAt,
          is_deleted: false,
        })),
      )
      .returning('id')) as (number | { id: number })[];
    const sliceIds = inserted.map((r) => (typeof r === 'number' ? r : num(r.id)));
    ids.push(...sliceIds);
    await db('memberships').insert(
      slice.map((m, j) => ({
        organization_id: organizationId,
        user_id: sliceIds[j],
        role: m.role,
        role_source: m.roleSource,
        reason: JSON.stringify({ synthetic: true }),
        created_at: now,
        updated_at: now,
      })),
    );
    await db('member_groups').insert(
      slice.map((m, j) => ({
        user_id: sliceIds[j],
        groups: m.groups === null ? null : JSON.stringify(m.groups),
        asserted_at: m.groups === null ? null : m.assertedAt,
        assertion_id: m.groups === null ? null : `_synthetic-${sliceIds[j]}`,
        last_unknown_at: m.groups === null ? now : null,
      })),
    );
    const projectRows = slice.flatMap((m, j) =>
      m.projects.map((p) => ({
        project_id: p.projectId,
        user_id: sliceIds[j],
        role: p.role,
        role_source: 'saml',
        reason: JSON.stringify({ synthetic: true }),
        updated_at: now,
      })),
    );
    for (let k = 0; k < projectRows.length; k += step) await db('project_memberships').insert(projectRows.slice(k, k + step));
  }
  return ids;
}
