/**
 * The layering of the source, read from its imports (type-only imports count: they are dependencies too).
 *
 *   entry (main, cli, app) → http, devidp → reload → plan, webhooks → members, admin, explain, forwardauth, saml
 *     → mapping, db, metrics → configuration → domain, errors, log
 *
 * Rules: http/ never imports db/ (the services it calls are bound in app.ts); db/ imports nothing above it;
 * mapping/ is pure (no I/O module, no package, nothing but mapping/, domain/ and configuration/); knex and
 * SQL live only in db/; no import cycles; nothing imports upwards in the order above.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/app.js';

interface Source {
  /** Path relative to src/, with forward slashes, e.g. `http/routes.ts`. */
  readonly file: string;
  readonly text: string;
}

function readSources(): Source[] {
  const out: Source[] = [];
  const base = path.join(ROOT, 'src');
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) out.push({ file: path.relative(base, full).split(path.sep).join('/'), text: fs.readFileSync(full, 'utf8') });
    }
  };
  walk(base);
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,]+\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every import specifier of a file, relative ones resolved to a path under src/ (`x.js` → `x.ts`). */
function importsOf(s: Source): { spec: string; target: string | null }[] {
  const out: { spec: string; target: string | null }[] = [];
  for (const m of s.text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? '';
    if (!spec.startsWith('.')) {
      out.push({ spec, target: null });
      continue;
    }
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(s.file), spec)).replace(/\.js$/, '.ts');
    out.push({ spec, target: resolved });
  }
  return out;
}

/** The layer of a file: its top folder, or `entry` for the files at the root of src/ (except the leaf modules). */
function layerOf(file: string): string {
  const slash = file.indexOf('/');
  if (slash >= 0) return file.slice(0, slash);
  const name = file.replace(/\.ts$/, '');
  return name === 'errors' || name === 'log' ? name : 'entry';
}

/** Higher may import lower or equal, never higher. */
const RANK: Readonly<Record<string, number>> = {
  domain: 0,
  errors: 0,
  log: 0,
  configuration: 1,
  mapping: 2,
  db: 2,
  metrics: 2,
  saml: 3,
  members: 3,
  admin: 3,
  explain: 3,
  scim: 3,
  forwardauth: 3,
  plan: 4,
  webhooks: 4,
  reload: 5,
  http: 6,
  devidp: 6,
  entry: 7,
};

const NODE_IO = /^node:(fs|net|http|https|child_process|worker_threads|dgram|os|path|process)$/;

export function violations(sources: readonly Source[]): string[] {
  const found: string[] = [];
  const graph = new Map<string, string[]>();
  for (const s of sources) {
    const from = layerOf(s.file);
    const targets: string[] = [];
    for (const { spec, target } of importsOf(s)) {
      if (target === null) {
        if (spec === 'knex' && from !== 'db') found.push(`${s.file}: imports knex (SQL lives in db/)`);
        if (from === 'mapping' && (NODE_IO.test(spec) || !spec.startsWith('node:'))) found.push(`${s.file}: mapping/ is pure but imports ${spec}`);
        continue;
      }
      targets.push(target);
      const to = layerOf(target);
      if (from === to) continue;
      if (from === 'http' && to === 'db') found.push(`${s.file}: http/ imports db/ (${spec}); take the service from app.ts`);
      if (from === 'db' && !['domain', 'errors', 'configuration'].includes(to)) found.push(`${s.file}: db/ imports ${to}/ (${spec})`);
      if (from === 'mapping' && !['domain', 'configuration'].includes(to)) found.push(`${s.file}: mapping/ is pure but imports ${to}/ (${spec})`);
      const rf = RANK[from];
      const rt = RANK[to];
      if (rf === undefined || rt === undefined) found.push(`${s.file}: layer ${rf === undefined ? from : to} has no place in the order`);
      else if (rt > rf) found.push(`${s.file}: ${from}/ imports ${to}/ above it (${spec})`);
    }
    if (from !== 'db' && /\b(?:db|trx|knex)\(\s*['"`]|\.raw\(|\.forUpdate\(/.test(s.text)) found.push(`${s.file}: SQL outside db/`);
    graph.set(s.file, targets);
  }
  // Cycles: depth-first search over the file graph.
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      const st = state.get(next);
      if (st === 'open') found.push(`import cycle: ${[...stack.slice(stack.indexOf(next)), next].join(' → ')}`);
      else if (st === undefined) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return found;
}

describe('layering', () => {
  it('the source keeps every import rule', () => {
    expect(violations(readSources())).toEqual([]);
  });

  it('each rule fails on a planted wrong import', () => {
    const planted: Source[] = [
      { file: 'http/pages.ts', text: "import { findUser } from '../db/users.js';\n" },
      { file: 'db/users.ts', text: "import type { MemberWriter } from '../members/write.js';\n" },
      { file: 'mapping/decide.ts', text: "import fs from 'node:fs';\nimport { log } from '../log.js';\n" },
      { file: 'admin/members.ts', text: "import knexFactory from 'knex';\nconst rows = await trx('memberships').select();\n" },
      { file: 'members/login.ts', text: "import { computePlan } from '../plan/compute.js';\n" },
      { file: 'plan/a.ts', text: "import { b } from './b.js';\n" },
      { file: 'plan/b.ts', text: "import type { a } from './a.js';\n" },
    ];
    const found = violations(planted);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('http/pages.ts: http/ imports db/'),
        expect.stringContaining('db/users.ts: db/ imports members/'),
        expect.stringContaining('mapping/decide.ts: mapping/ is pure but imports node:fs'),
        expect.stringContaining('mapping/decide.ts: mapping/ is pure but imports log/'),
        expect.stringContaining('admin/members.ts: imports knex'),
        expect.stringContaining('admin/members.ts: SQL outside db/'),
        expect.stringContaining('members/login.ts: members/ imports plan/ above it'),
        'import cycle: plan/a.ts → plan/b.ts → plan/a.ts',
      ]),
    );
  });
});
