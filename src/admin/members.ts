/**
 * Admin operations on members, one transaction each, every change with an audit row. The
 * invariants live here, not in HTTP handlers: only the Owner makes an Owner (a transfer), the Owner and the
 * last Owner/Administrator are never demoted or deleted, and a role the IdP owns is refused (403) unless the
 * organization manages roles by hand.
 */
import type { Config, OrganizationConfig } from '../configuration/types.js';
import type { Db, DbOrTrx } from '../db/connect.js';
import { groupsByUser } from '../db/member-groups.js';
import type { ScimDecisionState } from '../db/scim.js';
import { scimDecisionStates } from '../db/scim.js';
import type { MemberOrdering, MembershipRow } from '../db/memberships.js';
import { findMembership, listMembers } from '../db/memberships.js';
import { listProjectMemberships } from '../db/project-memberships.js';
import { isUniqueViolation } from '../db/rows.js';
import { emailTaken, insertInvitedUser } from '../db/users.js';
import type { HandSetSource, OrgRole } from '../domain/roles.js';
import { ORG_ROLE_NAMES, isAdminRole } from '../domain/roles.js';
import { RolegateError } from '../errors.js';
import type { MemberWriter, WriteContext } from '../members/write.js';
import type { Caller } from './caller.js';
import { actorOf } from './caller.js';
import type { IdpManaged } from './managed.js';
import { managedDetail, orgRoleManagedBy } from './managed.js';

/** A member as the admin surface shows it (the membership repository's row). */
export type MemberRow = MembershipRow;
export type { MemberOrdering };
export { MEMBER_ORDERINGS } from '../db/memberships.js';

export interface MemberView {
  readonly member: MembershipRow;
  readonly groups: readonly string[] | null;
  readonly groupsAssertedAt: Date | null;
  readonly managed: IdpManaged | null;
  /** Set when SCIM manages the member: its groups (not the SAML ones) decide, and `active`. */
  readonly scim: ScimDecisionState | null;
}

export interface MemberPage {
  readonly count: number;
  readonly results: readonly MemberView[];
}

export interface ListOptions {
  readonly offset: number;
  readonly limit: number;
  readonly search?: string;
  readonly roles?: readonly OrgRole[];
  readonly ordering?: { readonly field: MemberOrdering; readonly desc: boolean };
  readonly deleted: boolean;
}

export async function views(db: DbOrTrx, org: OrganizationConfig, members: readonly MembershipRow[]): Promise<MemberView[]> {
  const ids = members.map((m) => m.userId);
  const groups = await groupsByUser(db, ids);
  const scim = await scimDecisionStates(db, org.id, ids);
  return members.map((member) => {
    const g = groups.get(member.userId);
    const known = g?.groups ?? null;
    const s = scim.get(member.userId) ?? null;
    return {
      member,
      groups: known,
      groupsAssertedAt: g?.assertedAt ?? null,
      // For a member SCIM manages, the role is the IdP's when one of its SCIM groups maps it.
      managed: member.isDeleted ? null : orgRoleManagedBy(org, { email: member.email, role: member.role, roleSource: member.roleSource, groups: s?.groups ?? known }),
      scim: s,
    };
  });
}

export async function listMemberships(db: Db, org: OrganizationConfig, opts: ListOptions): Promise<MemberPage> {
  const { count, rows } = await listMembers(db, { organizationId: org.id, ...opts });
  return { count, results: await views(db, org, rows) };
}

