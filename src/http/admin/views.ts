/** The Organization page's HTML. Every value goes through http/html.ts's escaping template. */
import type { AuditEventJson } from '../../admin/audit.js';
import { reasonText } from '../../admin/audit.js';
import type { Caller } from '../../admin/caller.js';
import type { MemberDetail, MemberView } from '../../admin/members.js';
import type { OrganizationConfig } from '../../configuration/types.js';
import type { TokenRow } from '../../admin/tokens.js';
import type { OrgRole } from '../../domain/roles.js';
import { ORG_ROLES, ORG_ROLE_NAMES } from '../../domain/roles.js';
import type { Html } from '../html.js';
import { html } from '../html.js';

export interface Flash {
  readonly kind: 'ok' | 'error';
  readonly text: string;
  readonly code?: string;
  /** A value to copy (invite link, new token key), shown once. */
  readonly copy?: { readonly label: string; readonly value: string };
}

type Tab = 'members' | 'audit' | 'tokens' | 'webhooks';

export interface Shell {
  readonly org: OrganizationConfig;
  readonly caller: Caller;
  readonly csrf: string;
  readonly flash: Flash | undefined;
}

export function shell(title: string, tab: Tab | null, s: Shell, body: Html): string {
  const nav = (t: Tab, href: string, label: string) => html`<a href="${href}"${t === tab ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${s.org.title} · rolegate</title>
<link rel="stylesheet" href="/assets/app.css">
<link rel="stylesheet" href="/assets/admin.css">
<script src="/assets/organization.js" defer></script>
</head>
<body>
<header class="top"><a class="brand" href="/">rolegate</a>
<nav class="admin-nav" aria-label="Organization">${nav('members', '/organization', 'Members')}${nav('audit', '/organization/audit', 'Audit log')}${nav('tokens', '/organization/tokens', 'API tokens')}${nav('webhooks', '/organization/webhooks', 'Webhooks')}<a href="/">My profile</a></nav></header>
<main class="wide">
${flashBox(s.flash)}
${body}
</main>
<dialog id="delete-dialog" aria-labelledby="delete-title">
<form method="post" action="/organization">
<input type="hidden" name="csrf" value="${s.csrf}">
<h2 id="delete-title">Delete member?</h2>
<p><strong data-name></strong> loses access at once; their name and email are removed, and their history shows as "Deleted User". If they sign in again through SSO they get a new account.</p>
<div class="buttons"><button type="button" class="secondary" data-close-dialog>Cancel</button><button type="submit" class="danger solid">Delete Member</button></div>
</form>
</dialog>
</body>
</html>
`.value;
}

function flashBox(f: Flash | undefined): Html | string {
  if (f === undefined) return '';
  return html`<div class="flash ${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}"><span>${f.text}</span>${f.code === undefined ? '' : html` <code>${f.code}</code>`}${
    f.copy === undefined
      ? ''
      : html`<div class="copy"><input id="copy-value" type="text" readonly aria-label="${f.copy.label}" value="${f.copy.value}"><button type="button" class="small" data-copy="copy-value">Copy</button></div>`
  }</div>`;
}

export function roleBadge(role: OrgRole): Html {
  return html`<span class="role ${role}">${ORG_ROLE_NAMES[role]}</span>`;
}

function displayName(v: MemberView): string {
  const m = v.member;
  if (m.isDeleted) return 'Deleted User';
  return [m.firstName, m.lastName].filter(Boolean).join(' ') || '(no name yet)';
}

export function when(d: Date | null): Html | string {
  if (d === null) return html`<span class="muted">never</span>`;
  return html`<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 16)} UTC</time>`;
}

/** The roles this caller may pick for this member, or why the drop-down is disabled. */
function roleChoices(v: MemberView, caller: Caller): { options: readonly OrgRole[]; disabled: string | null } {
  const m = v.member;
  if (m.isDeleted) return { options: [m.role], disabled: 'deleted' };
  if (m.role === 'OW') return { options: ['OW'], disabled: caller.role === 'OW' ? 'you are the Owner: make another member Owner to hand over' : 'only the Owner can change the Owner' };
  if (v.managed !== null) return { options: [m.role], disabled: `managed by the IdP: group "${v.managed.group}" (${v.managed.rule})` };
  return { options: ORG_ROLES.filter((r) => r !== 'OW' || caller.role === 'OW'), disabled: null };
}

