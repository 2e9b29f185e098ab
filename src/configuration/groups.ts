import type { SsoConfig } from './types.js';

export type GroupMatch = SsoConfig['groupMatch'];

/**
 * The key a group name is compared by under `group_match`. The configuration's duplicate check and the
 * mapping must fold the same way, so both use this (`toLowerCase` is locale-independent).
 */
export function groupKey(group: string, match: GroupMatch): string {
  return match === 'case-insensitive' ? group.toLowerCase() : group;
}
