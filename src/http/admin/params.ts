/**
 * Reading the admin API's path, query and body values as Label Studio's API reads them, but strictly: a
 * parameter that is not applied, or a value that does not parse, is a 400 naming the field.
 */
import type Koa from 'koa';
import type { MemberSort, MemberSortKey } from '../../admin/member-list.js';
import type { OrgRole } from '../../domain/roles.js';
import { isOrgRole } from '../../domain/roles.js';
import type { OrganizationConfig } from '../../configuration/types.js';
import { RolegateError } from '../../errors.js';

/**
 * Label Studio's default page size for the member list (its `OrganizationMemberListPagination.page_size`).
 * There is no maximum: `page_size=-1` asks for everything, as in Label Studio, and a large size is served
 * whole rather than silently cut.
 */
export const DEFAULT_PAGE_SIZE = 20;

function bad(message: string, field?: string): RolegateError {
  return new RolegateError('ERR_BAD_REQUEST', message, field === undefined ? undefined : { fields: { [field]: [message] } });
}

function single(ctx: Koa.Context, name: string): string | undefined {
  const v = ctx.query[name];
  if (Array.isArray(v)) throw bad(`${name}: give it once`, name);
  return v;
}

/**
 * Query parameters of Label Studio's member list that rolegate has nothing to apply to. They are refused
 * like unknown ones (never an unfiltered list for a filter that was not applied), with the reason.
 */
const NOT_APPLICABLE: Readonly<Record<string, string>> = {
  tags: 'rolegate has no member tags',
  user_type: 'rolegate has no user types',
  exclude_workspace_id: 'rolegate has no workspaces',
};

/**
 * Refuse any query parameter the route does not apply, naming each one: a misspelt or unsupported filter
 * must fail, not answer as if it had matched everything.
 */
export function acceptOnly(ctx: Koa.Context, allowed: readonly string[]): void {
  const unknown = Object.keys(ctx.query).filter((k) => !allowed.includes(k));
  if (unknown.length === 0) return;
  const fields: Record<string, string[]> = {};
  for (const k of unknown) fields[k] = [Object.hasOwn(NOT_APPLICABLE, k) ? `not supported: ${NOT_APPLICABLE[k]}` : 'unknown parameter'];
  const list = allowed.length === 0 ? 'none' : allowed.join(', ');
  throw new RolegateError('ERR_UNKNOWN_PARAMETER', `query parameter${unknown.length > 1 ? 's' : ''} not applied here: ${unknown.join(', ')} (accepted: ${list})`, { fields });
}

export function positiveInt(raw: unknown, name: string): number {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0) return raw;
  if (typeof raw === 'string' && /^[1-9]\d{0,14}$/.test(raw)) return Number(raw);
  throw bad(`${name}: expected a positive integer`, name);
}

/**
 * `:id` of /api/organizations/:id/…: the caller's organization by its id, or `0` ("mine", as Label Studio).
 * Any other organization is "not found": a member never learns what else the instance serves.
 */
export function orgParam(ctx: Koa.Context, org: OrganizationConfig): OrganizationConfig {
  const raw = ctx.params['id'];
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) throw bad('organization id: expected an integer (0 = yours)', 'id');
  const id = Number(raw);
  if (id !== 0 && id !== org.id) throw new RolegateError('ERR_NOT_FOUND', 'no such organization');
  return org;
}

export function pathInt(ctx: Koa.Context, name: string): number {
  return positiveInt(ctx.params[name], name);
}

export interface Paging {
  /** null = everything (`page_size=-1`). */
  readonly pageSize: number | null;
  readonly page: number | 'last';
}

/**
 * Django REST framework's page-number pagination as Label Studio configures it: `page_size` absent or not a
 * positive integer → the default (DRF falls back rather than refusing), `-1` → everything; `page` a positive
 * integer or `last`, anything else "Invalid page." (404, as DRF).
 */
