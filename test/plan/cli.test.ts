import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { openDatabase } from '../../src/db/connect.js';
import { ROLES, cleanupDirs, count, openDb, populate, roleOf, tempDir, writeConfig } from './support.js';

afterAll(cleanupDirs);

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: { ...process.env, NODE_ENV: 'test' } }, out, err };
}

describe('rolegate plan / apply', () => {
  it('plan prints the diff and writes nothing; --json and --stale; apply is refused past the guard (exit 3) and applies with --force', async () => {
    const dir = tempDir();
    const base = writeConfig(dir);
    const db = await openDb(base);
    await populate(db, [
      { count: 10, prefix: 'reviewer', groups: ['LS-Reviewers'], role: 'RE' },
      { count: 5, prefix: 'old', groups: ['LS-Reviewers'], role: 'RE', ageDays: 100 },
      { count: 1, prefix: 'owner', groups: [], role: 'OW', roleSource: 'manual' },
    ]);
    await db.destroy();
    const next = writeConfig(dir, { roles: ROLES.replace('      LS-Reviewers: Reviewer\n', ''), orgGuards: '      max_group_age_days: 30\n' }, 'next.yaml');

    let t = io();
    expect(await runCli(['plan', '--config', next.file], t.io)).toBe(0);
    const text = t.out.join('');
    expect(text).toContain('Organization 1 (Acme Labs): 16 member(s), 16 active');
    expect(text).toContain('deactivated (10)');
    expect(text).toContain('5 stale');
    expect(text).not.toContain('old0@acme.example: groups asserted');

    t = io();
    expect(await runCli(['plan', '--config', next.file, '--stale', '--limit', '0'], t.io)).toBe(0);
    expect(t.out.join("")).toMatch(/old0@acme\.example: groups asserted \S+ \(\d+ days ago\)/);

    t = io();
    expect(await runCli(['plan', '--config', next.file, '--json'], t.io)).toBe(0);
    const plan = JSON.parse(t.out.join('')) as { refused: boolean; organizations: { counts: { deactivated: number }; stale: unknown[] }[] };
    expect(plan.refused).toBe(true);
    expect(plan.organizations[0]?.counts.deactivated).toBe(10);
    expect(plan.organizations[0]?.stale).toHaveLength(5);

    t = io();
    expect(await runCli(['apply', '--config', next.file], t.io)).toBe(3);
    expect(t.err.join('')).toContain('Nothing applied');
    let check = await openDatabase(next.database);
    expect(await roleOf(check, 'reviewer0@acme.example')).toBe('RE');
    await check.destroy();

    t = io();
    expect(await runCli(['apply', '--config', next.file, '--force'], t.io)).toBe(0);
    expect(t.out.join('')).toMatch(/Applied revision [0-9a-f]{12} \(forced past the mass-demotion guard\)/);
    expect(t.out.join('')).toContain('10 deactivated');
    check = await openDatabase(next.database);
    expect(await roleOf(check, 'reviewer0@acme.example')).toBe('DI');
    expect(await roleOf(check, 'old0@acme.example')).toBe('RE');
    expect(await count(check, 'config_revisions', { hash: next.revision, applied_by: 'apply' })).toBe(1);
    await check.destroy();

    // Rollback preview: the older file would reactivate them.
    t = io();
    expect(await runCli(['plan', '--config', base.file], t.io)).toBe(0);
    expect(t.out.join('')).toContain('activated (10)');
  });

  it('an invalid file exits 2 with the check-config messages; unknown flags exit 64', async () => {
    const dir = tempDir();
    const good = writeConfig(dir);
    const bad = good.file.replace('rolegate.yaml', 'bad.yaml');
    const fs = await import('node:fs');
    fs.writeFileSync(bad, fs.readFileSync(good.file, 'utf8').replace('LS-Admins: Administrator', 'LS-Admins: Admin'));
    let t = io();
    expect(await runCli(['plan', '--config', bad], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/bad\.yaml:\d+:\d+ organizations\[0\]\.roles\.LS-Admins: /);
    t = io();
    expect(await runCli(['plan', '--force'], t.io)).toBe(64);
    t = io();
    expect(await runCli(['--help'], t.io)).toBe(0);
    expect(t.out.join('')).toContain('plan [--config FILE]');
  });
});
