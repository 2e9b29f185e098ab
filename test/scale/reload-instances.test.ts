/**
 * A configuration reload on two instances sharing one database: the plan is applied
 * exactly once (the configuration lock, src/db/reload-lock.ts), the other instance only swaps, and both end
 * on the same revision.
 *
 * Both instances read the same file, as behind a load balancer (so the same content hash); each listens on
 * a port of its own given by ROLEGATE_PORT in its environment, which a reload reads too. (test/support's
 * `startApp({ share })` cannot reload: it overrides the port, the database and saml.workers in memory, so the
 * file on disk differs from what the instance runs on and a reload is refused as "needs a restart".)
 *
 * The PostgreSQL scenario runs in the PostgreSQL pass (ROLEGATE_TEST_DATABASE=postgres, see .ci/run); the
 * same scenario on one SQLite file shared by two instances runs in the SQLite pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/configuration/index.js';
import { serve, type RunningServer } from '../../src/main.js';
import { silentLogger } from '../../src/log.js';
import { withConfigLock } from '../../src/db/reload-lock.js';
import { TEST_DATABASE, TEST_PG_URL, pgTestDatabase, type PgTestDatabase } from '../support/database.js';
import { Browser } from '../support/http.js';
import { ROLES, cleanupDirs, populate, roleOf, tempDir, yaml } from '../plan/support.js';
import { freePort } from '../support/app.js';

afterAll(cleanupDirs);

const LENIENT = '  max_demotion_percent: 100\n  max_demotions: 100000\n';
/** Under the new file: Reviewers become Managers (promoted), the Annotators rule is gone (deactivated). */
const NEW_ROLES = ROLES.replace('LS-Reviewers: Reviewer', 'LS-Reviewers: Manager').replace('      LS-Annotators: Annotator\n', '');
/** A second change, rolled out the other way round: Managers become Reviewers (demoted). */
const THIRD_ROLES = NEW_ROLES.replace('LS-Managers: Manager', 'LS-Managers: Reviewer');

interface Instance {
  readonly running: RunningServer;
  readonly url: string;
}

interface Cluster {
  readonly file: string;
  readonly a: Instance;
  readonly b: Instance;
  write(roles: string): void;
  revision(): string;
  close(): Promise<void>;
}


/** Two instances on one configuration file and one database (a PostgreSQL schema, or one SQLite file). */
async function startCluster(kind: 'postgres' | 'sqlite'): Promise<Cluster> {
  const dir = tempDir();
  const file = path.join(dir, 'rolegate.yaml');
  const pg: PgTestDatabase | undefined = kind === 'postgres' ? pgTestDatabase() : undefined;
  const text = (roles: string): string => {
    let out = yaml(dir, { roles, guards: LENIENT })
      .replace('organizations:\n', 'saml:\n  workers: 0\norganizations:\n')
      .replace('server:\n', `server:\n  metrics_token: ${OPERATOR_TOKEN}\n`);
    if (pg !== undefined) out = out.replace(`url: sqlite:${dir}/rolegate.db`, `url: ${TEST_PG_URL}`);
    return out;
  };
  const envOf = (port: number): NodeJS.ProcessEnv => ({ ...process.env, NODE_ENV: 'test', ROLEGATE_HOST: '127.0.0.1', ROLEGATE_PORT: String(port) });
  fs.writeFileSync(file, text(ROLES));
  const start = async (): Promise<Instance> => {
    const env = envOf(await freePort());
    const config = loadConfig(file, { env });
    expect(config.database.client).toBe(kind === 'postgres' ? 'pg' : 'sqlite');
    const running = await serve(config, silentLogger, { reload: { env }, ...(pg === undefined ? {} : { database: { schema: pg.schema } }) });
    return { running, url: running.url };
  };
  const instances: Instance[] = [];
  try {
    instances.push(await start());
    instances.push(await start());
  } catch (err) {
    for (const i of instances) await i.running.close();
    await pg?.drop();
    throw err;
  }
  const [a, b] = instances as [Instance, Instance];
  return {
    file,
    a,
    b,
    write: (roles) => fs.writeFileSync(file, text(roles)),
    revision: () => loadConfig(file, { env: envOf(1) }).revision,
    async close() {
      await b.running.close();
      await a.running.close();
      await pg?.drop();
    },
  };
}

