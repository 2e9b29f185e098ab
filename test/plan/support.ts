/**
 * Plan/apply test support: a configuration file written from parts, a real SQLite file migrated by the
 * real migrations, and synthetic populations written straight through the db layer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/configuration/index.js';
import type { Config } from '../../src/configuration/types.js';
import { openDatabase, type Db } from '../../src/db/connect.js';
import { syncOrganizations } from '../../src/db/organizations.js';
import { insertSyntheticMembers, type SyntheticMember } from '../support/synthetic.js';
import type { ActiveOrgRole, OrgRole, RoleSource } from '../../src/domain/roles.js';
import { ROOT } from '../support/app.js';

export const NOW = new Date('2026-12-01T12:00:00.000Z');

export const ROLES = `      LS-Admins: Administrator
      LS-Managers: Manager
      LS-Reviewers: Reviewer
      LS-Annotators: Annotator
`;

export const PROJECTS = `      - id: 42
        title: Radiology
        groups:
          LS-Project42-Reviewers: Reviewer
          LS-Project42-Annotators: Annotator
          LS-AllProjects: Inherit
      - id: 43
        title: Pathology
        groups:
          LS-Project43-Annotators: Annotator
`;

export interface YamlParts {
  readonly roles?: string;
  readonly projects?: string;
  /** Top-level `guards:` body (indented two spaces). */
  readonly guards?: string;
  /** Organization 1's `guards:` body (indented six spaces). */
  readonly orgGuards?: string;
  readonly publicUrl?: string;
  /** Extra lines under organization 1's `sso:` (indented six spaces). */
  readonly sso?: string;
}

export function yaml(dir: string, parts: YamlParts = {}): string {
  const cert = path.join(ROOT, 'fixtures/keys/idp.crt');
  return `server:
  public_url: ${parts.publicUrl ?? 'http://127.0.0.1:9'}
  session_secret: test-secret-0123456789abcdef
  data_dir: ${dir}/data
database:
  url: sqlite:${dir}/rolegate.db
${parts.guards === undefined ? '' : `guards:\n${parts.guards}`}organizations:
  - id: 1
    title: Acme Labs
    owner: owner@acme.example
    sso:
      idp_entity_id: https://idp.test/metadata
      idp_sso_url: https://idp.test/sso
      idp_cert_file: ${cert}
      allow_idp_initiated: true
${parts.sso ?? ''}    roles:
${parts.roles ?? ROLES}    projects:
${parts.projects ?? PROJECTS}${parts.orgGuards === undefined ? '' : `    guards:\n${parts.orgGuards}`}`;
}

const dirs: string[] = [];

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-plan-'));
  dirs.push(dir);
  return dir;
}

export function cleanupDirs(): void {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Writes the YAML to `dir/name` and loads it like the real file. */
export function writeConfig(dir: string, parts: YamlParts = {}, name = 'rolegate.yaml'): Config {
  const file = path.join(dir, name);
  fs.writeFileSync(file, yaml(dir, parts));
  return loadConfig(file, { env: { ...process.env, NODE_ENV: 'test' } });
}

export async function openDb(config: Config): Promise<Db> {
  const db = await openDatabase(config.database);
  await syncOrganizations(db, config, NOW);
  return db;
}

export interface Cohort {
  readonly count: number;
  readonly prefix: string;
  readonly groups: readonly string[] | null;
  readonly role: OrgRole;
  readonly roleSource?: RoleSource;
  readonly projects?: readonly { projectId: number; role: ActiveOrgRole }[];
  /** Days before NOW the groups were asserted (default 1). */
  readonly ageDays?: number;
}

/** The standard population: every member as a login under the standard mapping would have left them. */
export const POPULATION: readonly Cohort[] = [
  { count: 1000, prefix: 'reviewer', groups: ['LS-Reviewers'], role: 'RE' },
  { count: 800, prefix: 'annotator', groups: ['LS-Annotators', 'LS-Project42-Annotators'], role: 'AN', projects: [{ projectId: 42, role: 'AN' }] },
  { count: 500, prefix: 'manager', groups: ['LS-Managers', 'LS-AllProjects'], role: 'MA', projects: [{ projectId: 42, role: 'MA' }] },
  { count: 300, prefix: 'unknown', groups: null, role: 'AN' },
  { count: 200, prefix: 'admin', groups: ['LS-Admins'], role: 'AD' },
  { count: 150, prefix: 'pending', groups: ['Staff'], role: 'NO' },
  { count: 50, prefix: 'gone', groups: [], role: 'DI' },
  { count: 100, prefix: 'old', groups: ['LS-Reviewers'], role: 'RE', ageDays: 400 },
  { count: 1, prefix: 'owner', groups: [], role: 'OW', roleSource: 'manual' },
];

export function members(cohorts: readonly Cohort[]): SyntheticMember[] {
  return cohorts.flatMap((c) =>
    Array.from({ length: c.count }, (_, i): SyntheticMember => ({
      email: c.prefix === 'owner' ? 'owner@acme.example' : `${c.prefix}${i}@acme.example`,
      role: c.role,
      roleSource: c.roleSource ?? 'saml',
      groups: c.groups,
      assertedAt: new Date(NOW.getTime() - (c.ageDays ?? 1) * 86_400_000),
      projects: c.projects ?? [],
    })),
  );
}

export async function populate(db: Db, cohorts: readonly Cohort[] = POPULATION): Promise<number[]> {
  return insertSyntheticMembers(db, 1, members(cohorts), NOW);
}

export async function roleOf(db: Db, email: string): Promise<string | undefined> {
  const row = (await db('memberships').join('users', 'users.id', 'memberships.user_id').where('users.email', email).first('memberships.role')) as
    | { role: string }
    | undefined;
  return row?.role;
}

export async function count(db: Db, table: string, where: Record<string, unknown> = {}): Promise<number> {
  const rows = (await db(table).where(where).count({ n: '*' })) as { n: number | string }[];
  return Number(rows[0]?.n ?? 0);
}
