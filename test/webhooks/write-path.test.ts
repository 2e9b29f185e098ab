/**
 * Events from real changes: logins, an admin's change, a deactivation, a deletion and an apply all go through
 * the one write path, whose hook writes the outbox in the change's own transaction; the running server's relay
 * delivers them to a receiver that verifies them with standardwebhooks. A change that rolls back leaves no event.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMemberWriter } from '../../src/app.js';
import { loadConfig } from '../../src/configuration/index.js';
import { silentLogger } from '../../src/log.js';
import { applyPlan } from '../../src/plan/apply.js';
import { computePlan } from '../../src/plan/compute.js';
import { standardYaml, startApp, type TestApp } from '../support/app.js';
import { memberRole } from '../support/db.js';
import { signIn } from '../support/flow.js';
import { PEOPLE, call, signedIn, userIdOf } from '../admin/support.js';
import { Receiver, newSecret, type Received } from './receiver.js';
import { webhooksYaml } from './support.js';

let app: TestApp;
let receiver: Receiver;

const EVENTS = ['member.created', 'member.activated', 'member.deactivated', 'member.deleted', 'member.role_changed', 'member.project_role_changed', 'mapping.applied'];

async function settled(): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const open = (await app.db('webhook_deliveries').whereNot({ status: 'delivered' }).count({ n: '*' })) as { n: number | string }[];
    if (Number(open[0]?.n) === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('deliveries did not settle');
}

/** What the receiver got about one member, in sequence order: [type, old, new] and the rest of the payload. */
function about(userId: number): { type: string; data: Record<string, unknown> }[] {
  return receiver.received
    .filter((r: Received) => (r.payload?.data['member'] as { id?: number } | undefined)?.id === userId)
    .map((r) => ({ type: r.payload?.type ?? '', data: r.payload?.data ?? {} }))
    .sort((a, b) => Number(a.data['sequence']) - Number(b.data['sequence']));
}

beforeAll(async () => {
  receiver = await Receiver.start(newSecret());
  process.env['WH_SECRET_0'] = receiver.secret;
  app = await startApp({
    yaml: (dir, url) => standardYaml({ dir, publicUrl: url }) + webhooksYaml([{ name: 'sink', url: receiver.url, secret: receiver.secret, events: EVENTS, organizations: [1] }], '  poll_interval_ms: 20\n'),
  });
});

afterAll(async () => {
  await app.close();
  await receiver.down();
  delete process.env['WH_SECRET_0'];
});

