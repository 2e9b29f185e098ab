import { describe, expect, it } from 'vitest';
import { resolvedOrganizationDefaults } from '../../src/configuration/defaults.js';
import type { OrganizationConfig } from '../../src/configuration/types.js';
import type { MappableOrgRole, ProjectMappingRole } from '../../src/domain/roles.js';
import { NO_TRANSFER, decideAccess } from '../../src/mapping/index.js';
import type { DecisionInput, Held, HeldProject, OwnershipFacts } from '../../src/mapping/index.js';

function org(opts: { roleManagement?: 'idp' | 'manual'; groupMatch?: 'exact' | 'case-insensitive'; roles?: Record<string, MappableOrgRole>; projects?: Record<number, Record<string, ProjectMappingRole>> } = {}): OrganizationConfig {
  const roles = opts.roles ?? { 'LS-Admins': 'AD', 'LS-Managers': 'MA', 'LS-Reviewers': 'RE', 'LS-Annotators': 'AN' };
  const projects = opts.projects ?? { 42: { 'LS-Project42-Reviewers': 'RE', 'LS-Project42-Annotators': 'AN', 'LS-AllProjects': 'INHERIT' } };
  return {
    id: 1,
    title: 'Acme',
    owner: 'owner@acme.example',
    sso: {
      idp: { kind: 'development', personas: [] },
      spEntityId: 'http://sp/saml/1/metadata',
      acsUrl: 'http://sp/saml/1/acs',
      allowIdpInitiated: false,
      attributes: { email: 'Email', firstName: 'FirstName', lastName: 'LastName', groups: 'Groups' },
      groupMatch: opts.groupMatch ?? 'exact',
    },
    roles: Object.entries(roles).map(([group, role], i) => ({ group, role, source: { line: 10 + i, path: `organizations[0].roles.${group}` } })),
    ...resolvedOrganizationDefaults(),
    ...(opts.roleManagement === undefined ? {} : { roleManagement: opts.roleManagement }),
    projects: Object.entries(projects).map(([id, groups]) => ({
      id: Number(id),
      title: `Project ${id}`,
      rules: Object.entries(groups).map(([group, role], i) => ({ group, role, source: { line: 30 + i, path: `organizations[0].projects[0].groups.${group}` } })),
    })),
  };
}

function input(groups: readonly string[] | null, current: Held | null = null, currentProjects: HeldProject[] = [], email = 'alice@acme.example', ownership: OwnershipFacts = NO_TRANSFER): DecisionInput {
  return { email, groups, current, currentProjects, ownership };
}

const TRANSFERRED_TO_THEM: OwnershipFacts = { ownerLineTransferred: true, holdsByTransfer: true };
const OWNER_LINE_GAVE_AWAY: OwnershipFacts = { ownerLineTransferred: true, holdsByTransfer: false };

const saml = (role: Held['role']): Held => ({ role, roleSource: 'saml' });
const manual = (role: Held['role']): Held => ({ role, roleSource: 'manual' });

