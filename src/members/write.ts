/**
 * The one write path for memberships and project memberships. Every role change — the mapping at a login,
 * an apply or reload, a hand change in the admin surface or the CLI, SCIM provisioning — is a list of
 * intents handed to `MemberWriter.write`, which
 *
 *  1. reads the rows the intents concern and turns the intents into a list of changes (old → new);
 *  2. checks the invariants (invariants.ts) once, under one locking rule: on PostgreSQL a transaction that
 *     may take away an Owner or Administrator locks the organization row before it counts them (so two such
 *     transactions serialize); SQLite has one writer at a time;
 *  3. writes the rows;
 *  4. derives every side effect from the list: a member whose access ends (Deactivated, Not Activated from
 *     an active role, or deleted) loses their sessions and API tokens for good (tokens get `revoked_at`, so
 *     a later reactivation brings none back); one audit row per change and per refusal;
 *  5. runs the registered hooks inside the same transaction with the final list (an outbox writer sees
 *     exactly what commits).
 *
 * A refusal changes nothing for that member. Writers that decide for many members (a login, an apply)
 * refuse per member and carry on (`refusals: 'skip'`); a hand change is all-or-nothing (`run`), rolled
 * back on refusal with the refusal audited once in a transaction of its own.
 */
import { revokeTokensOf } from '../db/api-tokens.js';
import type { AuditEvent } from '../db/audit.js';
import { appendAudit, scrubAuditSubject } from '../db/audit.js';
import type { Db, DbOrTrx } from '../db/connect.js';
import { afterCommit } from '../db/connect.js';
import { recordRoleChanges } from '../metrics/index.js';
import { deleteMemberGroups } from '../db/member-groups.js';
import type { MembershipRow } from '../db/memberships.js';
import { countActiveAdmins, lockOrganization, membershipsByIds, upsertMembership, upsertMemberships } from '../db/memberships.js';
import type { ProjectMembershipRow } from '../db/project-memberships.js';
import { deleteProjectMemberships, deleteUserProjectMemberships, listProjectMemberships, upsertProjectMemberships } from '../db/project-memberships.js';
import { recordTransfer } from '../db/ownership.js';
import { destroySessionsOf } from '../db/sessions.js';
import { findUser, scrubUser } from '../db/users.js';
import type { ActiveOrgRole, HandSetSource, OrgRole, RoleSource } from '../domain/roles.js';
import { isActiveOrgRole } from '../domain/roles.js';
import { RolegateError } from '../errors.js';
import type { OrgTransition, RefusalRule } from './invariants.js';
import { AdminCount, addsAdmin, refusalText, removesAdmin, transitionOf } from './invariants.js';

/** Who decided: the audit and the hooks tell a login from an apply, a hand change or SCIM. */
export type WriteSource = 'login' | 'apply' | 'reload' | 'admin' | 'cli' | 'scim';

export interface WriteContext {
  readonly organizationId: number;
  readonly source: WriteSource;
  /** The audit actor: 'saml' (a login), 'config' (apply/reload), 'cli', 'scim', or `user:<id>`. */
  readonly actor: string;
  readonly configRevision: string | null;
  readonly now: Date;
  readonly ip: string | null;
  /** The assertion a login decided from (recorded on its audit rows); null otherwise. */
  readonly assertionId: string | null;
}

export type Reason = Readonly<Record<string, unknown>>;

/** Give a member this organization role (creates the membership when there is none). */
export interface SetOrgRole {
  readonly kind: 'org_role';
  readonly userId: number;
  readonly role: OrgRole;
  readonly roleSource: RoleSource;
  /** Why (the rule and groups, or who set it by hand): on the audit row and in the change list. */
  readonly reason: Reason;
  /** What the membership row stores as its reason; default `reason`. */
  readonly stored?: unknown;
  /** Audit action when the membership is new: a login creates a member, an admin invites one. */
  readonly createdAs?: 'member_created' | 'member_invited';
}

/** Give a member this project role, or end it (`role` null). */
export interface SetProjectRole {
  readonly kind: 'project_role';
  readonly userId: number;
  readonly projectId: number;
  readonly role: ActiveOrgRole | null;
  readonly roleSource: RoleSource;
  readonly reason: Reason;
  readonly stored?: unknown;
}

