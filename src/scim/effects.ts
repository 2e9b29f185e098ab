/**
 * What a SCIM change does to roles: the members it touched are decided again from their SCIM groups and
 * `active` (decide.ts), inside the request's transaction, and the resulting role changes are made with the
 * guards, audit rows (actor `scim`, role source `scim`), and sessions and tokens ended on Deactivated.
 *
 * A push refused by a guard changes nothing: the transaction is rolled back and the caller records the
 * refusal (GuardRefusal carries the audit rows) in a transaction of its own.
 */
import type { Config, OrganizationConfig } from '../configuration/types.js';
import { GUARDS_DEFAULTS } from '../configuration/defaults.js';
import type { AuditEvent } from '../db/audit.js';
import { appendAudit } from '../db/audit.js';
import type { DbOrTrx } from '../db/connect.js';
import { softDeleteMember } from '../db/admin-members.js';
import { revokeUserTokens } from '../db/admin-tokens.js';
import { deleteProjectMembership, saveMembership, saveProjectMembership } from '../db/members.js';
import { loadPlanMembers, updateMembershipRole } from '../db/plan.js';
import { countActiveMembers, forgetScimUser, groupsOfUsers, scimStates } from '../db/scim.js';
import { destroyUserSessions } from '../db/sessions.js';
import type { OrgRole } from '../domain/roles.js';
import { compareOrgRoles, isActiveOrgRole } from '../domain/roles.js';
import { RolegateError } from '../errors.js';
import { refusal, refusalText } from '../plan/guards.js';
import { decideScimAccess } from './decide.js';

export interface ScimEffectContext {
  readonly config: Config;
  readonly org: OrganizationConfig;
  readonly now: Date;
  readonly ip: string | null;
  /** What the IdP asked, for audit reasons: e.g. `PATCH /Groups/7`. */
  readonly request: string;
}

/** A push the guards refused: nothing was changed; `events` are the audit rows that record the refusal. */
export class GuardRefusal extends RolegateError {
  readonly events: readonly AuditEvent[];
  readonly guard: 'mass_demotion' | 'owner' | 'last_admin';
  constructor(guard: GuardRefusal['guard'], detail: string, events: readonly AuditEvent[]) {
    super('ERR_SCIM_GUARD', detail);
    this.guard = guard;
    this.events = events;
  }
}

export interface EffectSummary {
  readonly changed: number;
  readonly sessionsEnded: number;
  readonly tokensRevoked: number;
}

function base(ctx: ScimEffectContext, userId: number, email: string | null) {
  return { organizationId: ctx.org.id, actor: 'scim', subjectUserId: userId, subjectEmail: email, configRevision: ctx.config.revision, ip: ctx.ip } as const;
}

/**
 * Decide again, and apply, the roles of these members (SCIM-managed ones; others are left alone). `created`
 * members have a user row but no membership yet: theirs is created here.
 */
