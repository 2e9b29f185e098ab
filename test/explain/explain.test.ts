import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import type { Config } from '../../src/configuration/types.js';
import type { Db } from '../../src/db/connect.js';
import { explainGroups, explainMember, renderExplain, type ExplainTrace, type RuleTrace } from '../../src/explain/explain.js';
import { NOW, cleanupDirs, openDb, populate, tempDir, writeConfig } from '../plan/support.js';

afterAll(cleanupDirs);

const marks = (rules: readonly RuleTrace[]): Record<string, string> =>
  Object.fromEntries(rules.map((r) => [r.group, r.decisive ? 'decisive' : r.matched ? 'matched' : 'no']));

function project(t: ExplainTrace, id: number): ExplainTrace['decision']['projects'][number] {
  const p = t.decision.projects.find((x) => x.projectId === id);
  if (p === undefined) throw new Error(`no project ${id}`);
  return p;
}

let config: Config;
beforeAll(() => {
  config = writeConfig(tempDir());
});

describe('explain a hypothetical member (no database)', () => {
  it('organization rule: the highest mapped role is decisive, other matches are listed, the rest did not match', () => {
    const t = explainGroups(config, 1, ['LS-Annotators', 'LS-Managers', 'Staff']);
    expect(t.decision.org).toMatchObject({ role: 'MA', roleSource: 'saml', reason: { kind: 'mapped' } });
    expect(marks(t.organizationRules)).toEqual({ 'LS-Admins': 'no', 'LS-Managers': 'decisive', 'LS-Reviewers': 'no', 'LS-Annotators': 'matched' });
    expect(t.organizationRules.find((r) => r.group === 'LS-Managers')).toMatchObject({ role: 'Manager', source: { path: 'organizations[0].roles.LS-Managers' } });
    expect(t.member.hypothetical).toBe(true);
    expect(t.changes).toEqual([{ scope: 'organization', projectId: null, from: null, to: 'MA', fromSource: null, toSource: 'saml' }]);
  });

  it('project rule Inherit: the organization role applies in the project', () => {
    const t = explainGroups(config, 1, ['LS-Reviewers', 'LS-AllProjects']);
    expect(project(t, 42)).toMatchObject({ role: 'RE', reason: { kind: 'mapped' } });
    expect(marks(project(t, 42).rules)).toEqual({ 'LS-Project42-Reviewers': 'no', 'LS-Project42-Annotators': 'no', 'LS-AllProjects': 'decisive' });
    expect(project(t, 43)).toMatchObject({ role: null, reason: { kind: 'project_no_mapped_group' } });
  });

  it("project rule: the project's own higher role beats Inherit", () => {
    const t = explainGroups(config, 1, ['LS-Annotators', 'LS-AllProjects', 'LS-Project42-Reviewers']);
    expect(project(t, 42).role).toBe('RE');
    expect(marks(project(t, 42).rules)).toEqual({ 'LS-Project42-Reviewers': 'decisive', 'LS-Project42-Annotators': 'no', 'LS-AllProjects': 'matched' });
  });

  it('the owner is Owner by the owner line; matching rules are shown but not decisive', () => {
    const t = explainGroups(config, 1, ['LS-Annotators'], 'Owner@Acme.example');
    expect(t.decision.org).toMatchObject({ role: 'OW', roleSource: 'manual', reason: { kind: 'owner' } });
    expect(marks(t.organizationRules)['LS-Annotators']).toBe('matched');
  });

  it('no mapped group: a new member is Not Activated and has no project access', () => {
    const t = explainGroups(config, 1, ['Staff', 'LS-AllProjects']);
    expect(t.decision.org).toMatchObject({ role: 'NO', reason: { kind: 'new_without_mapped_group' } });
    expect(project(t, 42)).toMatchObject({ role: null, reason: { kind: 'inactive_member' } });
    expect(marks(project(t, 42).rules)['LS-AllProjects']).toBe('matched');
  });

  it('case-insensitive matching reports the spelling the IdP used', () => {
    const ci = writeConfig(tempDir(), { sso: '      group_match: case-insensitive\n' });
    const t = explainGroups(ci, 1, ['ls-admins']);
    expect(t.decision.org.role).toBe('AD');
    expect(t.organizationRules.find((r) => r.group === 'LS-Admins')).toMatchObject({ matched: true, decisive: true, asserted: 'ls-admins' });
    expect(renderExplain(t)).toContain('[asserted as "ls-admins"]');
  });

  it('renders a readable trace', () => {
    const text = renderExplain(explainGroups(config, 1, ['LS-Admins', 'LS-Project42-Reviewers']));
    expect(text).toContain('Hypothetical member (no database)');
    expect(text).toMatch(/✔ decisive {2}LS-Admins → Administrator {2}\(line \d+, organizations\[0\]\.roles\.LS-Admins\)/);
    expect(text).toContain('✘ no match  LS-Managers → Manager');
    expect(text).toContain('→ Administrator (source saml): highest mapped role among: LS-Admins → AD');
    expect(text).toContain('Project 42 (Radiology):');
    expect(text).toContain('organization: (none) → Administrator');
  });

  it('an unknown organization is ERR_NOT_FOUND', () => {
    expect(() => explainGroups(config, 9, [])).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }));
  });
});

