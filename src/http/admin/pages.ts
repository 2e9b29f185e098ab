/**
 * The Organization pages: server-rendered views over the same admin operations as the API. Every action is
 * a plain same-origin form POST carrying the session's CSRF token, answered with a redirect and a one-time
 * message (post/redirect/get), so the pages work without script and the CSP stays strict. Changes that are
 * hard to undo (handing over ownership, an administrator removing themselves, bulk deactivation or
 * deletion) need `confirmed=1`: the script asks in a dialog, and without script the server shows a
 * confirmation page first.
 */
import type Router from '@koa/router';
import type Koa from 'koa';
import { memberDisplay } from '../../admin/audit.js';
import { actorOf } from '../../admin/caller.js';
import { mayRevoke } from '../../admin/tokens.js';
import type { OrganizationConfig } from '../../configuration/types.js';
import type { OrgRole } from '../../domain/roles.js';
import { ACTIVE_ORG_ROLES, ORG_ROLE_NAMES, isOrgRole } from '../../domain/roles.js';
import { RolegateError } from '../../errors.js';
import { smallFormBody } from '../body.js';
import { toRolegateError } from '../errors.js';
import { safeNextPath } from '../safety.js';
import type { AccessDeps } from './access.js';
import type { Services } from '../services.js';
import { callerOf, csrfMatches } from './access.js';
import { changeContext } from './api.js';
import { parseIsoDate } from './params.js';
import { ADMIN_CSS, ADMIN_JS } from './assets.js';
import { staticAsset } from '../assets.js';
import type { AuditMemberMatch, ConfirmKind, Flash, MemberCounts, MemberSort, Shell } from './views.js';
import { MEMBER_SORTS, PAGE_SIZES, auditPageView, memberPage, membersPage, tokensPage } from './views.js';
import { shellFor } from './shell.js';

const PAGE_SIZE = 25;
/** Most members one bulk action may change (a page holds at most 100). */
const BULK_MAX = 100;