export async function memberView(db: DbOrTrx, org: OrganizationConfig, userId: number): Promise<MemberView> {
  const m = await findMembership(db, org.id, userId);
  if (m === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no such member in this organization');
  const [view] = await views(db, org, [m]);
  if (view === undefined) throw new Error('unreachable');
  return view;
}

export interface MemberDetail extends MemberView {
  readonly projects: readonly { id: number; project: number; title: string; role: string; role_source: string; reason: unknown }[];
}

export async function memberDetail(db: Db, org: OrganizationConfig, userId: number): Promise<MemberDetail> {
  const view = await memberView(db, org, userId);
  const roles = await listProjectMemberships(db, org.projects.map((p) => p.id), { userIds: [userId] });
  return {
    ...view,
    projects: roles.map((r) => ({
      id: r.id,
      project: r.projectId,
      title: org.projects.find((p) => p.id === r.projectId)?.title ?? `Project ${r.projectId}`,
      role: r.role,
      role_source: r.roleSource,
      reason: r.reason,
    })),
  };
}

export interface ChangeContext {
  /** Where the change is made: `manual` on the Organization page, `api` through the admin API (Label Studio's role sources). */
  readonly source: HandSetSource;
  readonly config: Config;
  readonly org: OrganizationConfig;
  readonly caller: Caller;
  readonly writer: MemberWriter;
  readonly now: Date;
  readonly ip: string | null;
}

/** The write path's context for a hand change by this caller. */
export function writeContext(ctx: ChangeContext): WriteContext {
  return { organizationId: ctx.org.id, source: 'admin', actor: actorOf(ctx.caller), configRevision: ctx.config.revision, now: ctx.now, ip: ctx.ip, assertionId: null };
}

function manualReason(ctx: ChangeContext, kind: string, text: string, previous: OrgRole | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    decision: { kind, text, matches: [] },
    by: actorOf(ctx.caller),
    previous_role: previous,
    config_revision: ctx.config.revision,
    ...extra,
  };
}

/** The caller as stored inside the transaction (their role may have changed since the request began). */
export async function liveCaller(trx: DbOrTrx, ctx: ChangeContext): Promise<MembershipRow> {
  const me = await findMembership(trx, ctx.org.id, ctx.caller.userId);
  if (me === undefined || me.isDeleted || !isAdminRole(me.role)) throw new RolegateError('ERR_FORBIDDEN', 'only an Owner or Administrator may do this');
  return me;
}

async function liveTarget(trx: DbOrTrx, orgId: number, userId: number): Promise<MembershipRow> {
  const target = await findMembership(trx, orgId, userId);
  if (target === undefined || target.isDeleted) throw new RolegateError('ERR_NOT_FOUND', 'no such member in this organization');
  return target;
}

/**
 * Assign an organization role (PATCH/POST memberships). Returns the member as now stored. Making someone
 * Owner is an ownership transfer (only the Owner may); the Owner and the last Owner/Administrator are kept
 * by the write path's invariants (ERR_LAST_ADMIN); a role the IdP owns is refused (ERR_ROLE_MANAGED_BY_IDP),
 * and so is any role for a member SCIM deactivated while SCIM is on (ERR_DEACTIVATED_BY_IDP).
 */
export async function setMemberRole(db: Db, ctx: ChangeContext, userId: number, role: OrgRole): Promise<MemberView> {
  await ctx.writer.run(db, writeContext(ctx), async (trx) => {
    const me = await liveCaller(trx, ctx);
    const target = await liveTarget(trx, ctx.org.id, userId);
    if (target.role === role) return { intents: [], value: undefined };
    // The IdP is the source of truth for a member SCIM manages: only it reactivates one it deactivated.
    if (ctx.org.scim.enabled && (await scimDecisionStates(trx, ctx.org.id, [userId])).get(userId)?.active === false) {
      throw new RolegateError('ERR_DEACTIVATED_BY_IDP', 'this member was deactivated by the IdP through SCIM (active: false); reactivate them in the IdP, which SCIM makes the source of truth for their active state');
    }
    if (role === 'OW') {
      if (me.role !== 'OW') throw new RolegateError('ERR_FORBIDDEN', 'only the Owner can make someone Owner (that transfers ownership)');
      const reason = { kind: 'ownership_transfer', text: `ownership transferred from user:${me.userId} to user:${userId}; the former Owner stays Administrator`, by: actorOf(ctx.caller), config_revision: ctx.config.revision };
      return { intents: [{ kind: 'transfer_ownership', fromUserId: me.userId, toUserId: userId, roleSource: ctx.source, reason }], value: undefined };
    }
    if (target.role === 'OW' && me.role !== 'OW') throw new RolegateError('ERR_FORBIDDEN', "only the Owner can change the Owner's role");
    if (target.role !== 'OW') {
      const scim = (await scimDecisionStates(trx, ctx.org.id, [userId])).get(userId);
      const groups = scim?.groups ?? (await groupsByUser(trx, [userId])).get(userId)?.groups ?? null;
      const managed = orgRoleManagedBy(ctx.org, { email: target.email, role: target.role, roleSource: target.roleSource, groups });
      if (managed !== null) throw new RolegateError('ERR_ROLE_MANAGED_BY_IDP', managedDetail(managed, "this member's organization role"));
    }
    const where = ctx.source === 'api' ? 'through the admin API' : 'on the Organization page';
    const reason = { kind: 'set_by_admin', text: `set to ${ORG_ROLE_NAMES[role]} by hand ${where}` };
    return {
      intents: [{ kind: 'org_role', userId, role, roleSource: ctx.source, reason, stored: manualReason(ctx, 'set_by_admin', `set to ${ORG_ROLE_NAMES[role]} by user:${me.userId} ${where}`, target.role) }],
      value: undefined,
    };
  });
  return memberView(db, ctx.org, userId);
}