/** Soft delete: personal data scrubbed, access ended, project memberships and last-seen groups removed. */
export interface DeleteMember {
  readonly kind: 'delete_member';
  readonly userId: number;
  readonly reason: Reason;
}

/** The Owner hands ownership to an active member and stays Administrator; recorded as a transfer. */
export interface TransferOwnership {
  readonly kind: 'transfer_ownership';
  readonly fromUserId: number;
  readonly toUserId: number;
  /** Both new roles carry it: `manual` from the Organization page, `api` from the admin API. */
  readonly roleSource: HandSetSource;
  readonly reason: Reason;
}

export type Intent = SetOrgRole | SetProjectRole | DeleteMember | TransferOwnership;

export interface OrgRoleState {
  readonly role: OrgRole;
  readonly roleSource: RoleSource;
}

export interface ProjectRoleState {
  readonly role: ActiveOrgRole;
  readonly roleSource: RoleSource;
}

interface ChangeBase {
  readonly organizationId: number;
  readonly userId: number;
  /** The member's email when the change was made (a deletion scrubs it from the row afterwards). */
  readonly email: string | null;
  readonly source: WriteSource;
  readonly actor: string;
  readonly reason: Reason;
}

export interface OrgRoleChange extends ChangeBase {
  readonly kind: 'org_role';
  readonly before: OrgRoleState | null;
  readonly after: OrgRoleState;
  readonly transition: OrgTransition;
  /** Part of a recorded ownership transfer. */
  readonly transfer: boolean;
}

export interface ProjectRoleChange extends ChangeBase {
  readonly kind: 'project_role';
  readonly projectId: number;
  readonly before: ProjectRoleState | null;
  readonly after: ProjectRoleState | null;
}

export interface MemberDeletion extends ChangeBase {
  readonly kind: 'member_deleted';
  readonly before: OrgRoleState;
}

export type RoleChange = OrgRoleChange | ProjectRoleChange | MemberDeletion;

export interface Refusal {
  readonly organizationId: number;
  readonly userId: number;
  readonly email: string | null;
  readonly from: OrgRole;
  /** null = a deletion. */
  readonly to: OrgRole | null;
  readonly rule: RefusalRule;
  readonly reason: Reason;
}

export interface WriteResult {
  /** What was written, in order. */
  readonly changes: readonly RoleChange[];
  readonly refusals: readonly Refusal[];
  /** Each member's organization role after the write (members the intents named). */
  readonly roles: ReadonlyMap<number, OrgRole>;
  readonly sessionsEnded: number;
  readonly tokensRevoked: number;
}

/**
 * Runs inside the write path's transaction after the rows are written, with the final list of changes
 * (never called with an empty list). Throwing rolls the whole write back.
 */
export type ChangeHook = (trx: DbOrTrx, changes: readonly RoleChange[], ctx: WriteContext) => Promise<void>;

/**
 * A configuration applied to an organization (`rolegate apply` or a reload), told once per apply and
 * organization, after every batch of its changes has committed: `applied` runs inside the apply's final
 * transaction (the one that records the revision), so an apply that stops half-way never tells it.
 */
export interface ConfigApplied {
  readonly organizationId: number;
  readonly configRevision: string;
  /** The revision applied before this one (null: none recorded). */
  readonly previousRevision: string | null;
  /** 'apply', 'reload:SIGHUP', 'reload:file'. */
  readonly appliedBy: string;
  /** `apply --force` past the mass-demotion guard. */
  readonly forced: boolean;
  /** Distinct members whose organization or project roles the apply changed. */
  readonly membersChanged: number;
  /** Changes by kind: promoted, demoted, activated, deactivated, source_changed, project_added, project_changed, project_removed. */
  readonly changes: Readonly<Record<string, number>>;
  /** Changes the Owner and last-administrator guards refused (not applied). */
  readonly refused: number;
  readonly now: Date;
}

export type AppliedHook = (trx: DbOrTrx, applied: ConfigApplied) => Promise<void>;

