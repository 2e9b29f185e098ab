import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { storeSession } from '../../src/db/sessions.js';
import { buildMemberWriter } from '../../src/app.js';
import { silentLogger } from '../../src/log.js';
import { applyPlan } from '../../src/plan/apply.js';
import { computePlan, type OrgPlan } from '../../src/plan/compute.js';
import { renderPlan } from '../../src/plan/render.js';
import { NOW, PROJECTS, ROLES, cleanupDirs, count, openDb, populate, roleOf, tempDir, writeConfig, type YamlParts } from './support.js';

afterAll(cleanupDirs);

type Counts = Partial<OrgPlan['counts']>;

const ZERO: OrgPlan['counts'] = {
  promoted: 0,
  demoted: 0,
  deactivated: 0,
  activated: 0,
  source_changed: 0,
  project_added: 0,
  project_removed: 0,
  project_changed: 0,
  refused: 0,
  unknown: 300,
  stale: 0,
};

describe('plan on a synthetic population of 3,101 members', () => {
  let dir: string;
  let db: Db;
  beforeAll(async () => {
    dir = tempDir();
    db = await openDb(writeConfig(dir));
    await populate(db);
  });
  afterAll(async () => {
    await db.destroy();
  });

  const cases: { name: string; parts: YamlParts; counts: Counts; refused?: boolean; stale?: number }[] = [
    { name: 'the configuration the members were mapped with changes nothing', parts: {}, counts: {} },
    {
      name: 'a removed group deactivates its members (fresh and old groups alike without an age limit), past the guard',
      parts: { roles: ROLES.replace('      LS-Reviewers: Reviewer\n', '') },
      counts: { deactivated: 1100 },
      refused: true,
    },
    {
      name: 'with max_group_age_days, members whose groups are older are stale: unknown, unchanged, listed',
      parts: { roles: ROLES.replace('      LS-Reviewers: Reviewer\n', ''), orgGuards: '      max_group_age_days: 365\n      max_demotions: 5000\n      max_demotion_percent: 100\n' },
      counts: { deactivated: 1000, stale: 100 },
      stale: 100,
    },
    { name: 'a group mapped to a higher role promotes', parts: { roles: ROLES.replace('LS-Annotators: Annotator', 'LS-Annotators: Manager') }, counts: { promoted: 800 } },
    {
      name: 'a group mapped to a lower role demotes (the Owner remains, so no administrator guard applies)',
      parts: { roles: ROLES.replace('LS-Admins: Administrator', 'LS-Admins: Manager'), guards: '  max_demotions: 1000\n' },
      counts: { demoted: 200 },
    },
    { name: 'a removed Inherit rule ends those project memberships', parts: { projects: PROJECTS.replace('          LS-AllProjects: Inherit\n', '') }, counts: { project_removed: 500 } },
    {
      name: 'a new project adds memberships',
      parts: { projects: `${PROJECTS}      - id: 44\n        title: Oncology\n        groups:\n          LS-Reviewers: Reviewer\n` },
      counts: { project_added: 1100 },
    },
    {
      name: 'an Inherit project follows an organization role change',
      parts: { roles: ROLES.replace('LS-Managers: Manager', 'LS-Managers: Reviewer'), guards: '  max_demotion_percent: 100\n  max_demotions: 100000\n' },
      counts: { demoted: 500, project_changed: 500 },
    },
    {
      name: 'members with groups unknown are never counted as having no groups',
      parts: { roles: ROLES.replace('      LS-Annotators: Annotator\n', ''), guards: '  max_demotion_percent: 100\n  max_demotions: 100000\n' },
      counts: { deactivated: 800, project_removed: 800 },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const config = writeConfig(dir, c.parts, `case-${cases.indexOf(c)}.yaml`);
      const plan = await computePlan(db, config, NOW);
      const org = plan.organizations[0];
      expect(org?.members).toBe(3101);
      expect(org?.counts).toEqual({ ...ZERO, ...c.counts, unknown: 300 });
      expect(plan.refused).toBe(c.refused ?? false);
      expect(org?.stale).toHaveLength(c.stale ?? 0);
      // Unknown-groups members never appear in a change.
      expect(org?.changes.some((x) => x.email.startsWith('unknown'))).toBe(false);
      expect(org?.projectChanges.some((x) => x.email.startsWith('unknown'))).toBe(false);
    });
  }

  it('writes nothing', async () => {
    const before = await db('memberships').orderBy('id');
    const audit = await count(db, 'audit_events');
    await computePlan(db, writeConfig(dir, { roles: ROLES.replace('LS-Annotators: Annotator', 'LS-Annotators: Manager') }, 'nothing.yaml'), NOW);
    expect(await db('memberships').orderBy('id')).toEqual(before);
    expect(await count(db, 'audit_events')).toBe(audit);
    expect(await count(db, 'config_revisions')).toBe(0);
  });

  it('renders counts, members with the deciding rule, and the guard verdict', async () => {
    const config = writeConfig(dir, { roles: ROLES.replace('      LS-Reviewers: Reviewer\n', '') }, 'render.yaml');
    const text = renderPlan(await computePlan(db, config, NOW), { limit: 2 });
    expect(text).toContain('Organization 1 (Acme Labs): 3101 member(s), 2901 active');
    expect(text).toContain('deactivated (1100)');
    expect(text).toContain('reviewer0@acme.example: Reviewer → Deactivated');
    expect(text).toContain('… and 1098 more');
    expect(text).toContain('EXCEEDED');
    expect(text).toContain('Re-run with `rolegate apply --force`');
  });
});

