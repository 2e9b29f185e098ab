import { describe, expect, it } from 'vitest';
import { defaultPersonas, groupKey } from '../../src/configuration/index.js';
import { expandEnv } from '../../src/configuration/expand.js';
import { parseOrgRoleName, parseProjectRoleName } from '../../src/configuration/role-names.js';
import { suggest } from '../../src/configuration/suggest.js';

describe('expandEnv', () => {
  it.each([
    ['${A}', { A: 'a' }, 'a', [], []],
    ['${A}', { A: '' }, '', [], []],
    ['${A}', {}, '', ['A'], []],
    ['x${A:-d}y', {}, 'xdy', [], []],
    ['x${A:-d}y', { A: '' }, 'xdy', [], []],
    ['x${A:-d}y', { A: 'a' }, 'xay', [], []],
    ['${A:-}', {}, '', [], []],
    ['${A:-a:-b}', {}, 'a:-b', [], []],
    ['$$', {}, '$$', [], []],
    ['$${A}', { A: 'a' }, '$${A}', [], []],
    ['$A $', { A: 'a' }, '$A $', [], []],
    ['${A}${B}', {}, '', ['A', 'B'], []],
    ['${1A}', {}, '', [], ['${1A}']],
    ['${A-x}', {}, '', [], ['${A-x}']],
    ['${A:-${B}}', {}, '', ['B'], []],
    ['${A:-${B}}', { A: 'a' }, 'a', [], []],
    ['${A:-${B}}', { B: 'b' }, 'b', [], []],
    ['${U:-http://localhost:${RP:-${P:-8080}}}', {}, 'http://localhost:8080', [], []],
    ['${U:-http://localhost:${RP:-${P:-8080}}}', { P: '19300' }, 'http://localhost:19300', [], []],
    ['${U:-http://localhost:${RP:-${P:-8080}}}', { P: '19300', RP: '19400' }, 'http://localhost:19400', [], []],
    ['${U:-http://localhost:${RP:-${P:-8080}}}', { U: 'https://sso.example', P: '1' }, 'https://sso.example', [], []],
    ['${A:-${1B}}', { A: 'a' }, 'a', [], ['${1B}']],
    ['${A:-${B}', {}, '', [], ['${A:-${B}']],
    ['${A', {}, '', [], ['${A']],
  ] as const)('%s with %o → %s', (text, env, value, unset, malformed) => {
    expect(expandEnv(text, env)).toEqual({ value, unset, malformed });
  });
});

describe('suggest', () => {
  it.each([
    ['Adminstrator', ['Administrator', 'Manager'], 'Administrator'],
    ['administrator', ['Administrator', 'Manager'], 'Administrator'],
    ['Admin', ['Administrator', 'Manager'], 'Administrator'],
    ['publicUrl', ['public_url', 'host'], 'public_url'],
    ['Superuser', ['Administrator', 'Manager'], undefined],
    ['x', ['ab', 'cd'], undefined],
  ] as const)('%s → %s', (input, candidates, expected) => {
    expect(suggest(input, candidates)).toBe(expected);
  });
});

describe('role names', () => {
  it('map the four mappable organization roles to codes', () => {
    expect(['Administrator', 'Manager', 'Reviewer', 'Annotator'].map((n) => parseOrgRoleName(n, 'o'))).toEqual([
      { ok: true, role: 'AD' },
      { ok: true, role: 'MA' },
      { ok: true, role: 'RE' },
      { ok: true, role: 'AN' },
    ]);
  });

  it('map the project roles to codes', () => {
    expect(['Reviewer', 'Annotator', 'Inherit'].map((n) => parseProjectRoleName(n))).toEqual([
      { ok: true, role: 'RE' },
      { ok: true, role: 'AN' },
      { ok: true, role: 'INHERIT' },
    ]);
  });

  it.each([
    ['OW', 'Owner is set by organizations[3].owner'],
    ['owner', 'Owner is set by organizations[3].owner'],
    ['DI', 'is a state, not a role'],
    ['not activated', 'is a state, not a role'],
    ['RE', 'did you mean "Reviewer"?'],
    ['toString', 'unknown role "toString"'],
    ['__proto__', 'unknown role "__proto__"'],
  ])('refuse %s as an organization role', (name, message) => {
    const parsed = parseOrgRoleName(name, 'organizations[3].owner');
    expect(parsed.ok === false && parsed.message).toContain(message);
  });

  it.each([
    ['Administrator', 'project roles are Reviewer, Annotator or Inherit'],
    ['MA', 'project roles are Reviewer, Annotator or Inherit'],
    ['Deactivated', 'is a state, not a role'],
    ['inherit', 'did you mean "Inherit"?'],
    ['AN', 'did you mean "Annotator"?'],
    ['constructor', 'unknown role "constructor"'],
  ])('refuse %s as a project role', (name, message) => {
    const parsed = parseProjectRoleName(name);
    expect(parsed.ok === false && parsed.message).toContain(message);
  });
});

describe('defaultPersonas', () => {
  it('covers every mapping case on the owner’s domain', () => {
    const personas = defaultPersonas({ owner: 'Boss@Beta.Example' });
    expect(personas.map((p) => [p.email, p.groups])).toEqual([
      ['boss@beta.example', []],
      ['admin@beta.example', ['LS-Admins', 'LS-AllProjects']],
      ['manager@beta.example', ['LS-Managers']],
      ['reviewer@beta.example', ['LS-Reviewers', 'LS-Project42-Reviewers']],
      ['annotator@beta.example', ['LS-Annotators', 'LS-Project42-Annotators']],
      ['pending@beta.example', ['Staff']],
      ['former@beta.example', []],
      ['entra-overage@beta.example', null],
    ]);
  });
});

describe('groupKey', () => {
  it('folds case only under case-insensitive matching', () => {
    expect(groupKey('LS-Admins', 'exact')).toBe('LS-Admins');
    expect(groupKey('LS-Admins', 'case-insensitive')).toBe('ls-admins');
  });
});
