/** The pure parts of the SCIM protocol, table-tested: the filter subset and the PATCH interpreter. */
import { describe, expect, it } from 'vitest';
import { groupFilter, userFilter } from '../../src/scim/filter.js';
import { EMPTY_USER, applyGroupPatch, applyUserPatch, parsePatchBody } from '../../src/scim/resources.js';
import type { GroupDoc, UserDoc } from '../../src/scim/resources.js';
import { RolegateError } from '../../src/errors.js';

function codeOf(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (err) {
    return err instanceof RolegateError ? err.code : 'not a RolegateError';
  }
}

const patch = (...Operations: unknown[]) => parsePatchBody({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations });

describe('filters', () => {
  it.each([
    ['userName eq "a@b.c"', [{ attr: 'userName', value: 'a@b.c' }]],
    ['UserName EQ "a@b.c"', [{ attr: 'userName', value: 'a@b.c' }]],
    ['externalId eq jyoung', [{ attr: 'externalId', value: 'jyoung' }]],
    ['emails[type eq "work"].value eq "x@y.z"', [{ attr: 'email', value: 'x@y.z' }]],
    ['emails[primary eq "True"].value eq "x@y.z"', [{ attr: 'email', value: 'x@y.z' }]],
    ['userName eq "a \\"q\\" b" and id eq "7"', [{ attr: 'userName', value: 'a "q" b' }, { attr: 'id', value: '7' }]],
  ])('%s', (text, expected) => {
    expect(userFilter(text)).toEqual(expected);
  });

  it.each(['userName ne "a"', 'userName eq "a" or id eq "1"', 'userName eq "a" and', 'emails[type eq "work"] eq "x"', 'meta.created eq "x"', 'userName eq "a" junk'])(
    'refuses %s with invalidFilter',
    (text) => {
      expect(codeOf(() => userFilter(text))).toBe('ERR_SCIM_INVALID_FILTER');
    },
  );

  it('groups filter on displayName, externalId and id only', () => {
    expect(groupFilter('DisplayName eq "BobIsAmazing"')).toEqual([{ attr: 'displayName', value: 'BobIsAmazing' }]);
    expect(codeOf(() => groupFilter('members[value eq "1"]'))).toBe('ERR_SCIM_INVALID_FILTER');
  });
});

describe('PATCH on a User', () => {
  const user: UserDoc = { ...EMPTY_USER, userName: 'a@b.c', emails: [{ value: 'a@b.c', type: 'work', primary: true }] };

  it.each([
    ['Okta no-path replace', patch({ op: 'replace', value: { active: false } }), { active: false }],
    ['Entra default "False"', patch({ op: 'Replace', path: 'active', value: 'False' }), { active: false }],
    ['lower-case "true"', patch({ op: 'replace', path: 'active', value: 'true' }), { active: true }],
    ['path keys in a no-path value', patch({ op: 'replace', value: { 'name.givenName': 'G', 'name.familyName': 'F' } }), { givenName: 'G', familyName: 'F' }],
    ['work email by filter path', patch({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'n@b.c' }), { emails: [{ value: 'n@b.c', type: 'work', primary: true }] }],
    ['an id equal to the resource id', patch({ op: 'replace', value: { id: '5', displayName: 'D' } }), { displayName: 'D' }],
    ['attributes not used', patch({ op: 'Add', path: 'nickName', value: 'Babs' }, { op: 'replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager', value: { value: '9' } }), {}],
  ])('%s', (_name, ops, change) => {
    expect(applyUserPatch(user, ops, '5')).toEqual({ ...user, ...change });
  });

  it.each([
    ['active "yes"', () => applyUserPatch(user, patch({ op: 'replace', path: 'active', value: 'yes' }), '5'), 'ERR_SCIM_INVALID_VALUE'],
    ['another id', () => applyUserPatch(user, patch({ op: 'replace', value: { id: '6' } }), '5'), 'ERR_SCIM_MUTABILITY'],
    ['remove userName', () => applyUserPatch(user, patch({ op: 'remove', path: 'userName' }), '5'), 'ERR_SCIM_INVALID_VALUE'],
    ['remove without path', () => patch({ op: 'remove' }), 'ERR_SCIM_NO_TARGET'],
    ['unknown op', () => patch({ op: 'move', path: 'active', value: true }), 'ERR_SCIM_INVALID_SYNTAX'],
  ])('refuses %s', (_name, f, code) => {
    expect(codeOf(f)).toBe(code);
  });
});

describe('PATCH on a Group', () => {
  const group: GroupDoc = { displayName: 'G', externalId: null, members: ['1', '2', '3'] };

  it.each([
    ['add a value list', patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: '4' }, { value: '1' }] }), ['1', '2', '3', '4']],
    ['remove by filter path', patch({ op: 'remove', path: 'members[value eq "2"]' }), ['1', '3']],
    ["Entra's remove with a value list removes only those", patch({ op: 'Remove', path: 'members', value: [{ value: '2' }] }), ['1', '3']],
    ['a bare remove empties the group', patch({ op: 'remove', path: 'members' }), []],
    ['replace is a full replacement', patch({ op: 'replace', path: 'members', value: [{ value: '9' }] }), ['9']],
    ['mixed ops in one request', patch({ op: 'remove', path: 'members[value eq "1"]' }, { op: 'add', path: 'members', value: [{ value: '7' }] }), ['2', '3', '7']],
  ])('%s', (_name, ops, members) => {
    expect(applyGroupPatch(group, ops, '10').members).toEqual(members);
  });

  it("renames with Okta's id inside the value, and refuses another id", () => {
    expect(applyGroupPatch(group, patch({ op: 'replace', value: { id: '10', displayName: 'H' } }), '10')).toEqual({ ...group, displayName: 'H' });
    expect(codeOf(() => applyGroupPatch(group, patch({ op: 'replace', value: { id: '11', displayName: 'H' } }), '10'))).toBe('ERR_SCIM_MUTABILITY');
  });
});
