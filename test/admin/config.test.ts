import { afterAll, describe, expect, it } from 'vitest';
import { BASE, check, cleanup, edit, issuesOf, locate } from '../configuration/helpers.js';

afterAll(cleanup);

describe('organizations[].role_management', () => {
  it('defaults to idp', () => {
    const { result } = check(BASE);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.config.organizations[0]?.roleManagement).toBe('idp');
  });

  it('accepts manual', () => {
    const { result } = check(edit(BASE, ['    owner: owner@acme.example\n', '    owner: owner@acme.example\n    role_management: manual\n']));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.config.organizations[0]?.roleManagement).toBe('manual');
  });

  it('rejects anything else with file:line:col, path and the choices', () => {
    const yaml = edit(BASE, ['    owner: owner@acme.example\n', '    owner: owner@acme.example\n    role_management: manul\n']);
    const { file, result } = check(yaml);
    const issues = issuesOf(result);
    expect(issues).toHaveLength(1);
    const at = locate(yaml, 'role_management: manul', 'manul');
    expect(issues[0]).toMatchObject({ file, line: at.line, col: at.col, path: 'organizations[0].role_management' });
    expect(issues[0]?.message).toContain('"idp"');
    expect(issues[0]?.message).toContain('"manual"');
  });
});
