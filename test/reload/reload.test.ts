import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { checkConfig, loadConfig } from '../../src/configuration/index.js';
import type { Config } from '../../src/configuration/types.js';
import { formatConfigIssue } from '../../src/errors.js';
import { NO_TRANSFER, decideAccess } from '../../src/mapping/index.js';
import { loadMembersWithGroups } from '../../src/db/memberships.js';
import { ROLES, cleanupDirs, populate } from '../plan/support.js';
import { OPERATOR_TOKEN, startReloadApp, type ReloadApp } from './support.js';

afterAll(cleanupDirs);

const LENIENT = '  max_demotion_percent: 100\n  max_demotions: 100000\n';
const NO_REVIEWERS = ROLES.replace('      LS-Reviewers: Reviewer\n', '');

let app: ReloadApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function role(a: ReloadApp, email: string): Promise<string | undefined> {
  const row = (await a.db('memberships').join('users', 'users.id', 'memberships.user_id').where('users.email', email).first('memberships.role')) as { role: string } | undefined;
  return row?.role;
}

async function until(what: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('reload in the running service', () => {
  it('an invalid file is refused with the check-config messages; the old configuration keeps serving; public /healthz says only ok, /healthz/details (metrics token) says why', async () => {
    app = await startReloadApp();
    const a = app;
    const started = a.config.revision;
    a.write({ roles: ROLES.replace('LS-Admins: Administrator', 'LS-Admins: Admin') });
    const expected = checkConfig(a.file, { env: { ...process.env, NODE_ENV: 'test' } });
    expect(expected.ok).toBe(false);
    const status = await a.running.reload('SIGHUP');
    expect(status.ok).toBe(false);
    expect(status.errors).toEqual(expected.ok ? [] : expected.issues.map(formatConfigIssue));
    expect(status.errors[0]).toMatch(/rolegate\.yaml:\d+:\d+ organizations\[0\]\.roles\.LS-Admins: /);
    // The public /healthz says ok and nothing else: no file path, key names, line numbers, titles or revision.
    const pub = await a.browser().get('/healthz', { accept: 'application/json' });
    expect([pub.status, pub.json()]).toEqual([200, { status: 'ok' }]);
    for (const leak of [a.file, 'LS-Admins', 'rolegate.yaml', started, 'Acme']) expect(pub.text).not.toContain(leak);
    // The operator reads the details with the metrics token.
    const health = await a.health();
    expect(health.config_revision).toBe(started);
    expect(health.config.last_reload).toMatchObject({ ok: false, errors: status.errors });
    expect(health.config.last_reload?.message).toContain('still running on revision');
    expect(a.logs.some((l) => l['level'] === 'error' && String(l['msg']).startsWith('config reload refused'))).toBe(true);
    // The details need the operator's token; /metrics counts the refusal.
    const anonymous = await a.browser().get('/healthz/details', { accept: 'application/json' });
    expect([anonymous.status, anonymous.json<{ error: string }>().error]).toEqual([401, 'ERR_UNAUTHENTICATED']);
    const wrong = await a.browser().get('/healthz/details', { accept: 'application/json', authorization: 'Bearer not-the-operator-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('LS-Admins');
    const metrics = await a.browser().get('/metrics', { authorization: `Bearer ${OPERATOR_TOKEN}` });
    expect(metrics.text).toMatch(/^rolegate_config_reloads_total\{outcome="refused"\} [1-9]/m);
    // Still serving on the old mapping.
    const b = a.browser();
    expect((await a.signInDirect(b, { email: 'ada@acme.example', groups: ['LS-Admins'] })).status).toBe(302);
    expect(await role(a, 'ada@acme.example')).toBe('AD');
    expect(await a.db('audit_events').where({ action: 'config_reload', outcome: 'refused' })).toHaveLength(1);
  });

  it('a reload that would demote too many is refused; nothing changes', async () => {
    app = await startReloadApp();
    const a = app;
    for (const email of ['r1@acme.example', 'r2@acme.example']) await a.signInDirect(a.browser(), { email, groups: ['LS-Reviewers'] });
    await a.signInDirect(a.browser(), { email: 'ada@acme.example', groups: ['LS-Admins'] });
    a.write({ roles: NO_REVIEWERS });
    const status = await a.running.reload('SIGHUP');
    expect(status.ok).toBe(false);
    expect(status.errors[0]).toContain('2 demotion(s) or deactivation(s) of 3 active member(s)');
    expect(await role(a, 'r1@acme.example')).toBe('RE');
    expect((await a.health()).config_revision).toBe(a.config.revision);
  });

  it('a valid reload applies at once: the deactivated member’s session ends (401), the revision is recorded and served', async () => {
    app = await startReloadApp({ guards: LENIENT });
    const a = app;
    const reviewer = a.browser();
    await a.signInDirect(reviewer, { email: 'rita@acme.example', groups: ['LS-Reviewers'] });
    await a.signInDirect(a.browser(), { email: 'ada@acme.example', groups: ['LS-Admins'] });
    expect((await reviewer.whoami()).status).toBe(200);
    a.write({ roles: NO_REVIEWERS, guards: LENIENT });
    const status = await a.running.reload('SIGHUP');
    expect(status).toMatchObject({ ok: true, errors: [] });
    expect(await role(a, 'rita@acme.example')).toBe('DI');
    expect((await reviewer.whoami()).status).toBe(401);
    const health = await a.health();
    expect(health.config_revision).toBe(status.revision);
    expect(health.config.last_reload).toMatchObject({ ok: true });
    const revisions = (await a.db('config_revisions').orderBy('id')) as Record<string, unknown>[];
    expect(revisions.map((r) => r['applied_by'])).toEqual(['serve', 'reload:SIGHUP']);
    const audit = (await a.db('audit_events').where({ action: 'role_change', actor: 'config' })) as Record<string, unknown>[];
    expect(audit).toEqual([expect.objectContaining({ subject_email: 'rita@acme.example', before: 'RE', after: 'DI', config_revision: status.revision })]);
    // New logins follow the new mapping.
    await a.signInDirect(a.browser(), { email: 'rob@acme.example', groups: ['LS-Reviewers'] });
    expect(await role(a, 'rob@acme.example')).toBe('NO');
  });

  it('a reload that adds forward_auth is refused as needing a restart (its routes and keys are set up at start), and the routes stay off', async () => {
    app = await startReloadApp();
    const a = app;
    const started = a.config.revision;
    const section = 'forward_auth:\n  trusted_proxies: [127.0.0.1]\n  upstreams:\n    - origin: http://127.0.0.1:1\n      organization: 1\n      rules:\n        - path: /\n          min_role: Annotator\n';
    const status = await a.reconfigure((text) => `${text}${section}`);
    expect(status.ok).toBe(false);
    expect(status.errors).toEqual(['forward_auth (added): changing it needs a restart']);
    expect((await a.health()).config_revision).toBe(started);
    const check = await a.browser().get('/auth/nginx', { 'x-original-url': 'http://127.0.0.1:1/', 'x-original-method': 'GET' });
    expect(check.status).toBe(404);
    expect(await a.db('audit_events').where({ action: 'config_reload', outcome: 'refused' })).toHaveLength(1);
  });

  it('SIGHUP and a file change both trigger a reload', async () => {
    app = await startReloadApp({ guards: LENIENT }, { signals: true, watch: true, debounceMs: 50 });
    const a = app;
    a.write({ roles: ROLES.replace('LS-Managers: Manager', 'LS-Managers: Reviewer'), guards: LENIENT });
    const next = loadConfig(a.file, { env: { ...process.env, NODE_ENV: 'test' } }).revision;
    await until(async () => (await a.health()).config_revision === next);
    a.write({ roles: ROLES, guards: `${LENIENT}  max_group_age_days: 90\n` });
    const third = loadConfig(a.file, { env: { ...process.env, NODE_ENV: 'test' } }).revision;
    process.emit('SIGHUP');
    await until(async () => (await a.health()).config_revision === third);
  });

  it('a reload racing with logins leaves every member in a state the old or the new configuration produces', async () => {
    app = await startReloadApp({ guards: LENIENT });
    const a = app;
    // Enough members for several apply batches, all holding what the old mapping gives them.
    await populate(a.db, [
      { count: 2400, prefix: 'bulk-reviewer', groups: ['LS-Reviewers', 'LS-AllProjects'], role: 'RE', projects: [{ projectId: 42, role: 'RE' }] },
      { count: 600, prefix: 'bulk-annotator', groups: ['LS-Annotators'], role: 'AN' },
      { count: 1, prefix: 'owner', groups: [], role: 'OW', roleSource: 'manual' },
    ]);
    const old = a.config;
    const parts = { roles: ROLES.replace('LS-Reviewers: Reviewer', 'LS-Reviewers: Manager').replace('      LS-Annotators: Annotator\n', ''), guards: LENIENT };
    const choices = [['LS-Reviewers', 'LS-AllProjects'], ['LS-Annotators'], ['LS-Annotators', 'LS-Project42-Annotators'], ['LS-Managers'], []];
    // Members spread over the whole id range, so their logins meet apply batches before and after theirs.
    const queue = Array.from({ length: 120 }, (_, i) => ({
      email: i % 2 === 0 ? `bulk-reviewer${i * 19}@acme.example` : `bulk-annotator${i * 5}@acme.example`,
      groups: choices[i % choices.length] ?? [],
    }));
    a.write(parts);
    const statuses: number[] = [];
    let reload: ReturnType<typeof a.running.reload> | undefined;
    // Four browsers signing in continuously; the reload starts once logins are flowing.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let who = queue.shift(); who !== undefined; who = queue.shift()) {
          statuses.push((await a.signInDirect(a.browser(), who)).status);
          if (statuses.length === 8) reload = a.running.reload('file');
        }
      }),
    );
    expect((await reload)?.ok).toBe(true);
    expect(statuses.every((s) => s === 302 || s === 403)).toBe(true);
    const next: Config = a.running.state.current();
    expect(next.revision).not.toBe(old.revision);

    const orgOld = old.organizations[0];
    const orgNew = next.organizations[0];
    if (orgOld === undefined || orgNew === undefined) throw new Error('no organization');
    const members = await loadMembersWithGroups(a.db, 1);
    expect(members.length).toBe(3001);
    const consistent = (org: typeof orgOld, m: (typeof members)[number]): boolean => {
      const d = decideAccess(org, { email: m.email, groups: m.groups, current: { role: m.role, roleSource: m.roleSource }, currentProjects: m.projects, ownership: NO_TRANSFER });
      if (d.org.role !== m.role || d.org.roleSource !== m.roleSource) return false;
      return d.projects.every((p) => {
        const held = m.projects.find((h) => h.projectId === p.projectId);
        return p.role === null ? held === undefined : held?.role === p.role && held.roleSource === p.roleSource;
      });
    };
    const broken = members.filter((m) => !consistent(orgOld, m) && !consistent(orgNew, m));
    expect(broken.map((m) => `${m.email} ${m.role} ${JSON.stringify(m.groups)}`)).toEqual([]);
    // And the reload did its job for everyone who did not log in meanwhile.
    expect(await role(a, 'bulk-reviewer1@acme.example')).toBe('MA');
    expect(await role(a, 'bulk-annotator1@acme.example')).toBe('DI');
  }, 90_000); // 3,000 members applied in batches while logins run: about 25 s on a busy shared PostgreSQL
});