function roleForm(v: MemberView, s: Shell, returnTo: string): Html {
  const { options, disabled } = roleChoices(v, s.caller);
  const id = `role-${v.member.userId}`;
  return html`<form method="post" action="/organization/members/${v.member.userId}/role" class="role-form">
<input type="hidden" name="csrf" value="${s.csrf}"><input type="hidden" name="return" value="${returnTo}">
<label class="sr" for="${id}">Role of ${v.member.email ?? 'Deleted User'}</label>
<select id="${id}" name="role" data-autosubmit aria-label="Role"${disabled === null ? '' : html` disabled title="${disabled}"`}>${options.map(
    (r) => html`<option value="${r}"${r === v.member.role ? html` selected` : ''}>${ORG_ROLE_NAMES[r]}</option>`,
  )}</select>${disabled === null ? html` <button type="submit" class="small js-hide">Save</button>` : ''}
${v.managed === null ? '' : html`<span class="managed" title="${v.managed.rule}, line ${v.managed.line}">managed by IdP: ${v.managed.group}</span>`}
${disabled === null || v.managed !== null ? '' : html`<span class="why">${disabled}</span>`}
</form>`;
}

function deleteLink(v: MemberView): Html | string {
  if (v.member.isDeleted || v.member.role === 'OW') return '';
  const who = v.member.email ?? 'this member';
  return html`<a class="button danger small" href="/organization/members/${v.member.userId}?confirm=delete" data-delete-url="/organization/members/${v.member.userId}/delete" data-name="${who}">Delete</a>`;
}

export interface MembersQuery {
  readonly search: string;
  readonly role: string;
  readonly deleted: boolean;
  readonly page: number;
  readonly pageSize: number;
}

function query(q: MembersQuery, page: number): string {
  const p = new URLSearchParams();
  if (q.search !== '') p.set('search', q.search);
  if (q.role !== '') p.set('role', q.role);
  if (q.deleted) p.set('deleted', '1');
  if (page > 1) p.set('page', String(page));
  const s = p.toString();
  return s === '' ? '/organization' : `/organization?${s}`;
}

export function membersPage(s: Shell, q: MembersQuery, count: number, rows: readonly MemberView[]): string {
  const pages = Math.max(1, Math.ceil(count / q.pageSize));
  const here = query(q, q.page);
  const filterOption = (value: string, label: string) => html`<option value="${value}"${q.role === value ? html` selected` : ''}>${label}</option>`;
  return shell(
    'Members',
    'members',
    s,
    html`<section class="card"><h1>${s.org.title}</h1>
<p class="muted">Organization roles come from the IdP groups mapped in the configuration${s.org.roleManagement === 'manual' ? '; roles set here stick (role_management: manual)' : '; where a mapped group applies, the IdP manages the role'}.</p>
<form method="post" action="/organization/invites" class="row" aria-label="Invite">
<input type="hidden" name="csrf" value="${s.csrf}">
<div class="grow"><label for="invite-email">Invite by email</label><input id="invite-email" type="email" name="email" required placeholder="name@example.org" autocomplete="off"></div>
<div><button type="submit">Invite</button></div>
</form></section>
<section class="card">
<form method="get" action="/organization" class="row" aria-label="Filter members">
<div class="grow"><label for="search">Search</label><input id="search" type="search" name="search" value="${q.search}" placeholder="Name or email"></div>
<div><label for="role-filter">Role</label><select id="role-filter" name="role">${filterOption('', 'All roles')}${ORG_ROLES.map((r) => filterOption(r, ORG_ROLE_NAMES[r]))}</select></div>
<div><label for="deleted"><input id="deleted" type="checkbox" name="deleted" value="1"${q.deleted ? html` checked` : ''}> Deleted members</label></div>
<div><button type="submit" class="secondary">Filter</button></div>
</form>
<p class="muted">${count} member${count === 1 ? '' : 's'}${q.search !== '' || q.role !== '' || q.deleted ? (count === 1 ? ' matches' : ' match') : ''}</p>
<div class="table-wrap"><table class="members stack"><thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Source</th><th>Last login</th><th>Actions</th></tr></thead><tbody>
${rows.map(
  (v) => html`<tr data-user-id="${v.member.userId}"><td data-label="Name"><a href="/organization/members/${v.member.userId}">${displayName(v)}</a></td>
<td data-label="Email">${v.member.email ?? html`<span class="muted">—</span>`}</td>
<td data-label="Role"><div>${roleForm(v, s, here)}</div></td>
<td data-label="Source"><span class="source">${v.member.roleSource}</span></td>
<td data-label="Last login">${when(v.member.lastLoginAt)}</td>
<td data-label="Actions"><div class="actions"><a class="button secondary small" href="/organization/members/${v.member.userId}">Details</a>${deleteLink(v)}</div></td></tr>`,
)}
${rows.length === 0 ? html`<tr><td colspan="6" class="muted">No members match.</td></tr>` : ''}
</tbody></table></div>
<nav class="pager" aria-label="Pages">${q.page > 1 ? html`<a href="${query(q, q.page - 1)}">← Previous</a>` : ''}<span class="muted">Page ${q.page} of ${pages}</span>${q.page < pages ? html`<a href="${query(q, q.page + 1)}">Next →</a>` : ''}</nav>
</section>`,
  );
}

