/**
 * Label Studio compatibility: every row of docs/label-studio-compatibility.md is a request sent here through
 * HTTP to the real app, with the status, error code and shape the table promises. The table, these rows and
 * the OpenAPI document are checked against each other: every row id is in the docs and every docs id is a
 * row; every row's status is documented for its operation; every query parameter a row sends is a
 * documented parameter unless the row is about refusing it. A refusal never answers a status Label Studio's
 * SDK retries (408, 409, 429, 5xx): refused changes must fail once, not three times.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { snapshot } from '../support/db.js';
import type { Browser, TestResponse } from '../support/http.js';
import { PEOPLE, call, signedIn, userIdOf } from './support.js';

type Caller = 'OW' | 'AD' | 'MA' | 'RE' | 'token' | 'none';
type Encoding = 'json' | 'form' | 'multipart';

interface Ctx {
  readonly app: TestApp;
  readonly ids: Record<string, number>;
  /** Values rows leave for later rows (an access token, a token id). */
  readonly saved: Record<string, string>;
}

interface Row {
  readonly id: string;
  readonly does: string;
  /** The OpenAPI operationId this request belongs to. */
  readonly op: string;
  readonly as: Caller;
  readonly method: string;
  readonly path: string | ((c: Ctx) => string);
  readonly query?: string | ((c: Ctx) => string);
  readonly body?: Record<string, unknown> | ((c: Ctx) => Record<string, unknown>);
  readonly encoding?: Encoding;
  readonly headers?: (c: Ctx) => Record<string, string>;
  readonly status: number;
  readonly code?: string;
  readonly check?: (res: TestResponse, c: Ctx) => Promise<void> | void;
  /** Answered by the router itself (no such path, or no such method on it): not an operation's documented status. */
  readonly byRouter?: true;
}

interface Member {
  id: number;
  organization: number;
  role: string;
  role_source: string;
  tags: unknown[];
  created_projects: unknown[] | null;
  contributed_to_projects: unknown[] | null;
  user: { id: number; email: string; username: string; last_activity: string | null; active_organization: number };
}
interface Page {
  count: number;
  next: string | null;
  previous: string | null;
  results: Member[];
}

const M = '/api/organizations/0/memberships';
const emailsOf = (res: TestResponse): string[] => res.json<Page>().results.map((m) => m.user.email);
const bulk = Array.from({ length: 22 }, (_, i) => `bulk${String(i).padStart(2, '0')}@acme.example`);
const IDLE = 'idle@acme.example';
const INVITEE = 'invitee@acme.example';
const ADMIN2 = { email: 'admin2@acme.example', groups: ['LS-Admins'], firstName: 'Second', lastName: 'Admin' };
// The Manager reviews in project 42: Label Studio's `scope=accessible` shows them the members of their projects.
const MANAGER = { ...PEOPLE.MA, groups: ['LS-Managers', 'LS-Project42-Annotators'] };
const ALL_LIST_PARAMS =
  'page=1&page_size=50&search=acme&ordering=-user__last_activity,user__username&role=AN,MA,RE,AD,OW,NO&is_deleted=False&active=True&scope=all' +
  '&contributed_to_projects=false&exclude_project_id=43&user__last_activity__gte=2000-01-01T00:00:00Z&user__last_activity__lte=2100-01-01T00:00:00.000000%2B00:00';

async function multipart(fields: Record<string, string>, file?: { name: string; content: string }): Promise<{ body: string; type: string }> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  if (file !== undefined) fd.append(file.name, new Blob([file.content], { type: 'text/plain' }), 'x.txt');
  const req = new Request('http://localhost/', { method: 'POST', body: fd });
  return { body: await req.text(), type: req.headers.get('content-type') ?? '' };
}

