/**
 * `npm run bench:plan`: the plan/apply benchmark, on SQLite.
 *
 * 100,000 members across 1,000 projects and 2,022 groups (2 per project + 22 organization groups), every
 * member holding what the mapping gives them (2 project memberships each). One configuration change —
 * `Org-Annotators-0` now maps to Reviewer — affects 10 % of the members. Measured:
 *   - plan: computePlan over the whole organization (read-only);
 *   - apply: the swap and the batched apply, in the running service (as a reload does it);
 *   - login latency (real HTTP to the ACS, a really signed IdP-initiated Response each) while idle and
 *     while the apply runs, two sign-ins at a time.
 * Responses are signed before each phase (signing is the IdP's cost, not ours).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/configuration/index.js';
import type { Config } from '../src/configuration/types.js';
import { syncOrganizations } from '../src/db/organizations.js';
import { insertSyntheticMembers, type SyntheticMember } from '../test/support/synthetic.js';
import { buildSignedResponse, encodePostBinding } from '../src/devidp/response.js';
import { silentLogger } from '../src/log.js';
import { serve } from '../src/main.js';
import { buildMemberWriter } from '../src/app.js';
import { applyPlan } from '../src/plan/apply.js';
import { computePlan } from '../src/plan/compute.js';

const ROOT = path.resolve(import.meta.dirname, '..', fs.existsSync(path.resolve(import.meta.dirname, '../fixtures')) ? '' : '..');
const MEMBERS = Number(process.env['BENCH_MEMBERS'] ?? 100_000);
const PROJECTS = 1000;
const IDLE_LOGINS = 300;
const CONCURRENCY = 2;

function yaml(dir: string, port: number, annotators0: string): string {
  const orgGroups = [
    '      Org-Admins: Administrator',
    '      Org-Managers: Manager',
    ...Array.from({ length: 10 }, (_, k) => `      Org-Reviewers-${k}: Reviewer`),
    ...Array.from({ length: 10 }, (_, k) => `      Org-Annotators-${k}: ${k === 0 ? annotators0 : 'Annotator'}`),
  ].join('\n');
  const projects = Array.from(
    { length: PROJECTS },
    (_, i) => `      - id: ${i + 1}\n        title: Project ${i + 1}\n        groups:\n          P${i + 1}-Reviewers: Reviewer\n          P${i + 1}-Annotators: Annotator`,
  ).join('\n');
  return `server:
  public_url: http://127.0.0.1:${port}
  port: ${port}
  session_secret: bench-secret-0123456789abcdef
  # The benchmark client signs in from one address far faster than a person: lift the /saml/* rate limits.
  rate_limits:
    per_ip_per_minute: 1000000
    per_organization_per_minute: 1000000
  data_dir: ${dir}/data
database:
  url: sqlite:${dir}/rolegate.db
saml:
  # Validation inline on the main thread: the compiled bench has no worker module, and it is the harsher
  # case for logins during an apply (bench/login.ts measures the pool).
  workers: 0
organizations:
  - id: 1
    title: Bench
    owner: owner@bench.example
    sso:
      idp_entity_id: https://idp.test/metadata
      idp_sso_url: https://idp.test/sso
      idp_cert_file: ${path.join(ROOT, 'fixtures/keys/idp.crt')}
      allow_idp_initiated: true
    roles:
${orgGroups}
    projects:
${projects}
`;
}

/** Member j: one organization group, two project groups; stored roles as the mapping gives them. */
function member(j: number): SyntheticMember & { groups: string[] } {
  const k = j % 10;
  const reviewer = j % 20 === 1; // 5 % reviewers, the rest annotators (10 % of all in Org-Annotators-0)
  const orgGroup = j === 2 ? 'Org-Admins' : reviewer ? `Org-Reviewers-${k}` : `Org-Annotators-${k}`;
  const p1 = (j % PROJECTS) + 1;
  const p2 = ((j * 7 + 3) % PROJECTS) + 1;
  const projects = p1 === p2 ? [{ projectId: p1, role: 'RE' as const }] : [{ projectId: p1, role: 'AN' as const }, { projectId: p2, role: 'RE' as const }];
  return {
    email: `m${j}@bench.example`,
    role: j === 2 ? 'AD' : reviewer ? 'RE' : 'AN',
    roleSource: 'saml',
    groups: [orgGroup, `P${p1}-Annotators`, `P${p2}-Reviewers`],
    assertedAt: new Date(),
    projects,
  };
}

