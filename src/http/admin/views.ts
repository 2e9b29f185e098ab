/** The Organization pages' HTML. Every value goes through http/html.ts's escaping template. */
import type { AuditEventJson } from '../../admin/audit.js';
import { reasonText } from '../../admin/audit.js';
import type { Caller } from '../../admin/caller.js';
import type { MemberDetail, MemberView } from '../../admin/members.js';
import type { OrganizationConfig } from '../../configuration/types.js';
import type { TokenRow } from '../../admin/tokens.js';
import type { OrgRole } from '../../domain/roles.js';
import { ORG_ROLES, ORG_ROLE_NAMES, isRoleSource } from '../../domain/roles.js';
import type { Html, Who } from '../html.js';
import { html, page } from '../html.js';
import { ACTION_WORDS, OUTCOME_WORDS, actionWord, managedDetailWords, managedWords, reasonWords, roleWord, sourceWord } from './words.js';

export interface Flash {
  readonly kind: 'ok' | 'error';
  readonly text: string;
  readonly code?: string;
  /** A value to copy (invite link, new token key), shown once. */
  readonly copy?: { readonly label: string; readonly value: string };
  /** Lines under the text (a bulk action's refusals). */
  readonly lines?: readonly string[];
}

type Tab = 'members' | 'mapping' | 'audit' | 'tokens' | 'webhooks';

export interface Shell {
  readonly org: OrganizationConfig;
  readonly caller: Caller;
  readonly who: Who;
  readonly csrf: string;
  readonly flash: Flash | undefined;
}

export function shell(title: string, tab: Tab | null, s: Shell, body: Html): string {
  const nav = (t: Tab, href: string, label: string) => html`<a href="${href}"${t === tab ? html` aria-current="page"` : ''}>${label}</a>`;
  return page(
    `${title} · ${s.org.title}`,
    html`${flashBox(s.flash)}
${body}
<dialog id="confirm-dialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
<h2 id="confirm-title"></h2>
<p id="confirm-text"></p>
<div class="buttons"><button type="button" class="secondary" data-confirm-cancel>Cancel</button><button type="button" class="danger solid" data-confirm-ok>Confirm</button></div>
</dialog>`,
    {
      who: s.who,
      wide: true,
      head: html`<link rel="stylesheet" href="/assets/admin.css"><script src="/assets/organization.js" defer></script>`,
      nav: html`<nav class="admin-nav" aria-label="Organization">${nav('members', '/organization', 'Members')}${nav('mapping', '/organization/mapping', 'Mapping')}${nav('audit', '/organization/audit', 'Audit log')}${nav('tokens', '/organization/tokens', 'API tokens')}${nav('webhooks', '/organization/webhooks', 'Webhooks')}<a href="/">My access</a></nav>`,
    },
  );
}

function flashBox(f: Flash | undefined): Html | string {
  if (f === undefined) return '';
  return html`<div class="flash ${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}"><span>${f.text}</span>${f.code === undefined ? '' : html` <code>${f.code}</code>`}${
    f.lines === undefined || f.lines.length === 0 ? '' : html`<ul>${f.lines.map((l) => html`<li>${l}</li>`)}</ul>`
  }${
    f.copy === undefined
      ? ''
      : html`<div class="copy"><input id="copy-value" type="text" readonly aria-label="${f.copy.label}" value="${f.copy.value}"><button type="button" class="small" data-copy="copy-value">Copy</button></div>`
  }</div>`;
}

export function roleBadge(role: OrgRole): Html {
  return html`<span class="role ${role}">${ORG_ROLE_NAMES[role]}</span>`;
}

export function displayName(v: { readonly member: MemberView['member'] }): string {
  const m = v.member;
  if (m.isDeleted) return 'Deleted User';
  return [m.firstName, m.lastName].filter(Boolean).join(' ') || m.email || '(no name yet)';
}

export function when(d: Date | null): Html | string {
  if (d === null) return html`<span class="muted">never</span>`;
  return html`<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 16)} UTC</time>`;
}