/** Soft delete (DELETE memberships/:user_id). */
export async function deleteMember(db: Db, ctx: ChangeContext, userId: number): Promise<void> {
  await ctx.writer.run(db, writeContext(ctx), async (trx) => {
    await liveCaller(trx, ctx);
    const target = await liveTarget(trx, ctx.org.id, userId);
    // Label Studio's rule for its API (405 "User cannot soft delete self"): a script never removes its own
    // caller. The Organization page lets a person leave on purpose, after a confirmation of its own; the
    // last-administrator invariant still applies to both.
    if (userId === ctx.caller.userId && ctx.source === 'api') throw new RolegateError('ERR_CANNOT_DELETE_SELF', 'User cannot soft delete self');
    const reason = manualReason(ctx, 'deleted', `deleted by user:${ctx.caller.userId}; soft delete: personal data scrubbed, access ended`, target.role);
    return { intents: [{ kind: 'delete_member', userId, reason: { kind: 'deleted', text: 'soft delete: personal data scrubbed, access ended', ...reason } }], value: undefined };
  });
}

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:".][^\s@<>(),;:"]*$/;

export interface Invite {
  readonly view: MemberView;
  readonly inviteUrl: string;
}

/** Invite (POST invites): a Not Activated member now; their first SSO login with this email attaches to it. */
export async function inviteMember(db: Db, ctx: ChangeContext, rawEmail: string): Promise<Invite> {
  const email = rawEmail.trim().toLowerCase();
  if (email.length > 320 || !EMAIL.test(email)) throw new RolegateError('ERR_BAD_REQUEST', 'email: expected an email address');
  let userId = 0;
  try {
    await ctx.writer.run(db, writeContext(ctx), async (trx) => {
      await liveCaller(trx, ctx);
      if (await emailTaken(trx, ctx.org.id, email)) throw new RolegateError('ERR_MEMBER_EXISTS', 'a member with this email already exists');
      userId = await insertInvitedUser(trx, ctx.org.id, email, ctx.now);
      const stored = manualReason(ctx, 'invited', `invited by user:${ctx.caller.userId}; Not Activated until an admin assigns a role`, null, { invited_at: ctx.now.toISOString() });
      const reason = { kind: 'invited', text: 'invited; the first SSO login with this email attaches to this member' };
      return { intents: [{ kind: 'org_role', userId, role: 'NO', roleSource: ctx.source, reason, stored, createdAs: 'member_invited' }], value: undefined };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new RolegateError('ERR_MEMBER_EXISTS', 'a member with this email already exists');
    throw err;
  }
  return { view: await memberView(db, ctx.org, userId), inviteUrl: `${ctx.config.server.publicUrl}/sign-in/${ctx.org.id}?invited=${encodeURIComponent(email)}` };
}
