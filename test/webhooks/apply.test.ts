/**
 * `mapping.applied` is one event per apply (and organization), written in the apply's final transaction
 * with the totals of every batch, while member events stay one per change. An apply stopped half-way sends
 * none; running it again sends one for what that run changed. Real database (SQLite, or PostgreSQL with
 * ROLEGATE_TEST_DATABASE=postgres), the real write path and outbox; the outbox rows are read back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildMemberWriter } from '../../src/app.js';
import { loadConfig } from '../../src/configuration/index.js';
import type { Config } from '../../src/configuration/types.js';
import type { Db } from '../../src/db/connect.js';
import { syncOrganizations } from '../../src/db/organizations.js';
import { latestRevision } from '../../src/db/revisions.js';
import { silentLogger } from '../../src/log.js';
import { MemberWriter, type ChangeHook } from '../../src/members/write.js';
import { applyPlan } from '../../src/plan/apply.js';
import { computePlan } from '../../src/plan/compute.js';
import { webhookApplied, webhookOutbox } from '../../src/webhooks/outbox.js';
import { openTestDatabase } from '../support/database.js';
import { NOW, ROLES, cleanupDirs, populate, tempDir, yaml, type Cohort } from '../plan/support.js';
import { newSecret } from './receiver.js';
import { webhooksYaml } from './support.js';

afterAll(cleanupDirs);

const SECRET = newSecret();

/** 250 promotions, 20 deactivations and 30 project role changes: 300 members, three batches of 100. */
const COHORTS: readonly Cohort[] = [
  { count: 250, prefix: 'reviewer', groups: ['LS-Reviewers'], role: 'RE' },
  { count: 20, prefix: 'manager', groups: ['LS-Managers'], role: 'MA' },
  { count: 30, prefix: 'annotator', groups: ['LS-Annotators', 'LS-Project42-Annotators'], role: 'AN', projects: [{ projectId: 42, role: 'AN' }] },
  { count: 1, prefix: 'owner', groups: [], role: 'OW', roleSource: 'manual' },
];

function nextConfig(dir: string): Config {
  const roles = ROLES.replace('LS-Reviewers: Reviewer', 'LS-Reviewers: Manager').replace('      LS-Managers: Manager\n', '');
  const projects = `      - id: 42
        title: Radiology
        groups:
          LS-Project42-Annotators: Reviewer
`;
  const file = path.join(dir, 'rolegate.yaml');
  fs.writeFileSync(file, yaml(dir, { roles, projects, guards: '  max_demotions: 1000\n  max_demotion_percent: 100\n' }) + webhooksYaml([{ name: 'sink', url: 'https://hooks.example.com/in', secret: SECRET }]));
  return loadConfig(file, { env: { ...process.env, NODE_ENV: 'test', WH_SECRET_0: SECRET } });
}

let db: Db;
let close: () => Promise<void>;
let config: Config;

beforeEach(async () => {
  ({ db, close } = await openTestDatabase());
  config = nextConfig(tempDir());
  await syncOrganizations(db, config, NOW);
  await populate(db, COHORTS);
});
afterEach(async () => {
  await close();
});

async function events(type?: string): Promise<{ type: string; user_id: number | null; data: Record<string, unknown> }[]> {
  const q = db('webhook_events').orderBy('id');
  if (type !== undefined) void q.where({ type });
  return ((await q) as { type: string; user_id: number | null; body: string }[]).map((e) => ({
    type: e.type,
    user_id: e.user_id === null ? null : Number(e.user_id),
    data: (JSON.parse(e.body) as { data: Record<string, unknown> }).data,
  }));
}

function countBy(list: readonly { type: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of list) out[e.type] = (out[e.type] ?? 0) + 1;
  return out;
}