/** The roles this caller may pick for this member, or why the drop-down is disabled. */
function roleChoices(v: MemberView, caller: Caller, org: OrganizationConfig): { options: readonly OrgRole[]; disabled: string | null } {
  const m = v.member;
  if (m.isDeleted) return { options: [m.role], disabled: 'Deleted' };
  if (scimDeactivated(v, org)) return { options: [m.role], disabled: 'Deactivated by the IdP (SCIM): reactivate them in the IdP.' };
  if (m.role === 'OW') return { options: ['OW'], disabled: caller.role === 'OW' ? 'You are the Owner: make another member Owner to hand over.' : 'Only the Owner can change the Owner.' };
  if (v.managed !== null) return { options: [m.role], disabled: `${managedWords(v.managed)}: change their groups in the IdP.` };
  return { options: ORG_ROLES.filter((r) => r !== 'OW' || caller.role === 'OW'), disabled: null };
}

/**
 * A role drop-down. Handing over ownership and deactivating oneself ask first: the script opens a dialog
 * (data-confirm-*), and without script the server answers with a confirmation page (`confirmed` absent).
 */
function roleForm(v: MemberView, s: Shell, returnTo: string): Html {
  const { options, disabled } = roleChoices(v, s.caller, s.org);
  const id = `role-${v.member.userId}`;
  const self = v.member.userId === s.caller.userId;
  const who = v.member.email ?? 'this member';
  return html`<form method="post" action="/organization/members/${v.member.userId}/role" class="role-form">
<input type="hidden" name="csrf" value="${s.csrf}"><input type="hidden" name="return" value="${returnTo}"><input type="hidden" name="confirmed" value="">
<label class="sr" for="${id}">Role of ${v.member.email ?? 'Deleted User'}</label>
<select id="${id}" name="role" data-autosubmit data-current="${v.member.role}" data-who="${who}"${self ? html` data-self="1"` : ''}${disabled === null ? '' : html` disabled aria-describedby="${id}-why"`}>${options.map(
    (r) => html`<option value="${r}"${r === v.member.role ? html` selected` : ''}>${ORG_ROLE_NAMES[r]}</option>`,
  )}</select>${disabled === null ? html` <button type="submit" class="small js-hide" aria-label="Save the role of ${who}">Save</button>` : ''}
${disabled === null ? '' : v.managed !== null ? html`<span id="${id}-why" class="sr">${disabled}</span>` : html`<span id="${id}-why" class="why">${disabled}</span>`}
</form>`;
}

function managedCell(v: MemberView, org: OrganizationConfig): Html | string {
  return html`${managedCellBody(v, org)}${scimBadge(v, org)}`;
}

/** A member SCIM deactivated (`active: false`) while SCIM is on: only the IdP reactivates them. */
function scimDeactivated(v: MemberView, org: OrganizationConfig): boolean {
  return org.scim.enabled && v.scim !== null && !v.scim.active;
}

/**
 * Members SCIM provisioned or linked: SCIM is authoritative for their groups and active state, while
 * `scim.enabled` is on. Turned off, the badge says so (SAML decides them again at their next login).
 */
function scimBadge(v: MemberView, org: OrganizationConfig): Html | string {
  if (v.scim === null) return '';
  if (!org.scim.enabled) return html` <span class="managed scim off" title="SCIM is off for this organization (scim.enabled: false): SAML decides this member again at their next login">SCIM (off)</span>`;
  return html` <span class="managed scim" title="SCIM is authoritative for this member's groups and active state">SCIM</span>`;
}

function managedCellBody(v: MemberView, org: OrganizationConfig): Html | string {
  if (v.member.role === 'OW' && v.member.email === org.owner) return html`<span class="muted">The configuration (<code>owner:</code>)</span>`;
  if (v.managed === null) return html`<span class="muted">${sourceWord(v.member.roleSource)}</span>`;
  return html`<details class="managed"><summary>${managedWords(v.managed)}</summary><span class="source">${managedDetailWords(v.managed)}</span></details>`;
}

