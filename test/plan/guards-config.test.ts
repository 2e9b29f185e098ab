import { afterAll, describe, expect, it } from 'vitest';
import { BASE, check, cleanup, issuesOf, locate } from '../configuration/helpers.js';

afterAll(cleanup);

const withGuards = (top: string, org = ''): string => {
  const text = top === '' ? BASE : BASE.replace('organizations:\n', `guards:\n${top}organizations:\n`);
  return org === '' ? text : `${text}    guards:\n${org}`;
};

describe('guards configuration', () => {
  it('defaults: 20 %, 50 members, no group-age limit', () => {
    const { result } = check(BASE);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.guards).toEqual({ maxDemotionPercent: 20, maxDemotions: 50, maxGroupAgeDays: null });
    expect(result.config.organizations[0]?.guards).toEqual({ maxDemotionPercent: 20, maxDemotions: 50, maxGroupAgeDays: null });
  });

  it('top level sets them for every organization; an organization overrides key by key', () => {
    const { result } = check(withGuards('  max_demotion_percent: 5\n  max_group_age_days: 30\n', '      max_demotions: 10\n'));
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.guards).toEqual({ maxDemotionPercent: 5, maxDemotions: 50, maxGroupAgeDays: 30 });
    expect(result.config.organizations[0]?.guards).toEqual({ maxDemotionPercent: 5, maxDemotions: 10, maxGroupAgeDays: 30 });
  });

  it('an organization lifts an inherited group-age limit with null', () => {
    const { result } = check(withGuards('  max_group_age_days: 30\n', '      max_group_age_days: null\n'));
    expect(result.ok && result.config.organizations[0]?.guards?.maxGroupAgeDays).toBeNull();
  });

  const rejections: { name: string; code: string; yaml: string; path: string; at: [string, string]; message: string }[] = [
    {
      name: 'a percentage above 100',
      code: 'ERR_CONFIG_VALUE',
      yaml: withGuards('  max_demotion_percent: 120\n'),
      path: 'guards.max_demotion_percent',
      at: ['max_demotion_percent: 120', '120'],
      message: 'expected an integer percentage from 0 to 100, got 120',
    },
    {
      name: 'a negative count',
      code: 'ERR_CONFIG_VALUE',
      yaml: withGuards('', '      max_demotions: -1\n'),
      path: 'organizations[0].guards.max_demotions',
      at: ['max_demotions: -1', '-1'],
      message: 'expected a whole number of members, 0 or more, got -1',
    },
    {
      name: 'a fractional age',
      code: 'ERR_CONFIG_VALUE',
      yaml: withGuards('  max_group_age_days: 1.5\n'),
      path: 'guards.max_group_age_days',
      at: ['max_group_age_days: 1.5', '1.5'],
      message: 'expected a whole number of days from 1 to 36500, or null for no limit, got 1.5',
    },
    {
      name: 'a misspelt key, with the nearest one suggested',
      code: 'ERR_CONFIG_UNKNOWN_KEY',
      yaml: withGuards('  max_demotion: 3\n'),
      path: 'guards.max_demotion',
      at: ['max_demotion: 3', 'max_demotion'],
      message: 'unknown key "max_demotion"; did you mean "max_demotions"? (allowed here: max_demotion_percent, max_demotions, max_group_age_days)',
    },
    {
      name: 'guards that are not a map',
      code: 'ERR_CONFIG_TYPE',
      yaml: BASE.replace('organizations:\n', 'guards: strict\norganizations:\n'),
      path: 'guards',
      at: ['guards: strict', 'strict'],
      message: 'expected the guards (max_demotion_percent, max_demotions, max_group_age_days) (a map), got "strict"',
    },
  ];
  for (const c of rejections) {
    it(`rejects ${c.name} at file:line:col with its path`, () => {
      const { file, result } = check(c.yaml);
      const issues = issuesOf(result);
      expect(issues).toHaveLength(1);
      expect(issues[0]).toEqual({ code: c.code, file, ...locate(c.yaml, c.at[0], c.at[1]), path: c.path, message: c.message });
    });
  }
});
