/** The people-facing pages: the start page (sign in), the profile page and the pending page. */
import type { OrganizationConfig } from '../configuration/types.js';
import { ORG_ROLE_NAMES } from '../domain/roles.js';
import type { OrgRole } from '../domain/roles.js';
import { html, page } from './html.js';
import type { WhoAmI } from '../members/whoami.js';

export function signInPage(orgs: readonly OrganizationConfig[]): string {
  return page(
    'Sign in',
    html`<section class="card"><h1>Sign in</h1>
<p class="muted">Choose your organization; you will sign in with its identity provider.</p>
<table><tbody>${orgs.map(
      (o) => html`<tr><td><strong>${o.title}</strong><div class="muted">${o.sso.idp.kind === 'development' ? 'built-in development IdP' : o.sso.idp.entityId}</div></td>
<td><a class="button" href="/saml/${o.id}/login">Sign in with SSO</a></td></tr>`,
    )}</tbody></table></section>`,
  );
}

function roleBadge(role: OrgRole): ReturnType<typeof html> {
  return html`<span class="role ${role}">${ORG_ROLE_NAMES[role]}</span>`;
}

export function profilePage(me: WhoAmI): string {
  const signOut = html`<form method="post" action="/logout"><button class="secondary" type="submit">Sign out</button></form>`;
  if (me.organization.role === 'NO') {
    return page(
      'Pending',
      html`<section class="card"><h1>Your account is pending</h1>
<p>You are signed in as <strong>${me.email}</strong> in <strong>${me.organization.title}</strong>, but none of your identity provider groups grants a role here yet.</p>
<p>Status: ${roleBadge('NO')}</p>
<p class="muted">Ask an administrator of ${me.organization.title} to add you to a group that is mapped to a role.</p>
${signOut}</section>`,
    );
  }
  return page(
    'Your access',
    html`<section class="card"><h1>${[me.first_name, me.last_name].filter(Boolean).join(' ') || me.email}</h1>
<p class="muted">${me.email}</p>
<h2>Organization</h2>
<p><strong>${me.organization.title}</strong> · ${roleBadge(me.organization.role)} <span class="muted">(source: ${me.organization.role_source})</span></p>
<h2>Projects</h2>
${
  me.projects.length === 0
    ? html`<p class="muted">No project roles.</p>`
    : html`<table><thead><tr><th>Project</th><th>Role</th></tr></thead><tbody>${me.projects.map(
        (p) => html`<tr><td>${p.title}</td><td>${roleBadge(p.role)}</td></tr>`,
      )}</tbody></table>`
}
${
  // The Organization page, only for those who may open it.
  me.organization.role === 'OW' || me.organization.role === 'AD' ? html`<nav class="menu" aria-label="Menu"><p><a class="button" href="/organization">Organization</a></p></nav>` : ''
}
<p></p>${signOut}</section>`,
  );
}
