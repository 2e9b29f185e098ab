/**
 * The User and Group resources as rolegate keeps them, and how a request body or a PATCH operation changes
 * them. Pure: no I/O, no clock. Everything here follows what Okta and Entra ID really send:
 *  - attribute names in any case (`"Primary"`, `DisplayName`), as RFC 7643 §2.1 makes them case-insensitive;
 *  - `op` in any case (`Replace`, `Add`, `Remove`);
 *  - booleans as JSON booleans or as the strings "true"/"false" in any case (Entra's default job sends "False");
 *  - `replace` without `path` whose value keys are themselves paths (`name.givenName`, URN-prefixed);
 *  - group `remove` by filter path `members[value eq "id"]`, and Entra's `remove` with `path: members` and a
 *    value list, which removes only the listed members (a bare `remove` of `members` empties the group, as
 *    RFC 7644 §3.5.2.2 says);
 *  - `id` inside a value (Okta's rename) is ignored when it is the resource's own id.
 * Attributes rolegate does not use (title, addresses, phone numbers, the enterprise extension, …) are
 * accepted and ignored; `password` is never kept.
 */
import type { AttrPath } from './filter.js';
import { CORE_GROUP_SCHEMA, CORE_USER_SCHEMA, parsePath } from './filter.js';
import { scimError } from './errors.js';

export interface ScimEmail {
  readonly value: string;
  readonly type: string | null;
  readonly primary: boolean;
}

export interface UserDoc {
  readonly userName: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly displayName: string | null;
  readonly externalId: string | null;
  readonly active: boolean;
  readonly emails: readonly ScimEmail[];
}

export interface GroupDoc {
  readonly displayName: string;
  readonly externalId: string | null;
  /** Member ids as sent (strings), without duplicates, in the order first seen. */
  readonly members: readonly string[];
}

export type PatchVerb = 'add' | 'replace' | 'remove';

export interface PatchOperation {
  readonly op: PatchVerb;
  readonly path: AttrPath | null;
  /** `undefined` when the operation carries no value. */
  readonly value: unknown;
}

const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const MAX_STRING = 1024;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A member of an object by name without case (RFC 7643 §2.1). */
export function member(obj: Obj, name: string): unknown {
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

/** RFC 7643 boolean, also as the strings Entra sends ("True", "False"). Anything else is invalidValue. */
export function scimBoolean(v: unknown, what: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const lower = v.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw scimError.value(`${what}: expected true or false`);
}

function scimString(v: unknown, what: string, opts: { nullable: true }): string | null;
function scimString(v: unknown, what: string, opts?: { nullable?: false }): string;
function scimString(v: unknown, what: string, opts: { nullable?: boolean } = {}): string | null {
  if (v === null && opts.nullable === true) return null;
  if (typeof v !== 'string') throw scimError.value(`${what}: expected a string`);
  if (v.length > MAX_STRING) throw scimError.value(`${what}: longer than ${MAX_STRING} characters`);
  return v;
}

function coreSchema(path: AttrPath, core: string): boolean {
  return path.schema === null || path.schema === core.toLowerCase();
}

// ---- the PatchOp message ------------------------------------------------------------------------------------

export function parsePatchBody(body: unknown): PatchOperation[] {
  if (!isObj(body)) throw scimError.syntax('expected a PatchOp JSON object');
  const schemas = member(body, 'schemas');
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_OP_SCHEMA.toLowerCase()))) {
    throw scimError.syntax(`schemas must contain ${PATCH_OP_SCHEMA}`);
  }
  const ops = member(body, 'Operations');
  if (!Array.isArray(ops) || ops.length === 0) throw scimError.syntax('Operations: expected a non-empty list');
  if (ops.length > 1000) throw scimError.syntax('Operations: more than 1000 operations');
  return ops.map((raw, i) => {
    if (!isObj(raw)) throw scimError.syntax(`Operations[${i}]: expected an object`);
    const opRaw = member(raw, 'op');
    const op = typeof opRaw === 'string' ? opRaw.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw scimError.syntax(`Operations[${i}].op: expected add, replace or remove`);
    const pathRaw = member(raw, 'path');
    if (pathRaw !== undefined && pathRaw !== null && typeof pathRaw !== 'string') throw scimError.path(`Operations[${i}].path: expected a string`);
    const path = typeof pathRaw === 'string' && pathRaw.trim() !== '' ? parsePath(pathRaw.trim()) : null;
    const value = member(raw, 'value');
    if (path === null && op === 'remove') throw scimError.noTarget(`Operations[${i}]: remove needs a path`);
    if (path === null && !isObj(value)) throw scimError.value(`Operations[${i}]: without a path, value must be an object of attributes`);
    if (op !== 'remove' && value === undefined) throw scimError.value(`Operations[${i}]: ${op} needs a value`);
    return { op, path, value };
  });
}

// ---- Users ---------------------------------------------------------------------------------------------------

export const EMPTY_USER: UserDoc = { userName: '', givenName: '', familyName: '', displayName: null, externalId: null, active: true, emails: [] };

