/**
 * The Mapping page: the audit of mapped roles for one organization (each rule with the members it grants a
 * role to now, groups no rule maps, members whose groups were last seen long ago) and a preview of what a
 * new configuration would change. The preview validates the pasted YAML with the real loader (the same
 * messages, line and column as `rolegate check-config`) and computes the plan with the same code as
 * `rolegate plan`. It never applies anything: applying stays with `rolegate apply` or a reload of the file
 * by whoever runs the server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bodyParser } from '@koa/bodyparser';
import type Router from '@koa/router';
import type Koa from 'koa';
import type { MappingReport, ReportMember } from '../../plan/report.js';
import { checkConfig } from '../../configuration/index.js';
import type { Config, OrganizationConfig } from '../../configuration/types.js';
import type { ConfigIssue } from '../../errors.js';
import { RolegateError } from '../../errors.js';
import type { MemberChange, OrgPlan } from '../../plan/compute.js';
import { refusalText } from '../../members/invariants.js';
import type { Html } from '../html.js';
import { html } from '../html.js';
import type { AccessDeps } from './access.js';
import { csrfMatches } from './access.js';
import type { Shell } from './views.js';
import { shell } from './views.js';
import { shellFor } from './shell.js';
import { reasonWords, roleWord } from './words.js';

/** A configuration file is a few KB; a pasted one may be large with many rules, never this large. */
const MAX_YAML_BYTES = 512 * 1024;
const LIST = 8;

/** How the pasted text is named in messages (the loader names the temporary file it was checked from). */
const PASTED = 'pasted YAML';

export type Preview =
  | { readonly kind: 'invalid'; readonly issues: readonly ConfigIssue[] }
  | { readonly kind: 'no-organization' }
  | { readonly kind: 'plan'; readonly plan: OrgPlan; readonly revision: string };

/**
 * Validate `yaml` with the real loader and plan it against the stored members of `org`. The text is checked
 * from a private temporary file because the loader reads files (it reports positions in that file, which is
 * renamed in the messages); relative paths inside resolve as they do for the running server.
 */
export async function previewYaml(deps: AccessDeps, org: OrganizationConfig, yaml: string, now: Date): Promise<Preview> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-preview-'));
  let result;
  try {
    const file = path.join(dir, 'rolegate.yaml');
    fs.writeFileSync(file, yaml, { mode: 0o600 });
    result = checkConfig(file, { env: process.env });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (!result.ok) return { kind: 'invalid', issues: result.issues.map((i) => ({ ...i, file: PASTED })) };
  const config: Config = result.config;
  const next = config.organizations.find((o) => o.id === org.id);
  if (next === undefined) return { kind: 'no-organization' };
  return { kind: 'plan', plan: await deps.services.previewOrganizationPlan(next, now), revision: config.revision };
}

function people(list: readonly ReportMember[], emptyText = 'nobody'): Html {
  if (list.length === 0) return html`<span class="muted">${emptyText}</span>`;
  const shown = list.slice(0, LIST);
  return html`${shown.map((m, i) => html`${i > 0 ? ', ' : ''}<a href="/organization/members/${m.userId}">${m.email}</a>`)}${list.length > LIST ? html` <span class="muted">and ${list.length - LIST} more</span>` : ''}`;
}

function ruleRows(r: MappingReport): Html {
  return html`<div class="table-wrap"><table class="rules stack"><thead><tr><th scope="col">IdP group</th><th scope="col">Grants</th><th scope="col">Where</th><th scope="col" class="num">Members</th><th scope="col">Who</th></tr></thead><tbody>
${r.rules.map(
  (x) => html`<tr${x.members.length === 0 ? html` class="unused"` : ''}><td data-label="IdP group"><span class="groups">${x.group}</span></td>
<td data-label="Grants">${roleWord(x.role)}</td>
<td data-label="Where">${x.scope === 'organization' ? 'Organization' : html`Project ${x.scopeTitle}`}<details class="why"><summary>Rule</summary><span class="source">${x.path}, line ${x.line}</span></details></td>
<td data-label="Members" class="num">${x.members.length}</td>
<td data-label="Who">${people(x.members, 'nobody now')}</td></tr>`,
)}
${r.rules.length === 0 ? html`<tr><td colspan="5" class="muted">No rules: every member is Not Activated until an administrator gives them a role.</td></tr>` : ''}
</tbody></table></div>`;
}