export interface WriteOptions {
  /** 'skip': a refused member keeps their roles and the rest is written; 'throw': ERR_LAST_ADMIN, nothing written. */
  readonly refusals: 'skip' | 'throw';
  /**
   * The rows the intents concern, read by the caller in this transaction (a login reads them to decide), so
   * that they are not read twice: every membership of the named members (absent = none), their project
   * memberships in the intents' projects, and the email of a member without a membership yet. Ignored when
   * the write path has to take the organization lock first (it reads again after the lock).
   */
  readonly snapshot?: {
    readonly members: ReadonlyMap<number, MembershipRow>;
    readonly projects: readonly ProjectMembershipRow[];
    readonly emails: ReadonlyMap<number, string>;
  };
  /** The caller's own audit rows (after the write: each member's role), inserted with the write path's in one statement. */
  readonly audit?: (roles: ReadonlyMap<number, OrgRole>) => readonly AuditEvent[];
}

/** Thrown by `write` in 'throw' mode: the refusals ride along so that `run` can audit them after the rollback. */
class RefusedError extends RolegateError {
  constructor(readonly refusals: readonly Refusal[]) {
    super('ERR_LAST_ADMIN', refusals.map((r) => refusalText(r.rule)).join('; '));
  }
}

/** Access ends: from an active role to a state, or Deactivated whatever it was before. */
function endsAccess(before: OrgRole | null, after: OrgRole | null): boolean {
  if (after === null || after === 'DI') return true;
  return after === 'NO' && before !== null && isActiveOrgRole(before);
}

/** Transactions of the write path that hold their organization's row lock (PostgreSQL). */
const locked = new WeakMap<object, Set<number>>();

export class MemberWriter {
  readonly #hooks: readonly ChangeHook[];
  readonly #appliedHooks: readonly AppliedHook[];

  constructor(hooks: readonly ChangeHook[], appliedHooks: readonly AppliedHook[] = []) {
    this.#hooks = hooks;
    this.#appliedHooks = appliedHooks;
  }