const ROWS: readonly Row[] = [
  // --- organizations ------------------------------------------------------------------------------------
  { id: 'O1', does: 'lists the caller’s organizations as a plain array', op: 'api-organizations', as: 'token', method: 'GET', path: '/api/organizations/', status: 200, check: (r) => expect(r.json<{ id: number; title: string }[]>()).toEqual([expect.objectContaining({ id: 1, title: 'Acme Labs', contact_info: '' })]) },
  { id: 'O2', does: 'accepts Label Studio’s ordering on the organization list', op: 'api-organizations', as: 'token', method: 'GET', path: '/api/organizations/', query: 'ordering=-created_at', status: 200 },
  { id: 'O3', does: 'refuses an unknown ordering field', op: 'api-organizations', as: 'token', method: 'GET', path: '/api/organizations/', query: 'ordering=password', status: 400, code: 'ERR_BAD_REQUEST' },
  { id: 'O4', does: 'refuses an unknown parameter, naming it', op: 'api-organizations', as: 'token', method: 'GET', path: '/api/organizations/', query: 'owner=me', status: 400, code: 'ERR_UNKNOWN_PARAMETER', check: (r) => expect(r.json<{ validation_errors: object }>().validation_errors).toHaveProperty('owner') },
  { id: 'O5', does: 'GET /api/organizations/0 is the caller’s organization', op: 'api-organization', as: 'token', method: 'GET', path: '/api/organizations/0', status: 200, check: (r) => expect(r.json()).toMatchObject({ id: 1, title: 'Acme Labs' }) },

  // --- the member list ------------------------------------------------------------------------------------
  {
    id: 'L1',
    does: 'answers the paginated shape, 20 per page, ordered by username, each item in Label Studio’s fields',
    op: 'api-memberships',
    as: 'token',
    method: 'GET',
    path: M,
    status: 200,
    check: (r) => {
      const page = r.json<Page>();
      expect(page.count).toBeGreaterThan(20);
      expect(page.results).toHaveLength(20);
      expect(page.next).toContain('page=2');
      expect(page.previous).toBeNull();
      const names = page.results.map((m) => m.user.username);
      expect(names).toEqual([...names].sort());
      expect(page.results[0]).toMatchObject({ id: expect.any(Number), organization: 1, role: expect.any(String), role_source: expect.any(String), tags: [], created_projects: null, contributed_to_projects: null });
      expect(page.results[0]?.user).toMatchObject({ id: expect.any(Number), username: expect.any(String), active_organization: 1 });
    },
  },
  { id: 'L2', does: 'page_size=-1 answers every member on one page', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'page_size=-1', status: 200, check: (r) => expect([r.json<Page>().results.length, r.json<Page>().next]).toEqual([r.json<Page>().count, null]) },
  { id: 'L3', does: 'page_size=0 falls back to the default size (20)', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'page_size=0', status: 200, check: (r) => expect(r.json<Page>().results).toHaveLength(20) },
  { id: 'L4', does: 'a page_size that is not a number falls back to the default', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'page_size=many', status: 200, check: (r) => expect(r.json<Page>().results).toHaveLength(20) },
  {
    id: 'L5',
    does: 'page=last answers the last page',
    op: 'api-memberships',
    as: 'token',
    method: 'GET',
    path: M,
    query: 'page=last&page_size=20',
    status: 200,
    check: (r) => {
      const page = r.json<Page>();
      expect(page.next).toBeNull();
      expect(page.results).toHaveLength(page.count - 20 * Math.floor((page.count - 1) / 20));
    },
  },
  { id: 'L6', does: 'a page past the end is 404 "Invalid page"', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'page=999', status: 404, code: 'ERR_NOT_FOUND' },
  { id: 'L7', does: 'a page that is not a number is 404 "Invalid page"', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'page=first', status: 404, code: 'ERR_NOT_FOUND' },
  { id: 'L8', does: 'an unknown parameter is 400 naming it, never an unfiltered list', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'user__last_login__lte=2000-01-01', status: 400, code: 'ERR_UNKNOWN_PARAMETER', check: (r) => expect(Object.keys(r.json<{ validation_errors: object }>().validation_errors)).toEqual(['user__last_login__lte']) },
  { id: 'L9', does: 'tags (no member tags in rolegate) is refused, not ignored', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'tags=1,2', status: 400, code: 'ERR_UNKNOWN_PARAMETER' },
  { id: 'L10', does: 'user_type is refused, not ignored', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'user_type=regular', status: 400, code: 'ERR_UNKNOWN_PARAMETER' },
  { id: 'L11', does: 'exclude_workspace_id (no workspaces in rolegate) is refused, not ignored', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'exclude_workspace_id=3', status: 400, code: 'ERR_UNKNOWN_PARAMETER' },
  { id: 'L12', does: 'user__last_activity__lte: only members last active by then (never signed in: no match)', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'user__last_activity__lte=2000-01-01', status: 200, check: (r) => expect(emailsOf(r)).toEqual([IDLE]) },
  { id: 'L13', does: 'the same filter as the Python SDK serialises it (microseconds, +00:00)', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'user__last_activity__lte=2000-01-01T00:00:00.000000%2B00:00', status: 200, check: (r) => expect(emailsOf(r)).toEqual([IDLE]) },
  {
    id: 'L14',
    does: 'user__last_activity__gte: only members active since (not the idle one, not those who never signed in)',
    op: 'api-memberships',
    as: 'token',
    method: 'GET',
    path: M,
    query: 'user__last_activity__gte=2020-01-01T00:00:00Z&page_size=-1',
    status: 200,
    check: (r) => {
      const emails = emailsOf(r);
      expect(emails).toContain(PEOPLE.AD.email);
      expect(emails).not.toContain(IDLE);
      expect(emails).not.toContain(INVITEE);
      expect(r.json<Page>().results.every((m) => m.user.last_activity !== null)).toBe(true);
    },
  },
  { id: 'L15', does: 'a date that does not parse is 400 naming the parameter', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'user__last_activity__lte=last-tuesday', status: 400, code: 'ERR_BAD_REQUEST', check: (r) => expect(r.json<{ validation_errors: object }>().validation_errors).toHaveProperty('user__last_activity__lte') },
  { id: 'L16', does: 'active=True leaves out Not Activated and Deactivated members', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'active=True&page_size=-1', status: 200, check: (r) => expect(r.json<Page>().results.filter((m) => m.role === 'NO' || m.role === 'DI')).toEqual([]) },
  { id: 'L17', does: 'active=1 is the same as active=True', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'active=1&page_size=-1', status: 200, check: (r) => expect(r.json<Page>().results.every((m) => m.role !== 'NO')).toBe(true) },
  { id: 'L18', does: 'a boolean that is not one is 400', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'active=maybe', status: 400, code: 'ERR_BAD_REQUEST' },
  { id: 'L19', does: 'is_deleted=True lists deleted members', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'is_deleted=True', status: 200, check: (r) => expect(new Set(r.json<Page>().results.map((m) => [m.user.username, m.user.email, m.role].join(' ')))).toEqual(new Set(['Deleted User  DI'])) },
  { id: 'L20', does: 'is_deleted=False lists live members', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'is_deleted=False&page_size=-1', status: 200, check: (r) => expect(emailsOf(r)).toContain(PEOPLE.AD.email) },
  { id: 'L21', does: 'role=AN,RE: members with any of the roles', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'role=AN,RE&page_size=-1', status: 200, check: (r) => expect(new Set(r.json<Page>().results.map((m) => m.role))).toEqual(new Set(['AN', 'RE'])) },
  {
    id: 'L22',
    does: 'exclude_project_id: leaves out the project’s members and Owners/Administrators',
    op: 'api-memberships',
    as: 'token',
    method: 'GET',
    path: M,
    query: 'exclude_project_id=42&page_size=-1',
    status: 200,
    check: (r) => {
      const emails = emailsOf(r);
      for (const gone of [PEOPLE.RE.email, MANAGER.email, PEOPLE.OW.email, PEOPLE.AD.email]) expect(emails).not.toContain(gone);
      expect(emails).toContain(PEOPLE.AN.email);
    },
  },
  { id: 'L23', does: 'exclude_project_id of a project that is not the organization’s is 400', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'exclude_project_id=999', status: 400, code: 'ERR_BAD_REQUEST' },
  { id: 'L24', does: 'contributed_to_projects=true adds the two project lists (empty: rolegate records no annotations)', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'contributed_to_projects=true', status: 200, check: (r) => expect(r.json<Page>().results[0]).toMatchObject({ created_projects: [], contributed_to_projects: [] }) },
  {
    id: 'L25',
    does: 'ordering=-user__email orders by email, descending',
    op: 'api-memberships',
    as: 'token',
    method: 'GET',
    path: M,
    query: 'ordering=-user__email&page_size=-1&is_deleted=false',
    status: 200,
    check: (r) => {
      const emails = emailsOf(r);
      expect(emails).toEqual([...emails].sort().reverse());
    },
  },
  {
    id: 'L26',
    does: 'ordering takes a comma list (user__last_activity,user__username)',
    op: 'api-memberships',
    as: 'token',
    method: 'GET',
    path: M,
    query: 'ordering=user__last_activity,user__username&page_size=-1',
    status: 200,
    check: (r) => {
      const results = r.json<Page>().results;
      const never = results.filter((m) => m.user.last_activity === null).map((m) => m.user.username);
      // Never signed in sorts as the oldest activity, then by username.
      expect(results.slice(0, never.length).map((m) => m.user.username)).toEqual([...never].sort());
      const active = results.slice(never.length).map((m) => Date.parse(m.user.last_activity ?? ''));
      expect(active).toEqual([...active].sort((a, b) => a - b));
    },
  },
  { id: 'L27', does: 'an unknown ordering field is 400 (Label Studio would ignore it)', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'ordering=-user__password', status: 400, code: 'ERR_BAD_REQUEST' },
  { id: 'L28', does: 'search matches email and names', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: 'search=idle', status: 200, check: (r) => expect(emailsOf(r)).toEqual([IDLE]) },
  { id: 'L29', does: 'every documented parameter at once, plus one unknown: 400 naming only the unknown one', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: `${ALL_LIST_PARAMS}&last_seen_days=30`, status: 400, code: 'ERR_UNKNOWN_PARAMETER', check: (r) => expect(Object.keys(r.json<{ validation_errors: object }>().validation_errors)).toEqual(['last_seen_days']) },
  { id: 'L30', does: 'every documented parameter at once: each applied', op: 'api-memberships', as: 'token', method: 'GET', path: M, query: ALL_LIST_PARAMS, status: 200, check: (r) => expect(r.json<Page>().results.every((m) => m.role !== 'NO' && m.user.last_activity !== null)).toBe(true) },

  // --- Managers ---------------------------------------------------------------------------------------------
  { id: 'M1', does: 'a Manager reads the members of their projects (scope=accessible, the default)', op: 'api-memberships', as: 'MA', method: 'GET', path: M, query: 'page_size=-1', status: 200, check: (r) => expect(emailsOf(r).sort()).toEqual([MANAGER.email, PEOPLE.RE.email].sort()) },
  { id: 'M2', does: 'a Manager with scope=all reads every member', op: 'api-memberships', as: 'MA', method: 'GET', path: M, query: 'scope=all&page_size=-1', status: 200, check: (r) => expect(emailsOf(r)).toContain(PEOPLE.AN.email) },
  { id: 'M3', does: 'scope must be accessible or all', op: 'api-memberships', as: 'MA', method: 'GET', path: M, query: 'scope=everyone', status: 400, code: 'ERR_BAD_REQUEST' },
  { id: 'M4', does: 'a Manager reads one member', op: 'api-membership', as: 'MA', method: 'GET', path: (c) => `${M}/${c.ids['AN']}/`, status: 200 },
  { id: 'M5', does: 'a Manager cannot change a role', op: 'api-memberships-patch', as: 'MA', method: 'PATCH', path: M, body: (c) => ({ user_id: c.ids['NO'], role: 'AN' }), status: 403, code: 'ERR_FORBIDDEN' },
  { id: 'M6', does: 'a Reviewer cannot read the member list', op: 'api-memberships', as: 'RE', method: 'GET', path: M, status: 403, code: 'ERR_FORBIDDEN' },
  { id: 'M7', does: 'a Manager reads /api/users/', op: 'api-users', as: 'MA', method: 'GET', path: '/api/users/', status: 200 },

  // --- assigning roles --------------------------------------------------------------------------------------
  { id: 'A1', does: 'PATCH {user_id, role} as the SDK sends it: 200, the member in the list shape, role_source api', op: 'api-memberships-patch', as: 'token', method: 'PATCH', path: M, body: (c) => ({ user_id: c.ids['NO'], role: 'AN' }), status: 200, check: (r, c) => expect(r.json()).toMatchObject({ role: 'AN', role_source: 'api', user: { id: c.ids['NO'] } }) },
  { id: 'A2', does: 'POST with a form-encoded body (the docs’ verb)', op: 'api-memberships-post', as: 'token', method: 'POST', path: M, encoding: 'form', body: (c) => ({ user_id: String(c.ids['NO']), role: 'RE' }), status: 200, check: (r) => expect(r.json()).toMatchObject({ role: 'RE', role_source: 'api' }) },
  { id: 'A3', does: 'PATCH with a multipart body', op: 'api-memberships-patch', as: 'token', method: 'PATCH', path: M, encoding: 'multipart', body: (c) => ({ user_id: String(c.ids['NO']), role: 'AN' }), status: 200, check: (r) => expect(r.json()).toMatchObject({ role: 'AN' }) },
  { id: 'A4', does: 'a role the IdP manages is 403 (not 409), naming the group', op: 'api-memberships-patch', as: 'token', method: 'PATCH', path: M, body: (c) => ({ user_id: c.ids['AN'], role: 'MA' }), status: 403, code: 'ERR_ROLE_MANAGED_BY_IDP', check: (r) => expect(r.json<{ detail: string }>().detail).toContain('LS-Annotators') },
  { id: 'A5', does: 'the Owner cannot demote themself (400, not 409)', op: 'api-memberships-patch', as: 'OW', method: 'PATCH', path: M, body: (c) => ({ user_id: c.ids['OW'], role: 'AD' }), status: 400, code: 'ERR_LAST_ADMIN' },
  { id: 'A6', does: 'role OW alone does not transfer ownership', op: 'api-memberships-patch', as: 'OW', method: 'PATCH', path: M, body: (c) => ({ user_id: c.ids['AD'], role: 'OW' }), status: 400, code: 'ERR_TRANSFER_NOT_CONFIRMED' },
  { id: 'A7', does: 'an inactive member cannot become Owner (400, not 409)', op: 'api-memberships-patch', as: 'OW', method: 'PATCH', path: M, body: (c) => ({ user_id: c.ids['INVITEE'], role: 'OW', transfer_ownership: true }), status: 400, code: 'ERR_MEMBER_INACTIVE' },
  { id: 'A8', does: 'a role name instead of a code is 400', op: 'api-memberships-patch', as: 'token', method: 'PATCH', path: M, body: (c) => ({ user_id: c.ids['NO'], role: 'Annotator' }), status: 400, code: 'ERR_INVALID_ROLE' },
  { id: 'A9', does: 'a multipart body with a file is 400', op: 'api-memberships-patch', as: 'token', method: 'PATCH', path: M, encoding: 'multipart', body: (c) => ({ user_id: String(c.ids['NO']), role: 'AN', __file: 'avatar' }), status: 400, code: 'ERR_BAD_REQUEST' },
  { id: 'A10', does: 'no user_id is 400 naming it', op: 'api-memberships-patch', as: 'token', method: 'PATCH', path: M, body: { role: 'AN' }, status: 400, code: 'ERR_BAD_REQUEST', check: (r) => expect(r.json<{ validation_errors: object }>().validation_errors).toHaveProperty('user_id') },
  { id: 'A11', does: 'only the Owner transfers ownership', op: 'api-ownership-transfer', as: 'AD', method: 'POST', path: `${M}/transfer-ownership`, body: (c) => ({ user_id: c.ids['AD'] }), status: 403, code: 'ERR_FORBIDDEN' },

  // --- one member -------------------------------------------------------------------------------------------
  {
    id: 'D1',
    does: 'GET …/memberships/{user_id}/ answers Label Studio’s OrganizationMember (user is the id)',
    op: 'api-membership',
    as: 'token',
    method: 'GET',
    path: (c) => `${M}/${c.ids['RE']}/`,
    status: 200,
    check: (r, c) => {
      const body = r.json<Record<string, unknown>>();
      expect(body).toMatchObject({ user: c.ids['RE'], organization: 1, role: 'RE', annotations_count: 0, contributed_projects_count: 0, created_projects: null, contributed_to_projects: null });
      expect(Date.parse(String(body['created_at']))).not.toBeNaN();
      expect(body).toHaveProperty('explain');
      expect(body).toHaveProperty('projects');
    },
  },
  { id: 'D2', does: 'contributed_to_projects=true on one member', op: 'api-membership', as: 'token', method: 'GET', path: (c) => `${M}/${c.ids['RE']}/`, query: 'contributed_to_projects=True', status: 200, check: (r) => expect(r.json()).toMatchObject({ created_projects: [], contributed_to_projects: [] }) },
  { id: 'D3', does: 'an unknown parameter on one member is 400', op: 'api-membership', as: 'token', method: 'GET', path: (c) => `${M}/${c.ids['RE']}/`, query: 'expand=user', status: 400, code: 'ERR_UNKNOWN_PARAMETER' },
  { id: 'D4', does: 'a member that does not exist is 404', op: 'api-membership', as: 'token', method: 'GET', path: `${M}/999999/`, status: 404, code: 'ERR_NOT_FOUND' },

  // --- deleting ---------------------------------------------------------------------------------------------
  { id: 'X1', does: 'deleting oneself is 405 "User cannot soft delete self"', op: 'api-membership-delete', as: 'AD', method: 'DELETE', path: (c) => `${M}/${c.ids['AD']}/`, status: 405, code: 'ERR_CANNOT_DELETE_SELF', check: (r) => expect(r.json<{ detail: string }>().detail).toBe('User cannot soft delete self') },
  { id: 'X2', does: 'the Owner cannot be deleted (400, not 409)', op: 'api-membership-delete', as: 'AD', method: 'DELETE', path: (c) => `${M}/${c.ids['OW']}/`, status: 400, code: 'ERR_LAST_ADMIN' },
  { id: 'X3', does: 'deleting a member: 204', op: 'api-membership-delete', as: 'token', method: 'DELETE', path: (c) => `${M}/${c.ids['bulk00']}/`, status: 204 },

  // --- authentication ---------------------------------------------------------------------------------------
  { id: 'T1', does: '`token <key>`: the scheme is case-insensitive', op: 'api-organizations', as: 'none', method: 'GET', path: '/api/organizations/', headers: (c) => ({ authorization: `token ${c.saved['key']}` }), status: 200 },
  { id: 'T2', does: '`TOKEN <key>`', op: 'api-organizations', as: 'none', method: 'GET', path: '/api/organizations/', headers: (c) => ({ authorization: `TOKEN ${c.saved['key']}` }), status: 200 },
  {
    id: 'T3',
    does: 'POST /api/token/refresh/ exchanges a refresh token for an access token',
    op: 'api-token-refresh',
    as: 'none',
    method: 'POST',
    path: '/api/token/refresh/',
    body: (c) => ({ refresh: c.saved['key'] }),
    status: 200,
    check: (r, c) => {
      const body = r.json<{ access: string; expires_in: number }>();
      expect(body.access.split('.')).toHaveLength(3);
      expect(body.expires_in).toBe(300);
      c.saved['access'] = body.access;
    },
  },
  { id: 'T4', does: '`Bearer <access>` authenticates', op: 'api-memberships', as: 'none', method: 'GET', path: M, headers: (c) => ({ authorization: `Bearer ${c.saved['access']}` }), status: 200 },
  { id: 'T5', does: '`bearer <access>`: case-insensitive', op: 'api-memberships', as: 'none', method: 'GET', path: M, headers: (c) => ({ authorization: `bearer ${c.saved['access']}` }), status: 200 },
  { id: 'T6', does: 'the refresh call takes a form-encoded body too', op: 'api-token-refresh', as: 'none', method: 'POST', path: '/api/token/refresh/', encoding: 'form', body: (c) => ({ refresh: c.saved['key'] }), status: 200 },
  { id: 'T7', does: 'an unknown refresh token is 401', op: 'api-token-refresh', as: 'none', method: 'POST', path: '/api/token/refresh/', body: { refresh: `rg_${'A'.repeat(43)}` }, status: 401, code: 'ERR_UNAUTHENTICATED' },
  { id: 'T8', does: 'a forged access token is 401', op: 'api-memberships', as: 'none', method: 'GET', path: M, headers: (c) => ({ authorization: `Bearer ${forge(c.saved['access'] ?? '')}` }), status: 401, code: 'ERR_UNAUTHENTICATED' },
  { id: 'T9', does: 'another scheme (Basic) is 401', op: 'api-memberships', as: 'none', method: 'GET', path: M, headers: () => ({ authorization: 'Basic YWRtaW46YWRtaW4=' }), status: 401, code: 'ERR_UNAUTHENTICATED' },
  { id: 'T10', does: 'an API token key is not an access token', op: 'api-memberships', as: 'none', method: 'GET', path: M, headers: (c) => ({ authorization: `Bearer ${c.saved['key']}` }), status: 401, code: 'ERR_UNAUTHENTICATED' },
  {
    id: 'T11',
    does: 'revoking the API token ends its access tokens at once',
    op: 'api-memberships',
    as: 'none',
    method: 'GET',
    path: M,
    headers: (c) => ({ authorization: `Bearer ${c.saved['revokedAccess']}` }),
    status: 401,
    code: 'ERR_UNAUTHENTICATED',
  },
  {
    id: 'T12',
    does: 'deleting the member ends their access tokens at once',
    op: 'api-memberships',
    as: 'none',
    method: 'GET',
    path: M,
    headers: (c) => ({ authorization: `Bearer ${c.saved['deletedAccess']}` }),
    status: 401,
    code: 'ERR_UNAUTHENTICATED',
  },

  // --- whoami -----------------------------------------------------------------------------------------------
  {
    id: 'W1',
    does: 'whoami by token carries username, active_organization and org_membership',
    op: 'whoami',
    as: 'token',
    method: 'GET',
    path: '/api/current-user/whoami',
    status: 200,
    check: (r, c) =>
      expect(r.json()).toMatchObject({
        id: c.ids['AD'],
        username: PEOPLE.AD.email,
        email: PEOPLE.AD.email,
        active_organization: 1,
        org_membership: [{ organization_id: 1, role: 'AD', active: true }],
        organization: { id: 1, role: 'AD', role_source: 'saml' },
      }),
  },
  { id: 'W2', does: 'whoami by Bearer access token', op: 'whoami', as: 'none', method: 'GET', path: '/api/current-user/whoami', headers: (c) => ({ authorization: `Bearer ${c.saved['access']}` }), status: 200, check: (r) => expect(r.json()).toMatchObject({ username: PEOPLE.AD.email }) },
  { id: 'W3', does: 'whoami signed out is 401 in Label Studio’s error shape', op: 'whoami', as: 'none', method: 'GET', path: '/api/current-user/whoami', status: 401, code: 'ERR_UNAUTHENTICATED' },

  // --- errors -----------------------------------------------------------------------------------------------
  { id: 'E1', does: 'a method the route lacks is a JSON 405 with Allow', op: 'api-memberships', as: 'token', method: 'PUT', path: M, body: {}, status: 405, code: 'ERR_METHOD_NOT_ALLOWED', byRouter: true, check: (r) => expect(r.headers.get('allow')).toContain('PATCH') },
  { id: 'E2', does: 'a method the server does not know is a JSON 501', op: 'api-memberships', as: 'token', method: 'PROPFIND', path: M, status: 501, code: 'ERR_NOT_IMPLEMENTED', byRouter: true },
  { id: 'E3', does: 'an unknown path under /api/ is a JSON 404', op: 'api-memberships', as: 'token', method: 'GET', path: '/api/organizations/0/nothing-here', status: 404, code: 'ERR_NOT_FOUND', byRouter: true },
  { id: 'N1', does: 'updating the organization (Label Studio’s PATCH /api/organizations/{id}) is not provided: JSON 405', op: 'api-organization', as: 'token', method: 'PATCH', path: '/api/organizations/0', body: { title: 'Renamed' }, status: 405, code: 'ERR_METHOD_NOT_ALLOWED', byRouter: true },
  { id: 'N2', does: 'set-default-role is not provided: JSON 404', op: 'api-organization', as: 'token', method: 'PATCH', path: '/api/organizations/0/set-default-role', body: { default_role: 'AN' }, status: 404, code: 'ERR_NOT_FOUND', byRouter: true },
  { id: 'N3', does: 'member tags are not provided: JSON 404', op: 'api-organization', as: 'token', method: 'GET', path: '/api/organizations/0/member-tags', status: 404, code: 'ERR_NOT_FOUND', byRouter: true },
  { id: 'E4', does: 'a malformed JSON body is a JSON 400', op: 'api-memberships-patch', as: 'token', method: 'PATCH', path: M, headers: () => ({ 'content-type': 'application/json' }), body: { __raw: '{"user_id":' }, status: 400, code: 'ERR_BAD_REQUEST' },

  // --- users ------------------------------------------------------------------------------------------------
  {
    id: 'U1',
    does: 'GET /api/users/ lists the organization’s live members as users (a plain array)',
    op: 'api-users',
    as: 'token',
    method: 'GET',
    path: '/api/users/',
    status: 200,
    check: (r) => {
      const users = r.json<{ id: number; username: string; email: string; org_membership: unknown[] }[]>();
      expect(users.map((u) => u.email)).toContain(PEOPLE.AN.email);
      expect(users.map((u) => u.username)).not.toContain('Deleted User');
      expect(users[0]).toMatchObject({ id: expect.any(Number), username: expect.any(String), active_organization: 1, org_membership: [expect.objectContaining({ organization_id: 1 })] });
    },
  },
  { id: 'U2', does: 'GET /api/users/{id}/ is one user', op: 'api-user', as: 'token', method: 'GET', path: (c) => `/api/users/${c.ids['AN']}/`, status: 200, check: (r) => expect(r.json()).toMatchObject({ email: PEOPLE.AN.email, username: PEOPLE.AN.email }) },
  { id: 'U3', does: 'a user of no organization of the caller is 404', op: 'api-user', as: 'token', method: 'GET', path: '/api/users/999999/', status: 404, code: 'ERR_NOT_FOUND' },
  { id: 'U4', does: 'an unknown parameter on /api/users/ is 400', op: 'api-users', as: 'token', method: 'GET', path: '/api/users/', query: 'is_active=true', status: 400, code: 'ERR_UNKNOWN_PARAMETER' },

  // --- invites ----------------------------------------------------------------------------------------------
  { id: 'I1', does: 'GET /api/invite answers the invite link (the SSO login; no token)', op: 'api-invite-link', as: 'token', method: 'GET', path: '/api/invite', status: 200, check: (r, c) => expect(r.json()).toEqual({ token: null, invite_url: `${c.app.url}/sign-in/1` }) },
  { id: 'I2', does: 'POST /api/invite/reset-token: 201, the same link', op: 'api-invite-reset', as: 'token', method: 'POST', path: '/api/invite/reset-token', status: 201, check: (r, c) => expect(r.json()).toMatchObject({ invite_url: `${c.app.url}/sign-in/1` }) },
  {
    id: 'I3',
    does: 'POST /api/invite/send-email invites each address with the role',
    op: 'api-invite-send',
    as: 'token',
    method: 'POST',
    path: '/api/invite/send-email',
    body: { emails: ['one@acme.example', 'two@acme.example'], role: 'AN' },
    status: 200,
    check: (r) => expect(r.json<{ invited: Member[] }>().invited.map((m) => [m.user.email, m.role, m.role_source])).toEqual([
      ['one@acme.example', 'AN', 'api'],
      ['two@acme.example', 'AN', 'api'],
    ]),
  },
  { id: 'I4', does: 'send-email with an address that is a member: 400, nobody invited', op: 'api-invite-send', as: 'token', method: 'POST', path: '/api/invite/send-email', body: { emails: ['three@acme.example', PEOPLE.AN.email], role: 'AN' }, status: 400, code: 'ERR_MEMBER_EXISTS' },
  { id: 'I5', does: 'send-email with workspaces is refused, not ignored', op: 'api-invite-send', as: 'token', method: 'POST', path: '/api/invite/send-email', body: { emails: ['three@acme.example'], role: 'AN', workspaces: [1] }, status: 400, code: 'ERR_UNKNOWN_PARAMETER' },
  { id: 'I6', does: 'send-email cannot make an Owner', op: 'api-invite-send', as: 'token', method: 'POST', path: '/api/invite/send-email', body: { emails: ['three@acme.example'], role: 'OW' }, status: 400, code: 'ERR_INVALID_ROLE' },
  { id: 'I7', does: 'POST /api/invite/revoke removes an unused invitation', op: 'api-invite-revoke', as: 'token', method: 'POST', path: '/api/invite/revoke', body: { email: INVITEE }, status: 204 },
  { id: 'I8', does: 'revoking it again is 404', op: 'api-invite-revoke', as: 'token', method: 'POST', path: '/api/invite/revoke', body: { email: INVITEE }, status: 404, code: 'ERR_NOT_FOUND' },
  { id: 'I9', does: 'a member who signed in is not an invitation: 400', op: 'api-invite-revoke', as: 'token', method: 'POST', path: '/api/invite/revoke', body: { email: PEOPLE.RE.email }, status: 400, code: 'ERR_BAD_REQUEST' },

  // --- role sources and ownership ---------------------------------------------------------------------------
  {
    id: 'R1',
    does: 'role_source is from Label Studio’s set: the YAML Owner reads manual, a mapped role saml',
    op: 'api-memberships',
    as: 'token',
    method: 'GET',
    path: M,
    query: 'role=OW,AD&ordering=role',
    status: 200,
    check: (r) => {
      expect(r.json<Page>().results.map((m) => [m.role, m.role_source])).toEqual([
        ['AD', 'saml'],
        ['OW', 'manual'],
      ]);
    },
  },
  { id: 'Y1', does: 'PATCH role OW with transfer_ownership: true transfers ownership', op: 'api-memberships-patch', as: 'OW', method: 'PATCH', path: M, body: (c) => ({ user_id: c.ids['AD'], role: 'OW', transfer_ownership: true }), status: 200, check: (r) => expect(r.json()).toMatchObject({ role: 'OW', role_source: 'api' }) },
  { id: 'Y2', does: 'POST …/memberships/transfer-ownership hands it back', op: 'api-ownership-transfer', as: 'AD', method: 'POST', path: `${M}/transfer-ownership`, body: (c) => ({ user_id: c.ids['OW'] }), status: 200, check: (r, c) => expect(r.json()).toMatchObject({ role: 'OW', user: { id: c.ids['OW'] } }) },
];

