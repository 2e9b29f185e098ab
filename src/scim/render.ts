/**
 * Resources as SCIM returns them: `id`, the attributes, and `meta` (resourceType, created, lastModified,
 * location) on every one (RFC 7643 §3.1). `attributes` / `excludedAttributes` (RFC 7644 §3.9) select top-level
 * attributes; `id`, `schemas` and `meta` are always returned.
 */
import type { ScimGroupMembership, ScimGroupRow, ScimUserRow } from '../db/scim.js';
import { CORE_GROUP_SCHEMA, CORE_USER_SCHEMA } from './filter.js';
import type { UserDoc } from './resources.js';

export interface Projection {
  readonly attributes: readonly string[] | null;
  readonly excluded: readonly string[];
}

export const NO_PROJECTION: Projection = { attributes: null, excluded: [] };

const ALWAYS = new Set(['id', 'schemas', 'meta']);

export function parseProjection(attributes: unknown, excluded: unknown): Projection {
  const list = (v: unknown): string[] =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
          // `urn:…:User:userName` and `name.givenName` select their top-level attribute.
          .map((s) => (s.slice(s.lastIndexOf(':') + 1).split('.')[0] ?? '').toLowerCase())
      : [];
  const attrs = list(attributes);
  return { attributes: attrs.length > 0 ? attrs : null, excluded: list(excluded) };
}

export function wants(p: Projection, attr: string): boolean {
  const a = attr.toLowerCase();
  if (ALWAYS.has(a)) return true;
  if (p.attributes !== null) return p.attributes.includes(a);
  return !p.excluded.includes(a);
}

function project(resource: Record<string, unknown>, p: Projection): Record<string, unknown> {
  if (p.attributes === null && p.excluded.length === 0) return resource;
  return Object.fromEntries(Object.entries(resource).filter(([k]) => wants(p, k)));
}

/** The User as SCIM sees it: the stored SCIM attributes, or (not linked yet) what the member's profile gives. */
export function userDocOf(row: ScimUserRow): UserDoc {
  const s = row.scim;
  const emails = Array.isArray(s?.emails) ? (s.emails as UserDoc['emails']) : [{ value: row.email, type: 'work', primary: true }];
  return {
    userName: s?.userName ?? row.email,
    givenName: row.firstName,
    familyName: row.lastName,
    displayName: s?.displayName ?? null,
    externalId: s?.externalId ?? null,
    active: s?.active ?? row.role !== 'DI',
    emails,
  };
}

export function renderUser(base: string, row: ScimUserRow, groups: readonly ScimGroupMembership[], p: Projection = NO_PROJECTION): Record<string, unknown> {
  const doc = userDocOf(row);
  const id = String(row.userId);
  const created = row.scim?.createdAt ?? row.dateJoined;
  const modified = new Date(Math.max(row.scim?.updatedAt.getTime() ?? 0, row.membershipUpdatedAt.getTime(), created.getTime()));
  const displayName = doc.displayName ?? ([doc.givenName, doc.familyName].filter((x) => x !== '').join(' ') || null);
  return project(
    {
      schemas: [CORE_USER_SCHEMA],
      id,
      ...(doc.externalId === null ? {} : { externalId: doc.externalId }),
      userName: doc.userName,
      name: { givenName: doc.givenName, familyName: doc.familyName, formatted: [doc.givenName, doc.familyName].filter((x) => x !== '').join(' ') },
      ...(displayName === null ? {} : { displayName }),
      emails: doc.emails.map((e) => ({ value: e.value, ...(e.type === null ? {} : { type: e.type }), primary: e.primary })),
      active: doc.active,
      groups: groups.map((g) => ({ value: String(g.groupId), display: g.displayName, $ref: `${base}/Groups/${g.groupId}` })),
      meta: { resourceType: 'User', created: created.toISOString(), lastModified: modified.toISOString(), location: `${base}/Users/${id}` },
    },
    p,
  );
}

export function renderGroup(
  base: string,
  row: ScimGroupRow,
  members: readonly { userId: number; display: string }[] | null,
  p: Projection = NO_PROJECTION,
): Record<string, unknown> {
  const id = String(row.id);
  return project(
    {
      schemas: [CORE_GROUP_SCHEMA],
      id,
      displayName: row.displayName,
      ...(row.externalId === null ? {} : { externalId: row.externalId }),
      ...(members === null ? {} : { members: members.map((m) => ({ value: String(m.userId), display: m.display, $ref: `${base}/Users/${m.userId}` })) }),
      meta: { resourceType: 'Group', created: row.createdAt.toISOString(), lastModified: row.updatedAt.toISOString(), location: `${base}/Groups/${id}` },
    },
    p,
  );
}
