/** Temp-file plumbing for the configuration tests: bad YAML is written to disk and loaded like the real file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfig, type CheckResult, type LoadOptions } from '../../src/configuration/index.js';
import type { ConfigIssue } from '../../src/errors.js';

/** The project root: fixture paths in YAML (`fixtures/keys/idp.crt`) resolve against it. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const dirs: string[] = [];

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-config-'));
  dirs.push(dir);
  return dir;
}

export function cleanup(): void {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function writeFile(text: string, name = 'rolegate.yaml', dir = tempDir()): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** Writes `text` to a temp file and checks it (cwd = project root, empty env unless given). */
export function check(text: string, opts: LoadOptions = {}): { file: string; result: CheckResult } {
  const file = writeFile(text);
  return { file, result: checkConfig(file, { cwd: ROOT, env: {}, ...opts }) };
}

export function issuesOf(result: CheckResult): readonly ConfigIssue[] {
  if (result.ok) throw new Error('expected the configuration to be rejected');
  return result.issues;
}

/** 1-based line/col of `inner` inside the first occurrence of `snippet` in `text`. */
export function locate(text: string, snippet: string, inner: string = snippet): { line: number; col: number } {
  const start = text.indexOf(snippet);
  if (start < 0) throw new Error(`snippet not found: ${snippet}`);
  const offset = text.indexOf(inner, start);
  if (offset < 0 || offset >= start + snippet.length) throw new Error(`"${inner}" not inside "${snippet}"`);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: (before[before.length - 1] ?? '').length + 1 };
}

/** Applies literal replacements, failing loudly when one does not match (so a case cannot silently test nothing). */
export function edit(text: string, ...edits: readonly (readonly [string, string])[]): string {
  let out = text;
  for (const [from, to] of edits) {
    if (!out.includes(from)) throw new Error(`edit target not found: ${from}`);
    out = out.replace(from, () => to); // a function: `$$` in `to` must stay literal
  }
  return out;
}

/** A small valid configuration (development IdP) that the rejection cases edit. */
export const BASE = `server:
  public_url: http://localhost:8080
  session_secret: test-secret-0123456789
organizations:
  - id: 1
    title: Acme Labs
    owner: owner@acme.example
    sso:
      development_idp: true
    roles:
      LS-Admins: Administrator
      LS-Managers: Manager
    projects:
      - id: 42
        title: Radiology
        groups:
          LS-Project42-Reviewers: Reviewer
          LS-AllProjects: Inherit
`;

/** The same with an external IdP given by its three keys. */
export const EXTERNAL = edit(BASE, [
  '      development_idp: true\n',
  `      idp_entity_id: https://idp.acme.example/idp
      idp_sso_url: https://idp.acme.example/sso
      idp_cert_file: fixtures/keys/idp.crt
`,
]);
