/**
 * SCIM attribute paths and filters (RFC 7644 §3.4.2.2, §3.5.2), restricted on purpose to what Okta and Entra
 * send: `eq` comparisons joined by `and`, on a few attributes. Attribute names and operators are compared
 * without case (§3.4.2.2); everything else (`or`, `not`, `co`, `sw`, `pr`, grouping, other attributes) is a
 * 400 `invalidFilter`. Answering an unsupported filter with an unfiltered list is how an IdP ends up
 * creating duplicates or treating every member as "not found", so refusing is the safe answer.
 *
 * Written by hand rather than with a general SCIM filter library: the accepted language is a handful of
 * productions, and a full parser would accept operators that must be refused here.
 */
import { scimError } from './errors.js';

export const CORE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** One `attrPath eq value` comparison. `value` is the compared literal as text (`null` for JSON null). */
export interface Comparison {
  readonly path: AttrPath;
  readonly value: string | boolean | number | null;
}

/**
 * `[schema:]attr[.sub]` or `[schema:]attr[filter][.sub]`. `attr` and `sub` are lower-cased; `schema` is the
 * URN prefix as written (lower-cased) or null.
 */
export interface AttrPath {
  readonly schema: string | null;
  readonly attr: string;
  readonly sub: string | null;
  readonly filter: readonly Comparison[] | null;
  /** As written, for messages. */
  readonly text: string;
}

const NAME = /^[A-Za-z$][\w$-]*$/;

class Cursor {
  pos = 0;
  constructor(readonly text: string, readonly fail: (detail: string) => Error) {}
  done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  skipSpace(): number {
    const start = this.pos;
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
    return this.pos - start;
  }
  /** Up to the next space outside brackets and quotes (an attribute path such as `emails[type eq "work"].value`). */
  pathToken(): string {
    const start = this.pos;
    let depth = 0;
    while (!this.done()) {
      const c = this.peek();
      if (c === '"') {
        this.quoted();
        continue;
      }
      if (c === '[') depth++;
      else if (c === ']') {
        if (depth === 0) break;
        depth--;
      } else if ((c === ' ' || c === '\t') && depth === 0) break;
      this.pos++;
    }
    if (depth !== 0) throw this.fail(`unbalanced "[" in "${this.text}"`);
    return this.text.slice(start, this.pos);
  }
  word(): string {
    const start = this.pos;
    while (!this.done() && this.peek() !== ' ' && this.peek() !== '\t' && this.peek() !== ']') this.pos++;
    return this.text.slice(start, this.pos);
  }
  /** A JSON string literal starting at the cursor; returns its decoded value. */
  quoted(): string {
    const start = this.pos;
    this.pos++; // opening quote
    while (!this.done()) {
      const c = this.peek();
      if (c === '\\') this.pos += 2;
      else if (c === '"') {
        this.pos++;
        try {
          return JSON.parse(this.text.slice(start, this.pos)) as string;
        } catch {
          throw this.fail(`invalid string literal ${this.text.slice(start, this.pos)}`);
        }
      } else this.pos++;
    }
    throw this.fail('unterminated string literal');
  }
}

function parseValue(c: Cursor): Comparison['value'] {
  if (c.peek() === '"') return c.quoted();
  const raw = c.word();
  if (raw === '') throw c.fail('a comparison value is missing');
  const lower = raw.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return raw;
  // Entra has been seen sending unquoted values (`externalId eq jyoung`); read them as strings rather than
  // answer "no match", which would make it create a duplicate member.
  if (/^[\w.@+-]+$/.test(raw)) return raw;
  throw c.fail(`invalid comparison value ${raw}`);
}

function parseConjunction(c: Cursor, nested: boolean): Comparison[] {
  const out: Comparison[] = [];
  for (;;) {
    c.skipSpace();
    if (c.peek() === '(') throw c.fail('grouping with parentheses is not supported; use comparisons joined by "and"');
    const pathText = c.pathToken();
    if (pathText === '') throw c.fail('an attribute name is missing');
    if (pathText.toLowerCase() === 'not' || pathText.toLowerCase().startsWith('not(')) throw c.fail('"not" is not supported; only "eq" joined by "and"');
    const path = parsePath(pathText, c.fail, !nested);
    if (c.skipSpace() === 0) throw c.fail(`expected an operator after ${pathText}`);
    const op = c.word().toLowerCase();
    if (op !== 'eq') throw c.fail(`operator "${op}" is not supported; only "eq" joined by "and"`);
    if (c.skipSpace() === 0) throw c.fail('expected a value after "eq"');
    const value = parseValue(c);
    out.push({ path, value });
    c.skipSpace();
    if (c.done() || (nested && c.peek() === ']')) return out;
    const joiner = c.word().toLowerCase();
    if (joiner !== 'and') throw c.fail(`"${joiner}" is not supported; comparisons are joined by "and"`);
    if (c.skipSpace() === 0) throw c.fail('expected a comparison after "and"');
  }
}

