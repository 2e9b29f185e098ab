/**
 * The SCIM operations on Users and Groups of one organization (the one of the SCIM token). Each write is one
 * transaction, serialized per organization with the admin API's writes: the SCIM tables change, then every
 * member whose groups or `active` changed is decided again and its role changes are made (effects.ts). A
 * refused push (a guard) changes nothing and leaves one audit row.
 */
import type { Config, OrganizationConfig } from '../configuration/types.js';
import { appendAudit } from '../db/audit.js';
import type { Db, DbOrTrx } from '../db/connect.js';
import { isUniqueViolation } from '../db/rows.js';
import type { MemberWriter } from '../members/write.js';
import type { GroupCondition, ScimProfile, UserCondition } from '../db/scim.js';
import {
  addGroupMembers,
  deleteScimGroup,
  findScimGroup,
  findScimUser,
  groupIdByName,
  groupMemberIds,
  groupMembers,
  groupsOfUsers,
  insertScimGroup,
  insertScimUser,
  linkScimUsers,
  listScimGroups,
  listScimTokens,
  listScimUsers,
  liveMemberIds,
  removeGroupMembers,
  saveScimAttributes,
  touchScimGroup,
  updateScimGroup,
  userIdByEmail,
} from '../db/scim.js';
import type { ScimEffectContext } from './effects.js';
import { GuardRefusal, reevaluate, softDelete } from './effects.js';
import { scimError } from './errors.js';
import { groupFilter, userFilter } from './filter.js';
import type { Projection } from './render.js';
import { renderGroup, renderUser, userDocOf, wants } from './render.js';
import type { GroupDoc, UserDoc } from './resources.js';
import { applyGroupPatch, applyUserPatch, groupFromBody, parsePatchBody, userFromBody, workEmail } from './resources.js';
import { MAX_RESULTS, listResponse } from './schemas.js';
import { authenticateScimKey, createScimToken, revokeScimTokenById } from './tokens.js';

/** One SCIM request as the HTTP layer describes it (the organization is the one of the token). */
export interface ScimRequest {
  readonly config: Config;
  readonly org: OrganizationConfig;
  readonly now: Date;
  readonly ip: string | null;
  /** `{public_url}/scim/v2`, for `meta.location` and `$ref`. */
  readonly base: string;
  /** e.g. `PATCH /Groups/7`, recorded in audit reasons. */
  readonly request: string;
}

interface ScimContext extends ScimRequest {
  readonly db: Db;
  readonly writer: MemberWriter;
}

export interface Page {
  readonly startIndex: number;
  readonly count: number;
}

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:".][^\s@<>(),;:"]*$/;

/** `userName` must be an email: the member's email is its lower-cased form (SAML logins find them by it). */
function emailOf(userName: string): string {
  const email = userName.trim().toLowerCase();
  if (email.length > 320 || !EMAIL.test(email)) throw scimError.value('userName: expected an email address (the member signs in with it)');
  return email;
}

function profileOf(doc: UserDoc): ScimProfile {
  const work = workEmail(doc);
  return {
    email: emailOf(doc.userName),
    firstName: doc.givenName.slice(0, 255),
    lastName: doc.familyName.slice(0, 255),
    userName: doc.userName,
    externalId: doc.externalId,
    displayName: doc.displayName,
    emailLower: work === null ? null : work.toLowerCase(),
    emails: doc.emails,
    active: doc.active,
  };
}

/** A resource id in a URL or a member value: our ids are positive integers; anything else names nothing. */
function idOf(raw: string): number | undefined {
  return /^[1-9]\d{0,14}$/.test(raw) ? Number(raw) : undefined;
}

function effectContext(c: ScimContext): ScimEffectContext {
  return { config: c.config, org: c.org, writer: c.writer, now: c.now, ip: c.ip, request: c.request };
}

/** One write: a transaction under the organization lock; a refusal is audited in a transaction of its own. */
async function write<T>(c: ScimContext, fn: (trx: DbOrTrx) => Promise<T>): Promise<T> {
  try {
    return await c.db.transaction(async (trx) => {
      await c.writer.lock(trx, c.org.id);
      return fn(trx);
    });
  } catch (err) {
    if (err instanceof GuardRefusal) await appendAudit(c.db, err.events, c.now);
    if (isUniqueViolation(err)) throw scimError.uniqueness('a resource with this userName or displayName already exists');
    throw err;
  }
}

