/**
 * What a SCIM change does to roles: the members it touched are decided again from their SCIM groups and
 * `active` (mapping/scim.ts), inside the request's transaction, and the resulting intents go to the one write
 * path (members/write.ts, source `scim`), which keeps the invariants, writes the rows, audits every change
 * (actor `scim`, role source `scim`) and ends sessions and tokens when access ends. The mass-demotion guard
 * is checked here, before anything is written.
 *
 * A push refused by a guard changes nothing: the transaction is rolled back and the caller records the
 * refusal (GuardRefusal carries the audit rows) in a transaction of its own.
 */
import type { Config, OrganizationConfig } from '../configuration/types.js';
import type { AuditEvent } from '../db/audit.js';
import type { DbOrTrx } from '../db/connect.js';
import { membershipsByIds } from '../db/memberships.js';
import { ownershipOf } from '../db/ownership.js';
import type { ProjectMembershipRow } from '../db/project-memberships.js';
import { listProjectMemberships } from '../db/project-memberships.js';
import { countActiveMembers, forgetScimUser, groupsOfUsers, lockUsers, scimStates } from '../db/scim.js';
import { findUser } from '../db/users.js';
import { compareOrgRoles, isActiveOrgRole } from '../domain/roles.js';
import { RolegateError } from '../errors.js';
import { ownershipFacts } from '../mapping/index.js';
import { refusalText } from '../members/invariants.js';
import type { Intent, MemberWriter, Refusal, WriteContext, WriteResult } from '../members/write.js';
import { decideScimAccess } from '../mapping/index.js';

