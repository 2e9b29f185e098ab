/**
 * Role names as written in the YAML → codes, with the messages that explain a wrong one. The closed sets
 * come from domain/roles.ts; only the wording of mistakes lives here.
 */
import {
  MAPPABLE_ORG_ROLES,
  type MappableOrgRole,
  ORG_ROLE_NAMES,
  type OrgRole,
  PROJECT_MAPPING_ROLE_BY_NAME,
  PROJECT_MAPPING_ROLE_NAMES,
  type ProjectMappingRole,
  isOrgRole,
} from '../domain/roles.js';
import { suggest, oneOf } from './suggest.js';

export type Parsed<T> = { readonly ok: true; readonly role: T } | { readonly ok: false; readonly message: string };

const ORG_NAMES: readonly string[] = MAPPABLE_ORG_ROLES.map((code) => ORG_ROLE_NAMES[code]);
const PROJECT_NAMES: readonly string[] = Object.values(PROJECT_MAPPING_ROLE_NAMES);
const STATE_NAMES: readonly string[] = [ORG_ROLE_NAMES.NO, ORG_ROLE_NAMES.DI];

/** The org role a value names, also when written as a code (`AD`) or in another case (`owner`). */
function orgRoleOf(value: string): OrgRole | undefined {
  if (isOrgRole(value)) return value;
  const lower = value.trim().toLowerCase();
  return (Object.keys(ORG_ROLE_NAMES) as OrgRole[]).find((code) => ORG_ROLE_NAMES[code].toLowerCase() === lower);
}

function unknown(value: string, names: readonly string[]): string {
  // A code (`AD`) or a case variant (`administrator`) names a valid role exactly: suggest that one.
  const code = orgRoleOf(value);
  const hint = code !== undefined && names.includes(ORG_ROLE_NAMES[code]) ? ORG_ROLE_NAMES[code] : suggest(value, names);
  const expected = `expected ${oneOf(names.map((n) => `"${n}"`))}`;
  return hint === undefined
    ? `unknown role "${value}"; ${expected}`
    : `unknown role "${value}"; did you mean "${hint}"? (${expected})`;
}

/** `ownerPath` is where the Owner is set, e.g. `organizations[0].owner`, for the message that refuses it. */
export function parseOrgRoleName(value: string, ownerPath: string): Parsed<MappableOrgRole> {
  const exact = MAPPABLE_ORG_ROLES.find((code) => ORG_ROLE_NAMES[code] === value);
  if (exact !== undefined) return { ok: true, role: exact };
  const named = orgRoleOf(value);
  if (named === 'OW') return { ok: false, message: `Owner is set by ${ownerPath}, never by a group` };
  if (named === 'NO' || named === 'DI') {
    return {
      ok: false,
      message: `"${value}" is a state, not a role (rolegate sets ${oneOf(STATE_NAMES)} itself); expected ${oneOf(ORG_NAMES.map((n) => `"${n}"`))}`,
    };
  }
  return { ok: false, message: unknown(value, ORG_NAMES) };
}

export function parseProjectRoleName(value: string): Parsed<ProjectMappingRole> {
  const exact = PROJECT_MAPPING_ROLE_BY_NAME[value];
  if (exact !== undefined && Object.hasOwn(PROJECT_MAPPING_ROLE_BY_NAME, value)) return { ok: true, role: exact };
  const named = orgRoleOf(value);
  if (named === 'OW' || named === 'AD' || named === 'MA') {
    return {
      ok: false,
      message: `"${value}" is not a project role; project roles are Reviewer, Annotator or Inherit (Inherit gives the member's organization role in the project)`,
    };
  }
  if (named === 'NO' || named === 'DI') {
    return { ok: false, message: `"${value}" is a state, not a role; project roles are Reviewer, Annotator or Inherit` };
  }
  return { ok: false, message: unknown(value, PROJECT_NAMES) };
}