function offset(page: Page): { offset: number; limit: number } {
  return { offset: page.startIndex - 1, limit: Math.min(page.count, MAX_RESULTS) };
}

// ---- Users ---------------------------------------------------------------------------------------------------

function userConditions(filter: string | undefined): UserCondition[] {
  if (filter === undefined) return [];
  return userFilter(filter).map((f): UserCondition => {
    switch (f.attr) {
      case 'userName':
        return { attr: 'email', value: f.value.trim().toLowerCase() };
      case 'externalId':
        return { attr: 'externalId', value: f.value };
      case 'id':
        return { attr: 'id', value: idOf(f.value) ?? -1 };
      case 'email':
        return { attr: 'anyEmail', value: f.value.trim().toLowerCase() };
    }
  });
}

async function listUsers(c: ScimContext, q: { filter?: string; page: Page; projection: Projection }): Promise<unknown> {
  const where = userConditions(q.filter);
  const { total, rows } = await listScimUsers(c.db, c.org.id, where, offset(q.page));
  const groups = wants(q.projection, 'groups') ? await groupsOfUsers(c.db, rows.map((r) => r.userId)) : new Map();
  return listResponse(
    rows.map((r) => renderUser(c.base, r, groups.get(r.userId) ?? [], q.projection)),
    total,
    q.page.startIndex,
  );
}

async function userResource(c: ScimContext, db: DbOrTrx, userId: number, projection?: Projection): Promise<Record<string, unknown>> {
  const row = await findScimUser(db, c.org.id, userId);
  if (row === undefined) throw scimError.notFound(`User ${userId} not found`);
  const groups = (await groupsOfUsers(db, [userId])).get(userId) ?? [];
  return renderUser(c.base, row, groups, projection);
}

async function getUser(c: ScimContext, rawId: string, projection: Projection): Promise<Record<string, unknown>> {
  const id = idOf(rawId);
  if (id === undefined) throw scimError.notFound(`User ${rawId} not found`);
  return userResource(c, c.db, id, projection);
}

async function createUser(c: ScimContext, body: unknown): Promise<{ id: number; resource: Record<string, unknown> }> {
  const profile = profileOf(userFromBody(body, null));
  const id = await write(c, async (trx) => {
    if ((await userIdByEmail(trx, c.org.id, profile.email)) !== undefined) {
      // The IdP should have found this member with a userName filter and linked it.
      throw scimError.uniqueness(`a member with userName ${profile.userName} already exists; find it with filter=userName eq "…"`);
    }
    const userId = await insertScimUser(trx, c.org.id, profile, c.now);
    await reevaluate(trx, effectContext(c), [userId]);
    return userId;
  });
  return { id, resource: await userResource(c, c.db, id) };
}

async function updateUser(c: ScimContext, rawId: string, next: (current: UserDoc, id: string) => UserDoc): Promise<Record<string, unknown>> {
  const id = idOf(rawId);
  if (id === undefined) throw scimError.notFound(`User ${rawId} not found`);
  await write(c, async (trx) => {
    const row = await findScimUser(trx, c.org.id, id);
    if (row === undefined) throw scimError.notFound(`User ${rawId} not found`);
    const profile = profileOf(next(userDocOf(row), String(id)));
    if (profile.email !== row.email) {
      const holder = await userIdByEmail(trx, c.org.id, profile.email);
      if (holder !== undefined && holder !== id) throw scimError.uniqueness(`another member has userName ${profile.userName}`);
    }
    await saveScimAttributes(trx, c.org.id, id, profile, c.now);
    await reevaluate(trx, effectContext(c), [id]);
  });
  return userResource(c, c.db, id);
}

function replaceUser(c: ScimContext, rawId: string, body: unknown): Promise<Record<string, unknown>> {
  return updateUser(c, rawId, (_current, id) => userFromBody(body, id));
}

function patchUser(c: ScimContext, rawId: string, body: unknown): Promise<Record<string, unknown>> {
  const ops = parsePatchBody(body);
  return updateUser(c, rawId, (current, id) => applyUserPatch(current, ops, id));
}