function deleteButton(v: MemberView, s: Shell): Html | string {
  if (v.member.isDeleted || v.member.role === 'OW') return '';
  const who = v.member.email ?? 'this member';
  const self = v.member.userId === s.caller.userId;
  return html`<a class="button danger small" href="/organization/members/${v.member.userId}?confirm=delete" data-delete-url="/organization/members/${v.member.userId}/delete" data-name="${who}"${self ? html` data-self="1"` : ''} aria-label="Delete ${who}">Delete</a>`;
}

export const PAGE_SIZES = [10, 25, 50, 100] as const;
export const MEMBER_SORTS = { name: 'first_name', email: 'email', role: 'role', last_login: 'last_activity', joined: 'date_joined' } as const;
export type MemberSort = keyof typeof MEMBER_SORTS;

export interface MembersQuery {
  readonly search: string;
  readonly role: string;
  readonly deleted: boolean;
  readonly page: number;
  readonly pageSize: number;
  readonly sort: MemberSort | '';
  readonly desc: boolean;
}

export interface MemberCounts {
  readonly active: number;
  readonly pending: number;
  readonly deactivated: number;
  readonly deleted: number;
}

function query(q: MembersQuery, changes: Partial<MembersQuery> = {}): string {
  const v = { ...q, ...changes };
  const p = new URLSearchParams();
  if (v.search !== '') p.set('search', v.search);
  if (v.role !== '') p.set('role', v.role);
  if (v.deleted) p.set('deleted', '1');
  if (v.sort !== '') p.set('sort', v.sort);
  if (v.sort !== '' && v.desc) p.set('dir', 'desc');
  if (v.pageSize !== 25) p.set('per_page', String(v.pageSize));
  if (v.page > 1) p.set('page', String(v.page));
  const str = p.toString();
  return str === '' ? '/organization' : `/organization?${str}`;
}

function sortHeader(q: MembersQuery, key: MemberSort, label: string): Html {
  const active = q.sort === key;
  const nextDesc = active ? !q.desc : false;
  const aria = active ? (q.desc ? 'descending' : 'ascending') : null;
  return html`<th scope="col"${aria === null ? '' : html` aria-sort="${aria}"`}><a class="sort" href="${query(q, { sort: key, desc: nextDesc, page: 1 })}">${label}<span class="arrow" aria-hidden="true">${active ? (q.desc ? ' ▼' : ' ▲') : ' ↕'}</span></a></th>`;
}

function stats(s: Shell, q: MembersQuery, c: MemberCounts): Html {
  const seats = s.org.seats;
  const over = seats !== null && c.active > seats;
  const stat = (label: string, value: Html | string, href: string, cls = '') => html`<li class="stat ${cls}"><a href="${href}"><span class="value">${value}</span><span class="label">${label}</span></a></li>`;
  const base: MembersQuery = { ...q, search: '', role: '', deleted: false, page: 1 };
  return html`<ul class="stats" aria-label="Member counts">
${stat(seats === null ? 'Active members' : over ? 'Active members: over the seat count' : 'Active members (seats used)', seats === null ? String(c.active) : html`${c.active}<span class="of"> of ${seats}</span>`, query(base), over ? 'over' : '')}
${stat('Pending (Not Activated)', String(c.pending), query(base, { role: 'NO' }), 'NO')}
${stat('Deactivated', String(c.deactivated), query(base, { role: 'DI' }), 'DI')}
${stat('Deleted', String(c.deleted), query(base, { deleted: true }))}
</ul>`;
}

/** Actions for the selected members; each runs the same operation (guards, audit) as the row's own control. */
function bulkBar(s: Shell, here: string): Html {
  return html`<form id="bulk" method="post" action="/organization/bulk" class="bulk" aria-label="Change selected members">
<input type="hidden" name="csrf" value="${s.csrf}"><input type="hidden" name="return" value="${here}"><input type="hidden" name="confirmed" value="">
<span class="muted" data-selected-count aria-live="polite">Select members with the boxes, then:</span>
<label class="sr" for="bulk-action">Action for the selected members</label>
<select id="bulk-action" name="bulk_action" required>
<option value="">Choose an action…</option>
<optgroup label="Set role">${ORG_ROLES.filter((r) => r !== 'OW' && r !== 'DI').map((r) => html`<option value="role:${r}">Set role: ${ORG_ROLE_NAMES[r]}</option>`)}</optgroup>
<optgroup label="Access"><option value="deactivate">Deactivate</option><option value="delete">Delete</option></optgroup>
</select>
<label class="js-hide check"><input type="checkbox" name="confirmed" value="1"> Yes, do it</label>
<button type="submit" class="secondary">Apply to selected</button>
</form>`;
}

