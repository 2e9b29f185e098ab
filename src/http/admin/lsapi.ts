/**
 * Label Studio endpoints that member scripts call besides the organization ones: the users list, the invite
 * link and invitations, and the personal-access-token refresh. Shapes follow Label Studio's SDK types;
 * docs/label-studio-compatibility.md says, call by call, what matches and what rolegate does instead.
 */
import type Router from '@koa/router';
import type Koa from 'koa';
import { ACCESS_TOKEN_SECONDS } from '../../admin/access-tokens.js';
import { RolegateError } from '../../errors.js';
import type { AccessDeps } from './access.js';
import { callerOf, identify } from './access.js';
import { changeContext } from './api.js';
import { apiBody } from './body.js';
import { acceptOnly, bodyObject, orderingParam, pathInt, roleValue } from './params.js';
import { lsUserJson, membershipJson } from './shapes.js';

/**
 * GET /api/current-user/whoami: by session or by token (`Token` or `Bearer`), with the fields Label Studio
 * scripts read (`username`, `active_organization`, `org_membership`) next to rolegate's own.
 */
export function whoamiHandler(deps: AccessDeps): Koa.Middleware {
  return async (ctx) => {
    acceptOnly(ctx, []);
    const who = await identify(ctx, deps);
    const me = who === undefined ? undefined : await deps.services.whoAmI(who.org, who.caller.userId);
    if (me === undefined) throw new RolegateError('ERR_UNAUTHENTICATED', 'not signed in');
    const initials = ((me.first_name[0] ?? '') + (me.last_name[0] ?? '')).toUpperCase() || (me.email[0] ?? '').toUpperCase();
    ctx.body = {
      ...me,
      username: me.email,
      initials,
      avatar: null,
      phone: '',
      active_organization: me.organization.id,
      org_membership: [{ organization_id: me.organization.id, role: me.organization.role, active: me.organization.role !== 'NO' && me.organization.role !== 'DI' }],
    };
  };
}

function inviteLink(deps: AccessDeps, orgId: number) {
  // rolegate has no sign-up: people arrive through SSO, so the invite link is the organization's sign-in
  // page and carries no secret (there is no invite token to leak or reset).
  return { token: null, invite_url: `${deps.config().server.publicUrl}/sign-in/${orgId}` };
}

function emailsOf(body: Record<string, unknown>): string[] {
  const raw = body['emails'];
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (list === undefined || list.length === 0 || list.length > 100 || !list.every((e): e is string => typeof e === 'string')) {
    throw new RolegateError('ERR_BAD_REQUEST', 'emails: expected a list of 1 to 100 email addresses', { fields: { emails: ['expected a list of email addresses'] } });
  }
  const emails = list.map((e) => e.trim().toLowerCase());
  if (new Set(emails).size !== emails.length) throw new RolegateError('ERR_BAD_REQUEST', 'emails: an address is listed twice', { fields: { emails: ['duplicate address'] } });
  return emails;
}

function nonEmptyList(body: Record<string, unknown>, name: string): boolean {
  const v = body[name];
  return v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
}