export interface ScimEffectContext {
  readonly config: Config;
  readonly org: OrganizationConfig;
  readonly writer: MemberWriter;
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

function writeContext(ctx: ScimEffectContext): WriteContext {
  return { organizationId: ctx.org.id, source: 'scim', actor: 'scim', configRevision: ctx.config.revision, now: ctx.now, ip: ctx.ip, assertionId: null };
}

/** The write path's refusals (Owner, last administrator) as one SCIM error: the whole push is refused. */
function refused(ctx: ScimEffectContext, refusals: readonly Refusal[], what: string): GuardRefusal {
  const first = refusals[0];
  const guard = first?.rule ?? 'last_admin';
  const names = refusals.map((r) => `${r.email ?? `user ${r.userId}`}: ${r.from} → ${r.to ?? 'deleted'}`).join(', ');
  const detail = `refused by the ${guard === 'owner' ? 'Owner' : 'last-administrator'} guard: ${refusalText(guard)} (${names}); nothing was ${what}`;
  return new GuardRefusal(
    guard,
    detail,
    refusals.map((r) => ({
      organizationId: ctx.org.id,
      actor: 'scim',
      subjectUserId: r.userId,
      subjectEmail: r.email,
      action: r.to === null ? 'member_deleted' : 'role_change',
      outcome: 'refused',
      errorCode: 'ERR_SCIM_GUARD',
      before: r.from,
      after: r.to,
      reason: { guard: r.rule, text: refusalText(r.rule), decision: r.reason, request: ctx.request },
      configRevision: ctx.config.revision,
      ip: ctx.ip,
    })),
  );
}

/**
 * Decide again, and hand to the write path, the roles of these members (the SCIM-managed ones; others are
 * left alone). Members without a membership yet (just provisioned) get their first one here. Must run in a
 * transaction that holds the organization lock (`writer.lock`).
 */
export async function reevaluate(trx: DbOrTrx, ctx: ScimEffectContext, userIds: readonly number[]): Promise<WriteResult | null> {
  const { org } = ctx;
  const ids = [...new Set(userIds)].sort((a, b) => a - b);
  if (ids.length === 0) return null;
  await lockUsers(trx, ids);
  const states = await scimStates(trx, ids);
  const groups = await groupsOfUsers(trx, ids);
  const members = await membershipsByIds(trx, org.id, ids);
  const projects = new Map<number, ProjectMembershipRow[]>();
  for (const p of await listProjectMemberships(trx, org.projects.map((x) => x.id), { userIds: ids })) {
    const list = projects.get(p.userId);
    if (list === undefined) projects.set(p.userId, [p]);
    else list.push(p);
  }
  const ownership = await ownershipOf(trx, org.id);

  const intents: Intent[] = [];
  const demoted: number[] = [];
  for (const id of ids) {
    const state = states.get(id);
    if (state === undefined) continue;
    const m = members.get(id);
    if (m?.isDeleted === true) continue;
    const email = m?.email ?? (await findUser(trx, org.id, id))?.email;
    if (email === undefined || email === null) continue;
    const g = groups.get(id) ?? [];
    const held = projects.get(id) ?? [];
    const decision = decideScimAccess(org, {
      email,
      active: state.active,
      groups: g.map((x) => x.displayName),
      current: m === undefined ? null : { role: m.role, roleSource: m.roleSource },
      currentProjects: held.map((p) => ({ projectId: p.projectId, role: p.role, roleSource: p.roleSource })),
      ownership: ownershipFacts(org, ownership, id),
    });
    const next = decision.org;
    if (m !== undefined && isActiveOrgRole(m.role) && compareOrgRoles(next.role, m.role) < 0) demoted.push(id);
    const scimGroups = g.map((x) => ({ name: x.displayName, pushed_at: x.addedAt.toISOString() }));
    const stored = (previous: string | null, reason: unknown): unknown => ({
      decision: reason,
      scim_groups: scimGroups,
      scim_active: state.active,
      request: ctx.request,
      config_revision: ctx.config.revision,
      previous_role: previous,
    });
    intents.push({
      kind: 'org_role',
      userId: id,
      role: next.role,
      roleSource: next.roleSource,
      reason: { ...next.reason, request: ctx.request },
      stored: stored(m?.role ?? null, next.reason),
      createdAs: 'member_created',
    });
    for (const p of decision.projects) {
      intents.push({
        kind: 'project_role',
        userId: id,
        projectId: p.projectId,
        role: p.role,
        roleSource: p.roleSource,
        reason: { ...p.reason, request: ctx.request },
        stored: stored(held.find((h) => h.projectId === p.projectId)?.role ?? null, p.reason),
      });
    }
  }

  // The mass-demotion guard, as a reload's: one push demoting or deactivating more members than
  // guards.max_demotions, or more than guards.max_demotion_percent of the active members, is far more often a
  // mistake (a renamed or emptied group) than an intent. One person's deactivation is never "mass".
  if (demoted.length > 1) {
    const guards = org.guards;
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

  const result = await ctx.writer.write(trx, writeContext(ctx), intents, { refusals: 'skip' });
  // A SCIM push is all or nothing: a refused member rolls the whole request back (the IdP sees the error).
  if (result.refusals.length > 0) throw refused(ctx, result.refusals, 'changed');
  return result;
}

/**
 * DELETE /Users/{id}: the admin API's soft delete through the write path (personal data scrubbed, "Deleted
 * User" in the audit, access ended), refused for the Owner and for the last Administrator-or-Owner.
 */
export async function softDelete(trx: DbOrTrx, ctx: ScimEffectContext, userId: number): Promise<void> {
  await forgetScimUser(trx, userId);
  const result = await ctx.writer.write(
    trx,
    writeContext(ctx),
    [{ kind: 'delete_member', userId, reason: { kind: 'deleted', text: 'soft delete by the IdP over SCIM: personal data scrubbed, access ended', request: ctx.request } }],
    { refusals: 'skip' },
  );
  if (result.refusals.length > 0) throw refused(ctx, result.refusals, 'deleted');
  if (!result.changes.some((c) => c.kind === 'member_deleted')) throw new RolegateError('ERR_NOT_FOUND', 'no such User');
}