describe('explain a stored member', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDb(config);
    await populate(db, [
      { count: 1, prefix: 'drift', groups: ['LS-Managers'], role: 'AN' },
      { count: 1, prefix: 'unknown', groups: null, role: 'RE' },
      { count: 1, prefix: 'manual', groups: ['Staff'], role: 'MA', roleSource: 'manual' },
      { count: 1, prefix: 'steady', groups: ['LS-Reviewers', 'LS-Project42-Reviewers'], role: 'RE', projects: [{ projectId: 42, role: 'RE' }] },
    ]);
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('shows the groups last asserted and when, the stored role, and what a login now would change', async () => {
    const t = await explainMember(db, config, 1, 'Drift0@acme.example', NOW);
    expect(t.groups).toMatchObject({ lastAsserted: ['LS-Managers'], assertedAt: '2026-11-30T12:00:00.000Z', stale: false });
    expect(t.stored).toMatchObject({ role: 'AN', roleSource: 'saml' });
    expect(t.changes).toEqual([{ scope: 'organization', projectId: null, from: 'AN', to: 'MA', fromSource: 'saml', toSource: 'saml' }]);
    const text = renderExplain(t);
    expect(text).toContain('Groups last asserted 2026-11-30T12:00:00.000Z');
    expect(text).toContain('organization: Annotator → Manager');
  });

  it('groups never known: nothing would change', async () => {
    const t = await explainMember(db, config, 1, 'unknown0@acme.example', NOW);
    expect(t.decision.org).toMatchObject({ role: 'RE', reason: { kind: 'groups_unknown' } });
    expect(t.changes).toEqual([]);
    expect(renderExplain(t)).toContain('never known');
  });

  it('a manual role is kept where no mapped group applies', async () => {
    const t = await explainMember(db, config, 1, 'manual0@acme.example', NOW);
    expect(t.decision.org).toMatchObject({ role: 'MA', roleSource: 'manual', reason: { kind: 'manual_kept' } });
    expect(t.changes).toEqual([]);
  });

  it('by user id, with project roles and no change', async () => {
    const id = Number(((await db('users').where({ email: 'steady0@acme.example' }).first('id')) as { id: number }).id);
    const t = await explainMember(db, config, 1, id, NOW);
    expect(t.stored?.projects).toEqual([expect.objectContaining({ projectId: 42, role: 'RE' })]);
    expect(t.changes).toEqual([]);
    expect(renderExplain(t)).toContain('no change');
  });

  it('an unknown member is ERR_NOT_FOUND', async () => {
    await expect(explainMember(db, config, 1, 'nobody@acme.example')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('rolegate explain --user and --groups print the trace; --json gives the structure', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: { ...process.env, NODE_ENV: 'test' } };
    expect(await runCli(['explain', '--config', config.file, '--org', '1', '--user', 'drift0@acme.example'], io)).toBe(0);
    expect(out.join('')).toContain('Member drift0@acme.example');
    out.length = 0;
    expect(await runCli(['explain', '--config', config.file, '--org', '1', '--groups', 'LS-Admins,LS-Project42-Reviewers', '--json'], io)).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ member: { hypothetical: true }, decision: { org: { role: 'AD' } } });
    expect(await runCli(['explain', '--config', config.file, '--org', '1', '--user', 'nobody@acme.example'], io)).toBe(4);
    expect(await runCli(['explain', '--config', config.file, '--org', '1'], io)).toBe(64);
    expect(err.join('')).toContain('exactly one of --user');
  });
});