export function membersPage(s: Shell, q: MembersQuery, count: number, rows: readonly MemberView[], counts: MemberCounts): string {
  const pages = Math.max(1, Math.ceil(count / q.pageSize));
  const here = query(q);
  const filtered = q.search !== '' || q.role !== '' || q.deleted;
  const filterOption = (value: string, label: string) => html`<option value="${value}"${q.role === value ? html` selected` : ''}>${label}</option>`;
  return shell(
    'Members',
    'members',
    s,
    html`<section class="card"><h1>${s.org.title}</h1>
${stats(s, q, counts)}
<p class="muted">Roles come from the IdP groups mapped in the configuration${s.org.roleManagement === 'manual' ? '; roles you set here stick (role_management: manual).' : '; where a mapped group applies, the IdP decides the role.'} <a href="/organization/mapping">See the mapping</a>.</p>
<form method="post" action="/organization/invites" class="row" aria-label="Invite">
<input type="hidden" name="csrf" value="${s.csrf}">
<div class="grow"><label for="invite-email">Invite by email</label><input id="invite-email" type="email" name="email" required placeholder="name@example.org" autocomplete="off" aria-describedby="invite-note"></div>
<div><button type="submit">Invite</button></div>
</form>
<p id="invite-note" class="muted small">rolegate sends no email: you get a link to pass on.</p></section>
<section class="card">
<form method="get" action="/organization" class="row" aria-label="Filter members">
<div class="grow"><label for="search">Search</label><input id="search" type="search" name="search" value="${q.search}" placeholder="Name or email"></div>
<div><label for="role-filter">Role</label><select id="role-filter" name="role">${filterOption('', 'All roles')}${ORG_ROLES.map((r) => filterOption(r, ORG_ROLE_NAMES[r]))}</select></div>
<div><label for="per-page">Per page</label><select id="per-page" name="per_page">${PAGE_SIZES.map((n) => html`<option value="${n}"${n === q.pageSize ? html` selected` : ''}>${n}</option>`)}</select></div>
<div class="check"><label for="deleted"><input id="deleted" type="checkbox" name="deleted" value="1"${q.deleted ? html` checked` : ''}> Deleted members</label></div>
${q.sort === '' ? '' : html`<input type="hidden" name="sort" value="${q.sort}">${q.desc ? html`<input type="hidden" name="dir" value="desc">` : ''}`}
<div><button type="submit" class="secondary">Filter</button></div>
</form>
${
  count === 0 && filtered
    ? html`<p class="empty" role="status">No members match${q.search === '' ? '' : html` “${q.search}”`}${q.role === '' ? '' : html` with the role ${roleWord(q.role)}`}${q.deleted ? ' among deleted members' : ''}. <a href="/organization">Clear the filter</a></p>`
    : html`<p class="muted" role="status">${count} member${count === 1 ? '' : 's'}${filtered ? (count === 1 ? ' matches' : ' match') : ''}${filtered ? html` · <a href="/organization">Clear the filter</a>` : ''}</p>`
}
${q.deleted ? '' : bulkBar(s, here)}
<div class="table-wrap"><table class="members stack"><thead><tr>${q.deleted ? '' : html`<th scope="col" class="pick"><input type="checkbox" data-select-all aria-label="Select all members on this page"></th>`}${sortHeader(q, 'name', 'Name')}${sortHeader(q, 'email', 'Email')}${sortHeader(q, 'role', 'Role')}<th scope="col">Managed by</th>${sortHeader(q, 'last_login', 'Last login')}<th scope="col">Actions</th></tr></thead><tbody>
${rows.map(
  (v) => html`<tr data-user-id="${v.member.userId}" class="state-${v.member.role}">${
    q.deleted ? '' : html`<td class="pick" data-label="Select">${v.member.role === 'OW' ? '' : html`<input type="checkbox" name="user" value="${v.member.userId}" form="bulk" aria-label="Select ${v.member.email ?? 'member'}">`}</td>`
  }<td data-label="Name"><a href="/organization/members/${v.member.userId}">${displayName(v)}</a>${v.member.role === 'NO' || v.member.role === 'DI' ? html` ${roleBadge(v.member.role)}` : ''}</td>
<td data-label="Email">${v.member.email ?? html`<span class="muted">—</span>`}</td>
<td data-label="Role">${roleForm(v, s, here)}</td>
<td data-label="Managed by">${managedCell(v, s.org)}</td>
<td data-label="Last login">${when(v.member.lastLoginAt)}</td>
<td data-label="Actions"><div class="actions"><a class="button secondary small" href="/organization/members/${v.member.userId}" aria-label="Details of ${v.member.email ?? 'member'}">Details</a>${deleteButton(v, s)}</div></td></tr>`,
)}
${rows.length === 0 && !filtered ? html`<tr><td colspan="7" class="muted">No members yet: they appear at their first sign-in, or invite them above.</td></tr>` : ''}
</tbody></table></div>
<nav class="pager" aria-label="Pages">${q.page > 1 ? html`<a href="${query(q, { page: q.page - 1 })}">← Previous</a>` : ''}<span class="muted">Page ${q.page} of ${pages}</span>${q.page < pages ? html`<a href="${query(q, { page: q.page + 1 })}">Next →</a>` : ''}</nav>
</section>`,
  );
}

