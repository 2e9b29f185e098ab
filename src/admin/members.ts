/**
 * Admin operations on members (issue 4), one transaction each, every change with an audit row. The
 * invariants live here, not in HTTP handlers: only the Owner makes an Owner (a transfer), the Owner and the
 * last Owner/Administrator are never demoted or deleted, and a role the IdP owns is refused (409) unless the
 * organization manages roles by hand.
 */
import type { Config, OrganizationConfig } from '../configuration/types.js';
import type { Db, DbOrTrx } from '../db/connect.js';
import { isUniqueViolation } from '../db/connect.js';
import type { AuditEvent } from '../db/audit.js';
import { appendAudit } from '../db/audit.js';
import type { MemberOrdering, MemberRow } from '../db/admin-members.js';
import {
  countAdmins,
  emailTaken,
  findMember,
  groupsByUser,
  insertInvitedMember,
  listMembers,
  listProjectRoles,
  lockOrganization,
  softDeleteMember,
  writeRole,
} from '../db/admin-members.js';
import { revokeUserTokens } from '../db/admin-tokens.js';
import { destroyUserSessions } from '../db/sessions.js';
import type { OrgRole } from '../domain/roles.js';
import type { HandSetSource } from '../domain/roles.js';
import { ORG_ROLE_NAMES, isActiveOrgRole } from '../domain/roles.js';
import { RolegateError } from '../errors.js';
import type { Caller } from './caller.js';
import { actorOf, isOrgAdmin } from './caller.js';
import type { IdpManaged } from './managed.js';
import { managedDetail, orgRoleManagedBy } from './managed.js';