function setFlash(ctx: Koa.Context, flash: Flash): void {
  if (ctx.session !== null && ctx.session !== undefined) ctx.session['flash'] = flash;
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

/** Where an action sends the browser instead of back to the page it came from (a confirmation, the start page). */
interface Redirect {
  readonly redirect: string;
  readonly flash?: Flash;
}

/** A form action: check the body's CSRF token, run it, remember the outcome for the next page, redirect. */
export function action(deps: AccessDeps, fallback: (ctx: Koa.Context) => string, run: (ctx: Koa.Context, form: Record<string, unknown>) => Promise<Flash | Redirect>): Koa.Middleware {
  const parse = smallFormBody();
  return async (ctx) => {
    await parse(ctx, async () => {});
    const form = (ctx.request.body ?? {}) as Record<string, unknown>;
    // The guard already required same origin (or the header); a form must also carry the session's token.
    if (!csrfMatches(ctx, form['csrf'])) throw new RolegateError('ERR_CSRF', 'the form is stale or was not sent by this site; reload the page');
    const back = typeof form['return'] === 'string' ? safeNextPath(form['return']) : fallback(ctx);
    let to = back.startsWith('/organization') ? back : fallback(ctx);
    try {
      const outcome = await run(ctx, form);
      if ('redirect' in outcome) {
        to = outcome.redirect;
        if (outcome.flash !== undefined) setFlash(ctx, outcome.flash);
      } else setFlash(ctx, outcome);
    } catch (caught) {
      const err = toRolegateError(caught);
      if (err.code === 'ERR_INTERNAL') throw caught;
      deps.log('info', 'admin action refused', { path: ctx.path, code: err.code });
      setFlash(ctx, { kind: 'error', text: err.message, code: err.code });
    }
    ctx.redirect(to);
  };
}

/** The form said yes: the dialog's hidden field, or the no-script checkbox (then both are sent). */
function confirmed(form: Record<string, unknown>): boolean {
  const v = form['confirmed'];
  return v === '1' || (Array.isArray(v) && v.includes('1'));
}

/** Which choice needs a confirmation first: ownership moving, or an administrator removing themselves. */
function needsConfirm(target: number, self: number, change: ConfirmKind): boolean {
  if (change.kind === 'role' && change.role === 'OW') return true;
  return target === self && (change.kind === 'delete' || change.role === 'DI');
}

function confirmUrl(userId: number, c: ConfirmKind): string {
  return c.kind === 'delete' ? `/organization/members/${userId}?confirm=delete` : `/organization/members/${userId}?confirm=role&role=${c.role}`;
}

async function memberCounts(services: Services, org: OrganizationConfig): Promise<MemberCounts> {
  // The same listing the table uses, asked for counts only (limit 1), so the numbers and the rows agree.
  const count = async (roles: readonly OrgRole[], deleted: boolean) => (await services.listMemberships(org, { offset: 0, limit: 1, deleted, ...(roles.length === 0 ? {} : { roles }) })).count;
  const [active, pending, deactivated, deleted] = await Promise.all([count(ACTIVE_ORG_ROLES, false), count(['NO'], false), count(['DI'], false), count([], true)]);
  return { active, pending, deactivated, deleted };
}

/** A member named by email, name or id, as the audit filter takes it. */
async function resolveMember(services: Services, org: OrganizationConfig, text: string): Promise<AuditMemberMatch & { readonly none: boolean }> {
  if (/^[1-9]\d{0,14}$/.test(text)) return { userId: Number(text), choices: [], none: false };
  const exact = text.replace(/^.*<([^<>]+)>$/, '$1').trim();
  const found = await services.listMemberships(org, { offset: 0, limit: 6, deleted: false, search: exact });
  const rows = found.results.map((v) => v.member);
  const same = rows.find((m) => m.email !== null && m.email.toLowerCase() === exact.toLowerCase());
  if (same !== undefined) return { userId: same.userId, choices: [], none: false };
  if (rows.length === 1 && rows[0] !== undefined) return { userId: rows[0].userId, choices: [], none: false };
  if (rows.length === 0) return { userId: null, choices: [], none: true };
  return { userId: null, choices: rows.map((m) => ({ userId: m.userId, label: m.email ?? memberDisplay(m) })), none: false };
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
    const shell = await shellFor(ctx, services);
    const role = q(ctx, 'role');
    const roles: OrgRole[] = isOrgRole(role) ? [role] : [];
    const search = q(ctx, 'search').trim();
    const deleted = q(ctx, 'deleted') === '1';
    const page = pageNumber(ctx);
    const perPage = Number(q(ctx, 'per_page'));
    const pageSize = (PAGE_SIZES as readonly number[]).includes(perPage) ? perPage : PAGE_SIZE;
    const sortKey = q(ctx, 'sort');
    const sort: MemberSort | '' = Object.hasOwn(MEMBER_SORTS, sortKey) ? (sortKey as MemberSort) : '';
    const desc = sort !== '' && q(ctx, 'dir') === 'desc';
    const [result, counts] = await Promise.all([
      services.listMemberships(shell.org, {
        offset: (page - 1) * pageSize,
        limit: pageSize,
        deleted,
        ...(search === '' ? {} : { search }),
        ...(roles.length === 0 ? {} : { roles }),
        ...(sort === '' ? {} : { ordering: { field: MEMBER_SORTS[sort], desc } }),
      }),
      memberCounts(services, shell.org),
    ]);
    html(ctx, membersPage(shell, { search, role: roles[0] ?? '', deleted, page, pageSize, sort, desc }, result.count, result.results, counts));
  });

  router.get('page-member', '/organization/members/:user_id', async (ctx) => {
    const shell = await shellFor(ctx, services);
    const userId = userParam(ctx);
    const detail = await services.memberDetail(shell.org, userId);
    const history = await services.auditPage(shell.org, { userId }, { offset: 0, limit: 50 });
    const role = q(ctx, 'role');
    const confirm: ConfirmKind | null = q(ctx, 'confirm') === 'delete' ? { kind: 'delete' } : q(ctx, 'confirm') === 'role' && isOrgRole(role) ? { kind: 'role', role } : null;
    html(ctx, memberPage(shell, detail, history.results, confirm));
  });

  router.get('page-audit', '/organization/audit', async (ctx) => {
    const shell = await shellFor(ctx, services);
    // `user_id=` (links from elsewhere) is still understood, as a member filter by id.
    const member = (q(ctx, 'member') || q(ctx, 'user_id')).trim();
    const f = { member, action: q(ctx, 'action'), since: q(ctx, 'since'), until: q(ctx, 'until'), page: pageNumber(ctx), pageSize: PAGE_SIZE };
    const filter: { userId?: number; action?: string; since?: Date; until?: Date } = {};
    let flash = shell.flash;
    let match: AuditMemberMatch = { userId: null, choices: [] };
    let nobody = false;
    if (member !== '') {
      const found = await resolveMember(services, shell.org, member);
      match = found;
      nobody = found.none || found.choices.length > 0;
      if (found.userId !== null) filter.userId = found.userId;
    }
    if (f.action !== '') filter.action = f.action.slice(0, 64);
    for (const key of ['since', 'until'] as const) {
      if (f[key] === '') continue;
      const d = parseIsoDate(f[key]);
      if (d === undefined) flash = { kind: 'error', text: `${key === 'since' ? 'Since' : 'Until'}: expected a date such as 2026-01-31 or 2026-01-31T09:00`, code: 'ERR_BAD_REQUEST' };
      else filter[key] = d;
    }
    const result = nobody ? { count: 0, results: [] } : await services.auditPage(shell.org, filter, { offset: (f.page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
    html(ctx, auditPageView({ ...shell, flash }, f, result.count, result.results, match));
  });

  /** The tokens tab: each token with its member, and a Revoke button only where the caller may revoke it. */
  async function tokensView(shell: Shell): Promise<string> {
    const tokens = await services.listTokens(shell.org.id);
    const members = await services.membersByIds(shell.org.id, tokens.map((t) => t.userId));
    const owners = new Map([...members].map(([id, m]) => [id, memberDisplay(m)]));
    const revocable = new Set(tokens.filter((t) => mayRevoke(shell.caller, { userId: t.userId, role: members.get(t.userId)?.role })).map((t) => t.id));
    const scim = { enabled: shell.org.scim.enabled, base: `${deps.config().server.publicUrl}/scim/v2`, tokens: await services.scim.listTokens(shell.org.id) };
    return tokensPage(shell, tokens, owners, revocable, scim);
  }

  router.get('page-tokens', '/organization/tokens', async (ctx) => {
    html(ctx, await tokensView(await shellFor(ctx, services)));
  });

  router.post(
    'page-member-role',
    '/organization/members/:user_id/role',
    action(deps, () => '/organization', async (ctx, form) => {
      const role = form['role'];
      if (!isOrgRole(role)) throw new RolegateError('ERR_INVALID_ROLE', 'choose a role from the list');
      const userId = userParam(ctx);
      const change = changeContext(ctx, deps, 'manual');
      if (needsConfirm(userId, change.caller.userId, { kind: 'role', role }) && !confirmed(form)) return { redirect: confirmUrl(userId, { kind: 'role', role }) };
      const view = await services.setMemberRole(change, userId, role);
      const text = `${view.member.email ?? 'The member'} is now ${ORG_ROLE_NAMES[view.member.role]}.`;
      // Deactivating oneself ends one's own session: the Organization page is no longer theirs to see.
      if (userId === change.caller.userId && role === 'DI') return { redirect: '/' };
      if (role === 'OW') return { kind: 'ok', text: `${text} You are now an Administrator.` };
      return { kind: 'ok', text };
    }),
  );

  router.post(
    'page-member-delete',
    '/organization/members/:user_id/delete',
    action(deps, () => '/organization', async (ctx, form) => {
      const userId = userParam(ctx);
      const change = changeContext(ctx, deps, 'manual');
      if (needsConfirm(userId, change.caller.userId, { kind: 'delete' }) && !confirmed(form)) return { redirect: confirmUrl(userId, { kind: 'delete' }) };
      await services.deleteMember(change, userId);
      if (userId === change.caller.userId) return { redirect: '/' };
      return { redirect: '/organization', flash: { kind: 'ok', text: 'Member deleted. Their history now shows "Deleted User".' } };
    }),
  );

  router.post(
    'page-bulk',
    '/organization/bulk',
    action(deps, () => '/organization', async (ctx, form) => {
      const raw = form['user'];
      const ids = [...new Set((Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string' && /^[1-9]\d{0,14}$/.test(v)).map(Number))];
      if (ids.length === 0) throw new RolegateError('ERR_BAD_REQUEST', 'select one or more members first');
      if (ids.length > BULK_MAX) throw new RolegateError('ERR_BAD_REQUEST', `select at most ${BULK_MAX} members at once`);
      const what = typeof form['bulk_action'] === 'string' ? form['bulk_action'] : '';
      const roleCode = what.startsWith('role:') ? what.slice(5) : what === 'deactivate' ? 'DI' : null;
      if (what !== 'delete' && (roleCode === null || !isOrgRole(roleCode) || roleCode === 'OW')) {
        throw new RolegateError('ERR_INVALID_ROLE', 'choose an action from the list (ownership moves one member at a time)');
      }
      const change = changeContext(ctx, deps, 'manual');
      const self = ids.includes(change.caller.userId);
      // Deactivating or deleting several people, or oneself among them, is asked for twice (the dialog, or
      // this check without script): the browser's form says confirmed=1 only after the question.
      if ((what === 'delete' || roleCode === 'DI' || self) && !confirmed(form)) {
        throw new RolegateError('ERR_BAD_REQUEST', 'tick “Yes, do it” to confirm; nothing was changed');
      }
      const done: string[] = [];
      const refused: string[] = [];
      // One member at a time through the same operation as the row's own control: the same guards
      // (Owner, last administrator, IdP-managed roles) and one audit row each. A refusal stops nobody else.
      const others = ids.filter((id) => id !== change.caller.userId);
      for (const userId of self ? [...others, change.caller.userId] : others) {
        try {
          if (what === 'delete') {
            await services.deleteMember({ ...change, now: new Date() }, userId);
          } else {
            await services.setMemberRole({ ...change, now: new Date() }, userId, roleCode as OrgRole);
          }
          done.push(String(userId));
        } catch (caught) {
          const err = toRolegateError(caught);
          if (err.code === 'ERR_INTERNAL') throw caught;
          const m = await services.findMember(change.org.id, userId);
          refused.push(`${m?.email ?? `member #${userId}`}: ${err.message} (${err.code})`);
        }
      }
      const verb = what === 'delete' ? 'deleted' : roleCode === 'DI' ? 'deactivated' : `set to ${ORG_ROLE_NAMES[roleCode as OrgRole]}`;
      const text = `${done.length} member${done.length === 1 ? '' : 's'} ${verb}${refused.length === 0 ? '.' : `; ${refused.length} refused:`}`;
      if (self && done.includes(String(change.caller.userId)) && (what === 'delete' || roleCode === 'DI')) return { redirect: '/' };
      return refused.length === 0 ? { kind: 'ok', text } : { kind: done.length === 0 ? 'error' : 'ok', text, lines: refused };
    }),
  );

  router.post(
    'page-invite',
    '/organization/invites',
    action(deps, () => '/organization', async (ctx, form) => {
      const email = typeof form['email'] === 'string' ? form['email'] : '';
      const change = changeContext(ctx, deps, 'manual');
      const invite = await services.inviteMember(change, email);
      const address = invite.view.member.email ?? '';
      return {
        kind: 'ok',
        text: `${address} is invited (Not Activated). rolegate sends no email: send them this link yourself. It opens the sign-in of ${change.org.title}; their first SSO sign-in as ${address} attaches to this member.`,
        copy: { label: 'Invitation link', value: invite.inviteUrl },
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
    const flash: Flash = { kind: 'ok', text: `Token "${created.token.name}" created. Copy the key now: it is not shown again.`, copy: { label: 'Token key', value: created.key } };
    ctx.status = 201;
    html(ctx, await tokensView({ ...(await shellFor(ctx, services)), flash }));
  });

  // SCIM tokens: the IdP's bearer keys for /scim/v2 (an organization's, not a member's).
  router.post(
    'page-scim-token-create',
    '/organization/scim-tokens',
    action(deps, () => '/organization/tokens', async (ctx, form) => {
      const { caller, org } = callerOf(ctx);
      const name = typeof form['name'] === 'string' ? form['name'] : '';
      const created = await services.scim.createToken({ organizationId: org.id, name, createdBy: actorOf(caller), configRevision: deps.config().revision, ip: ctx.ip }, new Date());
      return { kind: 'ok', text: `SCIM token "${created.token.name}" created. Paste the key into the IdP's provisioning settings now: it is not shown again.`, copy: { label: 'SCIM token key', value: created.key } };
    }),
  );

  router.post(
    'page-scim-token-revoke',
    '/organization/scim-tokens/:id/revoke',
    action(deps, () => '/organization/tokens', async (ctx) => {
      const { caller, org } = callerOf(ctx);
      const raw = ctx.params['id'];
      if (typeof raw !== 'string' || !/^[1-9]\d{0,14}$/.test(raw)) throw new RolegateError('ERR_NOT_FOUND', 'no such SCIM token');
      await services.scim.revokeToken({ organizationId: org.id, id: Number(raw), actor: actorOf(caller), configRevision: deps.config().revision, ip: ctx.ip }, new Date());
      return { kind: 'ok', text: 'SCIM token revoked.' };
    }),
  );

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