/** "Not Activated → Annotator", for a role change; other actions show their before/after as written. */
function changeText(e: AuditEventJson): string {
  if (e.before === null && e.after === null) return '';
  return `${roleWord(e.before) || '—'} → ${roleWord(e.after) || '—'}`;
}

/** "Ada Admin <admin@acme.example>" as the name with the address under it (long addresses wrap cleanly). */
function person(display: string): Html | string {
  const m = /^(.*) <([^<>]+)>$/.exec(display);
  return m === null ? display : html`${m[1]}<span class="addr">${m[2]}</span>`;
}

function auditTable(events: readonly AuditEventJson[], emptyText: string): Html {
  return html`<div class="table-wrap"><table class="audit stack"><thead><tr><th scope="col" class="time">Time (UTC)</th><th scope="col">Who</th><th scope="col">Member</th><th scope="col">What</th><th scope="col">Change</th><th scope="col">Why</th></tr></thead><tbody>
${events.map((e) => {
  const r = reasonText(e.reason);
  return html`<tr${e.outcome === 'ok' ? '' : html` class="refused"`}><td data-label="Time" class="time"><time datetime="${e.time}">${e.time.replace('T', ' ').slice(0, 16)}</time></td>
<td data-label="Who">${person(e.actor.display)}</td>
<td data-label="Member">${e.subject === null ? '' : person(e.subject.display)}</td>
<td data-label="What">${actionWord(e.action)}${e.outcome === 'ok' ? '' : html` <span class="muted">(${OUTCOME_WORDS[e.outcome] ?? e.outcome}${e.error_code === null ? '' : html` <code>${e.error_code}</code>`})</span>`}</td>
<td data-label="Change">${changeText(e)}</td>
<td data-label="Why">${reasonWords(r.text)}${r.rule === '' && e.config_revision === null ? '' : html`<details class="why"><summary>Details</summary>${r.rule === '' ? '' : html`<span class="source">${r.rule}</span> `}${e.config_revision === null ? '' : html`<span class="muted">config revision <code>${e.config_revision.slice(0, 12)}</code></span>`}</details>`}</td></tr>`;
})}
${events.length === 0 ? html`<tr><td colspan="6" class="muted">${emptyText}</td></tr>` : ''}
</tbody></table></div>`;
}

export type ConfirmKind = { readonly kind: 'delete' } | { readonly kind: 'role'; readonly role: OrgRole };