function auditTable(events: readonly AuditEventJson[]): Html {
  return html`<div class="table-wrap"><table class="audit stack"><thead><tr><th>Time</th><th>Actor</th><th>Subject</th><th>Action</th><th>Change</th><th>Reason</th><th>Config revision</th></tr></thead><tbody>
${events.map((e) => {
  const r = reasonText(e.reason);
  return html`<tr><td data-label="Time"><time datetime="${e.time}">${e.time.replace('T', ' ').slice(0, 19)}</time></td>
<td data-label="Actor">${e.actor.display}</td>
<td data-label="Subject">${e.subject?.display ?? ''}</td>
<td data-label="Action">${e.action}${e.outcome === 'ok' ? '' : html` <span class="muted">(${e.outcome}${e.error_code === null ? '' : html` ${e.error_code}`})</span>`}</td>
<td data-label="Change">${e.before ?? ''}${e.before !== null || e.after !== null ? ' → ' : ''}${e.after ?? ''}</td>
<td data-label="Reason">${r.text}${r.rule === '' ? '' : html`<span class="why">${r.rule}</span>`}</td>
<td data-label="Revision"><span class="source">${e.config_revision?.slice(0, 12) ?? ''}</span></td></tr>`;
})}
${events.length === 0 ? html`<tr><td colspan="7" class="muted">No events.</td></tr>` : ''}
</tbody></table></div>`;
}

export function memberPage(s: Shell, d: MemberDetail, history: readonly AuditEventJson[], confirmDelete: boolean): string {
  const m = d.member;
  const reason = d.member.reason as { decision?: { text?: unknown; matches?: unknown } } | null;
  const r = reasonText(reason?.decision ?? reason);
  return shell(
    m.isDeleted ? 'Deleted User' : (m.email ?? 'Member'),
    null,
    s,
    html`<p><a href="/organization">← Members</a></p>
${
  confirmDelete && !m.isDeleted && m.role !== 'OW'
    ? html`<section class="card"><h2>Delete ${m.email}?</h2><p>They lose access at once; their name and email are removed and their history shows as "Deleted User".</p>
<form method="post" action="/organization/members/${m.userId}/delete"><input type="hidden" name="csrf" value="${s.csrf}"><button type="submit" class="danger solid">Delete Member</button> <a href="/organization/members/${m.userId}">Cancel</a></form></section>`
    : ''
}
<section class="card"><h1>${displayName(d)}</h1>
<dl class="kv"><dt>Email</dt><dd>${m.email ?? '—'}</dd>
<dt>Role</dt><dd>${roleForm(d, s, `/organization/members/${m.userId}`)}</dd>
<dt>Role source</dt><dd><span class="source">${m.roleSource}</span></dd>
<dt>Last login</dt><dd>${when(m.lastLoginAt)}</dd>
<dt>Joined</dt><dd>${when(m.dateJoined)}</dd></dl>
<div class="actions">${deleteLink(d)}</div></section>
<section class="card"><h2>Why this role (explain)</h2>
<p>${r.text === '' ? html`<span class="muted">No recorded reason.</span>` : r.text}</p>
${r.rule === '' ? '' : html`<p class="muted">Rule: ${r.rule}</p>`}
${d.managed === null ? '' : html`<p><span class="managed">managed by IdP: ${d.managed.group}</span> <span class="muted">${d.managed.rule}, line ${d.managed.line} grants ${d.managed.role}</span></p>`}
<dl class="kv"><dt>Groups last asserted</dt><dd>${d.groups === null ? html`<span class="muted">unknown</span>` : d.groups.length === 0 ? html`<span class="muted">none</span>` : html`<span class="groups">${d.groups.join(', ')}</span>`}</dd>
<dt>Asserted at</dt><dd>${when(d.groupsAssertedAt)}</dd></dl>
<h2>Project roles</h2>
${
  d.projects.length === 0
    ? html`<p class="muted">No project roles.</p>`
    : html`<table class="stack"><thead><tr><th>Project</th><th>Role</th><th>Source</th></tr></thead><tbody>${d.projects.map(
        (p) => html`<tr><td data-label="Project">${p.title} <span class="muted">#${p.project}</span></td><td data-label="Role">${p.role}</td><td data-label="Source"><span class="source">${p.role_source}</span></td></tr>`,
      )}</tbody></table>`
}</section>
<section class="card"><h2>Audit history</h2>${auditTable(history)}</section>`,
  );
}

