/** The people-facing pages: the start page (sign in), an invitation's sign-in, the profile and pending pages. */
import type { OrganizationConfig } from '../configuration/types.js';
import { ORG_ROLE_NAMES } from '../domain/roles.js';
import type { OrgRole, RoleSource } from '../domain/roles.js';
import type { Html, Who } from './html.js';
import { html, page } from './html.js';
import type { WhoAmI } from '../members/whoami.js';

/** `/saml/1/login`, with `?next=` when there is somewhere to come back to. */
function loginHref(orgId: number, next: string): string {
  return next === '/' ? `/saml/${orgId}/login` : `/saml/${orgId}/login?next=${encodeURIComponent(next)}`;
}

function idpLabel(o: OrganizationConfig): string {
  return o.sso.idp.kind === 'development' ? 'built-in development IdP' : o.sso.idp.entityId;
}

/** The start page. `next` (already a safe local path) is where the browser returns after signing in. */
export function signInPage(orgs: readonly OrganizationConfig[], next = '/'): string {
  return page(
    'Sign in',
    html`<section class="card"><h1>Sign in</h1>
${next === '/' ? html`<p class="muted">Choose your organization; you will sign in with its identity provider.</p>` : html`<p role="status">Sign in to continue to <code>${next}</code>; you will come back there afterwards.</p>`}
<ul class="orgs">${orgs.map(
      (o) => html`<li><span><strong>${o.title}</strong><span class="muted">${idpLabel(o)}</span></span>
<a class="button" href="${loginHref(o.id, next)}" aria-label="Sign in with SSO to ${o.title}">Sign in with SSO</a></li>`,
    )}</ul></section>`,
  );
}

/**
 * Where an invitation link lands: the sign-in of that one organization. rolegate sends no email, so the
 * administrator passes the link on; the first SSO sign-in with the invited address attaches to the member.
 */
export function invitationPage(org: OrganizationConfig, invited: string | null): string {
  return page(
    `Sign in to ${org.title}`,
    html`<section class="card"><h1>You are invited to ${org.title}</h1>
<p>${invited === null ? 'Sign in with your organization’s single sign-on.' : html`Sign in with your organization’s single sign-on as <strong>${invited}</strong>: the invitation is for that address.`}</p>
<p class="muted">Identity provider: ${idpLabel(org)}. After the first sign-in an administrator of ${org.title} gives you a role, if your groups do not already.</p>
<p><a class="button" href="/saml/${org.id}/login">Sign in with SSO</a></p></section>`,
  );
}

function roleBadge(role: OrgRole): Html {
  return html`<span class="role ${role}">${ORG_ROLE_NAMES[role]}</span>`;
}

export function whoOf(me: WhoAmI): Who {
  return {
    name: [me.first_name, me.last_name].filter(Boolean).join(' ') || me.email,
    email: me.email,
    organization: me.organization.title,
    role: ORG_ROLE_NAMES[me.organization.role],
  };
}

/** The role_source codes in words. */
export function roleSourceText(source: RoleSource): string {
  return { saml: 'from your identity provider groups', scim: 'provisioned by your identity provider', manual: 'set by an administrator', api: 'set through the API' }[source];
}

/** `groupsKnown` false: the IdP has never sent this member's groups (no groups attribute at all). */
export function profilePage(me: WhoAmI, opts: { readonly groupsKnown: boolean } = { groupsKnown: true }): string {
  const who = whoOf(me);
  const admin = me.organization.role === 'OW' || me.organization.role === 'AD';
  const nav = admin ? html`<nav class="admin-nav" aria-label="Main"><a href="/organization">Organization</a><a href="/" aria-current="page">My access</a></nav>` : undefined;
  if (me.organization.role === 'NO') {
    return page(
      'Pending',
      html`<section class="card"><h1>Your account is pending</h1>
${
  opts.groupsKnown
    ? html`<p>You are signed in as <strong>${me.email}</strong> in <strong>${me.organization.title}</strong>, but none of your identity provider groups grants a role here yet.</p>
<p>Status: ${roleBadge('NO')}</p>
<p class="muted">Ask an administrator of ${me.organization.title} to add you to a group that is mapped to a role.</p>`
    : html`<p>You are signed in as <strong>${me.email}</strong> in <strong>${me.organization.title}</strong>, but your identity provider did not send your groups (some send none when a person is in too many groups), so rolegate cannot tell which role is yours.</p>
<p>Status: ${roleBadge('NO')} · groups unknown</p>
<p class="muted">Ask an administrator of ${me.organization.title} to give you a role, or your identity provider's administrator to send the groups claim.</p>`
}</section>`,
      { who },
    );
  }
  return page(
    'Your access',
    html`<section class="card"><h1>${who.name}</h1>
<p class="muted">${me.email}</p>
<h2>Organization</h2>
<p><strong>${me.organization.title}</strong> · ${roleBadge(me.organization.role)} <span class="muted">(${roleSourceText(me.organization.role_source)})</span></p>
<h2>Projects</h2>
${
  me.projects.length === 0
    ? html`<p class="muted">No project roles.</p>`
    : html`<table><thead><tr><th scope="col">Project</th><th scope="col">Role</th></tr></thead><tbody>${me.projects.map(
        (p) => html`<tr><td>${p.title}</td><td>${roleBadge(p.role)}</td></tr>`,
      )}</tbody></table>`
}
${admin ? html`<p class="actions"><a class="button" href="/organization">Open the Organization page</a></p>` : ''}</section>`,
    nav === undefined ? { who } : { who, nav },
  );
}