/** What a confirmation says: handing over ownership, or an administrator removing themselves. */
export function confirmWords(c: ConfirmKind, who: string, self: boolean): { title: string; text: string; button: string } {
  if (c.kind === 'delete') {
    return self
      ? { title: 'Delete your own membership?', text: 'You are signed out at once and lose access to this organization; your name and email are removed and your history shows as "Deleted User".', button: 'Delete myself' }
      : { title: `Delete ${who}?`, text: 'They lose access at once; their name and email are removed, and their history shows as "Deleted User". If they sign in again through SSO they get a new account.', button: 'Delete Member' };
  }
  if (c.role === 'OW') {
    return { title: `Make ${who} the Owner?`, text: `Ownership moves to ${who}: they can then change every role, including yours. You stay an Administrator. Only the new Owner can hand it back.`, button: 'Transfer ownership' };
  }
  return { title: 'Deactivate yourself?', text: 'You are signed out at once and can no longer open this organization until another administrator gives you a role.', button: 'Deactivate myself' };
}

export function memberPage(s: Shell, d: MemberDetail, history: readonly AuditEventJson[], confirm: ConfirmKind | null): string {
  const m = d.member;
  const reason = d.member.reason as { decision?: { text?: unknown; matches?: unknown } } | null;
  const r = reasonText(reason?.decision ?? reason);
  const self = m.userId === s.caller.userId;
  const words = confirm === null ? null : confirmWords(confirm, m.email ?? 'this member', self);
  const confirmAction = confirm === null ? '' : confirm.kind === 'delete' ? `/organization/members/${m.userId}/delete` : `/organization/members/${m.userId}/role`;
  return shell(
    m.isDeleted ? 'Deleted User' : (m.email ?? 'Member'),
    null,
    s,
    html`<p><a href="/organization">← Members</a></p>
${
  words === null || m.isDeleted || m.role === 'OW' || confirm === null
    ? ''
    : html`<section class="card confirm" aria-labelledby="confirm-card-title"><h2 id="confirm-card-title">${words.title}</h2><p>${words.text}</p>
<form method="post" action="${confirmAction}"><input type="hidden" name="csrf" value="${s.csrf}"><input type="hidden" name="confirmed" value="1">${confirm.kind === 'role' ? html`<input type="hidden" name="role" value="${confirm.role}"><input type="hidden" name="return" value="/organization/members/${m.userId}">` : ''}<div class="actions"><button type="submit" class="danger solid">${words.button}</button> <a href="/organization/members/${m.userId}">Cancel</a></div></form></section>`
}
<section class="card"><h1>${displayName(d)}</h1>
<dl class="kv"><dt>Email</dt><dd>${m.email ?? '—'}</dd>
<dt>Role</dt><dd>${roleForm(d, s, `/organization/members/${m.userId}`)}</dd>
<dt>Managed by</dt><dd>${managedCell(d, s.org)}</dd>
<dt>Last login</dt><dd>${when(m.lastLoginAt)}</dd>
<dt>Joined</dt><dd>${when(m.dateJoined)}</dd></dl>
<div class="actions">${deleteButton(d, s)}</div></section>
<section class="card"><h2>Why this role</h2>
<p>${r.text === '' ? html`<span class="muted">No recorded reason.</span>` : reasonWords(r.text)}</p>
${d.managed === null ? '' : html`<p>${managedWords(d.managed)}. <span class="muted">Rule: <span class="source">${managedDetailWords(d.managed)}</span></span></p>`}
${d.managed === null && r.rule !== '' ? html`<p class="muted">Rule: <span class="source">${r.rule}</span></p>` : ''}
${
  d.scim === null
    ? ''
    : s.org.scim.enabled
      ? html`<p><span class="managed scim">SCIM</span> <span class="muted">managed by SCIM (active ${String(d.scim.active)}); SCIM groups: ${d.scim.groups.length === 0 ? 'none' : d.scim.groups.join(', ')}</span></p>`
      : html`<p><span class="managed scim off">SCIM (off)</span> <span class="muted">provisioned by SCIM, which is off for this organization (<code>scim.enabled: false</code>): SAML logins decide this member again</span></p>`
}
<dl class="kv"><dt>Groups last asserted</dt><dd>${d.groups === null ? html`<span class="muted">unknown: the IdP sent no groups attribute</span>` : d.groups.length === 0 ? html`<span class="muted">none</span>` : html`<span class="groups">${d.groups.join(', ')}</span>`}</dd>
<dt>Asserted at</dt><dd>${when(d.groupsAssertedAt)}</dd></dl>
<h2>Project roles</h2>
${
  d.projects.length === 0
    ? html`<p class="muted">No project roles.</p>`
    : html`<table class="stack"><thead><tr><th scope="col">Project</th><th scope="col">Role</th><th scope="col">Source</th></tr></thead><tbody>${d.projects.map(
        (p) => html`<tr><td data-label="Project">${p.title}</td><td data-label="Role">${roleWord(p.role)}</td><td data-label="Source">${isRoleSource(p.role_source) ? sourceWord(p.role_source) : p.role_source}</td></tr>`,
      )}</tbody></table>`
}</section>
<section class="card"><h2>History</h2>${auditTable(history, 'No events for this member.')}</section>`,
  );
}