function parseEmails(v: unknown): ScimEmail[] {
  if (v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((e, i) => {
    if (typeof e === 'string') return { value: scimString(e, `emails[${i}]`), type: null, primary: false };
    if (!isObj(e)) throw scimError.value(`emails[${i}]: expected an object with a value`);
    const type = member(e, 'type');
    const primary = member(e, 'primary');
    return {
      value: scimString(member(e, 'value'), `emails[${i}].value`),
      type: type === undefined || type === null ? null : scimString(type, `emails[${i}].type`),
      primary: primary === undefined || primary === null ? false : scimBoolean(primary, `emails[${i}].primary`),
    };
  });
}

function emailMatches(e: ScimEmail, path: AttrPath): boolean {
  return (path.filter ?? []).every((f) => {
    if (f.path.attr === 'type') return typeof f.value === 'string' && e.type !== null && e.type.toLowerCase() === f.value.toLowerCase();
    if (f.path.attr === 'primary') return e.primary === scimBoolean(f.value, 'primary');
    if (f.path.attr === 'value') return typeof f.value === 'string' && e.value.toLowerCase() === f.value.toLowerCase();
    throw scimError.path(`${path.text}: emails can be selected by type, primary or value`);
  });
}

/** One attribute of a User set, added or removed. `id` is the resource's own id (null on create). */
function applyUserAttr(doc: UserDoc, path: AttrPath, op: PatchVerb, value: unknown, id: string | null): UserDoc {
  if (!coreSchema(path, CORE_USER_SCHEMA)) return doc; // an extension (enterprise, vendor): accepted, not used
  const remove = op === 'remove';
  switch (path.attr) {
    case 'username':
      if (remove) throw scimError.value('userName is required and cannot be removed');
      return { ...doc, userName: scimString(value, 'userName') };
    case 'displayname':
      return { ...doc, displayName: remove ? null : scimString(value, 'displayName', { nullable: true }) };
    case 'externalid':
      return { ...doc, externalId: remove ? null : scimString(value, 'externalId', { nullable: true }) };
    case 'active':
      if (remove) throw scimError.value('active cannot be removed; set it to true or false');
      return { ...doc, active: scimBoolean(value, 'active') };
    case 'name': {
      if (path.sub === 'givenname') return { ...doc, givenName: remove ? '' : (scimString(value, 'name.givenName', { nullable: true }) ?? '') };
      if (path.sub === 'familyname') return { ...doc, familyName: remove ? '' : (scimString(value, 'name.familyName', { nullable: true }) ?? '') };
      if (path.sub !== null) return doc; // formatted, middleName, honorificPrefix, …
      if (remove || value === null) return { ...doc, givenName: '', familyName: '' };
      if (!isObj(value)) throw scimError.value('name: expected an object');
      let next = doc;
      const given = member(value, 'givenName');
      const family = member(value, 'familyName');
      if (given !== undefined) next = { ...next, givenName: scimString(given, 'name.givenName', { nullable: true }) ?? '' };
      if (family !== undefined) next = { ...next, familyName: scimString(family, 'name.familyName', { nullable: true }) ?? '' };
      return next;
    }
    case 'emails': {
      if (path.filter !== null) {
        const target = path.filter;
        const hit = doc.emails.some((e) => emailMatches(e, path));
        if (remove) return { ...doc, emails: doc.emails.filter((e) => !emailMatches(e, path)) };
        if (path.sub !== 'value' && path.sub !== null) return doc; // display, …
        if (path.sub === 'value') {
          const v = scimString(value, `${path.text}`);
          if (hit) return { ...doc, emails: doc.emails.map((e) => (emailMatches(e, path) ? { ...e, value: v } : e)) };
          // Entra sets emails[type eq "work"].value on a user without one: create that email.
          const typeCmp = target.find((f) => f.path.attr === 'type');
          const type = typeof typeCmp?.value === 'string' ? typeCmp.value : null;
          return { ...doc, emails: [...doc.emails, { value: v, type, primary: doc.emails.length === 0 }] };
        }
        const replacement = parseEmails(value)[0];
        if (replacement === undefined) return doc;
        return { ...doc, emails: hit ? doc.emails.map((e) => (emailMatches(e, path) ? replacement : e)) : [...doc.emails, replacement] };
      }
      if (path.sub !== null) return doc;
      if (remove) return { ...doc, emails: [] };
      const emails = parseEmails(value);
      return { ...doc, emails: op === 'add' ? [...doc.emails.filter((e) => !emails.some((n) => n.value.toLowerCase() === e.value.toLowerCase())), ...emails] : emails };
    }
    case 'id':
      if (id !== null && value !== id && String(value) !== id) throw scimError.mutability('id is read-only');
      return doc;
    default:
      // schemas, meta, password (never kept), groups (read-only), title, addresses, phoneNumbers, locale, …
      return doc;
  }
}

/**
 * Every key of a PATCH value object as an attribute path (`name.givenName`, `urn:…:User:userName`) with its
 * value, in order; a key that is no attribute name is not an attribute rolegate uses and is skipped.
 */
function objectPaths(value: Obj): Array<readonly [AttrPath, unknown]> {
  const out: Array<readonly [AttrPath, unknown]> = [];
  for (const [key, v] of Object.entries(value)) {
    try {
      out.push([parsePath(key), v]);
    } catch {
      // not an attribute name
    }
  }
  return out;
}

function applyUserObject(doc: UserDoc, value: Obj, op: PatchVerb, id: string | null): UserDoc {
  let next = doc;
  for (const [path, v] of objectPaths(value)) {
    if (path.schema !== null && path.attr !== '' && !coreSchema(path, CORE_USER_SCHEMA)) continue;
    next = applyUserAttr(next, path, op, v, id);
  }
  return next;
}

/** A whole User from a POST or PUT body. */
export function userFromBody(body: unknown, id: string | null): UserDoc {
  if (!isObj(body)) throw scimError.syntax('expected a User JSON object');
  const doc = applyUserObject({ ...EMPTY_USER }, body, 'replace', id);
  if (member(body, 'userName') === undefined) throw scimError.value('userName is required');
  return doc;
}

export function applyUserPatch(doc: UserDoc, ops: readonly PatchOperation[], id: string): UserDoc {
  let next = doc;
  for (const o of ops) {
    if (o.path === null) next = applyUserObject(next, o.value as Obj, o.op, id);
    else next = applyUserAttr(next, o.path, o.op, o.value, id);
  }
  return next;
}

/** The email a User's `emails` give: the work one, else the primary one, else the first. */
export function workEmail(doc: UserDoc): string | null {
  const e = doc.emails.find((x) => x.type?.toLowerCase() === 'work') ?? doc.emails.find((x) => x.primary) ?? doc.emails[0];
  return e?.value ?? null;
}

// ---- Groups --------------------------------------------------------------------------------------------------

function memberIds(value: unknown, what: string): string[] {
  if (value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((m, i) => {
    const v = isObj(m) ? member(m, 'value') : m;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    if (typeof v !== 'string' || v === '') throw scimError.value(`${what}[${i}].value: expected a member id`);
    return v;
  });
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

function applyGroupAttr(doc: GroupDoc, path: AttrPath, op: PatchVerb, value: unknown, id: string | null): GroupDoc {
  if (!coreSchema(path, CORE_GROUP_SCHEMA)) return doc;
  switch (path.attr) {
    case 'displayname':
      if (op === 'remove') throw scimError.value('displayName is required and cannot be removed');
      return { ...doc, displayName: scimString(value, 'displayName') };
    case 'externalid':
      return { ...doc, externalId: op === 'remove' ? null : scimString(value, 'externalId', { nullable: true }) };
    case 'members': {
      if (path.filter !== null) {
        // members[value eq "id"]: only `remove` names its target this way in practice (Okta, Entra with the flag).
        if (op !== 'remove') throw scimError.path(`${path.text}: only remove may select members by filter`);
        const ids = path.filter.map((f) => {
          if (f.path.attr !== 'value' || f.path.sub !== null || (typeof f.value !== 'string' && typeof f.value !== 'number')) {
            throw scimError.path(`${path.text}: members are selected by value eq "id"`);
          }
          return String(f.value);
        });
        // Joined by `and`, the comparisons select one member only when they all name it.
        const target = ids.every((x) => x === ids[0]) ? ids.slice(0, 1) : [];
        return { ...doc, members: doc.members.filter((m) => !target.includes(m)) };
      }
      if (path.sub !== null) throw scimError.path(`${path.text}: members can be changed as a whole or selected by value`);
      if (op === 'remove') {
        // Entra (without its compliance flag) names the members to remove in `value`: remove exactly those.
        if (value === undefined || value === null) return { ...doc, members: [] };
        const gone = new Set(memberIds(value, 'members'));
        return { ...doc, members: doc.members.filter((m) => !gone.has(m)) };
      }
      const ids = memberIds(value, 'members');
      return { ...doc, members: op === 'add' ? union(doc.members, ids) : union([], ids) };
    }
    case 'id':
      if (id !== null && value !== id && String(value) !== id) throw scimError.mutability('id is read-only');
      return doc;
    default:
      return doc; // schemas, meta, and attributes rolegate does not use
  }
}

function applyGroupObject(doc: GroupDoc, value: Obj, op: PatchVerb, id: string | null): GroupDoc {
  let next = doc;
  for (const [path, v] of objectPaths(value)) next = applyGroupAttr(next, path, op, v, id);
  return next;
}

export function groupFromBody(body: unknown, id: string | null): GroupDoc {
  if (!isObj(body)) throw scimError.syntax('expected a Group JSON object');
  if (member(body, 'displayName') === undefined) throw scimError.value('displayName is required');
  return applyGroupObject({ displayName: '', externalId: null, members: [] }, body, 'replace', id);
}

export function applyGroupPatch(doc: GroupDoc, ops: readonly PatchOperation[], id: string): GroupDoc {
  let next = doc;
  for (const o of ops) {
    if (o.path === null) next = applyGroupObject(next, o.value as Obj, o.op, id);
    else next = applyGroupAttr(next, o.path, o.op, o.value, id);
  }
  return next;
}