async function deleteUser(c: ScimContext, rawId: string): Promise<void> {
  const id = idOf(rawId);
  if (id === undefined) throw scimError.notFound(`User ${rawId} not found`);
  await write(c, async (trx) => {
    if ((await findScimUser(trx, c.org.id, id)) === undefined) throw scimError.notFound(`User ${rawId} not found`);
    await softDelete(trx, effectContext(c), id);
  });
}

// ---- Groups --------------------------------------------------------------------------------------------------

function groupConditions(filter: string | undefined): GroupCondition[] {
  if (filter === undefined) return [];
  return groupFilter(filter).map((f): GroupCondition => (f.attr === 'id' ? { attr: 'id', value: idOf(f.value) ?? -1 } : f));
}

async function listGroups(c: ScimContext, q: { filter?: string; page: Page; projection: Projection }): Promise<unknown> {
  const { total, rows } = await listScimGroups(c.db, c.org.id, groupConditions(q.filter), offset(q.page));
  const members = wants(q.projection, 'members') ? await groupMembers(c.db, rows.map((r) => r.id)) : null;
  return listResponse(
    rows.map((r) => renderGroup(c.base, r, members === null ? null : (members.get(r.id) ?? []), q.projection)),
    total,
    q.page.startIndex,
  );
}

async function groupResource(c: ScimContext, db: DbOrTrx, id: number, projection?: Projection): Promise<Record<string, unknown>> {
  const row = await findScimGroup(db, c.org.id, id);
  if (row === undefined) throw scimError.notFound(`Group ${id} not found`);
  const members = projection === undefined || wants(projection, 'members') ? ((await groupMembers(db, [id])).get(id) ?? []) : null;
  return renderGroup(c.base, row, members, projection);
}

async function getGroup(c: ScimContext, rawId: string, projection: Projection): Promise<Record<string, unknown>> {
  const id = idOf(rawId);
  if (id === undefined) throw scimError.notFound(`Group ${rawId} not found`);
  return groupResource(c, c.db, id, projection);
}

/** Member values that must name live members of this organization (an id of another one names nothing). */
async function liveMembers(trx: DbOrTrx, c: ScimContext, values: readonly string[]): Promise<number[]> {
  const ids = values.map((v) => idOf(v));
  const live = await liveMemberIds(trx, c.org.id, ids.filter((x): x is number => x !== undefined));
  const missing = values.filter((_v, i) => {
    const id = ids[i];
    return id === undefined || !live.has(id);
  });
  if (missing.length > 0) {
    throw scimError.value(`members: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''} are not Users of this organization`);
  }
  return ids as number[];
}

async function ensureNameFree(trx: DbOrTrx, c: ScimContext, displayName: string, self: number | null): Promise<void> {
  if (displayName.trim() === '') throw scimError.value('displayName must not be empty');
  if (displayName.length > 255) throw scimError.value('displayName: longer than 255 characters');
  const holder = await groupIdByName(trx, c.org.id, displayName);
  if (holder !== undefined && holder !== self) throw scimError.uniqueness(`a Group named ${displayName} already exists`);
}

async function createGroup(c: ScimContext, body: unknown): Promise<{ id: number; resource: Record<string, unknown> }> {
  const doc = groupFromBody(body, null);
  const id = await write(c, async (trx) => {
    await ensureNameFree(trx, c, doc.displayName, null);
    const members = await liveMembers(trx, c, doc.members);
    const groupId = await insertScimGroup(trx, c.org.id, doc, c.now);
    await addGroupMembers(trx, groupId, members, c.now);
    await linkScimUsers(trx, c.org.id, members, c.now);
    await reevaluate(trx, effectContext(c), members);
    return groupId;
  });
  return { id, resource: await groupResource(c, c.db, id) };
}