function signLogins(config: Config, count: number, offset: number): string[] {
  const org = config.organizations[0];
  if (org === undefined) throw new Error('no org');
  const key = fs.readFileSync(path.join(ROOT, 'fixtures/keys/idp.key'), 'utf8');
  return Array.from({ length: count }, (_, i) => {
    // Members outside the affected 10 % (j % 10 !== 0), so a login and the apply touch different rows.
    const j = ((offset + i) * 10 + 3) % MEMBERS;
    const m = member(j);
    return encodePostBinding(
      buildSignedResponse({
        issuer: 'https://idp.test/metadata',
        acsUrl: org.sso.acsUrl,
        audience: org.sso.spEntityId,
        nameId: m.email,
        attributes: { Email: [m.email], FirstName: ['Bench'], LastName: ['Member'], Groups: m.groups },
        privateKey: key,
        notOnOrAfter: new Date(Date.now() + 30 * 60_000),
      }),
    );
  });
}

async function login(url: string, body: string): Promise<number> {
  let started = performance.now();
  const post = (): Promise<Response> =>
    fetch(`${url}/saml/1/acs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ SAMLResponse: body }).toString(),
      redirect: 'manual',
    });
  let res: Response;
  try {
    res = await post();
  } catch {
    // A keep-alive socket the server closed while this client was idle (plan phase): one fresh attempt,
    // timed on its own (the request never reached the service).
    started = performance.now();
    res = await post();
  }
  await res.arrayBuffer();
  if (res.status !== 302) throw new Error(`login failed: ${res.status}`);
  return performance.now() - started;
}

/** Sign-ins, CONCURRENCY at a time, until the bodies run out or `until` resolves. */
async function loginLoop(url: string, bodies: string[], until?: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until?.then(() => (done = true));
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let b = bodies.shift(); b !== undefined && !(until !== undefined && done); b = bodies.shift()) samples.push(await login(url, b));
    }),
  );
  return samples;
}

function pct(samples: readonly number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-bench-plan-'));
  try {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const fileA = path.join(dir, 'rolegate.yaml');
    fs.writeFileSync(fileA, yaml(dir, port, 'Annotator'));
    const configA = loadConfig(fileA, { env: {} });
    const running = await serve(configA, silentLogger);
    const url = `http://127.0.0.1:${port}`;
    try {
      const db = running.db;
      let t = performance.now();
      await syncOrganizations(db, configA, new Date());
      const all = Array.from({ length: MEMBERS }, (_, j) => member(j));
      await insertSyntheticMembers(db, 1, all, new Date());
      console.log(`seeded ${MEMBERS} members, ${all.reduce((n, m) => n + m.projects.length, 0)} project memberships in ${((performance.now() - t) / 1000).toFixed(1)} s`);

      // Signed up front: an idle keep-alive socket closed by the server while signing would read as a failure.
      const idleBodies = signLogins(configA, IDLE_LOGINS, 0);
      const during = signLogins(configA, 4000, IDLE_LOGINS);
      const idle = await loginLoop(url, idleBodies);

      // The change: Org-Annotators-0 → Reviewer (10 % of members promoted).
      const fileB = path.join(dir, 'rolegate-b.yaml');
      fs.writeFileSync(fileB, yaml(dir, port, 'Reviewer'));
      const configB = loadConfig(fileB, { env: {} });
      t = performance.now();
      const plan = await computePlan(db, configB);
      const planMs = performance.now() - t;
      const counts = plan.organizations[0]?.counts;
      console.log(`plan: ${planMs.toFixed(0)} ms, ${JSON.stringify(counts)}`);

      t = performance.now();
      const applying = (async () => {
        running.state.swap(configB);
        return applyPlan(db, configB, plan, { writer: buildMemberWriter({ config: configB, log: silentLogger }), appliedBy: 'bench', force: true });
      })();
      const busy = await loginLoop(url, during, applying).catch(async (err: unknown) => {
        await applying.catch(() => undefined);
        throw err;
      });
      const result = await applying;
      const applyMs = performance.now() - t;
      const applied = result.applied ? result.organizations[0]?.counts : undefined;
      console.log(`apply: ${applyMs.toFixed(0)} ms in ${result.applied ? result.batches : 0} batches, ${JSON.stringify(applied)}`);

      const f = (n: number): string => n.toFixed(1);
      console.log('');
      console.log(`| measure (SQLite, ${MEMBERS.toLocaleString('en')} members, ${PROJECTS} projects, 2,022 groups) | result | target |`);
      console.log('|---|---|---|');
      console.log(`| plan (${(counts?.promoted ?? 0).toLocaleString('en')} changes) | ${(planMs / 1000).toFixed(2)} s | < 5 s ${planMs < 5000 ? 'met' : 'MISSED'} |`);
      console.log(`| apply (${result.applied ? result.batches : 0} transactions) | ${(applyMs / 1000).toFixed(2)} s | < 30 s ${applyMs < 30000 ? 'met' : 'MISSED'} |`);
      console.log(`| login latency idle, p50 / p99 (${idle.length} logins) | ${f(pct(idle, 50))} / ${f(pct(idle, 99))} ms | |`);
      console.log(`| login latency during apply, p50 / p99 (${busy.length} logins) | ${f(pct(busy, 50))} / ${f(pct(busy, 99))} ms | served |`);
    } finally {
      await running.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