  /** An apply's summary for one organization, inside the apply's final transaction (see ConfigApplied). */
  async applied(trx: DbOrTrx, applied: ConfigApplied): Promise<void> {
    for (const hook of this.#appliedHooks) await hook(trx, applied);
  }

  /**
   * Take the organization row lock now. Writers that read before they decide (the admin surface, apply)
   * call this first, so that what they read cannot change under them. True when a lock was taken now by a
   * statement (PostgreSQL): rows read before it in this transaction may have changed meanwhile. False when it
   * was held already, or on SQLite (one writer at a time; a transaction that has written holds the database's
   * write lock, so nothing it reads after its first write can change under it).
   */
  async lock(trx: DbOrTrx, organizationId: number): Promise<boolean> {
    const held = locked.get(trx) ?? new Set<number>();
    if (held.has(organizationId)) return false;
    const took = await lockOrganization(trx, organizationId);
    held.add(organizationId);
    locked.set(trx, held);
    return took;
  }

  /**
   * A hand change in a transaction of its own: `prepare` runs after the lock and returns the intents. On a
   * refusal nothing is written, the refusal is audited once, and ERR_LAST_ADMIN is thrown.
   */
  async run<T>(db: Db, ctx: WriteContext, prepare: (trx: DbOrTrx) => Promise<{ intents: readonly Intent[]; value: T }>): Promise<{ result: WriteResult; value: T }> {
    try {
      return await db.transaction(async (trx) => {
        await this.lock(trx, ctx.organizationId);
        const { intents, value } = await prepare(trx);
        const result = await this.write(trx, ctx, intents, { refusals: 'throw' });
        return { result, value };
      });
    } catch (err) {
      if (err instanceof RefusedError) {
        await db.transaction((trx) => appendAudit(trx, err.refusals.map((r) => refusalEvent(ctx, r, 'ERR_LAST_ADMIN')), ctx.now));
      }
      throw err;
    }
  }

  /**
   * Inside the caller's transaction. See the module comment for what happens, in order. Each step is a
   * function of its own: one async function holding them all compiled to ~8 KB of bytecode that V8
   * optimised in ~80 ms on a compiler thread and threw away whenever what reached it changed shape (a first
   * login's changes, then a returning login's none), over and over while a server ran.
   */
  async write(trx: DbOrTrx, ctx: WriteContext, intents: readonly Intent[], options: WriteOptions): Promise<WriteResult> {
    const rows = await this.#read(trx, ctx.organizationId, intents, options);
    const org = decideOrgChanges(ctx, rows);
    if (org.refusals.length > 0 && options.refusals === 'throw') throw new RefusedError(org.refusals);
    const projectChanges = decideProjectChanges(ctx, intents, rows, org.refusedUsers);
    await writeRows(trx, ctx, rows, org, projectChanges);
    const ended = await endAccess(trx, ctx, org.orgChanges);
    const events = auditEvents(ctx, org, projectChanges, ended.byUser);
    if (options.audit !== undefined) events.push(...options.audit(org.roles));
    await appendAudit(trx, events, ctx.now);

    const changes: RoleChange[] = [...org.orgChanges.map((c) => c.change), ...projectChanges.map((c) => c.change)];
    if (changes.length > 0) for (const hook of this.#hooks) await hook(trx, changes, ctx);
    if (changes.length > 0) afterCommit(trx, () => recordRoleChanges(changes.map((c) => ({ kind: metricKind(c), source: c.source }))));
    return { changes, refusals: org.refusals, roles: org.roles, sessionsEnded: ended.sessions, tokensRevoked: ended.tokens };
  }

  /** Step 1: the rows the intents concern (the caller's snapshot when it has one), under the one locking rule. */
  async #read(trx: DbOrTrx, org: number, intents: readonly Intent[], options: WriteOptions): Promise<ReadRows> {
    const ids = new Set<number>();
    for (const i of intents) {
      if (i.kind === 'transfer_ownership') ids.add(i.fromUserId).add(i.toUserId);
      else ids.add(i.userId);
    }
    let snapshot = options.snapshot;
    let members = snapshot?.members ?? (await membershipsByIds(trx, org, [...ids]));
    // The one locking rule: lock before counting whenever an Owner or Administrator could be taken away.
    if (!locked.get(trx)?.has(org) && intents.some((i) => mayRemoveAdmin(i, members))) {
      await this.lock(trx, org);
      members = await membershipsByIds(trx, org, [...ids]);
      snapshot = undefined;
    }
    const projectIds = [...new Set(intents.flatMap((i) => (i.kind === 'project_role' ? [i.projectId] : [])))];
    const heldProjects = new Map<string, ProjectMembershipRow>();
    const projectRows = snapshot !== undefined ? snapshot.projects : await listProjectMemberships(trx, projectIds, { userIds: [...ids] });
    for (const p of projectRows) heldProjects.set(`${p.projectId}:${p.userId}`, p);

    // Adding Owners/Administrators is counted before taking any away, so a batch that swaps them is allowed.
    const ordered = [...intents].sort((a, b) => rank(a, members) - rank(b, members));
    const needsCount = ordered.some((i) => mayRemoveAdmin(i, members));
    const count = new AdminCount(needsCount ? await countActiveAdmins(trx, org) : Number.MAX_SAFE_INTEGER);

    // A member's first membership (a login, an invite): the email comes from the user row.
    const emails = new Map<number, string | null>();
    for (const id of ids) {
      const m = members.get(id);
      const known = snapshot?.emails.get(id);
      emails.set(id, m !== undefined ? m.email : known !== undefined ? known : ((await findUser(trx, org, id))?.email ?? null));
    }
    return { members, heldProjects, ordered, count, emails };
  }
}

/** What step 1 read: the rows the intents concern, and the intents in the order they are decided. */
interface ReadRows {
  readonly members: ReadonlyMap<number, MembershipRow>;
  /** By `${projectId}:${userId}`. */
  readonly heldProjects: ReadonlyMap<string, ProjectMembershipRow>;
  /** What adds an Owner/Administrator first, what takes one away last. */
  readonly ordered: readonly Intent[];
  readonly count: AdminCount;
  readonly emails: ReadonlyMap<number, string | null>;
}

interface OrgChangeRow {
  readonly change: OrgRoleChange | MemberDeletion;
  /** The reason stored on the membership row. */
  readonly stored: unknown;
  readonly createdAs: string | undefined;
}

interface ProjectChangeRow {
  readonly change: ProjectRoleChange;
  readonly stored: unknown;
}

/** What step 2 decided at organization level. */
interface OrgDecision {
  readonly orgChanges: readonly OrgChangeRow[];
  readonly transfers: readonly TransferOwnership[];
  readonly refusals: readonly Refusal[];
  readonly refusedUsers: ReadonlySet<number>;
  /** Each named member's organization role after the write. */
  readonly roles: Map<number, OrgRole>;
}

function changeBase(ctx: WriteContext, rows: ReadRows, userId: number, reason: Reason): ChangeBase {
  return { organizationId: ctx.organizationId, userId, email: rows.emails.get(userId) ?? null, source: ctx.source, actor: ctx.actor, reason };
}

/** Step 2: organization roles, deletions and transfers, each checked against the Owner and last-administrator guards. */
function decideOrgChanges(ctx: WriteContext, rows: ReadRows): OrgDecision {
  const { members, count } = rows;
  const refusals: Refusal[] = [];
  const refusedUsers = new Set<number>();
  const roles = new Map<number, OrgRole>();
  for (const [id, m] of members) roles.set(id, m.role);
  const orgChanges: OrgChangeRow[] = [];
  const transfers: TransferOwnership[] = [];

  for (const intent of rows.ordered) {
    if (intent.kind === 'project_role') continue;
    if (intent.kind === 'transfer_ownership') {
      const from = live(members, intent.fromUserId);
      const to = live(members, intent.toUserId);
      if (from.role !== 'OW') throw new RolegateError('ERR_FORBIDDEN', 'only the Owner can transfer ownership');
      if (!isActiveOrgRole(to.role)) throw new RolegateError('ERR_MEMBER_INACTIVE', 'only an active member can become Owner');
      count.check(to.role, 'OW');
      count.check('OW', 'AD', { transfer: true });
      const giverReason = { ...intent.reason, to_user_id: to.userId };
      const takerReason = { ...intent.reason, from_user_id: from.userId };
      orgChanges.push({ change: { ...changeBase(ctx, rows, to.userId, takerReason), kind: 'org_role', before: state(to), after: { role: 'OW', roleSource: intent.roleSource }, transition: transitionOf(to.role, 'OW'), transfer: true }, stored: takerReason, createdAs: undefined });
      orgChanges.push({ change: { ...changeBase(ctx, rows, from.userId, giverReason), kind: 'org_role', before: state(from), after: { role: 'AD', roleSource: intent.roleSource }, transition: 'demoted', transfer: true }, stored: giverReason, createdAs: undefined });
      roles.set(to.userId, 'OW').set(from.userId, 'AD');
      transfers.push(intent);
      continue;
    }
    const current = members.get(intent.userId);
    if (current !== undefined && current.isDeleted) continue; // deleted meanwhile: nothing to change
    const from = current === undefined ? null : current.role;
    const to = intent.kind === 'delete_member' ? null : intent.role;
    if (intent.kind === 'org_role' && current !== undefined && current.role === intent.role && current.roleSource === intent.roleSource) continue;
    const rule = count.check(from, to);
    if (rule !== null && from !== null) {
      refusals.push({ organizationId: ctx.organizationId, userId: intent.userId, email: current?.email ?? null, from, to, rule, reason: intent.reason });
      refusedUsers.add(intent.userId);
      continue;
    }
    if (intent.kind === 'delete_member') {
      if (current === undefined) continue;
      orgChanges.push({ change: { ...changeBase(ctx, rows, intent.userId, intent.reason), kind: 'member_deleted', before: state(current) }, stored: intent.reason, createdAs: undefined });
      roles.set(intent.userId, 'DI');
    } else {
      orgChanges.push({
        change: { ...changeBase(ctx, rows, intent.userId, intent.reason), kind: 'org_role', before: current === undefined ? null : state(current), after: { role: intent.role, roleSource: intent.roleSource }, transition: transitionOf(from, intent.role), transfer: false },
        stored: intent.stored ?? intent.reason,
        createdAs: intent.createdAs,
      });
      roles.set(intent.userId, intent.role);
    }
  }
  return { orgChanges, transfers, refusals, refusedUsers, roles };
}

/** Step 2, projects: what changes, in the intents' order; nothing for a member refused at organization level. */
function decideProjectChanges(ctx: WriteContext, intents: readonly Intent[], rows: ReadRows, refusedUsers: ReadonlySet<number>): ProjectChangeRow[] {
  const projectChanges: ProjectChangeRow[] = [];
  for (const intent of intents) {
    if (intent.kind !== 'project_role' || refusedUsers.has(intent.userId)) continue;
    const held = rows.heldProjects.get(`${intent.projectId}:${intent.userId}`);
    if (intent.role === null && held === undefined) continue;
    if (intent.role !== null && held !== undefined && held.role === intent.role && held.roleSource === intent.roleSource) continue;
    projectChanges.push({
      change: {
        ...changeBase(ctx, rows, intent.userId, intent.reason),
        kind: 'project_role',
        projectId: intent.projectId,
        before: held === undefined ? null : { role: held.role, roleSource: held.roleSource },
        after: intent.role === null ? null : { role: intent.role, roleSource: intent.roleSource },
      },
      stored: intent.stored ?? intent.reason,
    });
  }
  return projectChanges;
}

/**
 * Step 3: the rows. Role changes are written many rows per statement: a SCIM push or an apply batch may
 * change thousands of members in one transaction.
 */
async function writeRows(trx: DbOrTrx, ctx: WriteContext, rows: ReadRows, org: OrgDecision, projectChanges: readonly ProjectChangeRow[]): Promise<void> {
  const orgId = ctx.organizationId;
  const upserts: Parameters<typeof upsertMemberships>[1][number][] = [];
  for (const { change, stored } of org.orgChanges) {
    if (change.kind === 'member_deleted') {
      await scrubUser(trx, orgId, change.userId);
      await upsertMembership(trx, { organizationId: orgId, userId: change.userId, role: 'DI', roleSource: 'manual', reason: stored }, ctx.now);
      await deleteUserProjectMemberships(trx, change.userId);
      await deleteMemberGroups(trx, change.userId);
      await scrubAuditSubject(trx, orgId, change.userId, change.email);
    } else {
      upserts.push({ organizationId: orgId, userId: change.userId, role: change.after.role, roleSource: change.after.roleSource, reason: stored });
    }
  }
  await upsertMemberships(trx, upserts, ctx.now);
  for (const t of org.transfers) {
    await recordTransfer(trx, { organizationId: orgId, fromUserId: t.fromUserId, fromEmail: rows.members.get(t.fromUserId)?.email ?? null, toUserId: t.toUserId, actor: ctx.actor }, ctx.now);
  }
  const projectUpserts: Parameters<typeof upsertProjectMemberships>[1][number][] = [];
  const projectEnds: { projectId: number; userId: number }[] = [];
  for (const { change, stored } of projectChanges) {
    if (change.after === null) projectEnds.push({ projectId: change.projectId, userId: change.userId });
    else projectUpserts.push({ projectId: change.projectId, userId: change.userId, role: change.after.role, roleSource: change.after.roleSource, reason: stored });
  }
  await deleteProjectMemberships(trx, projectEnds);
  await upsertProjectMemberships(trx, projectUpserts, ctx.now);
}

interface Ended {
  readonly byUser: ReadonlyMap<number, { sessions_ended: number; tokens_revoked: number }>;
  readonly sessions: number;
  readonly tokens: number;
}

/** Step 4, side effects: a member whose access ends loses their sessions and API tokens. */
async function endAccess(trx: DbOrTrx, ctx: WriteContext, orgChanges: readonly OrgChangeRow[]): Promise<Ended> {
  const ending = [
    ...new Set(
      orgChanges.filter(({ change }) => endsAccess(change.before?.role ?? null, change.kind === 'member_deleted' ? null : change.after.role)).map(({ change }) => change.userId),
    ),
  ];
  const byUser = new Map<number, { sessions_ended: number; tokens_revoked: number }>();
  if (ending.length === 0) return { byUser, sessions: 0, tokens: 0 };
  const sessions = await destroySessionsOf(trx, ending);
  const tokens = await revokeTokensOf(trx, ending, ctx.now);
  let sessionsEnded = 0;
  let tokensRevoked = 0;
  for (const userId of ending) {
    const s = sessions.get(userId) ?? 0;
    const t = tokens.get(userId) ?? 0;
    sessionsEnded += s;
    tokensRevoked += t;
    byUser.set(userId, { sessions_ended: s, tokens_revoked: t });
  }
  return { byUser, sessions: sessionsEnded, tokens: tokensRevoked };
}

/** Step 4, the audit: one row per refusal and per change. */
function auditEvents(ctx: WriteContext, org: OrgDecision, projectChanges: readonly ProjectChangeRow[], ended: Ended['byUser']): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (const r of org.refusals) events.push(refusalEvent(ctx, r, null));
  for (const { change, createdAs } of org.orgChanges) {
    const extra = ended.get(change.userId) ?? {};
    if (change.kind === 'member_deleted') {
      events.push({ ...eventBase(ctx, change), subjectEmail: null, action: 'member_deleted', before: change.before.role, after: null, reason: { ...change.reason, ...extra } });
    } else {
      const action = change.before === null ? (createdAs ?? 'member_created') : 'role_change';
      events.push({ ...eventBase(ctx, change), action, before: change.before?.role ?? null, after: change.after.role, reason: { ...change.reason, role_source: change.after.roleSource, ...extra } });
    }
  }
  for (const { change } of projectChanges) {
    events.push({ ...eventBase(ctx, change), action: 'project_role_change', before: change.before?.role ?? null, after: change.after?.role ?? null, reason: { project_id: change.projectId, ...change.reason } });
  }
  return events;
}