export async function reevaluate(
  trx: DbOrTrx,
  ctx: ScimEffectContext,
  userIds: readonly number[],
  created: ReadonlyMap<number, string> = new Map(),
): Promise<EffectSummary> {
  const { org, now } = ctx;
  const ids = [...new Set(userIds)].sort((a, b) => a - b);
  const states = await scimStates(trx, ids);
  const groups = await groupsOfUsers(trx, ids);
  const held = new Map((await loadPlanMembers(trx, org.id, ids.filter((id) => !created.has(id)))).map((m) => [m.userId, m]));

  interface Planned {
    userId: number;
    email: string;
    from: OrgRole | null;
    fromSource: string | null;
    decision: ReturnType<typeof decideScimAccess>;
    projects: readonly { projectId: number; role: string; roleSource: string }[];
    scimGroups: readonly { name: string; pushedAt: string }[];
  }
  const planned: Planned[] = [];
  for (const id of ids) {
    const state = states.get(id);
    if (state === undefined) continue;
    const m = held.get(id);
    const email = m?.email ?? created.get(id);
    if (email === undefined) continue; // deleted meanwhile
    const g = groups.get(id) ?? [];
    const decision = decideScimAccess(org, {
      email,
      active: state.active,
      groups: g.map((x) => x.displayName),
      current: m === undefined ? null : { role: m.role, roleSource: m.roleSource },
      currentProjects: m?.projects ?? [],
    });
    planned.push({
      userId: id,
      email,
      from: m?.role ?? null,
      fromSource: m?.roleSource ?? null,
      decision,
      projects: m?.projects ?? [],
      scimGroups: g.map((x) => ({ name: x.displayName, pushedAt: x.addedAt.toISOString() })),
    });
  }

  // The mass-demotion guard, as a reload's: one push demoting or deactivating more members than
  // guards.max_demotions, or more than guards.max_demotion_percent of the active members, is far more often a
  // mistake (a renamed or emptied group) than an intent. One person's deactivation is never "mass".
  const demoted = planned.filter((p) => p.from !== null && isActiveOrgRole(p.from) && compareOrgRoles(p.decision.org.role, p.from) < 0);
  if (demoted.length > 1) {
    const guards = org.guards ?? ctx.config.guards ?? GUARDS_DEFAULTS;
    const active = await countActiveMembers(trx, org.id);
    const overCount = demoted.length > guards.maxDemotions;
    const overPercent = active > 0 && demoted.length * 100 > guards.maxDemotionPercent * active;
    if (overCount || overPercent) {
      const detail = `refused by the mass-demotion guard: this push would demote or deactivate ${demoted.length} of ${active} active member(s) (guards.max_demotions ${guards.maxDemotions}, guards.max_demotion_percent ${guards.maxDemotionPercent}); nothing was changed`;
      throw new GuardRefusal('mass_demotion', detail, [
        {
          organizationId: org.id,
          actor: 'scim',
          action: 'scim_push',
          outcome: 'refused',
          errorCode: 'ERR_SCIM_GUARD',
          reason: { guard: 'mass_demotion', text: detail, request: ctx.request, demotions: demoted.length, active_members: active },
          configRevision: ctx.config.revision,
          ip: ctx.ip,
        },
      ]);
    }
  }

  const audit: AuditEvent[] = [];
  let changed = 0;
  let sessionsEnded = 0;
  let tokensRevoked = 0;
  for (const p of planned) {
    const next = p.decision.org;
    const b = base(ctx, p.userId, p.email);
    const stored = (previous: string | null, reason: unknown): unknown => ({
      decision: reason,
      scim_groups: p.scimGroups,
      request: ctx.request,
      config_revision: ctx.config.revision,
      previous_role: previous,
    });
    if (p.from === null) {
      await saveMembership(trx, { organizationId: org.id, userId: p.userId, role: next.role, roleSource: next.roleSource, reason: stored(null, next.reason) }, now);
      audit.push({ ...b, action: 'member_created', outcome: 'ok', before: null, after: next.role, reason: { ...next.reason, role_source: 'scim', request: ctx.request } });
      changed++;
    } else if (p.from !== next.role || p.fromSource !== next.roleSource) {
      const guard = await refusal(trx, org.id, p.userId, p.from, next.role);
      if (guard !== null) {
        const detail = `refused by the ${guard === 'owner' ? 'Owner' : 'last-administrator'} guard: ${refusalText(guard)} (${p.email}: ${p.from} → ${next.role}); nothing was changed`;
        throw new GuardRefusal(guard, detail, [
          { ...b, action: 'role_change', outcome: 'refused', errorCode: 'ERR_SCIM_GUARD', before: p.from, after: next.role, reason: { guard, text: refusalText(guard), decision: next.reason, request: ctx.request } },
        ]);
      }
      await updateMembershipRole(trx, { organizationId: org.id, userId: p.userId, role: next.role, roleSource: next.roleSource, reason: stored(p.from, next.reason) }, now);
      const ended: Record<string, number> = {};
      if (next.role === 'DI') {
        // Deactivation takes effect now: sessions end, API tokens are revoked for good.
        ended['sessions_ended'] = await destroyUserSessions(trx, p.userId);
        ended['tokens_revoked'] = await revokeUserTokens(trx, p.userId, now);
        sessionsEnded += ended['sessions_ended'];
        tokensRevoked += ended['tokens_revoked'];
      }
      audit.push({ ...b, action: 'role_change', outcome: 'ok', before: p.from, after: next.role, reason: { ...next.reason, role_source: 'scim', request: ctx.request, ...ended } });
      changed++;
    }
    for (const d of p.decision.projects) {
      const h = p.projects.find((x) => x.projectId === d.projectId);
      const reason = { project_id: d.projectId, ...d.reason, role_source: 'scim', request: ctx.request };
      if (d.role === null) {
        if (h === undefined) continue;
        await deleteProjectMembership(trx, d.projectId, p.userId);
        audit.push({ ...b, action: 'project_role_change', outcome: 'ok', before: h.role, after: null, reason });
      } else if (h === undefined || h.role !== d.role || h.roleSource !== d.roleSource) {
        await saveProjectMembership(trx, { projectId: d.projectId, userId: p.userId, role: d.role, roleSource: d.roleSource, reason: stored(h?.role ?? null, d.reason) }, now);
        audit.push({ ...b, action: 'project_role_change', outcome: 'ok', before: h?.role ?? null, after: d.role, reason });
      }
    }
  }
  await appendAudit(trx, audit, now);
  return { changed, sessionsEnded, tokensRevoked };
}

/**
 * DELETE /Users/{id}: the admin API's soft delete (personal data scrubbed, "Deleted User" in the audit, access
 * ended), refused for the Owner and for the last Administrator-or-Owner.
 */
export async function softDelete(trx: DbOrTrx, ctx: ScimEffectContext, userId: number): Promise<void> {
  const [m] = await loadPlanMembers(trx, ctx.org.id, [userId]);
  if (m === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no such User');
  const guard = await refusal(trx, ctx.org.id, userId, m.role, 'DI');
  if (guard !== null) {
    const detail = `refused by the ${guard === 'owner' ? 'Owner' : 'last-administrator'} guard: ${refusalText(guard)}; nothing was deleted`;
    throw new GuardRefusal(guard, detail, [
      { ...base(ctx, userId, m.email), action: 'member_deleted', outcome: 'refused', errorCode: 'ERR_SCIM_GUARD', before: m.role, after: null, reason: { guard, text: refusalText(guard), request: ctx.request } },
    ]);
  }
  await forgetScimUser(trx, userId);
  await softDeleteMember(trx, ctx.org.id, userId, m.email, { decision: { kind: 'deleted', text: 'deleted by the IdP over SCIM', matches: [] }, by: 'scim', previous_role: m.role, config_revision: ctx.config.revision }, ctx.now);
  const sessions = await destroyUserSessions(trx, userId);
  const tokens = await revokeUserTokens(trx, userId, ctx.now);
  await appendAudit(
    trx,
    [{ ...base(ctx, userId, null), action: 'member_deleted', outcome: 'ok', before: m.role, after: null, reason: { kind: 'deleted', text: 'soft delete by the IdP over SCIM: personal data scrubbed, access ended', request: ctx.request, sessions_ended: sessions, tokens_revoked: tokens } }],
    ctx.now,
  );
}