describe('apply', () => {
  it('applies in batches with one audit row per change naming the revision, then the plan is empty', async () => {
    const dir = tempDir();
    const db = await openDb(writeConfig(dir));
    try {
      await populate(db);
      const config = writeConfig(dir, { roles: ROLES.replace('LS-Annotators: Annotator', 'LS-Annotators: Manager') }, 'new.yaml');
      const plan = await computePlan(db, config, NOW);
      const result = await applyPlan(db, config, plan, { writer: buildMemberWriter({ config, log: silentLogger }), appliedBy: 'apply', batchSize: 150, now: () => NOW });
      expect(result.applied).toBe(true);
      if (!result.applied) return;
      expect(result.batches).toBe(Math.ceil(800 / 150));
      expect(result.organizations[0]?.counts).toMatchObject({ promoted: 800, refused: 0 });
      expect(await roleOf(db, 'annotator7@acme.example')).toBe('MA');
      const rows = (await db('audit_events').where({ action: 'role_change', actor: 'config' })) as Record<string, unknown>[];
      expect(rows).toHaveLength(800);
      expect(new Set(rows.map((r) => r['config_revision']))).toEqual(new Set([config.revision]));
      expect(rows[0]).toMatchObject({ outcome: 'ok', before: 'AN', after: 'MA' });
      const revisions = (await db('config_revisions')) as Record<string, unknown>[];
      expect(revisions).toEqual([expect.objectContaining({ hash: config.revision, applied_by: 'apply', content: expect.stringContaining('LS-Annotators: Manager') })]);
      const stored = (await db('memberships').join('users', 'users.id', 'memberships.user_id').where('users.email', 'annotator7@acme.example').first('memberships.reason')) as { reason: string };
      expect(JSON.parse(stored.reason)).toMatchObject({ config_revision: config.revision, previous_role: 'AN', groups: ['LS-Annotators', 'LS-Project42-Annotators'], applied_by: 'apply' });
      const again = await computePlan(db, config, NOW);
      expect(again.organizations[0]?.changes).toEqual([]);
      expect(again.currentRevision).toBe(config.revision);
      // Rollback preview: the older file shows the way back.
      const back = await computePlan(db, writeConfig(dir, {}, 'old.yaml'), NOW);
      expect(back.organizations[0]?.counts.demoted).toBe(800);
    } finally {
      await db.destroy();
    }
  });

  it('past the mass-demotion guard nothing is written unless forced; forced, sessions of deactivated members end', async () => {
    const dir = tempDir();
    const db = await openDb(writeConfig(dir));
    try {
      const ids = await populate(db);
      const reviewerId = ids[0] ?? 0; // reviewer0
      const managerId = ids[1800] ?? 0; // manager0
      await storeSession(db, 'reviewer-session-key', { userId: reviewerId, organizationId: 1 }, new Date(Date.now() + 3_600_000));
      await storeSession(db, 'manager-session-key', { userId: managerId, organizationId: 1 }, new Date(Date.now() + 3_600_000));
      const config = writeConfig(dir, { roles: ROLES.replace('      LS-Reviewers: Reviewer\n', '') }, 'drop.yaml');
      const plan = await computePlan(db, config, NOW);
      const before = await db('memberships').orderBy('id');
      const refused = await applyPlan(db, config, plan, { writer: buildMemberWriter({ config, log: silentLogger }), appliedBy: 'apply' });
      expect(refused.applied).toBe(false);
      expect(await db('memberships').orderBy('id')).toEqual(before);
      expect(await count(db, 'config_revisions')).toBe(0);

      const forced = await applyPlan(db, config, plan, { writer: buildMemberWriter({ config, log: silentLogger }), appliedBy: 'apply', force: true });
      expect(forced.applied && forced.forced).toBe(true);
      expect(forced.applied && forced.organizations[0]?.counts).toMatchObject({ deactivated: 1100, sessions_ended: 1 });
      expect(await roleOf(db, 'reviewer0@acme.example')).toBe('DI');
      expect(await count(db, 'sessions', { user_id: reviewerId })).toBe(0);
      expect(await count(db, 'sessions', { user_id: managerId })).toBe(1);
    } finally {
      await db.destroy();
    }
  });
});

