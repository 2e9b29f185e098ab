/**
 * The Organization page's Webhooks view: the endpoints that receive this organization's events (with a 410's
 * disabling), recent deliveries and failures with their last error, and two actions (resend a delivery,
 * re-enable an endpoint), each a same-origin form POST with the session's CSRF token. An organization sees
 * only its own events' deliveries, and only endpoints that serve it.
 */
import type Router from '@koa/router';
import type Koa from 'koa';
import type { WebhookEndpointConfig } from '../../configuration/types.js';
import type { DeliveryRow, WebhookDeliveries } from '../../webhooks/admin.js';
import { RolegateError } from '../../errors.js';
import { html, type Html } from '../html.js';
import type { AccessDeps } from './access.js';
import { callerOf } from './access.js';
import { action } from './pages.js';
import { shellFor } from './shell.js';
import { shell, when, type Shell } from './views.js';

const RECENT = 50;
const FAILURES = 20;

export interface WebhooksView extends WebhookDeliveries {
  /** The endpoints that serve this organization. */
  readonly endpoints: readonly WebhookEndpointConfig[];
  /** Every configured endpoint's name (an endpoint may still be configured but no longer serve this organization). */
  readonly configured: readonly string[];
}

/** The URL without its query: a receiver's token sometimes rides there, and the page need not show it. */
function shownUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search === '' ? '' : '?…'}`;
}

function at(ms: number): Html | string {
  return when(new Date(ms));
}

function statusCell(d: DeliveryRow): Html {
  const last = d.lastStatusCode === null ? '' : ` (HTTP ${d.lastStatusCode})`;
  if (d.status === 'delivered') return html`<span class="source">delivered${last}</span>`;
  if (d.status === 'failed') return html`<strong>failed</strong>${last}`;
  return html`pending${d.attempts === 0 ? '' : html` <span class="muted">retry at ${at(d.nextAttemptAt)}</span>`}`;
}

function deliveriesTable(s: Shell, rows: readonly DeliveryRow[], empty: string): Html {
  return html`<div class="table-wrap"><table class="stack webhook-deliveries"><thead><tr><th>Event</th><th>Member</th><th>Endpoint</th><th>Created</th><th>Status</th><th>Attempts</th><th>Last error</th><th></th></tr></thead><tbody>
