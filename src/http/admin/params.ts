/** Reading the admin API's path, query and body values strictly: anything unexpected is a 400 naming the field. */
import type Koa from 'koa';
import type { MemberOrdering } from '../../admin/members.js';
import { MEMBER_ORDERINGS } from '../../admin/members.js';
import type { OrgRole } from '../../domain/roles.js';
import { isOrgRole } from '../../domain/roles.js';
import type { OrganizationConfig } from '../../configuration/types.js';
import { RolegateError } from '../../errors.js';

export const DEFAULT_PAGE_SIZE = 30;
/** Larger requests are clamped, as Django REST framework's max_page_size does. */
export const MAX_PAGE_SIZE = 1000;

function bad(message: string): RolegateError {
  return new RolegateError('ERR_BAD_REQUEST', message);
}

function single(ctx: Koa.Context, name: string): string | undefined {
  const v = ctx.query[name];
  if (Array.isArray(v)) throw bad(`${name}: give it once`);
  return v;
}

export function positiveInt(raw: unknown, name: string): number {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0) return raw;
  if (typeof raw === 'string' && /^[1-9]\d{0,14}$/.test(raw)) return Number(raw);
  throw bad(`${name}: expected a positive integer`);
}

/**
 * `:id` of /api/organizations/:id/…: the caller's organization by its id, or `0` ("mine", as Label Studio).
 * Any other organization is "not found": a member never learns what else the instance serves.
 */
export function orgParam(ctx: Koa.Context, org: OrganizationConfig): OrganizationConfig {
  const raw = ctx.params['id'];
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) throw bad('organization id: expected an integer (0 = yours)');
  const id = Number(raw);
  if (id !== 0 && id !== org.id) throw new RolegateError('ERR_NOT_FOUND', 'no such organization');
  return org;
}

export function pathInt(ctx: Koa.Context, name: string): number {
  return positiveInt(ctx.params[name], name);
}

export function paging(ctx: Koa.Context): { page: number; pageSize: number; offset: number; limit: number } {
  const rawPage = single(ctx, 'page');
  const rawSize = single(ctx, 'page_size');
  const page = rawPage === undefined ? 1 : positiveInt(rawPage, 'page');
  const pageSize = rawSize === undefined ? DEFAULT_PAGE_SIZE : Math.min(positiveInt(rawSize, 'page_size'), MAX_PAGE_SIZE);
  return { page, pageSize, offset: (page - 1) * pageSize, limit: pageSize };
}

/** DRF's page-number envelope; a page past the end (other than the first) is 404 as in DRF. */
export function pageEnvelope<T>(ctx: Koa.Context, publicUrl: string, p: { page: number; pageSize: number }, count: number, results: readonly T[]) {
  const last = Math.max(1, Math.ceil(count / p.pageSize));
  if (p.page > last) throw new RolegateError('ERR_NOT_FOUND', `invalid page: there are ${last} page(s)`);
  const link = (page: number): string => {
    const q = new URLSearchParams(ctx.querystring);
    q.set('page', String(page));
    return `${publicUrl}${ctx.path}?${q.toString()}`;
  };
  return { count, next: p.page < last ? link(p.page + 1) : null, previous: p.page > 1 ? link(p.page - 1) : null, results };
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

export function orderingParam(ctx: Koa.Context): { field: MemberOrdering; desc: boolean } | undefined {
  const raw = single(ctx, 'ordering');
  if (raw === undefined || raw === '') return undefined;
  const desc = raw.startsWith('-');
  const field = desc ? raw.slice(1) : raw;
  const found = MEMBER_ORDERINGS.find((f) => f === field);
  if (found === undefined) throw bad(`ordering: expected one of ${MEMBER_ORDERINGS.join(', ')} (prefix - for descending)`);
  return { field: found, desc };
}

export function boolParam(ctx: Koa.Context, name: string): boolean {
  const raw = single(ctx, name);
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw bad(`${name}: expected true or false`);
}

export function stringParam(ctx: Koa.Context, name: string, max: number): string | undefined {
  const raw = single(ctx, name);
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > max) throw bad(`${name}: at most ${max} characters`);
  return raw;
}

export function dateParam(ctx: Koa.Context, name: string): Date | undefined {
  const raw = single(ctx, name);
  if (raw === undefined || raw === '') return undefined;
  const d = parseIsoDate(raw);
  if (d === undefined) throw bad(`${name}: expected an ISO 8601 date or date-time that exists (such as 2026-01-31 or 2026-01-31T09:00Z)`);
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

/** The JSON body as an object (arrays, strings and null are refused). */
export function bodyObject(ctx: Koa.Context): Record<string, unknown> {
  const body = ctx.request.body as unknown;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('expected a JSON object body');
  return body as Record<string, unknown>;
}