describe('mapping.applied: one per apply', () => {
  it('an apply of 300 changes in three batches sends exactly one mapping.applied with the totals, and one member event per change', async () => {
    const plan = await computePlan(db, config, NOW);
    const result = await applyPlan(db, config, plan, { writer: buildMemberWriter({ config, log: silentLogger }), appliedBy: 'apply', now: () => NOW });
    expect(result.applied).toBe(true);
    if (!result.applied) return;
    expect(result.batches).toBe(3);

    const all = await events();
    expect(countBy(all)).toEqual({
      'member.role_changed': 270,
      'member.deactivated': 20,
      'member.project_role_changed': 30,
      'mapping.applied': 1,
    });
    const applied = all.filter((e) => e.type === 'mapping.applied');
    expect(applied[0]?.user_id).toBeNull();
    expect(applied[0]?.data).toEqual({
      organization: { id: 1 },
      config_revision: config.revision,
      previous_revision: null,
      applied_by: 'apply',
      forced: false,
      members_changed: 300,
      changes: { promoted: 250, demoted: 0, activated: 0, deactivated: 20, source_changed: 0, project_added: 0, project_changed: 30, project_removed: 0 },
      refused: 0,
    });
    // Queued for the endpoint like any event, and last: every batch had committed before it was written.
    const deliveries = (await db('webhook_deliveries')
      .join('webhook_events', 'webhook_events.id', 'webhook_deliveries.event_id')
      .orderBy('webhook_deliveries.id')
      .select('webhook_deliveries.endpoint', 'webhook_events.type')) as { endpoint: string; type: string }[];
    expect(deliveries).toHaveLength(321);
    expect(deliveries.at(-1)).toEqual({ endpoint: 'sink', type: 'mapping.applied' });
    // One member event per change: no member appears twice in the role_changed stream.
    const changedIds = all.filter((e) => e.type === 'member.role_changed').map((e) => e.user_id);
    expect(new Set(changedIds).size).toBe(270);
  });

  it('an apply stopped in its second batch sends no mapping.applied; running it again sends one with what that run changed', async () => {
    let calls = 0;
    const failSecondBatch: ChangeHook = async () => {
      if (++calls === 2) throw new Error('interrupted');
    };
    const interrupted = new MemberWriter([webhookOutbox(() => config), failSecondBatch], [webhookApplied(() => config)]);
    await expect(applyPlan(db, config, await computePlan(db, config, NOW), { writer: interrupted, appliedBy: 'apply', now: () => NOW })).rejects.toThrow('interrupted');

    // The first batch committed with its member events; the second rolled back with its own; no summary.
    const first = await events();
    expect(await events('mapping.applied')).toEqual([]);
    expect(new Set(first.map((e) => e.user_id)).size).toBe(100);
    expect(await latestRevision(db)).toBeUndefined();

    // Run again: the plan has only what is left, and this run's one mapping.applied counts it.
    const resumed = await applyPlan(db, config, await computePlan(db, config, NOW), { writer: buildMemberWriter({ config, log: silentLogger }), appliedBy: 'apply', now: () => NOW });
    expect(resumed.applied).toBe(true);
    const applied = await events('mapping.applied');
    expect(applied).toHaveLength(1);
    expect(applied[0]?.data).toMatchObject({ config_revision: config.revision, previous_revision: null, members_changed: 200 });
    const totals = applied[0]?.data['changes'] as Record<string, number>;
    expect(Object.values(totals).reduce((a, b) => a + b, 0)).toBe(200);
    // Every member event of both runs: still one per change.
    const all = await events();
    expect(countBy(all)).toEqual({ 'member.role_changed': 270, 'member.deactivated': 20, 'member.project_role_changed': 30, 'mapping.applied': 1 });
    expect((await latestRevision(db))?.hash).toBe(config.revision);
  });

  it('an apply that changes nobody sends no mapping.applied', async () => {
    const writer = buildMemberWriter({ config, log: silentLogger });
    await applyPlan(db, config, await computePlan(db, config, NOW), { writer, appliedBy: 'apply', now: () => NOW });
    const before = (await events('mapping.applied')).length;
    const again = await applyPlan(db, config, await computePlan(db, config, NOW), { writer, appliedBy: 'apply', now: () => NOW });
    expect(again.applied).toBe(true);
    expect((await events('mapping.applied')).length).toBe(before);
  });
});