describe('organization role', () => {
  const cases: { name: string; groups: string[] | null; current: Held | null; email?: string; management?: 'idp' | 'manual'; ownership?: OwnershipFacts; role: string; source: string; kind: string }[] = [
    { name: 'highest mapped role wins', groups: ['LS-Annotators', 'LS-Admins', 'LS-Reviewers'], current: null, role: 'AD', source: 'saml', kind: 'mapped' },
    { name: 'a single mapped group gives its role', groups: ['LS-Reviewers'], current: null, role: 'RE', source: 'saml', kind: 'mapped' },
    { name: 'a new user with no mapped group is Not Activated', groups: ['Staff'], current: null, role: 'NO', source: 'saml', kind: 'new_without_mapped_group' },
    { name: 'a new user with an empty groups attribute is Not Activated', groups: [], current: null, role: 'NO', source: 'saml', kind: 'new_without_mapped_group' },
    { name: 'losing every mapped group deactivates a mapped member', groups: ['Staff'], current: saml('MA'), role: 'DI', source: 'saml', kind: 'no_mapped_group' },
    { name: 'an empty groups attribute is empty: deactivates', groups: [], current: saml('AN'), role: 'DI', source: 'saml', kind: 'no_mapped_group' },
    { name: 'losing one group falls back to the next-highest mapped role', groups: ['LS-Reviewers'], current: saml('AD'), role: 'RE', source: 'saml', kind: 'mapped' },
    { name: 'regaining a mapped group reactivates a Deactivated member', groups: ['LS-Annotators'], current: saml('DI'), role: 'AN', source: 'saml', kind: 'mapped' },
    { name: 'a pending member with no mapped group stays pending', groups: ['Staff'], current: saml('NO'), role: 'NO', source: 'saml', kind: 'still_pending' },
    { name: 'a pending member who gains a mapped group is activated', groups: ['LS-Managers'], current: saml('NO'), role: 'MA', source: 'saml', kind: 'mapped' },
    { name: 'a Deactivated member with no mapped group stays Deactivated', groups: [], current: saml('DI'), role: 'DI', source: 'saml', kind: 'still_deactivated' },
    { name: 'groups unknown: nothing is demoted', groups: null, current: saml('AD'), role: 'AD', source: 'saml', kind: 'groups_unknown' },
    { name: 'groups unknown: a new member is Not Activated', groups: null, current: null, role: 'NO', source: 'saml', kind: 'groups_unknown' },
    { name: 'groups unknown: a manual role is kept', groups: null, current: manual('MA'), role: 'MA', source: 'manual', kind: 'groups_unknown' },
    { name: 'a manual role is kept when no mapped group applies', groups: ['Staff'], current: manual('MA'), role: 'MA', source: 'manual', kind: 'manual_kept' },
    { name: 'a role set through the API (source api) is kept, with its source, when no mapped group applies', groups: ['Staff'], current: { role: 'MA', roleSource: 'api' }, role: 'MA', source: 'api', kind: 'manual_kept' },
    { name: 'role_management manual: a role set through the API sticks even where a mapped group applies', groups: ['LS-Annotators'], current: { role: 'MA', roleSource: 'api' }, management: 'manual', role: 'MA', source: 'api', kind: 'manual_kept' },
    { name: 'a manual Deactivated is kept when no mapped group applies', groups: [], current: manual('DI'), role: 'DI', source: 'manual', kind: 'manual_kept' },
    { name: 'where a mapped group applies the mapping wins over a manual role', groups: ['LS-Annotators'], current: manual('AD'), role: 'AN', source: 'saml', kind: 'mapped' },
    { name: 'the owner is Owner with no groups', groups: [], current: null, email: 'owner@acme.example', role: 'OW', source: 'manual', kind: 'owner' },
    { name: 'the owner stays Owner whatever the groups', groups: ['LS-Annotators'], current: saml('AN'), email: 'owner@acme.example', role: 'OW', source: 'manual', kind: 'owner' },
    { name: 'the owner stays Owner with groups unknown', groups: null, current: null, email: 'owner@acme.example', role: 'OW', source: 'manual', kind: 'owner' },
    { name: 'role_management manual: a role set by hand sticks even where a mapped group applies', groups: ['LS-Annotators'], current: manual('MA'), management: 'manual', role: 'MA', source: 'manual', kind: 'manual_kept' },
    { name: 'role_management manual: a role from the mapping still follows the groups', groups: ['LS-Annotators'], current: saml('MA'), management: 'manual', role: 'AN', source: 'saml', kind: 'mapped' },
    { name: 'an Owner by a recorded ownership transfer stays Owner whatever the groups', groups: ['LS-Annotators'], current: manual('OW'), ownership: TRANSFERRED_TO_THEM, role: 'OW', source: 'manual', kind: 'manual_kept' },
    { name: 'after a recorded transfer the former owner (manual role) is no longer Owner by the owner line', groups: [], current: manual('AD'), email: 'owner@acme.example', ownership: OWNER_LINE_GAVE_AWAY, role: 'AD', source: 'manual', kind: 'manual_kept' },
    { name: 'a role set by hand never pre-empts the owner line (no recorded transfer)', groups: [], current: manual('AN'), email: 'owner@acme.example', role: 'OW', source: 'manual', kind: 'owner' },
    { name: 'a hand-set Deactivated never locks out the configured owner', groups: [], current: manual('DI'), email: 'owner@acme.example', role: 'OW', source: 'manual', kind: 'owner' },
    { name: 'role_management manual: the owner line still wins over a hand-set role', groups: [], current: manual('AN'), email: 'owner@acme.example', management: 'manual', role: 'OW', source: 'manual', kind: 'owner' },
    { name: 'an invited owner (manual Not Activated) becomes Owner by the owner line', groups: [], current: manual('NO'), email: 'owner@acme.example', role: 'OW', source: 'manual', kind: 'owner' },
    { name: 'a former owner (Owner without a recorded transfer, no longer the owner line) with no mapped group is deactivated', groups: [], current: manual('OW'), role: 'DI', source: 'saml', kind: 'no_mapped_group' },
    { name: 'exact matching: case differs → no match', groups: ['ls-admins'], current: null, role: 'NO', source: 'saml', kind: 'new_without_mapped_group' },
    { name: 'exact matching: a prefix or suffix is no match', groups: ['LS-Admins ', 'LS-Admin', 'XLS-Admins'], current: null, role: 'NO', source: 'saml', kind: 'new_without_mapped_group' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decideAccess(org(c.management === undefined ? {} : { roleManagement: c.management }), input(c.groups, c.current, [], c.email, c.ownership));
      expect(d.org.role).toBe(c.role);
      expect(d.org.roleSource).toBe(c.source);
      expect(d.org.reason.kind).toBe(c.kind);
    });
  }

  it('case-insensitive matching matches any case and reports the asserted spelling', () => {
    const d = decideAccess(org({ groupMatch: 'case-insensitive' }), input(['ls-ADMINS']));
    expect(d.org.role).toBe('AD');
    expect(d.org.reason.matches).toEqual([expect.objectContaining({ group: 'LS-Admins', asserted: 'ls-ADMINS', role: 'AD', decisive: true })]);
  });

  it('the reasons name every matched rule, its source line, and the decisive one', () => {
    const d = decideAccess(org(), input(['LS-Annotators', 'LS-Managers', 'Staff']));
    expect(d.org.reason.matches).toEqual([
      { group: 'LS-Annotators', asserted: 'LS-Annotators', role: 'AN', source: { line: 13, path: 'organizations[0].roles.LS-Annotators' }, decisive: false },
      { group: 'LS-Managers', asserted: 'LS-Managers', role: 'MA', source: { line: 11, path: 'organizations[0].roles.LS-Managers' }, decisive: true },
    ]);
  });

  it('two rules for one group (case-insensitive duplicates are refused by config; exact ones are distinct) are both considered', () => {
    const d = decideAccess(org({ roles: { A: 'AN', a: 'AD' } }), input(['a']));
    expect(d.org.role).toBe('AD');
  });

  it('an asserted group listed twice counts once', () => {
    const d = decideAccess(org(), input(['LS-Reviewers', 'LS-Reviewers']));
    expect(d.org.reason.matches).toHaveLength(1);
  });
});