export function mountLabelStudioApi(router: Router, deps: AccessDeps): void {
  const { services } = deps;
  const body = apiBody();

  // --- users (Label Studio's /api/users/: a plain array; the older SDK looks members up here) --------------
  router.get('api-users', '/api/users', async (ctx) => {
    acceptOnly(ctx, ['ordering']);
    const { org } = callerOf(ctx);
    const page = await services.listMemberPage(org, { deleted: false }, orderingParam(ctx), { pageSize: null, page: 1 });
    ctx.body = page.results.map((v) => lsUserJson(v.member));
  });

  router.get('api-user', '/api/users/:id', async (ctx) => {
    acceptOnly(ctx, []);
    const { org } = callerOf(ctx);
    const view = await services.memberView(org, pathInt(ctx, 'id'));
    if (view.member.isDeleted) throw new RolegateError('ERR_NOT_FOUND', 'no such user in this organization');
    ctx.body = lsUserJson(view.member);
  });

  // --- invites -------------------------------------------------------------------------------------------
  router.get('api-invite-link', '/api/invite', (ctx) => {
    acceptOnly(ctx, []);
    ctx.body = inviteLink(deps, callerOf(ctx).org.id);
  });

  // Label Studio's reset makes old invite links useless. rolegate's link is the SSO login and has no secret,
  // so there is nothing to reset: the answer is the same link (201, as Label Studio answers).
  router.post('api-invite-reset', '/api/invite/reset-token', (ctx) => {
    ctx.status = 201;
    ctx.body = inviteLink(deps, callerOf(ctx).org.id);
  });

  // Label Studio e-mails an invitation; rolegate sends no e-mail. Each address becomes an invited (Not
  // Activated) member whose first SSO login attaches to it, then gets `role` unless that is NO; the link to
  // send them is in the answer.
  router.post('api-invite-send', '/api/invite/send-email', body, async (ctx) => {
    const { org } = callerOf(ctx);
    const b = bodyObject(ctx);
    const emails = emailsOf(b);
    const role = roleValue(b['role']);
    if (role === 'OW') throw new RolegateError('ERR_INVALID_ROLE', 'role: an invitation cannot make an Owner (ownership is transferred explicitly)');
    for (const name of ['projects', 'workspaces']) {
      if (nonEmptyList(b, name)) {
        throw new RolegateError('ERR_UNKNOWN_PARAMETER', `${name}: not supported: invite first, then assign project roles (rolegate has no workspaces)`, { fields: { [name]: ['not supported'] } });
      }
    }
    // Check every address before creating anyone, so that a bad list changes nothing.
    for (const email of emails) {
      if (await services.emailTaken(org.id, email)) throw new RolegateError('ERR_MEMBER_EXISTS', `${email}: a member with this email already exists`, { fields: { emails: [`${email}: already a member`] } });
    }
    const invited = [];
    for (const email of emails) {
      const invite = await services.inviteMember(changeContext(ctx, deps), email);
      invited.push(role === 'NO' ? invite.view : await services.setMemberRole(changeContext(ctx, deps), invite.view.member.userId, role));
    }
    ctx.body = { ...inviteLink(deps, org.id), invited: invited.map((v) => membershipJson(v)) };
  });

  // Revoking an invitation that was never used: the pending member is removed (soft delete).
  router.post('api-invite-revoke', '/api/invite/revoke', body, async (ctx) => {
    const { org } = callerOf(ctx);
    const email = bodyObject(ctx)['email'];
    if (typeof email !== 'string' || email.trim() === '') throw new RolegateError('ERR_BAD_REQUEST', 'email: expected an email address', { fields: { email: ['required'] } });
    const member = await services.findLiveMemberByEmail(org.id, email.trim().toLowerCase());
    if (member === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no invitation for this email');
    if (member.role !== 'NO' || member.lastLoginAt !== null) {
      throw new RolegateError('ERR_BAD_REQUEST', 'this member has signed in or holds a role: it is not a pending invitation (delete the member instead)', { fields: { email: ['not a pending invitation'] } });
    }
    await services.deleteMember(changeContext(ctx, deps), member.userId);
    ctx.status = 204;
  });

  // --- personal access tokens ------------------------------------------------------------------------------
  router.post('api-token-refresh', '/api/token/refresh', body, async (ctx: Koa.Context) => {
    const refresh = bodyObject(ctx)['refresh'];
    if (typeof refresh !== 'string' || refresh === '') throw new RolegateError('ERR_BAD_REQUEST', 'refresh: expected the refresh token', { fields: { refresh: ['This field is required.'] } });
    const out = await services.refreshAccessToken(deps.config().server.sessionSecret, refresh, new Date());
    if (out === undefined) throw new RolegateError('ERR_UNAUTHENTICATED', 'Token is invalid or expired');
    ctx.body = { access: out.access, expires_in: ACCESS_TOKEN_SECONDS };
  });
}
