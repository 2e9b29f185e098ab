/**
 * The Organization page: server-rendered views over the same admin operations as the API. Every
 * action is a plain same-origin form POST carrying the session's CSRF token, answered with a redirect and a
 * one-time message (post/redirect/get), so the page works without script and the CSP stays strict.
 */
import type Router from '@koa/router';
import type Koa from 'koa';
import { memberDisplay } from '../../admin/audit.js';
import { actorOf } from '../../admin/caller.js';
import type { OrgRole } from '../../domain/roles.js';
import { isOrgRole } from '../../domain/roles.js';
import { RolegateError } from '../../errors.js';
import { smallFormBody } from '../body.js';
import { toRolegateError } from '../errors.js';
import { safeNextPath } from '../safety.js';
import type { AccessDeps } from './access.js';
import { callerOf, csrfMatches, csrfToken } from './access.js';
import { changeContext } from './api.js';
import { parseIsoDate } from './params.js';
import { ADMIN_CSS, ADMIN_JS } from './assets.js';
import { staticAsset } from '../assets.js';
import type { Flash, Shell } from './views.js';
import { auditPageView, memberPage, membersPage, tokensPage } from './views.js';

const PAGE_SIZE = 25;

function takeFlash(ctx: Koa.Context): Flash | undefined {
  const s = ctx.session;
  const f = s?.['flash'] as Flash | undefined;
  if (s !== null && s !== undefined && f !== undefined) delete s['flash'];
  return f;
}

function setFlash(ctx: Koa.Context, flash: Flash): void {
  if (ctx.session !== null && ctx.session !== undefined) ctx.session['flash'] = flash;
}

export function shellFor(ctx: Koa.Context): Shell {
  const { caller, org } = callerOf(ctx);
  if (caller.kind !== 'session') throw new RolegateError('ERR_FORBIDDEN', 'the Organization page is for a signed-in browser; scripts use the API');
  return { org, caller, csrf: csrfToken(ctx), flash: takeFlash(ctx) };
}

function q(ctx: Koa.Context, name: string): string {
  const v = ctx.query[name];
  return typeof v === 'string' ? v.slice(0, 200) : '';
}

function pageNumber(ctx: Koa.Context): number {
  const v = q(ctx, 'page');
  return /^[1-9]\d{0,6}$/.test(v) ? Number(v) : 1;
}

function html(ctx: Koa.Context, body: string): void {
  ctx.type = 'html';
  ctx.body = body;
}

/** A form action: check the body's CSRF token, run it, remember the outcome for the next page, redirect. */
export function action(deps: AccessDeps, fallback: (ctx: Koa.Context) => string, run: (ctx: Koa.Context, form: Record<string, unknown>) => Promise<Flash>): Koa.Middleware {
  const parse = smallFormBody();
  return async (ctx) => {
    await parse(ctx, async () => {});
    const form = (ctx.request.body ?? {}) as Record<string, unknown>;
    // The guard already required same origin (or the header); a form must also carry the session's token.
    if (!csrfMatches(ctx, form['csrf'])) throw new RolegateError('ERR_CSRF', 'the form is stale or was not sent by this site; reload the page');
    const back = typeof form['return'] === 'string' ? safeNextPath(form['return']) : fallback(ctx);
    try {
      setFlash(ctx, await run(ctx, form));
    } catch (caught) {
      const err = toRolegateError(caught);
      if (err.code === 'ERR_INTERNAL') throw caught;
      deps.log('info', 'admin action refused', { path: ctx.path, code: err.code });
      setFlash(ctx, { kind: 'error', text: err.message, code: err.code });
    }
    ctx.redirect(back.startsWith('/organization') ? back : fallback(ctx));
  };
}

function userParam(ctx: Koa.Context): number {
  const raw = ctx.params['user_id'];
  if (typeof raw !== 'string' || !/^[1-9]\d{0,14}$/.test(raw)) throw new RolegateError('ERR_NOT_FOUND', 'no such member');
  return Number(raw);
}