export function paging(ctx: Koa.Context): Paging {
  const rawPage = single(ctx, 'page');
  const rawSize = single(ctx, 'page_size');
  let pageSize: number | null = DEFAULT_PAGE_SIZE;
  if (rawSize === '-1') pageSize = null;
  else if (rawSize !== undefined && /^[1-9]\d{0,8}$/.test(rawSize)) pageSize = Number(rawSize);
  let page: number | 'last' = 1;
  if (rawPage === 'last') page = 'last';
  else if (rawPage !== undefined) {
    if (!/^[1-9]\d{0,14}$/.test(rawPage)) throw new RolegateError('ERR_NOT_FOUND', 'Invalid page: expected a positive integer or "last"');
    page = Number(rawPage);
  }
  return { pageSize, page };
}

/** DRF's page-number envelope; a page past the end (other than the first) is 404 "Invalid page." as in DRF. */
export function pageEnvelope<T>(ctx: Koa.Context, publicUrl: string, p: { page: number; lastPage: number }, count: number, results: readonly T[]) {
  if (p.page > p.lastPage) throw new RolegateError('ERR_NOT_FOUND', `Invalid page: there are ${p.lastPage} page(s)`);
  const link = (page: number): string => {
    const q = new URLSearchParams(ctx.querystring);
    q.set('page', String(page));
    return `${publicUrl}${ctx.path}?${q.toString()}`;
  };
  return { count, next: p.page < p.lastPage ? link(p.page + 1) : null, previous: p.page > 1 ? link(p.page - 1) : null, results };
}

export function roleValue(raw: unknown, name = 'role'): OrgRole {
  if (!isOrgRole(raw)) throw new RolegateError('ERR_INVALID_ROLE', `${name}: expected one of OW, AD, MA, RE, AN, NO, DI`);
  return raw;
}

/** `role=AN,RE`: any of these codes. */
export function roleFilter(ctx: Koa.Context): OrgRole[] | undefined {
  const raw = single(ctx, 'role');
  if (raw === undefined || raw === '') return undefined;
  return raw.split(',').map((r) => roleValue(r.trim()));
}

/**
 * `ordering` as Django REST framework's OrderingFilter reads it: a comma list of field names, each optionally
 * prefixed with `-`. Label Studio's `user__…` names and rolegate's short names both work; an unknown field is
 * refused (DRF would drop it silently and order by something else).
 */
const ORDERING_FIELDS: Readonly<Record<string, MemberSortKey>> = {
  user__username: 'username',
  user__email: 'email',
  user__first_name: 'first_name',
  user__last_name: 'last_name',
  user__last_activity: 'last_activity',
  user__date_joined: 'date_joined',
  user__id: 'user_id',
  user: 'user_id',
  id: 'membership_id',
  role: 'role',
  created_at: 'created_at',
  username: 'username',
  email: 'email',
  first_name: 'first_name',
  last_name: 'last_name',
  last_activity: 'last_activity',
  date_joined: 'date_joined',
};
export const ORDERING_NAMES = Object.keys(ORDERING_FIELDS);
/** Label Studio orders its member list by username when no ordering is asked for. */
export const DEFAULT_MEMBER_ORDERING: readonly MemberSort[] = [{ key: 'username', desc: false }];

export function orderingParam(ctx: Koa.Context): MemberSort[] {
  const raw = single(ctx, 'ordering');
  if (raw === undefined || raw.trim() === '') return [...DEFAULT_MEMBER_ORDERING];
  return raw.split(',').map((part) => {
    const term = part.trim();
    const desc = term.startsWith('-');
    const name = desc ? term.slice(1) : term;
    if (!Object.hasOwn(ORDERING_FIELDS, name)) throw bad(`ordering: unknown field "${name}"; expected a comma list of ${ORDERING_NAMES.join(', ')} (prefix - for descending)`, 'ordering');
    return { key: ORDERING_FIELDS[name] as MemberSortKey, desc };
  });
}

/** The spellings Django REST framework's BooleanField accepts (Python clients send `True`/`False`). */
const TRUE_VALUES = new Set(['true', 'True', 'TRUE', 't', 'T', 'yes', 'Yes', 'YES', 'y', 'Y', 'on', 'On', 'ON', '1']);
const FALSE_VALUES = new Set(['false', 'False', 'FALSE', 'f', 'F', 'no', 'No', 'NO', 'n', 'N', 'off', 'Off', 'OFF', '0']);

