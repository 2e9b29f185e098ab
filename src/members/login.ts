/**
 * One login = one transaction: the request id and assertion id are consumed, the user, membership,
 * project memberships, last-seen groups and audit rows are written together or not at all.
 */
import type { Config, OrganizationConfig } from '../configuration/types.js';
import type { Db } from '../db/connect.js';
import type { AuditEvent } from '../db/audit.js';
import { appendAudit } from '../db/audit.js';
import { consumeAssertionReadingSnapshot, readLoginSnapshot } from '../db/login-state.js';
import { saveMemberGroups } from '../db/member-groups.js';
import { consumeAuthnRequest } from '../db/saml-state.js';
import { destroySession, destroyUserSessions, storeSession } from '../db/sessions.js';
import { upsertUser } from '../db/users.js';
import { scimMemberState } from '../db/scim.js';
import type { OrgRole } from '../domain/roles.js';
import { isAdminRole } from '../domain/roles.js';
import { RolegateError } from '../errors.js';
import type { AccessDecision } from '../mapping/index.js';
import { decideAccess, decideScimAccess, ownershipFacts } from '../mapping/index.js';
import type { VerifiedLogin } from '../saml/types.js';
import type { Intent, MemberWriter, WriteContext } from './write.js';

export interface LoginContext {
  readonly now: Date;
  readonly ip: string | null;
  /** sha256 of the browser-binding cookie, or null when the browser sent none. */
  readonly bindingHash: string | null;
  /**
   * The session the login starts, written by the login's own transaction (one commit for the member, the
   * audit and the session: no session exists for a login that rolled back). Not written for a member who ends
   * Deactivated.
   */
  readonly session?: LoginSessionRow;
}

/** A session row to write with a login (see http/session.ts `planSession`). */
export interface LoginSessionRow {
  /** The cookie key the browser will hold (stored hashed). */
  readonly key: string;
  /** The key of the session the browser arrived with, ended by this login; null when it had none. */
  readonly replaces: string | null;
  /** The row's data and expiry once the member's user id is known. */
  row(userId: number): { readonly data: Record<string, unknown>; readonly expiresAt: Date };
}

export interface LoginResult {
  readonly userId: number;
  readonly role: OrgRole;
  /** The path stored with the AuthnRequest (SP-initiated), or null (IdP-initiated: use RelayState). */
  readonly nextPath: string | null;
  readonly decision: AccessDecision;
  readonly created: boolean;
}

/** The audit row of a login refused before its transaction (a bad signature, a replay, …). */
export async function auditRejectedLogin(
  db: Db,
  e: { organizationId: number; subjectEmail: string | null; errorCode: string; detail: string; configRevision: string; assertionId: string | null; ip: string | null },
  now: Date,
): Promise<void> {
  await appendAudit(
    db,
    [{ organizationId: e.organizationId, actor: 'saml', subjectEmail: e.subjectEmail, action: 'login', outcome: 'rejected', errorCode: e.errorCode, reason: { detail: e.detail }, configRevision: e.configRevision, assertionId: e.assertionId, ip: e.ip }],
    now,
  );
}

/** The reason stored on a membership row: enough to answer "why does this person have this role?". */
function storedReason(decisionReason: unknown, login: VerifiedLogin, config: Config, previous: OrgRole | null, at: Date): unknown {
  return {
    decision: decisionReason,
    groups: login.groups,
    assertion_id: login.assertionId,
    asserted_at: at.toISOString(),
    config_revision: config.revision,
    previous_role: previous,
  };
}

/**
 * Apply a verified login. Throws RolegateError: ERR_SAML_REPLAY, ERR_SAML_IN_RESPONSE_TO (nothing written),
 * or ERR_ACCESS_REVOKED (after committing the demotion to Deactivated and ending the member's sessions).
 */