/** PUT or PATCH: the group becomes `next(current)`; members added, removed or renamed are decided again. */
async function updateGroup(c: ScimContext, rawId: string, next: (current: GroupDoc, id: string) => GroupDoc): Promise<number> {
  const id = idOf(rawId);
  if (id === undefined) throw scimError.notFound(`Group ${rawId} not found`);
  await write(c, async (trx) => {
    const row = await findScimGroup(trx, c.org.id, id);
    if (row === undefined) throw scimError.notFound(`Group ${rawId} not found`);
    const before = await groupMemberIds(trx, id);
    const doc = next({ displayName: row.displayName, externalId: row.externalId, members: before.map(String) }, String(id));
    const renamed = doc.displayName !== row.displayName;
    if (renamed) await ensureNameFree(trx, c, doc.displayName, id);
    const had = new Set(before);
    const addedValues = doc.members.filter((v) => {
      const n = idOf(v);
      return n === undefined || !had.has(n);
    });
    const added = await liveMembers(trx, c, addedValues);
    const keep = new Set(doc.members.map((v) => idOf(v)).filter((x): x is number => x !== undefined));
    const removed = before.filter((m) => !keep.has(m));
    if (renamed || doc.externalId !== row.externalId) await updateScimGroup(trx, c.org.id, id, doc, c.now);
    else await touchScimGroup(trx, id, c.now);
    await removeGroupMembers(trx, id, removed);
    await addGroupMembers(trx, id, added, c.now);
    await linkScimUsers(trx, c.org.id, added, c.now);
    // A renamed group may start or stop matching a mapped group: every member is decided again.
    await reevaluate(trx, effectContext(c), renamed ? [...before, ...added] : [...added, ...removed]);
  });
  return id;
}

async function replaceGroup(c: ScimContext, rawId: string, body: unknown): Promise<Record<string, unknown>> {
  const id = await updateGroup(c, rawId, (_current, gid) => groupFromBody(body, gid));
  return groupResource(c, c.db, id);
}

async function patchGroup(c: ScimContext, rawId: string, body: unknown): Promise<void> {
  const ops = parsePatchBody(body);
  await updateGroup(c, rawId, (current, gid) => applyGroupPatch(current, ops, gid));
}

async function deleteGroup(c: ScimContext, rawId: string): Promise<void> {
  const id = idOf(rawId);
  if (id === undefined) throw scimError.notFound(`Group ${rawId} not found`);
  await write(c, async (trx) => {
    if ((await findScimGroup(trx, c.org.id, id)) === undefined) throw scimError.notFound(`Group ${rawId} not found`);
    const members = await groupMemberIds(trx, id);
    await deleteScimGroup(trx, c.org.id, id);
    await reevaluate(trx, effectContext(c), members);
  });
}

/** The SCIM operations bound to a database and the write path (app.ts binds them for the HTTP layer). */
export function createScimService(db: Db, writer: MemberWriter) {
  const c = (r: ScimRequest): ScimContext => ({ ...r, db, writer });
  return {
    authenticate: (key: string, now: Date) => authenticateScimKey(db, key, now),
    createToken: (t: Parameters<typeof createScimToken>[1], now: Date) => createScimToken(db, t, now),
    revokeToken: (t: Parameters<typeof revokeScimTokenById>[1], now: Date) => revokeScimTokenById(db, t, now),
    listTokens: (organizationId: number) => listScimTokens(db, organizationId),
    listUsers: (r: ScimRequest, q: { filter?: string; page: Page; projection: Projection }) => listUsers(c(r), q),
    getUser: (r: ScimRequest, id: string, projection: Projection) => getUser(c(r), id, projection),
    createUser: (r: ScimRequest, body: unknown) => createUser(c(r), body),
    replaceUser: (r: ScimRequest, id: string, body: unknown) => replaceUser(c(r), id, body),
    patchUser: (r: ScimRequest, id: string, body: unknown) => patchUser(c(r), id, body),
    deleteUser: (r: ScimRequest, id: string) => deleteUser(c(r), id),
    listGroups: (r: ScimRequest, q: { filter?: string; page: Page; projection: Projection }) => listGroups(c(r), q),
    getGroup: (r: ScimRequest, id: string, projection: Projection) => getGroup(c(r), id, projection),
    createGroup: (r: ScimRequest, body: unknown) => createGroup(c(r), body),
    replaceGroup: (r: ScimRequest, id: string, body: unknown) => replaceGroup(c(r), id, body),
    patchGroup: (r: ScimRequest, id: string, body: unknown) => patchGroup(c(r), id, body),
    deleteGroup: (r: ScimRequest, id: string) => deleteGroup(c(r), id),
  };
}

export type ScimService = ReturnType<typeof createScimService>;