export interface MemberView {
  readonly member: MemberRow;
  readonly groups: readonly string[] | null;
  readonly groupsAssertedAt: Date | null;
  readonly managed: IdpManaged | null;
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

export async function views(db: DbOrTrx, org: OrganizationConfig, members: readonly MemberRow[]): Promise<MemberView[]> {
  const groups = await groupsByUser(db, members.map((m) => m.userId));
  return members.map((member) => {
    const g = groups.get(member.userId);
    const known = g?.groups ?? null;
    return {
      member,
      groups: known,
      groupsAssertedAt: g?.assertedAt ?? null,
      managed: member.isDeleted ? null : orgRoleManagedBy(org, { email: member.email, role: member.role, roleSource: member.roleSource, groups: known }),
    };
  });
}

export async function listMemberships(db: Db, org: OrganizationConfig, opts: ListOptions): Promise<MemberPage> {
  const { count, rows } = await listMembers(db, { organizationId: org.id, ...opts });
  return { count, results: await views(db, org, rows) };
}

export async function memberView(db: DbOrTrx, org: OrganizationConfig, userId: number): Promise<MemberView> {
  const m = await findMember(db, org.id, userId);
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
  const roles = await listProjectRoles(db, org.projects.map((p) => p.id), { userId });
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
  readonly now: Date;
  readonly ip: string | null;
}

function manualReason(ctx: ChangeContext, kind: string, text: string, previous: OrgRole | null, extra: Record<string, unknown> = {}): unknown {
  return {
    decision: { kind, text, matches: [] },
    by: actorOf(ctx.caller),
    previous_role: previous,
    config_revision: ctx.config.revision,
    ...extra,
  };
}

function audit(ctx: ChangeContext, e: Omit<AuditEvent, 'organizationId' | 'actor' | 'outcome' | 'configRevision' | 'ip'>): AuditEvent {
  return { organizationId: ctx.org.id, actor: actorOf(ctx.caller), outcome: 'ok', configRevision: ctx.config.revision, ip: ctx.ip, ...e };
}

/** The caller as stored inside the transaction (their role may have changed since the request began). */
async function liveCaller(trx: DbOrTrx, ctx: ChangeContext): Promise<MemberRow> {
  const me = await findMember(trx, ctx.org.id, ctx.caller.userId);
  if (me === undefined || me.isDeleted || !isOrgAdmin(me.role)) throw new RolegateError('ERR_FORBIDDEN', 'only an Owner or Administrator may do this');
  return me;
}

async function liveTarget(trx: DbOrTrx, orgId: number, userId: number): Promise<MemberRow> {
  const target = await findMember(trx, orgId, userId);
  if (target === undefined || target.isDeleted) throw new RolegateError('ERR_NOT_FOUND', 'no such member in this organization');
  return target;
}

async function ensureAnotherAdmin(trx: DbOrTrx, orgId: number, what: string): Promise<void> {
  const { owners, admins } = await countAdmins(trx, orgId);
  if (owners + admins <= 1) {
    throw new RolegateError('ERR_LAST_ADMIN', `${what}: this is the organization's last Owner or Administrator`);
  }
}

/** Assign an organization role (PATCH/POST memberships). Returns the member as now stored. */
export async function setMemberRole(db: Db, ctx: ChangeContext, userId: number, role: OrgRole): Promise<MemberView> {
  await db.transaction(async (trx) => {
    await lockOrganization(trx, ctx.org.id);
    const me = await liveCaller(trx, ctx);
    const target = await liveTarget(trx, ctx.org.id, userId);
    if (target.role === role) return;
    const events: AuditEvent[] = [];

    if (role === 'OW') {
      if (me.role !== 'OW') throw new RolegateError('ERR_FORBIDDEN', 'only the Owner can make someone Owner (that transfers ownership)');
      if (!isActiveOrgRole(target.role)) {
        throw new RolegateError('ERR_MEMBER_INACTIVE', `${ORG_ROLE_NAMES[target.role]} members cannot become Owner; give them a role first`);
      }
      // A transfer: one Owner before, one after. The former Owner stays an Administrator.
      await writeRole(trx, { organizationId: ctx.org.id, userId, role: 'OW', roleSource: ctx.source, reason: manualReason(ctx, 'ownership_transfer', `ownership transferred by user:${me.userId}`, target.role, { from_user_id: me.userId }) }, ctx.now);
      await writeRole(trx, { organizationId: ctx.org.id, userId: me.userId, role: 'AD', roleSource: ctx.source, reason: manualReason(ctx, 'ownership_transfer', `ownership transferred to user:${userId}`, 'OW', { to_user_id: userId }) }, ctx.now);
      events.push(audit(ctx, { subjectUserId: userId, subjectEmail: target.email, action: 'role_change', before: target.role, after: 'OW', reason: { kind: 'ownership_transfer', text: 'ownership transferred to this member', role_source: ctx.source } }));
      events.push(audit(ctx, { subjectUserId: me.userId, subjectEmail: me.email, action: 'role_change', before: 'OW', after: 'AD', reason: { kind: 'ownership_transfer', text: `ownership transferred to user:${userId}; the former Owner stays Administrator`, role_source: ctx.source } }));
      await appendAudit(trx, events, ctx.now);
      return;
    }

    if (target.role === 'OW') {
      if (me.role !== 'OW') throw new RolegateError('ERR_FORBIDDEN', "only the Owner can change the Owner's role");
      throw new RolegateError('ERR_LAST_ADMIN', 'the Owner cannot be demoted; make another member Owner instead (that transfers ownership)');
    }

    const groups = (await groupsByUser(trx, [userId])).get(userId)?.groups ?? null;
    const managed = orgRoleManagedBy(ctx.org, { email: target.email, role: target.role, roleSource: target.roleSource, groups });
    if (managed !== null) throw new RolegateError('ERR_ROLE_MANAGED_BY_IDP', managedDetail(managed, "this member's organization role"));

    if (target.role === 'AD') await ensureAnotherAdmin(trx, ctx.org.id, 'cannot demote this Administrator');

    await writeRole(
      trx,
      { organizationId: ctx.org.id, userId, role, roleSource: ctx.source, reason: manualReason(ctx, 'set_by_admin', `set to ${ORG_ROLE_NAMES[role]} by user:${me.userId} ${ctx.source === 'api' ? 'through the admin API' : 'on the Organization page'}`, target.role) },
      ctx.now,
    );
    let ended: Record<string, number> = {};
    if (role === 'DI') {
      // Deactivation takes effect now: sessions and tokens end (a later reactivation does not revive them).
      const sessions = await destroyUserSessions(trx, userId);
      const tokens = await revokeUserTokens(trx, userId, ctx.now);
      ended = { sessions_ended: sessions, tokens_revoked: tokens };
    }
    events.push(audit(ctx, { subjectUserId: userId, subjectEmail: target.email, action: 'role_change', before: target.role, after: role, reason: { kind: 'set_by_admin', text: ctx.source === 'api' ? 'set by hand through the admin API' : 'set by hand on the Organization page', role_source: ctx.source, ...ended } }));
    await appendAudit(trx, events, ctx.now);
  });
  return memberView(db, ctx.org, userId);
}

/** Soft delete (DELETE memberships/:user_id). */
export async function deleteMember(db: Db, ctx: ChangeContext, userId: number): Promise<void> {
  await db.transaction(async (trx) => {
    await lockOrganization(trx, ctx.org.id);
    await liveCaller(trx, ctx);
    const target = await liveTarget(trx, ctx.org.id, userId);
    // Label Studio's rule (405 "User cannot soft delete self"): an admin never removes their own access.
    if (userId === ctx.caller.userId) throw new RolegateError('ERR_CANNOT_DELETE_SELF', 'User cannot soft delete self');
    if (target.role === 'OW') throw new RolegateError('ERR_LAST_ADMIN', 'the Owner cannot be deleted; transfer ownership first');
    if (target.role === 'AD') await ensureAnotherAdmin(trx, ctx.org.id, 'cannot delete this Administrator');
    await softDeleteMember(trx, ctx.org.id, userId, target.email, manualReason(ctx, 'deleted', `deleted by user:${ctx.caller.userId}`, target.role), ctx.now);
    const sessions = await destroyUserSessions(trx, userId);
    const tokens = await revokeUserTokens(trx, userId, ctx.now);
    await appendAudit(
      trx,
      [audit(ctx, { subjectUserId: userId, subjectEmail: null, action: 'member_deleted', before: target.role, after: null, reason: { kind: 'deleted', text: 'soft delete: personal data scrubbed, access ended', sessions_ended: sessions, tokens_revoked: tokens } })],
      ctx.now,
    );
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
    await db.transaction(async (trx) => {
      await lockOrganization(trx, ctx.org.id);
      await liveCaller(trx, ctx);
      if (await emailTaken(trx, ctx.org.id, email)) throw new RolegateError('ERR_MEMBER_EXISTS', 'a member with this email already exists');
      userId = await insertInvitedMember(trx, ctx.org.id, email, manualReason(ctx, 'invited', `invited by user:${ctx.caller.userId}; Not Activated until an admin assigns a role`, null, { invited_at: ctx.now.toISOString() }), ctx.now, ctx.source);
      await appendAudit(trx, [audit(ctx, { subjectUserId: userId, subjectEmail: email, action: 'member_invited', before: null, after: 'NO', reason: { kind: 'invited', text: 'invited; the first SSO login with this email attaches to this member' } })], ctx.now);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new RolegateError('ERR_MEMBER_EXISTS', 'a member with this email already exists');
    throw err;
  }
  return { view: await memberView(db, ctx.org, userId), inviteUrl: `${ctx.config.server.publicUrl}/saml/${ctx.org.id}/login` };
}
