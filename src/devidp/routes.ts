/**
 * The built-in development IdP: a page listing personas that posts back a really signed Response to the
 * ordinary ACS, exactly as a real IdP would. Only mounted for organizations with `development_idp: true`,
 * which the configuration refuses under NODE_ENV=production.
 */
import { inflateRawSync } from 'node:zlib';
import type Router from '@koa/router';
import { DOMParser } from '@xmldom/xmldom';
import type { Config, DevPersona, OrganizationConfig } from '../configuration/types.js';
import { groupKey } from '../configuration/groups.js';
import { ORG_ROLE_NAMES, compareOrgRoles } from '../domain/roles.js';
import { RolegateError } from '../errors.js';
import { smallFormBody } from '../http/body.js';
import { html, page } from '../http/html.js';
import { isSameOrigin } from '../http/safety.js';
import { buildSignedResponse, encodePostBinding } from './response.js';
import type { DevIdpKeys } from './keys.js';

export function devIdpEntityId(config: Config, orgId: number): string {
  return `${config.server.publicUrl}/dev-idp/${orgId}`;
}
export function devIdpSsoUrl(config: Config, orgId: number): string {
  return `${config.server.publicUrl}/dev-idp/${orgId}/sso`;
}

const MAX_REQUEST_BYTES = 64 * 1024;