/** server.metrics_token: it opens /healthz/details, where the revision is. */
const OPERATOR_TOKEN = 'cluster-test-operator-token';

async function healthRevision(i: Instance): Promise<string> {
  const res = await new Browser(i.url).get('/healthz/details', { accept: 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` });
  expect(res.status).toBe(200);
  const body = res.json<{ config_revision: string; config: { revision: string } }>();
  expect(body.config_revision).toBe(body.config.revision);
  return body.config.revision;
}

/** audit_events rows of role changes made by the configuration, for one revision. */
async function configChanges(i: Instance, revision: string): Promise<Record<string, unknown>[]> {
  return (await i.running.db('audit_events').where({ actor: 'config', config_revision: revision }).whereIn('action', ['role_change', 'project_role_change'])) as Record<string, unknown>[];
}

function scenario(kind: 'postgres' | 'sqlite'): void {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('a reload triggered on both at once applies each change exactly once, and both serve the new revision', async () => {
    cluster = await startCluster(kind);
    const { a, b } = cluster;
    expect(a.running.db.client.config.client).toBe(kind === 'postgres' ? 'pg' : 'better-sqlite3');
    const started = a.running.state.current().revision;
    expect(b.running.state.current().revision).toBe(started);
    // Several apply batches (100 members each) per change kind, so two unguarded appliers would overlap.
    await populate(a.running.db, [
      { count: 450, prefix: 'reviewer', groups: ['LS-Reviewers'], role: 'RE' },
      { count: 250, prefix: 'annotator', groups: ['LS-Annotators'], role: 'AN' },
      { count: 120, prefix: 'manager', groups: ['LS-Managers'], role: 'MA' },
      { count: 3, prefix: 'admin', groups: ['LS-Admins'], role: 'AD' },
      { count: 1, prefix: 'owner', groups: [], role: 'OW', roleSource: 'manual' },
    ]);

    // Round 1: the new file, SIGHUP to both at the same moment.
    cluster.write(NEW_ROLES);
    const second = cluster.revision();
    const round1 = await Promise.all([a.running.reload('SIGHUP'), b.running.reload('SIGHUP')]);
    expect(round1.map((s) => ({ ok: s.ok, errors: s.errors, revision: s.revision }))).toEqual([
      { ok: true, errors: [], revision: second },
      { ok: true, errors: [], revision: second },
    ]);
    // One instance applied all 700 changes; the other found the revision applied and only swapped.
    expect(round1.map((s) => s.message).sort()).toEqual([
      expect.stringMatching(/, 700 change\(s\) applied$/),
      expect.stringMatching(/already applied \(reload:SIGHUP at .*\); nothing to apply here$/),
    ]);
    const changes1 = await configChanges(a, second);
    expect(changes1.filter((r) => r['outcome'] !== 'ok')).toEqual([]);
    const perMember = new Map<unknown, number>();
    for (const r of changes1) perMember.set(r['subject_user_id'], (perMember.get(r['subject_user_id']) ?? 0) + 1);
    expect(perMember.size).toBe(700);
    expect([...perMember.values()].every((n) => n === 1)).toBe(true);
    expect(changes1.filter((r) => r['before'] === 'RE' && r['after'] === 'MA')).toHaveLength(450);
    expect(changes1.filter((r) => r['before'] === 'AN' && r['after'] === 'DI')).toHaveLength(250);
    expect(await a.running.db('audit_events').where({ action: 'config_applied', config_revision: second })).toHaveLength(1);
    const applied = (await a.running.db('config_revisions').whereNot('applied_by', 'serve').orderBy('id')) as Record<string, unknown>[];
    expect(applied.map((r) => [r['hash'], r['applied_by']])).toEqual([[second, 'reload:SIGHUP']]);
    expect(await roleOf(a.running.db, 'reviewer0@acme.example')).toBe('MA');
    expect(await roleOf(b.running.db, 'reviewer449@acme.example')).toBe('MA');
    expect(await roleOf(a.running.db, 'annotator249@acme.example')).toBe('DI');
    expect(await roleOf(a.running.db, 'manager0@acme.example')).toBe('MA');
    expect(await roleOf(a.running.db, 'admin0@acme.example')).toBe('AD');
    expect(await healthRevision(a)).toBe(second);
    expect(await healthRevision(b)).toBe(second);

    // Round 2: another change, B triggered first this time; again once, and both converge.
    cluster.write(THIRD_ROLES);
    const third = cluster.revision();
    const round2 = await Promise.all([b.running.reload('file'), a.running.reload('file')]);
    expect(round2.every((s) => s.ok && s.revision === third)).toBe(true);
    const changes2 = await configChanges(a, third);
    // The 120 members of LS-Managers become Reviewers, once each (LS-Reviewers members stay Managers).
    expect(changes2).toHaveLength(120);
    expect(new Set(changes2.map((r) => r['subject_user_id'])).size).toBe(120);
    expect(changes2.every((r) => r['before'] === 'MA' && r['after'] === 'RE')).toBe(true);
    expect(await a.running.db('audit_events').where({ action: 'config_applied', config_revision: third })).toHaveLength(1);
    expect(await roleOf(a.running.db, 'manager119@acme.example')).toBe('RE');
    expect(await roleOf(b.running.db, 'reviewer0@acme.example')).toBe('MA');
    expect(await healthRevision(a)).toBe(third);
    expect(await healthRevision(b)).toBe(third);

    // A reload with nothing new changes nothing anywhere.
    const audits = (await a.running.db('audit_events').count({ n: '*' })) as { n: number | string }[];
    expect((await Promise.all([a.running.reload('SIGHUP'), b.running.reload('SIGHUP')])).map((s) => s.message)).toEqual(['configuration unchanged', 'configuration unchanged']);
    expect(await a.running.db('audit_events').count({ n: '*' })).toEqual(audits);
  });

  it('the configuration lock admits one holder at a time across the two instances', async () => {
    cluster = await startCluster(kind);
    const { a, b } = cluster;
    const events: string[] = [];
    const hold = (name: string, db: typeof a.running.db) =>
      withConfigLock(db, async () => {
        events.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 150));
        events.push(`${name}-`);
      });
    await Promise.all([hold('a', a.running.db), hold('b', b.running.db), hold('a2', a.running.db), hold('b2', b.running.db)]);
    // Entries and exits strictly alternate: nobody entered while another held the lock.
    expect(events).toHaveLength(8);
    for (let i = 0; i < events.length; i += 2) expect(events[i + 1]).toBe(events[i]?.replace('+', '-'));
    // A waiter that cannot get the lock in time gives up with a clear error; the lock is free afterwards.
    let release: () => void = () => undefined;
    const held = withConfigLock(a.running.db, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 100));
    await expect(withConfigLock(b.running.db, async () => 'never', { waitMs: 300 })).rejects.toThrow(/configuration lock was not free after/);
    release();
    await held;
    expect(await withConfigLock(b.running.db, async () => 'free')).toBe('free');
  });
}

describe.skipIf(TEST_DATABASE !== 'postgres')('two instances sharing one PostgreSQL: a config reload on both (PostgreSQL pass only: ROLEGATE_TEST_DATABASE=postgres)', () => {
  scenario('postgres');
});

describe.skipIf(TEST_DATABASE !== 'sqlite')('two instances sharing one SQLite file: a config reload on both (SQLite pass; the PostgreSQL pass runs the scenario above)', () => {
  scenario('sqlite');
});