export async function applyLogin(
  db: Db,
  writer: MemberWriter,
  config: Config,
  org: OrganizationConfig,
  login: VerifiedLogin,
  ctx: LoginContext,
): Promise<LoginResult> {
  const result = await db.transaction(async (trx) => {
    let nextPath: string | null = null;
    if (login.inResponseTo !== null) {
      // The id must have been issued to this browser for this organization and not used yet (§4.1.4.3).
      const consumed =
        ctx.bindingHash === null
          ? undefined
          : await consumeAuthnRequest(trx, { id: login.inResponseTo, organizationId: org.id, bindingHash: ctx.bindingHash, now: ctx.now });
      if (consumed === undefined) {
        throw new RolegateError(
          'ERR_SAML_IN_RESPONSE_TO',
          ctx.bindingHash === null
            ? // Nothing to match against: the cookie set when the sign-in started did not come back (another
              // address than public_url's, cookies blocked, or a sign-in started too long ago).
              'InResponseTo does not match a login started by this browser: it sent no sign-in cookie (start the sign-in at the public URL, with cookies allowed)'
            : 'InResponseTo does not match a login started by this browser',
        );
      }
      nextPath = consumed;
    }
    // SAML Profiles §4.1.4.5: a bearer assertion is used once, on any instance sharing the database. The same
    // statement reads what the login decides from (the member, their project roles, the ownership facts).
    const subject = { organizationId: org.id, email: login.email, projectIds: org.projects.map((p) => p.id), owner: org.owner };
    let snapshot = await consumeAssertionReadingSnapshot(trx, { issuer: login.issuer, assertionId: login.assertionId, expiresAt: login.replayCacheUntil }, subject);
    if (snapshot === undefined) throw new RolegateError('ERR_SAML_REPLAY', 'assertion already used');

    // The write path's locking rule, organization row first: a login of an Owner or Administrator (one that
    // may take one away) takes the lock before its first row write, as the admin surface and apply do, and
    // reads again under it (PostgreSQL; on SQLite this transaction holds the write lock since the assertion id).
    const known = snapshot.member;
    if (known !== undefined && isAdminRole(known.role) && (await writer.lock(trx, org.id))) snapshot = await readLoginSnapshot(trx, subject);
    const { user, created } = await upsertUser(trx, org.id, { email: login.email, firstName: login.firstName, lastName: login.lastName }, ctx.now, known !== undefined);
    // The snapshot is this user's unless the row is another one: a concurrent first login inserted it, or the
    // member was deleted meanwhile (PostgreSQL, read committed). A user this login created has no rows yet.
    if (created) snapshot = { ...snapshot, member: undefined, projects: [] };
    else if (snapshot.member?.userId !== user.id) snapshot = await readLoginSnapshot(trx, subject);
    const membership = snapshot.member?.userId === user.id ? snapshot.member : undefined;
    const heldProjects = snapshot.projects.filter((p) => p.userId === user.id);
    const input = {
      email: login.email,
      current: membership === undefined ? null : { role: membership.role, roleSource: membership.roleSource },
      currentProjects: heldProjects.map((p) => ({ projectId: p.projectId, role: p.role, roleSource: p.roleSource })),
      ownership: ownershipFacts(org, { gaveAway: snapshot.ownerLineTransferred ? [org.owner] : [], holderUserId: snapshot.holderUserId }, user.id),
    };
    // A member SCIM provisioned or linked: SCIM is authoritative for their groups and for `active`. The login
    // authenticates them, but the SAML groups neither override the SCIM groups nor reactivate a member the
    // IdP deactivated over SCIM. (upsertUser above updated the user row, which a SCIM push of this member
    // locks too: the two serialize, and this read sees what a push committed.)
    // Only while SCIM is on for the organization (a login of an organization without SCIM reads nothing more).
    const scim = org.scim.enabled ? await scimMemberState(trx, user.id) : undefined;
    const decision =
      scim === undefined
        ? decideAccess(org, { ...input, groups: login.groups })
        : decideScimAccess(org, { ...input, active: scim.active, groups: scim.groups.map((g) => g.displayName) });

    const previous = membership?.role ?? null;
    const next = decision.org;
    const intents: Intent[] = [
      {
        kind: 'org_role',
        userId: user.id,
        role: next.role,
        roleSource: next.roleSource,
        reason: { ...next.reason },
        stored: storedReason(next.reason, login, config, previous, ctx.now),
        createdAs: 'member_created',
      },
      ...decision.projects.map(
        (p): Intent => ({
          kind: 'project_role',
          userId: user.id,
          projectId: p.projectId,
          role: p.role,
          roleSource: p.roleSource,
          reason: { ...p.reason },
          stored: storedReason(p.reason, login, config, heldProjects.find((h) => h.projectId === p.projectId)?.role ?? null, ctx.now),
        }),
      ),
    ];
    const wctx: WriteContext = { organizationId: org.id, source: 'login', actor: 'saml', configRevision: config.revision, now: ctx.now, ip: ctx.ip, assertionId: login.assertionId };
    const base = { organizationId: org.id, actor: 'saml', subjectUserId: user.id, subjectEmail: user.email, configRevision: config.revision, assertionId: login.assertionId, ip: ctx.ip } as const;
    let effective: OrgRole = next.role;
    // The login's own audit rows go in the write path's insert (one statement for every row of this login).
    const loginAudit = (roles: ReadonlyMap<number, OrgRole>): AuditEvent[] => {
      effective = roles.get(user.id) ?? next.role;
      const audit: AuditEvent[] = [];
      if (!decision.groupsKnown) {
        audit.push({ ...base, action: 'groups_unknown', outcome: 'warning', reason: { text: 'the assertion has no groups attribute; nothing was demoted' } });
      }
      if (effective === 'DI') {
        audit.push({ ...base, action: 'login', outcome: 'refused', errorCode: 'ERR_ACCESS_REVOKED', before: previous, after: 'DI', reason: next.reason });
      } else {
        audit.push({ ...base, action: 'login', outcome: 'ok', after: effective });
      }
      return audit;
    };
    const members = new Map(membership === undefined ? [] : [[user.id, membership] as const]);
    await writer.write(trx, wctx, intents, { refusals: 'skip', snapshot: { members, projects: heldProjects, emails: new Map([[user.id, user.email]]) }, audit: loginAudit });

    await saveMemberGroups(trx, user.id, login.groups, login.assertionId, ctx.now);
    // Whatever the change list says (the member may have been Deactivated before), they leave with no session.
    if (effective === 'DI') await destroyUserSessions(trx, user.id);
    else if (ctx.session !== undefined) {
      if (ctx.session.replaces !== null) await destroySession(trx, ctx.session.replaces);
      const { data, expiresAt } = ctx.session.row(user.id);
      await storeSession(trx, ctx.session.key, data, expiresAt);
    }
    return { userId: user.id, role: effective, nextPath, decision, created };
  });
  if (result.role === 'DI') {
    throw new RolegateError(
      'ERR_ACCESS_REVOKED',
      'Your account in this organization is Deactivated, so you cannot sign in. Ask an administrator of the organization if you think this is a mistake.',
    );
  }
  return result;
}