export function mappingPageView(s: Shell, r: MappingReport, preview: { readonly yaml: string; readonly result: Preview | null }): string {
  return shell(
    'Mapping',
    'mapping',
    s,
    html`<section class="card"><h1>Mapping</h1>
<p class="muted">Each rule of the configuration that gives a role for an IdP group, with the members it gives that role to now (from the groups at their last sign-in; ${r.members} member${r.members === 1 ? '' : 's'} in all).</p>
${ruleRows(r)}</section>
<section class="card"><h2>Groups no rule maps</h2>
${
  r.unmapped.length === 0
    ? html`<p class="muted">Every group the IdP has sent is mapped by a rule.</p>`
    : html`<p class="muted">The IdP sent these groups, but no rule gives a role for them. Map one in the configuration if its members should get a role.</p>
<div class="table-wrap"><table class="stack"><thead><tr><th scope="col">IdP group</th><th scope="col" class="num">Members</th><th scope="col">Who</th></tr></thead><tbody>
${r.unmapped.map((u) => html`<tr><td data-label="IdP group"><span class="groups">${u.group}</span></td><td data-label="Members" class="num">${u.members.length}</td><td data-label="Who">${people(u.members)}</td></tr>`)}
</tbody></table></div>`
}</section>
<section class="card"><h2>Groups last seen long ago</h2>
${
  r.seenLongAgo.length === 0
    ? html`<p class="muted">Every member’s groups were seen in the last ${r.staleAfterDays} days.</p>`
    : html`<p class="muted">Members whose groups the IdP last sent more than ${r.staleAfterDays} days ago, or never: their roles rest on old information until they sign in again.</p>
<div class="table-wrap"><table class="stack"><thead><tr><th scope="col">Member</th><th scope="col">Role</th><th scope="col">Groups last seen</th></tr></thead><tbody>
${r.seenLongAgo.map(
  (x) => html`<tr><td data-label="Member"><a href="/organization/members/${x.member.userId}">${x.member.email}</a></td><td data-label="Role">${roleWord(x.member.role)}</td><td data-label="Groups last seen">${
    x.assertedAt === null ? html`<span class="muted">never: the IdP sent no groups</span>` : html`<time datetime="${x.assertedAt.toISOString()}">${x.assertedAt.toISOString().slice(0, 10)}</time> (${x.ageDays} days ago)`
  }</td></tr>`,
)}
</tbody></table></div>`
}</section>
<section class="card" id="preview"><h2>Preview a configuration</h2>
<p class="muted">Paste a whole configuration file (or choose one) to see what it would change for ${s.org.title}, before anyone runs <code>rolegate apply</code>. Nothing is applied from this page.</p>
<form method="post" action="/organization/mapping/preview#preview" aria-label="Preview a configuration">
<input type="hidden" name="csrf" value="${s.csrf}">
<label for="yaml">Configuration (YAML)</label>
<textarea id="yaml" name="yaml" rows="12" spellcheck="false" class="code" required>${preview.yaml}</textarea>
<div class="row"><div><label for="yaml-file">Or choose a file</label><input id="yaml-file" type="file" accept=".yaml,.yml,text/yaml" data-load-into="yaml"></div>
<div><button type="submit">Show the plan</button></div></div>
</form>
${preview.result === null ? '' : previewResult(preview.result)}
</section>`,
  );
}