${rows.map(
  (d) => html`<tr data-delivery-id="${d.id}"><td data-label="Event">${d.eventType}<br><code class="source">${d.eventId}</code></td>
<td data-label="Member">${d.userId === null ? '' : html`<a href="/organization/members/${d.userId}">#${d.userId}</a> <span class="muted">seq ${d.memberSeq ?? ''}</span>`}</td>
<td data-label="Endpoint">${d.endpoint}</td>
<td data-label="Created">${at(d.createdAt)}</td>
<td data-label="Status">${statusCell(d)}</td>
<td data-label="Attempts">${d.attempts}</td>
<td data-label="Last error">${d.lastErrorCode === null ? '' : html`<code>${d.lastErrorCode}</code> `}${d.lastError ?? ''}</td>
<td data-label=""><form method="post" action="/organization/webhooks/deliveries/${d.id}/resend"><input type="hidden" name="csrf" value="${s.csrf}"><button type="submit" class="secondary small">Resend</button></form></td></tr>`,
)}
${rows.length === 0 ? html`<tr><td colspan="8" class="muted">${empty}</td></tr>` : ''}
</tbody></table></div>`;
}

export function webhooksPage(s: Shell, v: WebhooksView): string {
  return shell(
    'Webhooks',
    'webhooks',
    s,
    html`<section class="card"><h1>Webhooks</h1>
<p class="muted">Signed change events (Standard Webhooks) are sent to the endpoints of the configuration file's <code>webhooks:</code> section. Every attempt is recorded; an endpoint answering 410 Gone is disabled until re-enabled here.</p>
<div class="table-wrap"><table class="stack webhook-endpoints"><thead><tr><th>Endpoint</th><th>URL</th><th>Events</th><th>State</th><th>Delivered</th><th>Pending</th><th>Failed</th><th></th></tr></thead><tbody>
${v.endpoints.map((e) => {
  const c = v.counts.get(e.name) ?? { pending: 0, delivered: 0, failed: 0 };
  const off = v.disabled.get(e.name);
  return html`<tr data-endpoint="${e.name}"><td data-label="Endpoint">${e.name}</td><td data-label="URL"><code>${shownUrl(e.url)}</code></td><td data-label="Events">${e.events.join(', ')}</td>
<td data-label="State">${off === undefined ? 'enabled' : html`<strong>disabled</strong> ${at(off.disabledAt)} <span class="why">${off.reason}</span>`}</td>
<td data-label="Delivered">${c.delivered}</td><td data-label="Pending">${c.pending}</td><td data-label="Failed">${c.failed}</td>
<td data-label="">${off === undefined ? '' : html`<form method="post" action="/organization/webhooks/endpoints/${e.name}/enable"><input type="hidden" name="csrf" value="${s.csrf}"><button type="submit" class="small">Re-enable</button></form>`}</td></tr>`;
})}
${[...v.counts].filter(([name]) => !v.endpoints.some((e) => e.name === name)).map(([name, c]) => html`<tr data-endpoint="${name}" class="removed"><td data-label="Endpoint">${name}</td><td data-label="URL" class="muted">—</td><td data-label="Events" class="muted">—</td>
<td data-label="State">${v.configured.includes(name) ? html`<strong>not serving this organization</strong> <span class="why">no longer configured for it; events queued before are still sent</span>` : html`<strong>removed</strong> <span class="why">no longer in the configuration: its undelivered events are not sent (failed, <code>ERR_WEBHOOK_ENDPOINT_REMOVED</code>)</span>`}</td>
<td data-label="Delivered">${c.delivered}</td><td data-label="Pending">${c.pending}</td><td data-label="Failed">${c.failed}</td><td data-label=""></td></tr>`)}
${v.endpoints.length === 0 && v.counts.size === 0 ? html`<tr><td colspan="8" class="muted">No endpoint receives this organization's events.</td></tr>` : ''}
</tbody></table></div></section>
<section class="card"><h2>Failures</h2>${deliveriesTable(s, v.failures, 'No failed deliveries.')}</section>
<section class="card"><h2>Recent deliveries</h2>${deliveriesTable(s, v.recent, 'No deliveries yet.')}</section>`,
  );
}

function idParam(ctx: Koa.Context): number {
  const raw = ctx.params['id'];
  if (typeof raw !== 'string' || !/^[1-9]\d{0,14}$/.test(raw)) throw new RolegateError('ERR_NOT_FOUND', 'no such delivery');
  return Number(raw);
}

export function mountWebhookPages(router: Router, deps: AccessDeps): void {
  const hooks = deps.services.webhooks;
  const endpointsOf = (orgId: number): WebhookEndpointConfig[] => deps.config().webhooks.endpoints.filter((e) => e.organizations.includes(orgId));

  router.get('page-webhooks', '/organization/webhooks', async (ctx) => {
    const s = await shellFor(ctx, deps.services);
    const view: WebhooksView = { endpoints: endpointsOf(s.org.id), configured: deps.config().webhooks.endpoints.map((e) => e.name), ...(await hooks.overview(s.org.id, { recent: RECENT, failures: FAILURES })) };
    ctx.type = 'html';
    ctx.body = webhooksPage(s, view);
  });

  router.post(
    'page-webhook-resend',
    '/organization/webhooks/deliveries/:id/resend',
    action(deps, () => '/organization/webhooks', async (ctx) => {
      const { org } = callerOf(ctx);
      const id = idParam(ctx);
      const delivery = await hooks.findDelivery(org.id, id);
      if (delivery === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no such delivery');
      if (!endpointsOf(org.id).some((e) => e.name === delivery.endpoint)) {
        throw new RolegateError('ERR_BAD_REQUEST', `endpoint "${delivery.endpoint}" is no longer configured for this organization`);
      }
      if (!(await hooks.resend(org.id, id, Date.now()))) throw new RolegateError('ERR_BAD_REQUEST', 'this delivery is being sent right now; try again in a moment');
      deps.log('info', 'webhook resend', { delivery_id: id, endpoint: delivery.endpoint, event_id: delivery.eventId, org: org.id });
      return { kind: 'ok', text: `Delivery of ${delivery.eventType} to ${delivery.endpoint} queued again.` };
    }),
  );

  router.post(
    'page-webhook-enable',
    '/organization/webhooks/endpoints/:name/enable',
    action(deps, () => '/organization/webhooks', async (ctx) => {
      const { org } = callerOf(ctx);
      const name = ctx.params['name'];
      const endpoint = endpointsOf(org.id).find((e) => e.name === name);
      if (endpoint === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no such endpoint');
      const changed = await hooks.enable(endpoint.name);
      if (changed) deps.log('info', 'webhook endpoint re-enabled', { endpoint: endpoint.name, org: org.id });
      return { kind: 'ok', text: changed ? `Endpoint ${endpoint.name} is enabled again; its pending deliveries resume.` : `Endpoint ${endpoint.name} was already enabled.` };
    }),
  );
}