export interface AuditFilters {
  /** A member's email, name or id, as typed. */
  readonly member: string;
  readonly action: string;
  readonly since: string;
  readonly until: string;
  readonly page: number;
  readonly pageSize: number;
}

function auditQuery(f: AuditFilters, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  if (f.member !== '') p.set('member', f.member);
  if (f.action !== '') p.set('action', f.action);
  if (f.since !== '') p.set('since', f.since);
  if (f.until !== '') p.set('until', f.until);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return p.toString();
}

export const AUDIT_ACTIONS = Object.keys(ACTION_WORDS);

/** The member a filter named, when it named exactly one; the API's CSV link needs the id. */
export interface AuditMemberMatch {
  readonly userId: number | null;
  /** Other members the text matched (the filter asks to pick one). */
  readonly choices: readonly { readonly userId: number; readonly label: string }[];
}

export function auditPageView(s: Shell, f: AuditFilters, count: number, events: readonly AuditEventJson[], match: AuditMemberMatch): string {
  const pages = Math.max(1, Math.ceil(count / f.pageSize));
  const at = (page: number) => `/organization/audit?${auditQuery(f, page > 1 ? { page: String(page) } : {})}`;
  const csv = new URLSearchParams({ format: 'csv' });
  if (match.userId !== null) csv.set('user_id', String(match.userId));
  if (f.action !== '') csv.set('action', f.action);
  if (f.since !== '') csv.set('since', f.since);
  if (f.until !== '') csv.set('until', f.until);
  const filtered = f.member !== '' || f.action !== '' || f.since !== '' || f.until !== '';
  return shell(
    'Audit log',
    'audit',
    s,
    html`<section class="card"><h1>Audit log</h1>
<form method="get" action="/organization/audit" class="row" aria-label="Filter events">
<div class="grow"><label for="f-member">Member</label><input id="f-member" type="search" name="member" value="${f.member}" placeholder="Email or name"></div>
<div><label for="f-action">What</label><select id="f-action" name="action"><option value="">Everything</option>${AUDIT_ACTIONS.map((a) => html`<option value="${a}"${f.action === a ? html` selected` : ''}>${actionWord(a)}</option>`)}</select></div>
<div><label for="f-since">Since</label><input id="f-since" type="text" name="since" value="${f.since}" placeholder="2026-01-31"></div>
<div><label for="f-until">Until</label><input id="f-until" type="text" name="until" value="${f.until}" placeholder="2026-12-31T23:59"></div>
<div><button type="submit" class="secondary">Filter</button></div>
<div><a class="button secondary" href="/api/organizations/${s.org.id}/audit?${csv.toString()}" download>Download CSV</a></div>
</form>
${
  match.choices.length > 0
    ? html`<div class="flash error" role="alert">“${f.member}” matches ${match.choices.length} members; pick one: <ul>${match.choices.map((c) => html`<li><a href="/organization/audit?${auditQuery({ ...f, member: c.label })}">${c.label}</a></li>`)}</ul></div>`
    : ''
}
${
  count === 0 && filtered
    ? html`<p class="empty" role="status">No events match${f.member === '' ? '' : html` the member “${f.member}”`}${f.action === '' ? '' : html` for “${actionWord(f.action)}”`}${f.since === '' && f.until === '' ? '' : ' in that period'}. <a href="/organization/audit">Clear the filter</a></p>`
    : html`<p class="muted" role="status">${count} event${count === 1 ? '' : 's'}, newest first${filtered ? html` · <a href="/organization/audit">Clear the filter</a>` : ''}</p>`
}
${auditTable(events, filtered ? 'Nothing here.' : 'No events yet.')}
<nav class="pager" aria-label="Pages">${f.page > 1 ? html`<a href="${at(f.page - 1)}">← Newer</a>` : ''}<span class="muted">Page ${f.page} of ${pages}</span>${f.page < pages ? html`<a href="${at(f.page + 1)}">Older →</a>` : ''}</nav>
</section>`,
  );
}