describe('events from the write path', () => {
  it('a first login sends member.created and member.project_role_changed, with the rule that decided and sequence 1, 2', async () => {
    await signedIn(app, PEOPLE.RE);
    await settled();
    const id = await userIdOf(app, PEOPLE.RE.email);
    const events = about(id);
    expect(events.map((e) => [e.type, e.data['old'], e.data['new'], e.data['sequence']])).toEqual([
      ['member.created', null, 'RE', 1],
      ['member.project_role_changed', null, 'RE', 2],
    ]);
    expect(events[0]?.data).toMatchObject({
      organization: { id: 1 },
      member: { id, email: PEOPLE.RE.email },
      source: 'login',
      actor: 'saml',
      rule: { path: 'organizations[0].roles.LS-Reviewers', group: 'LS-Reviewers', line: expect.any(Number) },
    });
    expect(events[1]?.data).toMatchObject({ project: { id: 42 }, rule: { path: 'organizations[0].projects[0].groups.LS-Project42-Reviewers' } });
    expect(receiver.received.every((r) => r.verifyError === undefined)).toBe(true);
  });

  it('an admin activating a pending member sends member.role_changed and member.activated (source admin, no rule)', async () => {
    await signedIn(app, PEOPLE.NO);
    const owner = await signedIn(app, PEOPLE.OW);
    const id = await userIdOf(app, PEOPLE.NO.email);
    const ownerId = await userIdOf(app, PEOPLE.OW.email);
    const res = await call(app, owner, 'PATCH', '/api/organizations/1/memberships', { body: { user_id: id, role: 'AN' } });
    expect(res.status, res.text).toBe(200);
    await settled();
    const events = about(id);
    expect(events.map((e) => [e.type, e.data['old'], e.data['new'], e.data['sequence']])).toEqual([
      ['member.created', null, 'NO', 1],
      ['member.role_changed', 'NO', 'AN', 2],
      ['member.activated', 'NO', 'AN', 3],
    ]);
    expect(events[1]?.data).toMatchObject({ source: 'admin', actor: `user:${ownerId}`, rule: null });
  });

  it('an apply that changes roles sends their events and mapping.applied', async () => {
    const file = path.join(app.dir, 'rolegate.yaml');
    const text = fs.readFileSync(file, 'utf8').replace('LS-Reviewers: Reviewer', 'LS-Reviewers: Manager');
    const next = path.join(app.dir, 'next.yaml');
    fs.writeFileSync(next, text);
    const config = { ...loadConfig(next, { env: process.env }), database: app.config.database };
    const writer = buildMemberWriter({ config, log: silentLogger });
    const result = await applyPlan(app.db, config, await computePlan(app.db, config), { writer, appliedBy: 'apply' });
    expect(result.applied).toBe(true);
    await settled();
    const id = await userIdOf(app, PEOPLE.RE.email);
    expect(about(id).slice(2).map((e) => [e.type, e.data['old'], e.data['new'], e.data['source']])).toEqual([['member.role_changed', 'RE', 'MA', 'apply']]);
    const applied = receiver.received.filter((r) => r.payload?.type === 'mapping.applied');
    expect(applied.map((r) => r.payload?.data)).toEqual([
      {
        organization: { id: 1 },
        config_revision: config.revision,
        previous_revision: expect.any(String), // the revision the server started on
        applied_by: 'apply',
        forced: false,
        members_changed: 1,
        changes: { promoted: 1, demoted: 0, activated: 0, deactivated: 0, source_changed: 0, project_added: 0, project_changed: 0, project_removed: 0 },
        refused: 0,
      },
    ]);
  });

  it('a login without the mapped groups sends member.role_changed, member.deactivated and the project role removed', async () => {
    const browser = app.browser();
    await signIn(app, browser, { ...PEOPLE.RE, groups: [] });
    await settled();
    const id = await userIdOf(app, PEOPLE.RE.email);
    expect(about(id).slice(3).map((e) => [e.type, e.data['old'], e.data['new'], e.data['sequence']])).toEqual([
      ['member.role_changed', 'MA', 'DI', 4],
      ['member.deactivated', 'MA', 'DI', 5],
      ['member.project_role_changed', 'RE', null, 6],
    ]);
  });

  it('a deletion sends member.deleted', async () => {
    const owner = await signedIn(app, PEOPLE.OW);
    const id = await userIdOf(app, PEOPLE.NO.email);
    expect((await call(app, owner, 'DELETE', `/api/organizations/1/memberships/${id}`)).status).toBe(204);
    await settled();
    expect(about(id).at(-1)).toMatchObject({ type: 'member.deleted', data: { old: 'AN', new: null, sequence: 4, member: { id, email: PEOPLE.NO.email } } });
    // The email leaves the outbox with the member: only the deletion's own event still names them.
    const bodies = ((await app.db('webhook_events').where({ user_id: id }).orderBy('member_seq')) as { type: string; body: string }[]).map((e) => [
      e.type,
      (JSON.parse(e.body) as { data: { member: { email: string | null } } }).data.member.email,
    ]);
    expect(bodies).toEqual([
      ['member.created', null],
      ['member.role_changed', null],
      ['member.activated', null],
      ['member.deleted', PEOPLE.NO.email],
    ]);
  });

  it('a change that rolls back leaves no event and no change', async () => {
    const writer = buildMemberWriter({ config: app.config, log: silentLogger });
    const id = await userIdOf(app, PEOPLE.AN.email).catch(async () => {
      await signedIn(app, PEOPLE.AN);
      return userIdOf(app, PEOPLE.AN.email);
    });
    await settled();
    const events = Number(((await app.db('webhook_events').count({ n: '*' })) as { n: number | string }[])[0]?.n);
    const before = await memberRole(app.db, 1, PEOPLE.AN.email);
    await expect(
      app.db.transaction(async (trx) => {
        const result = await writer.write(
          trx,
          { organizationId: 1, source: 'admin', actor: 'user:1', configRevision: app.config.revision, now: new Date(), ip: null, assertionId: null },
          [{ kind: 'org_role', userId: id, role: 'MA', roleSource: 'manual', reason: { text: 'test' } }],
          { refusals: 'throw' },
        );
        expect(result.changes).toHaveLength(1);
        expect(Number(((await trx('webhook_events').count({ n: '*' })) as { n: number | string }[])[0]?.n)).toBe(events + 1); // member.role_changed, inside the transaction
        throw new Error('something later in the same transaction fails');
      }),
    ).rejects.toThrow('something later');
    expect(Number(((await app.db('webhook_events').count({ n: '*' })) as { n: number | string }[])[0]?.n)).toBe(events);
    expect(await memberRole(app.db, 1, PEOPLE.AN.email)).toEqual(before);
  });
});

describe('a relay in the process that made the change', () => {
  it('sends the events as soon as the change commits, without waiting for its next poll', async () => {
    const r = await Receiver.start(newSecret());
    process.env['WH_SECRET_0'] = r.secret;
    // A poll interval of a minute: only the commit notification can bring the event out within the test.
    const other = await startApp({
      yaml: (dir, url) => standardYaml({ dir, publicUrl: url }) + webhooksYaml([{ name: 'sink', url: r.url, secret: r.secret, events: ['member.created'] }], '  poll_interval_ms: 60000\n'),
    });
    try {
      // The relay's first look at the outbox happened at start; it now sleeps for a minute.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await signedIn(other, PEOPLE.MA);
      for (let i = 0; i < 200 && r.received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(r.received.map((x) => x.payload?.type)).toEqual(['member.created']);
    } finally {
      await other.close();
      await r.down();
    }
  });
});
