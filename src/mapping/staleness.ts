/**
 * Which last-asserted groups a decision made without a login (plan, apply, explain) may use: groups never
 * known, or asserted longer ago than `guards.max_group_age_days`, count as unknown (the member keeps what
 * they hold). Pure: the caller passes the time.
 */
const DAY_MS = 86_400_000;

export function effectiveGroups(
  member: { readonly groups: readonly string[] | null; readonly assertedAt: Date | null },
  maxGroupAgeDays: number | null,
  now: Date,
): { groups: readonly string[] | null; stale: boolean } {
  if (member.groups === null) return { groups: null, stale: false };
  if (maxGroupAgeDays !== null && member.assertedAt !== null && now.getTime() - member.assertedAt.getTime() > maxGroupAgeDays * DAY_MS) {
    return { groups: null, stale: true };
  }
  return { groups: member.groups, stale: false };
}