export function mountAdminPages(router: Router, deps: AccessDeps): void {
  const { services } = deps;

  router.get('asset-admin-css', '/assets/admin.css', staticAsset('text/css', ADMIN_CSS));
  router.get('asset-admin-js', '/assets/organization.js', staticAsset('application/javascript', ADMIN_JS));

  router.get('page-organization', '/organization', async (ctx) => {
    const shell = shellFor(ctx);
    const role = q(ctx, 'role');
    const roles: OrgRole[] = isOrgRole(role) ? [role] : [];
    const search = q(ctx, 'search').trim();
    const deleted = q(ctx, 'deleted') === '1';
    const page = pageNumber(ctx);
    const result = await services.listMemberships(shell.org, {
      offset: (page - 1) * PAGE_SIZE,
      limit: PAGE_SIZE,
      deleted,
      ...(search === '' ? {} : { search }),
      ...(roles.length === 0 ? {} : { roles }),
    });
    html(ctx, membersPage(shell, { search, role: roles[0] ?? '', deleted, page, pageSize: PAGE_SIZE }, result.count, result.results));
  });

  router.get('page-member', '/organization/members/:user_id', async (ctx) => {
    const shell = shellFor(ctx);
    const userId = userParam(ctx);
    const detail = await services.memberDetail(shell.org, userId);
    const history = await services.auditPage(shell.org, { userId }, { offset: 0, limit: 50 });
    html(ctx, memberPage(shell, detail, history.results, q(ctx, 'confirm') === 'delete'));
  });

  router.get('page-audit', '/organization/audit', async (ctx) => {
    const shell = shellFor(ctx);
    const f = { userId: q(ctx, 'user_id'), action: q(ctx, 'action'), since: q(ctx, 'since'), until: q(ctx, 'until'), page: pageNumber(ctx), pageSize: PAGE_SIZE };
    const filter: { userId?: number; action?: string; since?: Date; until?: Date } = {};
    let flash = shell.flash;
    if (/^[1-9]\d{0,14}$/.test(f.userId)) filter.userId = Number(f.userId);
    if (f.action !== '') filter.action = f.action.slice(0, 64);
    for (const key of ['since', 'until'] as const) {
      if (f[key] === '') continue;
      const d = parseIsoDate(f[key]);
      if (d === undefined) flash = { kind: 'error', text: `${key}: expected a date such as 2026-01-31 or 2026-01-31T09:00`, code: 'ERR_BAD_REQUEST' };
      else filter[key] = d;
    }
    const result = await services.auditPage(shell.org, filter, { offset: (f.page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
    html(ctx, auditPageView({ ...shell, flash }, f, result.count, result.results));
  });

  router.get('page-tokens', '/organization/tokens', async (ctx) => {
    const shell = shellFor(ctx);
    const tokens = await services.listTokens(shell.org.id);
    const members = await services.membersByIds(shell.org.id, tokens.map((t) => t.userId));
    const owners = new Map([...members].map(([id, m]) => [id, memberDisplay(m)]));
    html(ctx, tokensPage(shell, tokens, owners));
  });

  router.post(
    'page-member-role',
    '/organization/members/:user_id/role',
    action(deps, () => '/organization', async (ctx, form) => {
      const role = form['role'];
      if (!isOrgRole(role)) throw new RolegateError('ERR_INVALID_ROLE', 'choose a role from the list');
      const view = await services.setMemberRole(changeContext(ctx, deps, 'manual'), userParam(ctx), role);
      return { kind: 'ok', text: `${view.member.email ?? 'The member'} is now ${roleName(view.member.role)}.` };
    }),
  );

  router.post(
    'page-member-delete',
    '/organization/members/:user_id/delete',
    action(deps, () => '/organization', async (ctx) => {
      const userId = userParam(ctx);
      await services.deleteMember(changeContext(ctx, deps, 'manual'), userId);
      return { kind: 'ok', text: 'Member deleted. Their history now shows "Deleted User".' };
    }),
  );

  router.post(
    'page-invite',
    '/organization/invites',
    action(deps, () => '/organization', async (ctx, form) => {
      const email = typeof form['email'] === 'string' ? form['email'] : '';
      const invite = await services.inviteMember(changeContext(ctx, deps, 'manual'), email);
      return {
        kind: 'ok',
        text: `${invite.view.member.email ?? ''} is invited (Not Activated). Send them this link; their first SSO sign-in attaches to this member, then assign a role.`,
        copy: { label: 'Invite link', value: invite.inviteUrl },
      };
    }),
  );

  // Not `action`: its post/redirect/get keeps the message in the session until the next page, and the session
  // lives in the database. A new key is shown in the response that created it and stored nowhere (only its
  // hash is kept); a reload of this response re-posts the form and makes another token, never shows this one.
  const parseTokenForm = smallFormBody();
  router.post('page-token-create', '/organization/tokens', async (ctx) => {
    await parseTokenForm(ctx, async () => {});
    const form = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (!csrfMatches(ctx, form['csrf'])) throw new RolegateError('ERR_CSRF', 'the form is stale or was not sent by this site; reload the page');
    const { caller, org } = callerOf(ctx);
    const name = typeof form['name'] === 'string' ? form['name'] : '';
    const created = await services.createToken({ organizationId: org.id, userId: caller.userId, name, createdBy: actorOf(caller), configRevision: deps.config().revision, ip: ctx.ip }, new Date());
    const shell = shellFor(ctx);
    const tokens = await services.listTokens(shell.org.id);
    const members = await services.membersByIds(shell.org.id, tokens.map((t) => t.userId));
    const owners = new Map([...members].map(([id, m]) => [id, memberDisplay(m)]));
    const flash: Flash = { kind: 'ok', text: `Token "${created.token.name}" created. Copy the key now: it is not shown again.`, copy: { label: 'Token key', value: created.key } };
    ctx.status = 201;
    html(ctx, tokensPage({ ...shell, flash }, tokens, owners));
  });

  router.post(
    'page-token-revoke',
    '/organization/tokens/:id/revoke',
    action(deps, () => '/organization/tokens', async (ctx) => {
      const { caller, org } = callerOf(ctx);
      const raw = ctx.params['id'];
      if (typeof raw !== 'string' || !/^[1-9]\d{0,14}$/.test(raw)) throw new RolegateError('ERR_NOT_FOUND', 'no such token');
      await services.revokeTokenById({ organizationId: org.id, id: Number(raw), actor: actorOf(caller), by: caller, configRevision: deps.config().revision, ip: ctx.ip }, new Date());
      return { kind: 'ok', text: 'Token revoked.' };
    }),
  );
}

function roleName(role: OrgRole): string {
  return { OW: 'Owner', AD: 'Administrator', MA: 'Manager', RE: 'Reviewer', AN: 'Annotator', NO: 'Not Activated', DI: 'Deactivated' }[role];
}