describe('guards on individual changes', () => {
  it('the last active Administrator-or-Owner is never demoted by apply: refused, listed and audited', async () => {
    const dir = tempDir();
    const db = await openDb(writeConfig(dir));
    try {
      await populate(db, [
        { count: 1, prefix: 'solo-admin', groups: ['LS-Admins'], role: 'AD' },
        { count: 1, prefix: 'second-admin', groups: ['LS-Admins', 'Other'], role: 'AD' },
        { count: 3, prefix: 'reviewer', groups: ['LS-Reviewers'], role: 'RE' },
      ]);
      const config = writeConfig(dir, { roles: ROLES.replace('      LS-Admins: Administrator\n', ''), orgGuards: '      max_demotion_percent: 100\n' }, 'no-admins.yaml');
      const plan = await computePlan(db, config, NOW);
      const changes = plan.organizations[0]?.changes ?? [];
      expect(changes.map((c) => [c.email, c.to.role, c.refused ?? null])).toEqual([
        ['solo-admin0@acme.example', 'DI', null],
        ['second-admin0@acme.example', 'DI', 'last_admin'],
      ]);
      expect(renderPlan(plan)).toContain('refused by guard (1)');
      const result = await applyPlan(db, config, plan, { writer: buildMemberWriter({ config, log: silentLogger }), appliedBy: 'apply' });
      expect(result.applied && result.organizations[0]?.counts).toMatchObject({ deactivated: 1, refused: 1 });
      expect(await roleOf(db, 'solo-admin0@acme.example')).toBe('DI');
      expect(await roleOf(db, 'second-admin0@acme.example')).toBe('AD');
      const audit = (await db('audit_events').where({ action: 'role_change', outcome: 'refused' })) as Record<string, unknown>[];
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: 'config', subject_email: 'second-admin0@acme.example', before: 'AD', after: 'DI', config_revision: config.revision });
      expect(JSON.parse(String(audit[0]?.['reason']))).toMatchObject({ guard: 'last_admin' });
    } finally {
      await db.destroy();
    }
  });

  it('an Owner is never demoted: the configured one by the mapping itself, a former one by the guard', async () => {
    const dir = tempDir();
    const db = await openDb(writeConfig(dir));
    try {
      await populate(db, [
        { count: 1, prefix: 'owner', groups: ['LS-Annotators'], role: 'OW', roleSource: 'manual' },
        { count: 1, prefix: 'former-owner', groups: [], role: 'OW', roleSource: 'manual' },
      ]);
      const config = writeConfig(dir, { roles: '      LS-Annotators: Annotator\n', orgGuards: '      max_demotion_percent: 100\n' }, 'owner.yaml');
      const plan = await computePlan(db, config, NOW);
      expect(plan.organizations[0]?.changes.map((c) => [c.email, c.to.role, c.refused])).toEqual([['former-owner0@acme.example', 'DI', 'owner']]);
      const result = await applyPlan(db, config, plan, { writer: buildMemberWriter({ config, log: silentLogger }), appliedBy: 'apply' });
      expect(result.applied && result.organizations[0]?.counts.refused).toBe(1);
      expect(await roleOf(db, 'former-owner0@acme.example')).toBe('OW');
      expect(await roleOf(db, 'owner@acme.example')).toBe('OW');
    } finally {
      await db.destroy();
    }
  });
});