/** The SCIM part of the tokens page: whether SCIM is on, its base URL and the organization's SCIM tokens. */
export interface ScimTokensView {
  readonly enabled: boolean;
  readonly base: string;
  readonly tokens: readonly { id: number; name: string; keyPrefix: string; createdAt: Date; lastUsedAt: Date | null }[];
}

function scimSection(s: Shell, scim: ScimTokensView): Html {
  return html`<section class="card" id="scim"><h1>SCIM provisioning</h1>
<p class="muted">${scim.enabled ? html`The IdP sends <code>Authorization: Bearer &lt;SCIM token&gt;</code> to <code>${scim.base}</code>. Members it provisions or links follow its groups and its active flag.` : html`Off for this organization: set <code>scim: { enabled: true }</code> in its configuration. A SCIM token answers 403 until then.`}</p>
<form method="post" action="/organization/scim-tokens" class="row" aria-label="Create SCIM token">
<input type="hidden" name="csrf" value="${s.csrf}">
<div class="grow"><label for="scim-token-name">Name</label><input id="scim-token-name" type="text" name="name" maxlength="100" placeholder="e.g. Okta"></div>
<div><button type="submit">Create SCIM token</button></div>
</form>
<div class="table-wrap"><table class="stack"><thead><tr><th>Name</th><th>Key</th><th>Created</th><th>Last used</th><th></th></tr></thead><tbody>
${scim.tokens.map(
  (t) => html`<tr><td data-label="Name">${t.name}</td><td data-label="Key"><code>${t.keyPrefix}…</code></td><td data-label="Created">${when(t.createdAt)}</td><td data-label="Last used">${when(t.lastUsedAt)}</td>
<td data-label=""><form method="post" action="/organization/scim-tokens/${t.id}/revoke"><input type="hidden" name="csrf" value="${s.csrf}"><button type="submit" class="danger small">Revoke</button></form></td></tr>`,
)}
${scim.tokens.length === 0 ? html`<tr><td colspan="5" class="muted">No SCIM tokens.</td></tr>` : ''}
</tbody></table></div></section>`;
}

export function tokensPage(s: Shell, tokens: readonly TokenRow[], owners: ReadonlyMap<number, string>, revocable: ReadonlySet<number>, scim?: ScimTokensView): string {
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
<section class="card"><div class="table-wrap"><table class="stack"><thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Member</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="sr">Actions</span></th></tr></thead><tbody>
${tokens.map(
  (t) => html`<tr><td data-label="Name">${t.name}</td><td data-label="Key"><code>${t.keyPrefix}…</code></td><td data-label="Member">${owners.get(t.userId) ?? 'Deleted User'}</td><td data-label="Created">${when(t.createdAt)}</td><td data-label="Last used">${when(t.lastUsedAt)}</td>
<td data-label="">${revocable.has(t.id) ? html`<form method="post" action="/organization/tokens/${t.id}/revoke"><input type="hidden" name="csrf" value="${s.csrf}"><button type="submit" class="danger small" aria-label="Revoke token ${t.name}">Revoke</button></form>` : html`<span class="muted">Only its member or the Owner can revoke it</span>`}</td></tr>`,
)}
${tokens.length === 0 ? html`<tr><td colspan="6" class="muted">No tokens.</td></tr>` : ''}
</tbody></table></div></section>
${scim === undefined ? '' : scimSection(s, scim)}`,
  );
}