export interface AuditFilters {
  readonly userId: string;
  readonly action: string;
  readonly since: string;
  readonly until: string;
  readonly page: number;
  readonly pageSize: number;
}

function auditQuery(f: AuditFilters, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  if (f.userId !== '') p.set('user_id', f.userId);
  if (f.action !== '') p.set('action', f.action);
  if (f.since !== '') p.set('since', f.since);
  if (f.until !== '') p.set('until', f.until);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return p.toString();
}

export const AUDIT_ACTIONS = ['login', 'member_created', 'role_change', 'project_role_change', 'member_invited', 'member_deleted', 'groups_unknown', 'token_created', 'token_revoked'] as const;

export function auditPageView(s: Shell, f: AuditFilters, count: number, events: readonly AuditEventJson[]): string {
  const pages = Math.max(1, Math.ceil(count / f.pageSize));
  const at = (page: number) => `/organization/audit?${auditQuery(f, page > 1 ? { page: String(page) } : {})}`;
  return shell(
    'Audit log',
    'audit',
    s,
    html`<section class="card"><h1>Audit log</h1>
<form method="get" action="/organization/audit" class="row" aria-label="Filter events">
<div><label for="f-user">Member id</label><input id="f-user" type="text" inputmode="numeric" name="user_id" value="${f.userId}"></div>
<div><label for="f-action">Action</label><select id="f-action" name="action"><option value="">All actions</option>${AUDIT_ACTIONS.map((a) => html`<option value="${a}"${f.action === a ? html` selected` : ''}>${a}</option>`)}</select></div>
<div><label for="f-since">Since</label><input id="f-since" type="text" name="since" value="${f.since}" placeholder="2026-01-31"></div>
<div><label for="f-until">Until</label><input id="f-until" type="text" name="until" value="${f.until}" placeholder="2026-12-31T23:59"></div>
<div><button type="submit" class="secondary">Filter</button></div>
<div><a class="button" href="/api/organizations/0/audit?${auditQuery(f, { format: 'csv' })}" download>Download CSV</a></div>
</form>
<p class="muted">${count} event${count === 1 ? '' : 's'}, newest first</p>
${auditTable(events)}
<nav class="pager" aria-label="Pages">${f.page > 1 ? html`<a href="${at(f.page - 1)}">← Newer</a>` : ''}<span class="muted">Page ${f.page} of ${pages}</span>${f.page < pages ? html`<a href="${at(f.page + 1)}">Older →</a>` : ''}</nav>
</section>`,
  );
}

export function tokensPage(s: Shell, tokens: readonly TokenRow[], owners: ReadonlyMap<number, string>): string {
  return shell(
    'API tokens',
    'tokens',
    s,
    html`<section class="card"><h1>API tokens</h1>
<p class="muted">Scripts send <code>Authorization: Token &lt;key&gt;</code>. A token acts as the member who created it and stops working when that member is no longer an Owner or Administrator.</p>
<form method="post" action="/organization/tokens" class="row" aria-label="Create token">
<input type="hidden" name="csrf" value="${s.csrf}">
<div class="grow"><label for="token-name">Name</label><input id="token-name" type="text" name="name" maxlength="100" placeholder="e.g. nightly sync"></div>
<div><button type="submit">Create token</button></div>
</form></section>
<section class="card"><div class="table-wrap"><table class="stack"><thead><tr><th>Name</th><th>Key</th><th>Member</th><th>Created</th><th>Last used</th><th></th></tr></thead><tbody>
${tokens.map(
  (t) => html`<tr><td data-label="Name">${t.name}</td><td data-label="Key"><code>${t.keyPrefix}…</code></td><td data-label="Member">${owners.get(t.userId) ?? 'Deleted User'}</td><td data-label="Created">${when(t.createdAt)}</td><td data-label="Last used">${when(t.lastUsedAt)}</td>
<td data-label=""><form method="post" action="/organization/tokens/${t.id}/revoke"><input type="hidden" name="csrf" value="${s.csrf}"><button type="submit" class="danger small">Revoke</button></form></td></tr>`,
)}
${tokens.length === 0 ? html`<tr><td colspan="6" class="muted">No tokens.</td></tr>` : ''}
</tbody></table></div></section>`,
  );
}