/** The role_changes_total label of a change. */
function metricKind(c: RoleChange): string {
  if (c.kind === 'project_role') return 'project_role_change';
  if (c.kind === 'member_deleted') return 'member_deleted';
  return c.before === null ? 'member_created' : 'role_change';
}

function live(members: ReadonlyMap<number, MembershipRow>, userId: number): MembershipRow {
  const m = members.get(userId);
  if (m === undefined || m.isDeleted) throw new RolegateError('ERR_NOT_FOUND', 'no such member in this organization');
  return m;
}

function state(m: MembershipRow): OrgRoleState {
  return { role: m.role, roleSource: m.roleSource };
}

function targetRole(i: Intent): OrgRole | null | undefined {
  if (i.kind === 'org_role') return i.role;
  if (i.kind === 'delete_member') return null;
  return undefined;
}

function mayRemoveAdmin(i: Intent, members: ReadonlyMap<number, MembershipRow>): boolean {
  if (i.kind === 'transfer_ownership') return true;
  const to = targetRole(i);
  return to !== undefined && removesAdmin(members.get(i.userId)?.role ?? null, to);
}

/** Sort key: what adds an Owner/Administrator first, what takes one away last, by user id within. */
function rank(i: Intent, members: ReadonlyMap<number, MembershipRow>): number {
  if (i.kind === 'transfer_ownership' || i.kind === 'project_role') return 1;
  const from = members.get(i.userId)?.role ?? null;
  const to = targetRole(i) ?? null;
  return addsAdmin(from, to) ? 0 : removesAdmin(from, to) ? 2 : 1;
}

function eventBase(ctx: WriteContext, c: ChangeBase): Pick<AuditEvent, 'organizationId' | 'actor' | 'subjectUserId' | 'subjectEmail' | 'outcome' | 'configRevision' | 'assertionId' | 'ip'> {
  return { organizationId: c.organizationId, actor: ctx.actor, subjectUserId: c.userId, subjectEmail: c.email, outcome: 'ok', configRevision: ctx.configRevision, assertionId: ctx.assertionId, ip: ctx.ip };
}

function refusalEvent(ctx: WriteContext, r: Refusal, errorCode: string | null): AuditEvent {
  return {
    organizationId: r.organizationId,
    actor: ctx.actor,
    subjectUserId: r.userId,
    subjectEmail: r.email,
    action: r.to === null ? 'member_deleted' : 'role_change',
    outcome: 'refused',
    errorCode,
    before: r.from,
    after: r.to,
    reason: { guard: r.rule, text: refusalText(r.rule), decision: r.reason },
    configRevision: ctx.configRevision,
    assertionId: ctx.assertionId,
    ip: ctx.ip,
  };
}
