/**
 * Typed reading of a parsed YAML document that keeps positions: every value is read through a `Field`
 * (key node, value node, path), and every problem is recorded as a ConfigIssue at the node it concerns.
 * Readers never throw and never stop at the first problem; they return `undefined` for a value they
 * rejected, and the caller carries on so that one run lists every issue.
 */
import { type LineCounter, type Scalar, type YAMLMap, isAlias, isMap, isNode, isScalar, isSeq } from 'yaml';
import type { ConfigIssue, ConfigIssueCode } from '../errors.js';
import { expandEnv, hasReference } from './expand.js';
import { didYouMean, oneOf, suggest } from './suggest.js';

/** A key with its value as written, or an element of a list (then `key` is null). */
export interface Field {
  readonly key: Scalar | null;
  /** A yaml node (Scalar, YAMLMap, YAMLSeq, Alias) or null. */
  readonly value: unknown;
  readonly path: string;
}

export interface Fields {
  readonly node: YAMLMap;
  readonly path: string;
  get(name: string): Field | undefined;
  /** Known keys an unknown key was taken for (`sesion_secret` → `session_secret`): already reported. */
  readonly misspelt: ReadonlySet<string>;
}

/** One group → role line of `roles` or a project's `groups`. */
export interface Entry extends Field {
  readonly key: Scalar;
  readonly name: string;
}

const SIMPLE_KEY = /^[A-Za-z0-9_-]+$/;

