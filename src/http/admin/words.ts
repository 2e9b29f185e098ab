/**
 * The admin pages' vocabulary: role codes, role sources and audit actions in the words people use. The API
 * and the CSV keep the codes; the pages show these and keep the code or config path as detail.
 */
import type { IdpManaged } from '../../admin/managed.js';
import type { RoleSource } from '../../domain/roles.js';
import { ORG_ROLE_NAMES, PROJECT_MAPPING_ROLE_NAMES, isOrgRole } from '../../domain/roles.js';

/** A role or state code (organization or project) as a name; anything else unchanged. */
export function roleWord(code: string | null): string {
  if (code === null) return '';
  if (isOrgRole(code)) return ORG_ROLE_NAMES[code];
  if (Object.hasOwn(PROJECT_MAPPING_ROLE_NAMES, code)) return PROJECT_MAPPING_ROLE_NAMES[code as keyof typeof PROJECT_MAPPING_ROLE_NAMES];
  return code;
}

export const ACTION_WORDS: Readonly<Record<string, string>> = {
  login: 'Signed in',
  member_created: 'Member created',
  role_change: 'Role changed',
  project_role_change: 'Project role changed',
  member_invited: 'Invited',
  member_deleted: 'Member deleted',
  groups_unknown: 'Signed in without groups',
  token_created: 'API token created',
  token_revoked: 'API token revoked',
  config_applied: 'Configuration applied',
};

export function actionWord(action: string): string {
  return ACTION_WORDS[action] ?? action.replace(/_/g, ' ');
}

export const OUTCOME_WORDS: Readonly<Record<string, string>> = { rejected: 'refused', denied: 'refused', failed: 'failed' };

export function sourceWord(source: RoleSource): string {
  return { saml: 'IdP groups', scim: 'IdP provisioning (SCIM)', manual: 'Set by an administrator', api: 'Set through the API' }[source];
}

/** "Managed by the IdP group LS-Reviewers". */
export function managedWords(m: IdpManaged): string {
  return `Managed by the IdP group ${m.group}`;
}

/** Where the rule is written, for whoever edits the YAML: "organizations[0].roles.LS-Reviewers, line 34". */
export function managedDetailWords(m: IdpManaged): string {
  return `${m.rule}, line ${m.line} grants ${roleWord(m.role)}`;
}

/** Audit reasons name members as `user:12`; pages say "member #12" (the row names people elsewhere). */
export function reasonWords(text: string): string {
  return text
    .replace(/\buser:(\d+)/g, 'member #$1')
    .replace(/\bthrough the admin API\b/, 'on the Organization page or through the API')
    .replace(/→ (OW|AD|MA|RE|AN|NO|DI|INHERIT)\b/g, (_, code: string) => `→ ${roleWord(code)}`)
    .replace(/\b(OW|AD|MA|RE|AN) from the mapping\b/g, (_, code: string) => `${roleWord(code)} from the mapping`);
}