/** The same token with the first character of its signature changed (the last one may be padding bits only). */
function forge(jwt: string): string {
  const [header, payload, signature = ''] = jwt.split('.');
  const first = signature.startsWith('A') ? 'B' : 'A';
  return `${header}.${payload}.${first}${signature.slice(1)}`;
}

let app: TestApp;
const browsers = new Map<Caller, Browser>();
const ctx: Ctx = { app: undefined as unknown as TestApp, ids: {}, saved: {} };

beforeAll(async () => {
  app = await startApp();
  (ctx as { app: TestApp }).app = app;
  browsers.set('OW', await signedIn(app, PEOPLE.OW));
  browsers.set('AD', await signedIn(app, PEOPLE.AD));
  browsers.set('MA', await signedIn(app, MANAGER));
  browsers.set('RE', await signedIn(app, PEOPLE.RE));
  browsers.set('none', app.browser());
  browsers.set('token', app.browser());
  await signedIn(app, PEOPLE.AN);
  await signedIn(app, PEOPLE.NO);
  await signedIn(app, { email: IDLE, groups: ['LS-Annotators'] });
  await app.db('users').where({ email: IDLE }).update({ last_login_at: new Date('1999-06-01T12:00:00Z') });
  const ad = browsers.get('AD') as Browser;
  for (const email of [INVITEE, 'gone@acme.example', ...bulk]) {
    const res = await call(app, ad, 'POST', '/api/organizations/0/invites', { body: { email } });
    expect(res.status, res.text).toBe(201);
  }
  const gone = await userIdOf(app, 'gone@acme.example');
  expect((await call(app, ad, 'DELETE', `${M}/${gone}`)).status).toBe(204);
  for (const [name, email] of [['OW', PEOPLE.OW.email], ['AD', PEOPLE.AD.email], ['MA', MANAGER.email], ['RE', PEOPLE.RE.email], ['AN', PEOPLE.AN.email], ['NO', PEOPLE.NO.email], ['INVITEE', INVITEE], ['bulk00', 'bulk00@acme.example']] as const) {
    ctx.ids[name] = await userIdOf(app, email);
  }
  const created = await call(app, ad, 'POST', '/api/tokens', { body: { name: 'compat' } });
  ctx.saved['key'] = created.json<{ key: string }>().key;

  // An access token whose API token is then revoked.
  const other = await call(app, ad, 'POST', '/api/tokens', { body: { name: 'to revoke' } });
  const otherToken = other.json<{ id: number; key: string }>();
  ctx.saved['revokedAccess'] = (await app.browser().request('POST', '/api/token/refresh', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: otherToken.key }) })).json<{ access: string }>().access;
  expect((await call(app, ad, 'DELETE', `/api/tokens/${otherToken.id}`)).status).toBe(204);

  // An access token of a second Administrator, who is then deleted.
  const admin2 = await signedIn(app, ADMIN2);
  const key2 = (await call(app, admin2, 'POST', '/api/tokens', { body: { name: 'admin2' } })).json<{ key: string }>().key;
  ctx.saved['deletedAccess'] = (await app.browser().request('POST', '/api/token/refresh', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: key2 }) })).json<{ access: string }>().access;
  const before = await app.browser().request('GET', M, { headers: { authorization: `Bearer ${ctx.saved['deletedAccess']}`, accept: 'application/json' } });
  expect(before.status).toBe(200);
  expect((await call(app, ad, 'DELETE', `${M}/${await userIdOf(app, ADMIN2.email)}`)).status).toBe(204);
});