/** Read AuthnRequest@ID from a Redirect-binding SAMLRequest; inflation is bounded (deflate bombs). */
export function readAuthnRequestId(samlRequest: string): string {
  let xml: string;
  try {
    xml = inflateRawSync(Buffer.from(samlRequest, 'base64'), { maxOutputLength: MAX_REQUEST_BYTES }).toString('utf8');
  } catch {
    throw new RolegateError('ERR_BAD_REQUEST', 'SAMLRequest is not a deflated, base64-encoded message');
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new RolegateError('ERR_BAD_REQUEST', 'SAMLRequest has a DOCTYPE');
  const doc = new DOMParser({
    errorHandler: {
      warning: () => {},
      error: (msg: string) => {
        throw new RolegateError('ERR_BAD_REQUEST', `SAMLRequest is not XML: ${msg}`);
      },
      fatalError: (msg: string) => {
        throw new RolegateError('ERR_BAD_REQUEST', `SAMLRequest is not XML: ${msg}`);
      },
    },
  }).parseFromString(xml, 'text/xml');
  const root = doc.documentElement;
  const id = root?.localName === 'AuthnRequest' ? root.getAttribute('ID') : null;
  if (!id || !/^[A-Za-z_][\w.-]{0,127}$/.test(id)) throw new RolegateError('ERR_BAD_REQUEST', 'SAMLRequest is not an AuthnRequest with an ID');
  return id;
}

function parseGroups(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
}

/** What signing in as this persona shows, in the words of the role names (the card promises no more). */
function personaState(org: OrganizationConfig, p: DevPersona): string {
  if (p.email.toLowerCase() === org.owner) return 'Owner: named in the configuration';
  if (p.groups === null) return 'Groups unknown: no groups attribute (as Entra ID sends past its group limit)';
  if (p.groups.length === 0) return 'Deactivated: held a role, and no group grants one any more';
  const mine = new Set(p.groups.map((g) => groupKey(g, org.sso.groupMatch)));
  const granted = org.roles.filter((r) => mine.has(groupKey(r.group, org.sso.groupMatch)));
  const best = [...granted].sort((a, b) => compareOrgRoles(b.role, a.role))[0];
  return best === undefined ? 'Not Activated (pending): no group is mapped to a role' : `${ORG_ROLE_NAMES[best.role]} through ${best.group}`;
}

const BANNER = html`<div class="banner">Development IdP: signs any identity you pick. Never enabled in production.</div>`;

export function mountDevIdp(router: Router, config: Config, keys: DevIdpKeys, orgs: readonly OrganizationConfig[]): void {
  const byId = new Map(orgs.filter((o) => o.sso.idp.kind === 'development').map((o) => [o.id, o]));
  const orgFor = (param: string | undefined): { org: OrganizationConfig; personas: readonly DevPersona[] } => {
    const org = byId.get(Number(param));
    if (org === undefined || org.sso.idp.kind !== 'development') throw new RolegateError('ERR_DEV_IDP_DISABLED', 'no development IdP for this organization');
    return { org, personas: org.sso.idp.personas };
  };

  router.get('dev-idp-sso', '/dev-idp/:org/sso', (ctx) => {
    const { org, personas } = orgFor(ctx.params['org']);
    const samlRequest = typeof ctx.query['SAMLRequest'] === 'string' ? ctx.query['SAMLRequest'] : '';
    const requestId = samlRequest === '' ? '' : readAuthnRequestId(samlRequest);
    const relayState = typeof ctx.query['RelayState'] === 'string' ? ctx.query['RelayState'].slice(0, 1024) : '';
    const hidden = html`<input type="hidden" name="request_id" value="${requestId}"><input type="hidden" name="relay_state" value="${relayState}">`;
    ctx.type = 'html';
    ctx.body = page(
      'Development IdP',
      html`<section class="card"><h1>Sign in to ${org.title}</h1>
<p class="muted">${requestId ? 'SP-initiated login' : 'IdP-initiated login (no AuthnRequest)'} · pick a persona; the groups below are what the signed assertion will carry.</p>
<div class="personas">${personas.map(
        (p, i) => html`<form class="persona" method="post" action="/dev-idp/${org.id}/sso">${hidden}<input type="hidden" name="persona" value="${i}">
<strong>${p.firstName} ${p.lastName}</strong><div class="muted">${p.email}</div>
<div class="state">${personaState(org, p)}</div>
<div class="groups">${p.groups === null ? 'no groups attribute (groups unknown)' : p.groups.length === 0 ? 'groups: (none)' : `groups: ${p.groups.join(', ')}`}</div>
<button type="submit">Sign in as ${p.firstName || p.email}</button></form>`,
      )}</div></section>
<section class="card"><h2>Custom user</h2>
<form method="post" action="/dev-idp/${org.id}/sso">${hidden}<input type="hidden" name="persona" value="custom">
<label for="email">Email</label><input id="email" type="email" name="email" required>
<label for="first_name">First name</label><input id="first_name" type="text" name="first_name">
<label for="last_name">Last name</label><input id="last_name" type="text" name="last_name">
<label for="groups">Groups (comma or newline separated)</label><textarea id="groups" name="groups" rows="3"></textarea>
<label><input type="checkbox" name="omit_groups" value="1"> Send no groups attribute at all (as Entra does past its group limit)</label>
<p><button type="submit">Sign in</button></p></form></section>`,
      { banner: BANNER },
    );
  });

  router.post('dev-idp-sso-post', '/dev-idp/:org/sso', smallFormBody(), (ctx) => {
    const { org, personas } = orgFor(ctx.params['org']);
    // Its answer auto-posts a signed Response to our ACS: another site's form must not sign a browser in.
    if (!isSameOrigin(ctx, new URL(config.server.publicUrl).origin)) throw new RolegateError('ERR_CSRF', 'the development IdP only answers its own page');
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const field = (name: string): string => (typeof body[name] === 'string' ? (body[name] as string) : '');
    let persona: DevPersona | undefined;
    if (field('persona') === 'custom') {
      const email = field('email').trim();
      if (!email) throw new RolegateError('ERR_BAD_REQUEST', 'email is required');
      persona = { email, firstName: field('first_name').trim(), lastName: field('last_name').trim(), groups: field('omit_groups') === '1' ? null : parseGroups(field('groups')) };
    } else {
      persona = personas[Number(field('persona'))];
    }
    if (persona === undefined) throw new RolegateError('ERR_BAD_REQUEST', 'unknown persona');
    const requestId = field('request_id');
    if (requestId !== '' && !/^[A-Za-z_][\w.-]{0,127}$/.test(requestId)) throw new RolegateError('ERR_BAD_REQUEST', 'bad request id');
    const attributes: Record<string, string[]> = {
      [org.sso.attributes.email]: [persona.email],
      [org.sso.attributes.firstName]: [persona.firstName],
      [org.sso.attributes.lastName]: [persona.lastName],
    };
    if (persona.groups !== null) attributes[org.sso.attributes.groups] = [...persona.groups];
    const xml = buildSignedResponse({
      issuer: devIdpEntityId(config, org.id),
      acsUrl: org.sso.acsUrl,
      audience: org.sso.spEntityId,
      ...(requestId === '' ? {} : { inResponseTo: requestId }),
      nameId: persona.email,
      attributes,
      now: new Date(),
      privateKey: keys.privateKeyPem,
    });
    const relayState = field('relay_state').slice(0, 1024);
    ctx.type = 'html';
    ctx.body = page(
      'Signing in…',
      html`<section class="card"><h1>Signing in to ${org.title}…</h1>
<form id="saml-post" method="post" action="${org.sso.acsUrl}">
<input type="hidden" name="SAMLResponse" value="${encodePostBinding(xml)}">
${relayState ? html`<input type="hidden" name="RelayState" value="${relayState}">` : ''}
<noscript><p>JavaScript is off: press the button to continue.</p></noscript>
<button type="submit">Continue</button></form></section>
<script src="/assets/autopost.js"></script>`,
      { banner: BANNER },
    );
  });
}
