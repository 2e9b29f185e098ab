/** `organizations[].scim`: off by default, `enabled` a strict boolean, no other key; positioned messages. */
import { afterAll, describe, expect, it } from 'vitest';
import { BASE, check, cleanup, edit, issuesOf, locate } from '../configuration/helpers.js';

afterAll(cleanup);

const withScim = (block: string): string => edit(BASE, ['    roles:\n      LS-Admins', `${block}    roles:\n      LS-Admins`]);

describe('organizations[].scim', () => {
  it('is off when absent, and on with enabled: true', () => {
    const off = check(BASE).result;
    expect(off.ok && off.config.organizations[0]?.scim).toEqual({ enabled: false });
    const on = check(withScim('    scim:\n      enabled: true\n')).result;
    expect(on.ok && on.config.organizations[0]?.scim).toEqual({ enabled: true });
    const empty = check(withScim('    scim:\n')).result;
    expect(empty.ok && empty.config.organizations[0]?.scim).toEqual({ enabled: false });
  });

  it('refuses a non-boolean enabled and an unknown key, at their position', () => {
    const yes = withScim('    scim:\n      enabled: yes\n');
    const [issue] = issuesOf(check(yes).result);
    expect(issue).toMatchObject({ code: 'ERR_CONFIG_TYPE', path: 'organizations[0].scim.enabled', ...locate(yes, 'enabled: yes', 'yes') });
    const typo = withScim('    scim:\n      enable: true\n');
    const [unknown] = issuesOf(check(typo).result);
    expect(unknown).toMatchObject({ code: 'ERR_CONFIG_UNKNOWN_KEY', path: 'organizations[0].scim.enable', line: locate(typo, 'enable: true').line });
    const list = withScim('    scim: [true]\n');
    expect(issuesOf(check(list).result)[0]).toMatchObject({ code: 'ERR_CONFIG_TYPE', path: 'organizations[0].scim' });
  });
});