function previewResult(p: Preview): Html {
  if (p.kind === 'invalid') {
    return html`<div class="flash error" role="alert"><span>The configuration is not valid (${p.issues.length} error${p.issues.length === 1 ? '' : 's'}); nothing to plan.</span> <code>ERR_CONFIG_INVALID</code>
<ul class="issues">${p.issues.map((i) => html`<li><span class="source">line ${i.line}, column ${i.col}</span>${i.path === '' ? '' : html` <code>${i.path}</code>`}: ${i.message}</li>`)}</ul></div>`;
  }
  if (p.kind === 'no-organization') {
    return html`<div class="flash error" role="alert">This configuration has no organization with this one’s id: applying it would leave this organization unconfigured.</div>`;
  }
  const o = p.plan;
  const c = o.counts;
  const active = o.changes.filter((x) => x.refused === undefined);
  const refused = o.changes.filter((x) => x.refused !== undefined);
  const total = active.length + o.projectChanges.length;
  return html`<div class="plan" role="status" aria-label="Plan">
<h3>Plan for revision <code>${p.revision.slice(0, 12)}</code></h3>
${total === 0 && refused.length === 0 ? html`<p class="flash ok">No change: every member keeps their roles.</p>` : ''}
<ul class="stats small">
<li class="stat"><span class="value">${c.promoted}</span><span class="label">promoted</span></li>
<li class="stat"><span class="value">${c.activated}</span><span class="label">activated</span></li>
<li class="stat DI"><span class="value">${c.demoted}</span><span class="label">demoted</span></li>
<li class="stat DI"><span class="value">${c.deactivated}</span><span class="label">deactivated</span></li>
<li class="stat"><span class="value">${c.project_added + c.project_removed + c.project_changed}</span><span class="label">project changes</span></li>
<li class="stat"><span class="value">${c.refused}</span><span class="label">refused by a guard</span></li>
</ul>
${o.guard.exceeded ? html`<p class="flash error" role="alert">${o.guard.message ?? 'Too many demotions: apply would refuse this plan unless forced.'}</p>` : ''}
${active.length === 0 ? '' : html`<h4>Organization roles</h4><div class="table-wrap"><table class="stack"><thead><tr><th scope="col">Member</th><th scope="col">Change</th><th scope="col">Why</th></tr></thead><tbody>
${active.map((x) => html`<tr class="${x.kind === 'demoted' || x.kind === 'deactivated' ? 'state-DI' : ''}"><td data-label="Member">${x.email}</td><td data-label="Change">${roleWord(x.from.role)} → ${roleWord(x.to.role)}</td><td data-label="Why">${why(x)}</td></tr>`)}
</tbody></table></div>`}
${o.projectChanges.length === 0 ? '' : html`<h4>Project roles</h4><div class="table-wrap"><table class="stack"><thead><tr><th scope="col">Member</th><th scope="col">Project</th><th scope="col">Change</th></tr></thead><tbody>
${o.projectChanges.map((x) => html`<tr><td data-label="Member">${x.email}</td><td data-label="Project">${x.projectTitle}</td><td data-label="Change">${x.from === null ? 'none' : roleWord(x.from)} → ${x.to === null ? 'none' : roleWord(x.to)}</td></tr>`)}
</tbody></table></div>`}
${refused.length === 0 ? '' : html`<h4>Refused by a guard (kept as they are)</h4><ul>${refused.map((x) => html`<li>${x.email}: ${roleWord(x.from.role)} → ${roleWord(x.to.role)}: ${refusalText(x.refused ?? 'last_admin')}</li>`)}</ul>`}
<p class="muted">${c.unknown} member${c.unknown === 1 ? '' : 's'} with groups unknown and ${c.stale} with groups too old keep their roles. To apply: put the file in place and run <code>rolegate apply</code>, or let the server reload it.</p>
</div>`;
}

function why(x: MemberChange): string {
  const decisive = x.reason.matches.find((m) => m.decisive);
  return decisive === undefined ? reasonWords(x.reason.text) : `IdP group ${decisive.asserted} (line ${decisive.source.line})`;
}

export function mountMappingPage(router: Router, deps: AccessDeps): void {
  const { services } = deps;
  const report = (org: OrganizationConfig) => services.mappingReport(org, new Date());

  router.get('page-mapping', '/organization/mapping', async (ctx) => {
    const s = await shellFor(ctx, services);
    ctx.type = 'html';
    ctx.body = mappingPageView(s, await report(s.org), { yaml: '', result: null });
  });

  const body = bodyParser({ enableTypes: ['form'], formLimit: Math.ceil(MAX_YAML_BYTES * 1.5), encoding: 'utf-8' });
  router.post('page-mapping-preview', '/organization/mapping/preview', async (ctx: Koa.Context) => {
    await body(ctx, async () => {});
    const form = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (!csrfMatches(ctx, form['csrf'])) throw new RolegateError('ERR_CSRF', 'the form is stale or was not sent by this site; reload the page');
    const yaml = typeof form['yaml'] === 'string' ? form['yaml'] : '';
    if (Buffer.byteLength(yaml) > MAX_YAML_BYTES) throw new RolegateError('ERR_PAYLOAD_TOO_LARGE', `a configuration larger than ${MAX_YAML_BYTES / 1024} KiB`);
    const s = await shellFor(ctx, services);
    const result = yaml.trim() === '' ? ({ kind: 'invalid', issues: [{ code: 'ERR_CONFIG_YAML', file: PASTED, line: 1, col: 1, path: '', message: 'the configuration is empty' }] } as const) : await previewYaml(deps, s.org, yaml, new Date());
    ctx.type = 'html';
    ctx.body = mappingPageView(s, await report(s.org), { yaml, result });
  });
}