afterAll(async () => {
  await app.close();
});

async function send(row: Row): Promise<TestResponse> {
  const b = browsers.get(row.as) as Browser;
  const rel = typeof row.path === 'function' ? row.path(ctx) : row.path;
  const query = typeof row.query === 'function' ? row.query(ctx) : row.query;
  const url = query === undefined ? rel : `${rel}?${query}`;
  const headers: Record<string, string> = { accept: 'application/json', ...(row.headers?.(ctx) ?? {}) };
  if (row.as === 'token') headers['authorization'] = `Token ${ctx.saved['key']}`;
  if (row.as !== 'none' && row.as !== 'token') headers['origin'] = app.url;
  const body = typeof row.body === 'function' ? row.body(ctx) : row.body;
  if (body === undefined) return b.request(row.method, url, { headers });
  if (typeof body['__raw'] === 'string') return b.request(row.method, url, { headers, body: body['__raw'] });
  const encoding = row.encoding ?? 'json';
  if (encoding === 'json') return b.request(row.method, url, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const fields = Object.fromEntries(Object.entries(body).filter(([k]) => k !== '__file').map(([k, v]) => [k, String(v)]));
  if (encoding === 'form') return b.request(row.method, url, { headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  const file = typeof body['__file'] === 'string' ? { name: body['__file'], content: 'not an avatar' } : undefined;
  const m = await multipart(fields, file);
  return b.request(row.method, url, { headers: { 'content-type': m.type, ...headers }, body: m.body });
}

describe('Label Studio compatibility table (docs/label-studio-compatibility.md)', () => {
  for (const row of ROWS) {
    it(`${row.id}: ${row.method} ${typeof row.path === 'string' ? row.path : '…'}${row.query === undefined ? '' : ' ?…'}: ${row.does}`, async () => {
      const before = row.status >= 400 ? await snapshot(app.db) : undefined;
      const res = await send(row);
      expect(res.status, res.text).toBe(row.status);
      if (row.status >= 400) {
        // Label Studio's error body plus rolegate's stable code; nothing changed.
        const body = res.json<{ id: string; status_code: number; detail: string; code: string; error: string }>();
        expect(res.headers.get('content-type')).toContain('application/json');
        expect(body).toMatchObject({ status_code: row.status, detail: expect.any(String), code: row.code, error: row.code });
        expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
        const after = await snapshot(app.db);
        expect(after.users).toEqual(before?.users);
        expect(after.memberships).toEqual(before?.memberships);
        expect(after.projects).toEqual(before?.projects);
      }
      await row.check?.(res, ctx);
    });
  }
});

type OpenApi = { paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>> };

describe('the table, the rows and the OpenAPI document agree', () => {
  it('every row is in the docs table and every docs row is a test', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/label-studio-compatibility.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| ([A-Z]\d+) \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(ROWS.map((r) => r.id).sort());
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('every row’s status is documented for its operation, and every parameter it sends is documented unless it is refused as unknown', async () => {
    const spec = (await app.browser().get('/api/openapi.json')).json<OpenApi>();
    const ops = new Map(Object.values(spec.paths).flatMap((methods) => Object.values(methods).map((op) => [op.operationId, op] as const)));
    const problems: string[] = [];
    for (const row of ROWS) {
      const op = ops.get(row.op);
      if (op === undefined) {
        problems.push(`${row.id}: no operation ${row.op}`);
        continue;
      }
      // 405/501 and an unknown path are the router's answers, not an operation's; the others must be documented.
      if (row.byRouter !== true && !Object.hasOwn(op.responses, String(row.status))) {
        problems.push(`${row.id}: ${row.op} does not document ${row.status}`);
      }
      const query = typeof row.query === 'function' ? row.query(ctx) : row.query;
      if (query === undefined) continue;
      const documented = new Set((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
      const sent = [...new URLSearchParams(query).keys()];
      const undocumented = sent.filter((k) => !documented.has(k));
      if (row.code === 'ERR_UNKNOWN_PARAMETER') {
        if (undocumented.length === 0) problems.push(`${row.id}: refuses parameters the document lists`);
      } else if (undocumented.length > 0) problems.push(`${row.id}: sends undocumented ${undocumented.join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('no refusal answers a status Label Studio’s SDK retries (408, 409, 429, 5xx other than 501)', () => {
    const retried = ROWS.filter((r) => r.status === 408 || r.status === 409 || r.status === 429 || (r.status >= 500 && r.status !== 501));
    expect(retried.map((r) => r.id)).toEqual([]);
  });
});