describe('project roles', () => {
  const P = (role: HeldProject['role'], roleSource: HeldProject['roleSource'] = 'saml'): HeldProject => ({ projectId: 42, role, roleSource });
  const cases: { name: string; groups: string[] | null; current?: Held | null; projects?: HeldProject[]; role: string | null; kind: string }[] = [
    { name: 'highest mapped project role', groups: ['LS-Annotators', 'LS-Project42-Annotators', 'LS-Project42-Reviewers'], role: 'RE', kind: 'mapped' },
    { name: 'Inherit takes the organization role', groups: ['LS-Managers', 'LS-AllProjects'], role: 'MA', kind: 'mapped' },
    { name: 'Inherit beats a lower project role', groups: ['LS-Admins', 'LS-AllProjects', 'LS-Project42-Annotators'], role: 'AD', kind: 'mapped' },
    { name: 'a project role above the inherited one wins', groups: ['LS-Annotators', 'LS-AllProjects', 'LS-Project42-Reviewers'], role: 'RE', kind: 'mapped' },
    { name: 'a project role alone needs an active organization role', groups: ['LS-Project42-Reviewers'], role: null, kind: 'inactive_member' },
    { name: 'Deactivated members get no project access', groups: ['LS-Project42-Reviewers'], current: saml('AN'), role: null, kind: 'inactive_member' },
    { name: 'project groups gone: the membership ends', groups: ['LS-Annotators'], projects: [P('RE')], role: null, kind: 'project_no_mapped_group' },
    { name: 'project groups gone: a manual project role is kept', groups: ['LS-Annotators'], projects: [P('RE', 'manual')], role: 'RE', kind: 'project_manual_kept' },
    { name: 'groups unknown: the project role held is kept', groups: null, current: saml('AN'), projects: [P('RE')], role: 'RE', kind: 'groups_unknown' },
    { name: 'groups unknown: no project role is invented', groups: null, current: saml('AN'), role: null, kind: 'groups_unknown' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decideAccess(org(), input(c.groups, c.current ?? null, c.projects ?? []));
      const p = d.projects.find((x) => x.projectId === 42);
      expect(p?.role ?? null).toBe(c.role);
      expect(p?.reason.kind).toBe(c.kind);
    });
  }

  it('Inherit for the Owner gives Owner in the project', () => {
    const d = decideAccess(org(), input(['LS-AllProjects'], null, [], 'owner@acme.example'));
    expect(d.projects[0]?.role).toBe('OW');
  });

  it('one decision per configured project', () => {
    const d = decideAccess(org({ projects: { 1: { G1: 'AN' }, 2: { G2: 'RE' } } }), input(['LS-Reviewers', 'G2']));
    expect(d.projects.map((p) => [p.projectId, p.role])).toEqual([
      [1, null],
      [2, 'RE'],
    ]);
  });
});

describe('purity', () => {
  it('does not mutate its inputs and gives the same answer twice', () => {
    const o = org();
    const groups = Object.freeze(['LS-Admins']);
    const a = decideAccess(o, input(groups));
    const b = decideAccess(o, input(groups));
    expect(a).toEqual(b);
  });
});