/** `organizations[0].roles.LS-Admins`; keys with other characters are quoted: `roles["CN=Admins,DC=x"]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (!SIMPLE_KEY.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

function isEmptyScalar(value: unknown): boolean {
  return isScalar(value) && value.value === null;
}

/** What was found, for "expected X, got Y". */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (isMap(value)) return 'a map';
  if (isSeq(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

export class Reader {
  readonly issues: ConfigIssue[] = [];
  /** Scalars whose `${…}` were expanded, with the result. */
  private readonly expanded = new WeakMap<Scalar, string>();
  /** Nodes already reported (unset variable, alias): read as "no value" without a second issue. */
  private readonly broken = new WeakSet<object>();

  constructor(
    readonly file: string,
    private readonly lineCounter: LineCounter,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** 1-based position of a node's first character (1:1 for the document itself). */
  position(node: unknown): { line: number; col: number } {
    if (isNode(node) && node.range) return this.lineCounter.linePos(node.range[0]);
    return { line: 1, col: 1 };
  }

  report(code: ConfigIssueCode, node: unknown, path: string, message: string): void {
    this.issues.push({ code, file: this.file, ...this.position(node), path, message });
  }

  /** Where a field's problems point: its value, or its key when the value is empty (`key:`). */
  anchor(field: Field): unknown {
    if (field.key !== null && (field.value === null || isEmptyScalar(field.value))) return field.key;
    return field.value;
  }

  reportField(code: ConfigIssueCode, field: Field, message: string): void {
    this.report(code, this.anchor(field), field.path, message);
  }

  /**
   * Expands `${VAR}` in every scalar value (never in keys) before anything is validated, and refuses
   * aliases: every rule must be written where it applies, so that its line identifies it.
   */
  prepare(node: unknown, path: string): void {
    if (isAlias(node)) {
      this.broken.add(node);
      this.report('ERR_CONFIG_YAML', node, path, `YAML aliases (*${node.source}) are not supported; write the value where it applies`);
    } else if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '?';
        this.prepare(pair.value, childPath(path, key));
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => this.prepare(item, childPath(path, i)));
    } else if (isScalar(node) && typeof node.value === 'string' && hasReference(node.value)) {
      const { value, unset, malformed } = expandEnv(node.value, this.env);
      for (const name of unset) {
        this.report('ERR_CONFIG_ENV', node, path, `environment variable ${name} is not set (write \${${name}:-default} for a fallback)`);
      }
      for (const ref of malformed) {
        this.report('ERR_CONFIG_ENV', node, path, `malformed reference ${JSON.stringify(ref)}; expected \${NAME} or \${NAME:-default}`);
      }
      if (unset.length > 0 || malformed.length > 0) this.broken.add(node);
      this.expanded.set(node, value);
    }
  }

  /**
   * The value of a scalar field after expansion, or the collection node itself. `fromEnv` is true when the
   * text came from a `${…}` reference: such a string may then be read as a number or boolean, so that
   * `port: ${PORT:-8080}` works.
   */
  private scalar(field: Field): { value: unknown; fromEnv: boolean } | undefined {
    const node = field.value;
    if (node !== null && typeof node === 'object' && this.broken.has(node)) return undefined;
    if (isScalar(node)) {
      const expanded = this.expanded.get(node);
      return expanded === undefined ? { value: node.value, fromEnv: false } : { value: expanded, fromEnv: true };
    }
    return { value: node, fromEnv: false };
  }

  isBroken(field: Field): boolean {
    return this.scalar(field) === undefined;
  }

  // ---- maps and lists -------------------------------------------------------------------------------------

  /**
   * A map with a closed set of keys. Unknown keys are errors (a misspelt key silently ignored is a
   * security bug), reported at the key with the nearest known key.
   */
  map(field: Field, what: string, allowed: readonly string[]): Fields | undefined {
    const node = field.value;
    if (!isMap(node)) {
      if (!this.isBroken(field)) this.reportField('ERR_CONFIG_TYPE', field, `expected ${what} (a map), got ${describe(this.valueOf(node))}`);
      return undefined;
    }
    const known = new Map<string, Field>();
    const misspelt = new Set<string>();
    for (const pair of node.items) {
      const key = pair.key;
      if (!isScalar(key)) {
        this.report('ERR_CONFIG_YAML', isNode(key) ? key : node, field.path, 'keys must be plain strings');
        continue;
      }
      const name = String(key.value);
      const path = childPath(field.path, name);
      if (typeof key.value !== 'string' || !allowed.includes(name)) {
        const hint = typeof key.value === 'string' ? suggest(name, allowed) : undefined;
        if (hint !== undefined) misspelt.add(hint);
        const mean = hint === undefined ? '' : `; did you mean "${hint}"?`;
        this.report('ERR_CONFIG_UNKNOWN_KEY', key, path, `unknown key "${name}"${mean} (allowed here: ${allowed.join(', ')})`);
        continue;
      }
      known.set(name, { key, value: pair.value, path });
    }
    return { node, path: field.path, get: (name) => known.get(name), misspelt };
  }

  /** A map whose keys are IdP group names (free-form, but strings, non-empty and without stray spaces). */
  entries(field: Field, what: string): Entry[] | undefined {
    const node = field.value;
    if (!isMap(node)) {
      if (!this.isBroken(field)) this.reportField('ERR_CONFIG_TYPE', field, `expected ${what} (a map of group → role), got ${describe(this.valueOf(node))}`);
      return undefined;
    }
    const out: Entry[] = [];
    for (const pair of node.items) {
      const key = pair.key;
      if (!isScalar(key)) {
        this.report('ERR_CONFIG_VALUE', isNode(key) ? key : node, field.path, 'group names must be plain strings');
        continue;
      }
      const raw = key.value;
      const name = typeof raw === 'string' ? raw : String(raw);
      const path = childPath(field.path, name);
      if (typeof raw !== 'string') {
        // YAML reads `123:` or `yes:`-like keys as numbers/booleans: the IdP sends strings, so say how to write one.
        this.report('ERR_CONFIG_TYPE', key, path, `group name ${name} is read as a ${raw === null ? 'null' : typeof raw}, not a string; quote it: "${name}"`);
        continue;
      }
      if (name.trim() === '') {
        this.report('ERR_CONFIG_VALUE', key, path, 'group name is empty');
        continue;
      }
      if (name.trim() !== name) {
        this.report('ERR_CONFIG_VALUE', key, path, `group name ${JSON.stringify(name)} has leading or trailing spaces; IdPs send group names without them`);
        continue;
      }
      out.push({ key, value: pair.value, path, name });
    }
    return out;
  }

  list(field: Field, what: string): Field[] | undefined {
    const node = field.value;
    if (!isSeq(node)) {
      if (!this.isBroken(field)) this.reportField('ERR_CONFIG_TYPE', field, `expected ${what} (a list), got ${describe(this.valueOf(node))}`);
      return undefined;
    }
    return node.items.map((item, i) => ({ key: null, value: item, path: childPath(field.path, i) }));
  }

  /** A required key: reported at the parent map when missing (unless a misspelling of it was reported). */
  required(fields: Fields, name: string, expected: string): Field | undefined {
    const field = fields.get(name);
    if (field === undefined && !fields.misspelt.has(name)) this.report('ERR_CONFIG_MISSING_KEY', fields.node, childPath(fields.path, name), `missing required key "${name}" (${expected})`);
    return field;
  }

  /** Whether a present key holds nothing (`key:` or `key: null`). */
  isNull(field: Field): boolean {
    return isEmptyScalar(field.value);
  }

  private valueOf(node: unknown): unknown {
    if (isScalar(node)) return this.expanded.get(node) ?? node.value;
    return node;
  }

  // ---- scalars --------------------------------------------------------------------------------------------

  string(field: Field, expected = 'a non-empty string'): string | undefined {
    const s = this.scalar(field);
    if (s === undefined) return undefined;
    if (typeof s.value !== 'string' || s.value.trim() === '') {
      this.reportField('ERR_CONFIG_VALUE', field, `expected ${expected}, got ${describe(s.value)}`);
      return undefined;
    }
    return s.value;
  }

  integer(field: Field, min: number, max: number, expected?: string): number | undefined {
    const s = this.scalar(field);
    if (s === undefined) return undefined;
    let value = s.value;
    if (s.fromEnv && typeof value === 'string' && /^-?\d+$/.test(value.trim())) value = Number(value.trim());
    // `1.0`, `0x10` and `1e3` are numbers to YAML but not how anyone writes an id or a port: decimal digits only.
    const source = isScalar(field.value) && !s.fromEnv ? field.value.source : undefined;
    const written = typeof source === 'string' && typeof value === 'number' && !/^[-+]?\d+$/.test(source) ? source : undefined;
    if (written !== undefined || typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      this.reportField('ERR_CONFIG_VALUE', field, `expected ${expected ?? `an integer from ${min} to ${max}`}, got ${written ?? describe(value)}`);
      return undefined;
    }
    return value;
  }

  boolean(field: Field): boolean | undefined {
    const s = this.scalar(field);
    if (s === undefined) return undefined;
    let value = s.value;
    if (s.fromEnv && (value === 'true' || value === 'false')) value = value === 'true';
    if (typeof value !== 'boolean') {
      // YAML 1.2: `yes`/`on` are strings, not booleans; say so rather than guess.
      this.reportField('ERR_CONFIG_TYPE', field, `expected true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** One of a closed set of strings, with a suggestion for near misses. */
  choice<T extends string>(field: Field, choices: readonly T[]): T | undefined {
    const s = this.scalar(field);
    if (s === undefined) return undefined;
    const value = s.value;
    const found = choices.find((c) => c === value);
    if (found !== undefined) return found;
    const hint = typeof value === 'string' ? didYouMean(value, choices) : '';
    this.reportField('ERR_CONFIG_VALUE', field, `expected ${oneOf(choices.map((c) => `"${c}"`))}, got ${describe(value)}${hint}`);
    return undefined;
  }
}