/** Parse `[urn…:]attr[.sub]` or `attr[filter][.sub]`. */
export function parsePath(text: string, fail: (detail: string) => Error = scimError.path, allowFilter = true): AttrPath {
  const bracket = text.indexOf('[');
  const head = bracket < 0 ? text : text.slice(0, bracket);
  let schema: string | null = null;
  let rest = head;
  if (/^urn:/i.test(head)) {
    const cut = head.lastIndexOf(':');
    schema = head.slice(0, cut).toLowerCase();
    rest = head.slice(cut + 1);
  }
  let attr = rest;
  let sub: string | null = null;
  let filter: Comparison[] | null = null;
  if (bracket >= 0) {
    if (!allowFilter) throw fail(`a filter inside a filter is not supported: "${text}"`);
    const close = text.lastIndexOf(']');
    if (close < bracket) throw fail(`unbalanced "[" in "${text}"`);
    const inner = new Cursor(text.slice(bracket + 1, close), fail);
    filter = parseConjunction(inner, true);
    if (!inner.done()) throw fail(`unexpected "${inner.text.slice(inner.pos)}" in "${text}"`);
    const after = text.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith('.')) throw fail(`unexpected "${after}" after "]" in "${text}"`);
      sub = after.slice(1);
    }
  } else {
    const dot = rest.indexOf('.');
    if (dot >= 0) {
      attr = rest.slice(0, dot);
      sub = rest.slice(dot + 1);
    }
  }
  if (!NAME.test(attr) || (sub !== null && !NAME.test(sub))) throw fail(`"${text}" is not an attribute path`);
  return { schema, attr: attr.toLowerCase(), sub: sub === null ? null : sub.toLowerCase(), filter, text };
}

/** Parse a whole `filter=` expression into comparisons joined by `and`. */
export function parseFilter(text: string): Comparison[] {
  if (text.length > 4096) throw scimError.filter('the filter is longer than 4096 characters');
  const c = new Cursor(text.trim(), scimError.filter);
  if (c.done()) throw scimError.filter('the filter is empty');
  return parseConjunction(c, false);
}

// ---- what each resource type may be filtered on ------------------------------------------------------------

export type UserFilter =
  | { readonly attr: 'userName'; readonly value: string }
  | { readonly attr: 'externalId'; readonly value: string }
  | { readonly attr: 'id'; readonly value: string }
  | { readonly attr: 'email'; readonly value: string };

export type GroupFilter =
  | { readonly attr: 'displayName'; readonly value: string }
  | { readonly attr: 'externalId'; readonly value: string }
  | { readonly attr: 'id'; readonly value: string };

function schemaOk(path: AttrPath, core: string): boolean {
  return path.schema === null || path.schema === core.toLowerCase();
}

function text(cmp: Comparison): string {
  if (typeof cmp.value !== 'string') throw scimError.filter(`${cmp.path.text}: expected a string value`);
  return cmp.value;
}

/** `emails[type eq "work"]` / `emails[primary eq true]`: the one stored email; other selectors are refused. */
function emailSelectorOk(filter: readonly Comparison[] | null): boolean {
  if (filter === null) return true;
  return filter.every((f) => {
    if (f.path.sub !== null || f.path.filter !== null) return false;
    if (f.path.attr === 'type') return typeof f.value === 'string' && f.value.toLowerCase() === 'work';
    // Entra writes booleans as strings ("True") in filters too.
    if (f.path.attr === 'primary') return f.value === true || (typeof f.value === 'string' && f.value.toLowerCase() === 'true');
    return false;
  });
}

export function userFilter(text_: string): UserFilter[] {
  return parseFilter(text_).map((cmp) => {
    const p = cmp.path;
    if (!schemaOk(p, CORE_USER_SCHEMA)) throw scimError.filter(`filtering on ${p.text} is not supported`);
    if (p.filter === null && p.sub === null) {
      if (p.attr === 'username') return { attr: 'userName', value: text(cmp) };
      if (p.attr === 'externalid') return { attr: 'externalId', value: text(cmp) };
      if (p.attr === 'id') return { attr: 'id', value: text(cmp) };
      if (p.attr === 'emails') return { attr: 'email', value: text(cmp) };
    }
    // `emails.value` or `emails[type eq "work"].value` (a bracketed selector needs its `.value`, RFC 7644 §3.4.2.2).
    if (p.attr === 'emails' && p.sub === 'value' && emailSelectorOk(p.filter)) return { attr: 'email', value: text(cmp) };
    throw scimError.filter(`filtering on ${p.text} is not supported (userName, externalId, id, emails.value, emails[type eq "work"].value)`);
  });
}

export function groupFilter(text_: string): GroupFilter[] {
  return parseFilter(text_).map((cmp) => {
    const p = cmp.path;
    if (!schemaOk(p, CORE_GROUP_SCHEMA) || p.filter !== null || p.sub !== null) throw scimError.filter(`filtering on ${p.text} is not supported`);
    if (p.attr === 'displayname') return { attr: 'displayName', value: text(cmp) };
    if (p.attr === 'externalid') return { attr: 'externalId', value: text(cmp) };
    if (p.attr === 'id') return { attr: 'id', value: text(cmp) };
    throw scimError.filter(`filtering on ${p.text} is not supported (displayName, externalId, id)`);
  });
}