/** undefined when absent or empty. */
export function optionalBool(ctx: Koa.Context, name: string): boolean | undefined {
  const raw = single(ctx, name);
  if (raw === undefined || raw === '') return undefined;
  if (TRUE_VALUES.has(raw)) return true;
  if (FALSE_VALUES.has(raw)) return false;
  throw bad(`${name}: expected true or false`, name);
}

export function boolParam(ctx: Koa.Context, name: string): boolean {
  return optionalBool(ctx, name) ?? false;
}

export function stringParam(ctx: Koa.Context, name: string, max: number): string | undefined {
  const raw = single(ctx, name);
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > max) throw bad(`${name}: at most ${max} characters`);
  return raw;
}

/**
 * An ISO 8601 date or date-time, as Python clients serialise them (`2024-05-01T12:00:00.123456+00:00`,
 * `…Z`, or naive). Naive values are UTC, as a Django server with USE_TZ reads them. A `+` sent unencoded in
 * a query string arrives as a space; it is read back as `+`.
 */
export function dateParam(ctx: Koa.Context, name: string): Date | undefined {
  const raw = single(ctx, name);
  if (raw === undefined || raw === '') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+ -]\d{2}:?\d{2})?)?$/.exec(raw);
  const fail = () => bad(`${name}: expected an ISO 8601 date or date-time that exists (such as 2026-01-31 or 2026-01-31T09:00Z)`, name);
  if (m === null) throw fail();
  const [, day, time, fraction, zone] = m;
  const offset = zone === undefined ? 'Z' : zone.startsWith(' ') ? `+${zone.slice(1)}` : zone;
  const iso = time === undefined ? `${day}T00:00:00Z` : `${day}T${time}${fraction === undefined ? '' : `.${fraction.slice(0, 3).padEnd(3, '0')}`}${offset}`;
  // Range-checked (no 30 February rolling over into March).
  const d = parseIsoDate(iso);
  if (d === undefined) throw fail();
  return d;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-](\d{2}):?(\d{2}))?)?$/;

/**
 * An ISO 8601 date or date-time, or undefined. Every field is range-checked before `Date` sees it: `Date`
 * rolls impossible values over (`2026-02-30` becomes 2 March, `T24:00` the next day), which would silently
 * move the bounds of an audit query.
 */
export function parseIsoDate(raw: string): Date | undefined {
  const m = ISO_DATE.exec(raw);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, , oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return undefined;
  // Day 0 of the next month is the last day of this one (UTC, so no time zone can shift it; setUTCFullYear,
  // unlike Date.UTC, does not read years 0–99 as 1900–1999).
  const last = new Date(0);
  last.setUTCFullYear(year, month, 0);
  if (day > last.getUTCDate()) return undefined;
  if (h !== undefined && Number(h) > 23) return undefined;
  if (mi !== undefined && Number(mi) > 59) return undefined;
  if (s !== undefined && Number(s) > 59) return undefined;
  if (oh !== undefined && (Number(oh) > 23 || Number(om) > 59)) return undefined;
  const date = new Date(raw);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function intQuery(ctx: Koa.Context, name: string): number | undefined {
  const raw = single(ctx, name);
  if (raw === undefined || raw === '') return undefined;
  return positiveInt(raw, name);
}

/** The body as an object of fields (JSON, form or multipart; JSON arrays, strings and null are refused). */
export function bodyObject(ctx: Koa.Context): Record<string, unknown> {
  const body = ctx.request.body as unknown;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('expected a body: a JSON object, a form (application/x-www-form-urlencoded) or multipart/form-data');
  return body as Record<string, unknown>;
}

/** Every query parameter of Label Studio's member list that rolegate applies (the SDK's `members.list`). */
export const MEMBER_LIST_PARAMS = [
  'page',
  'page_size',
  'search',
  'ordering',
  'role',
  'is_deleted',
  'active',
  'scope',
  'contributed_to_projects',
  'exclude_project_id',
  'user__last_activity__gte',
  'user__last_activity__lte',
] as const;

/** A confirmation flag from JSON (`true`) or a form/multipart field (`true`, `True`, `1`…). */
export function confirmed(value: unknown): boolean {
  return value === true || (typeof value === 'string' && TRUE_VALUES.has(value));
}
