/**
 * The Organization page's Webhooks view: endpoints (with a 410's disabling), recent deliveries and failures,
 * resend and re-enable as CSRF-protected form POSTs for Owners and Administrators only, and one
 * organization never seeing another's deliveries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failRemovedEndpointDeliveries, insertEvents, listDeliveries } from '../../src/db/webhooks.js';
import { mappingAppliedEvent, recordEvents } from '../../src/webhooks/events.js';
import { standardYaml, startApp, type TestApp } from '../support/app.js';
import { snapshot } from '../support/db.js';
import type { Browser } from '../support/http.js';
import { PEOPLE, signedIn } from '../admin/support.js';
import { Receiver, newSecret } from './receiver.js';
import { webhooksYaml } from './support.js';

let app: TestApp;
let receiver: Receiver;
let owner: Browser;
let ownerCsrf = '';
let failedId = 0;
let otherOrgDelivery = 0;
let eventId = '';

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting: ${what}`);
}

function csrfOf(text: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(text);
  if (m?.[1] === undefined) throw new Error('no csrf token on the page');
  return m[1];
}

beforeAll(async () => {
  receiver = await Receiver.start(newSecret());
  receiver.answer = (_r, n) => (n === 1 ? { status: 410 } : { status: 200 });
  process.env['WH_SECRET_0'] = receiver.secret;
  process.env['WH_SECRET_1'] = newSecret();
  const endpoints = [
    { name: 'sink', url: `${receiver.url}?token=receiver-side-token`, secret: receiver.secret, organizations: [1] },
    { name: 'globex-only', url: 'http://127.0.0.1:1/globex', secret: '', organizations: [2] },
  ];
  app = await startApp({ yaml: (dir, url) => standardYaml({ dir, publicUrl: url }) + webhooksYaml(endpoints, '  poll_interval_ms: 20\n') });
  // One organization-wide event for each organization, straight into the outbox.
  await app.db.transaction(async (trx) => {
    await recordEvents(trx, app.config.webhooks, [mappingAppliedEvent({ organizationId: 1, configRevision: app.config.revision, appliedBy: 'test', membersChanged: 0 })], new Date());
    await recordEvents(trx, app.config.webhooks, [mappingAppliedEvent({ organizationId: 2, configRevision: app.config.revision, appliedBy: 'test', membersChanged: 0 })], new Date());
  });
  await until(async () => (await listDeliveries(app.db, 1, { status: 'failed', limit: 1 })).length === 1, 'the 410');
  const failed = (await listDeliveries(app.db, 1, { status: 'failed', limit: 1 }))[0];
  failedId = failed?.id ?? 0;
  eventId = failed?.eventId ?? '';
  otherOrgDelivery = (await listDeliveries(app.db, 2, { limit: 1 }))[0]?.id ?? 0;
  owner = await signedIn(app, PEOPLE.OW);
  ownerCsrf = csrfOf((await owner.request('GET', '/organization/webhooks')).text);
});

afterAll(async () => {
  await app.close();
  await receiver.down();
  delete process.env['WH_SECRET_0'];
  delete process.env['WH_SECRET_1'];
});

function post(b: Browser, path: string, form: Record<string, string>, origin = app.url, headers: Record<string, string> = {}) {
  return b.request('POST', path, { headers: { ...headers, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
}

describe('the Webhooks view of the Organization page', () => {
  it('lists the organization’s endpoints, the 410 that disabled one, and the failed delivery; not other organizations’', async () => {
    const res = await owner.request('GET', '/organization/webhooks');
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-endpoint="sink"');
    // The URL is shown without its query (receivers sometimes put a token there).
    expect(res.text).toContain(`<code>${receiver.url}?…</code>`);
    expect(res.text).not.toContain('receiver-side-token');
    expect(res.text).not.toContain('globex-only');
    expect(res.text).toMatch(/<strong>disabled<\/strong>[^<]*<time[^>]*>[^<]*<\/time> <span class="why">410 Gone/);
    expect(res.text).toContain(`data-delivery-id="${failedId}"`);
    expect(res.text).toContain('ERR_WEBHOOK_GONE');
    expect(res.text).not.toContain(`data-delivery-id="${otherOrgDelivery}"`);
    expect(res.text).toContain('aria-current="page">Webhooks</a>');
  });

  it('refuses a Manager: 403 ERR_FORBIDDEN, nothing changes', async () => {
    const manager = await signedIn(app, PEOPLE.MA);
    const before = await snapshot(app.db);
    const deliveries = await app.db('webhook_deliveries').orderBy('id');
    for (const res of [
      await manager.request('GET', '/organization/webhooks', { headers: { accept: 'application/json' } }),
      await post(manager, `/organization/webhooks/deliveries/${failedId}/resend`, { csrf: ownerCsrf }, app.url, { accept: 'application/json' }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.json<{ error: string }>().error).toBe('ERR_FORBIDDEN');
    }
    expect(await snapshot(app.db)).toEqual(before);
    expect(await app.db('webhook_deliveries').orderBy('id')).toEqual(deliveries);
  });

  it('refuses a resend without the form’s CSRF token, or from another origin: 403 ERR_CSRF, nothing changes', async () => {
    const before = await app.db('webhook_deliveries').orderBy('id');
    for (const res of [
      await post(owner, `/organization/webhooks/deliveries/${failedId}/resend`, {}),
      await post(owner, `/organization/webhooks/deliveries/${failedId}/resend`, { csrf: ownerCsrf }, 'https://evil.example'),
    ]) {
      expect(res.status).toBe(403);
      expect(res.text).toContain('ERR_CSRF');
    }
    expect(await app.db('webhook_deliveries').orderBy('id')).toEqual(before);
  });

  it('does not resend another organization’s delivery', async () => {
    const res = await post(owner, `/organization/webhooks/deliveries/${otherOrgDelivery}/resend`, { csrf: ownerCsrf });
    expect(res.status).toBe(302);
    const page = await owner.request('GET', '/organization/webhooks');
    expect(page.text).toContain('ERR_NOT_FOUND');
    expect((await listDeliveries(app.db, 2, { limit: 1 }))[0]?.attempts).not.toBe(0);
  });

  it('re-enables the endpoint and resends the failed delivery, which then arrives (same webhook-id)', async () => {
    expect((await post(owner, '/organization/webhooks/endpoints/sink/enable', { csrf: ownerCsrf })).status).toBe(302);
    expect(await app.db('webhook_endpoint_state').whereNotNull('disabled_at')).toEqual([]);
    const res = await post(owner, `/organization/webhooks/deliveries/${failedId}/resend`, { csrf: ownerCsrf });
    expect(res.status).toBe(302);
    expect(res.location).toBe('/organization/webhooks');
    await until(async () => (await listDeliveries(app.db, 1, { limit: 1 }))[0]?.status === 'delivered', 'the resent delivery');
    // Sign-ins of this test send their own events too; this one arrived twice: the 410, then the resend.
    const resent = receiver.received.filter((r) => r.id === eventId);
    expect(resent).toHaveLength(2);
    expect(resent[1]?.verifyError).toBeUndefined();
    expect(resent[1]?.body).toBe(resent[0]?.body);
    const page = await owner.request('GET', '/organization/webhooks');
    expect(page.text).toContain('enabled');
    expect(page.text).toContain('No failed deliveries.');
  });

  it('shows an endpoint removed from the configuration with its undelivered events failed (ERR_WEBHOOK_ENDPOINT_REMOVED); a resend is refused', async () => {
    // An event queued for "old-sink" under an earlier configuration, then swept as the relay does after a reload.
    const now = Date.now();
    await insertEvents(app.db, [{ id: 'msg_removed_endpoint_1', organizationId: 1, type: 'mapping.applied', userId: null, memberSeq: null, body: '{}', endpoints: ['old-sink'] }], now);
    expect(await failRemovedEndpointDeliveries(app.db, app.config.webhooks.endpoints.map((e) => e.name), now)).toBe(1);
    const removed = (await listDeliveries(app.db, 1, { status: 'failed', limit: 1 }))[0];
    expect(removed?.endpoint).toBe('old-sink');
    const page = await owner.request('GET', '/organization/webhooks');
    expect(page.text).toMatch(/<tr data-endpoint="old-sink" class="removed">[\s\S]*?<strong>removed<\/strong>[\s\S]*?<td data-label="Failed">1<\/td>/);
    expect(page.text).toContain(`data-delivery-id="${removed?.id}"`);
    expect(page.text).toContain('ERR_WEBHOOK_ENDPOINT_REMOVED');
    // Nobody to send it to: a resend is refused and changes nothing.
    const before = await app.db('webhook_deliveries').where({ id: removed?.id }).first();
    const res = await post(owner, `/organization/webhooks/deliveries/${removed?.id}/resend`, { csrf: ownerCsrf });
    expect(res.status).toBe(302);
    expect((await owner.request('GET', '/organization/webhooks')).text).toContain('no longer configured for this organization');
    expect(await app.db('webhook_deliveries').where({ id: removed?.id }).first()).toEqual(before);
  });
});
