/**
 * "An organization that has an active Owner or Administrator always keeps one, whatever runs concurrently."
 * Three Administrators (the configured owner never signed in); started together behind a barrier: two
 * admin-API demotions of each other, a login of the third without the admin group, and an apply of a
 * mapping without the admin group. Each writer alone may take away an administrator; together they must
 * leave at least one. Runs on SQLite and, with ROLEGATE_TEST_DATABASE=postgres, on PostgreSQL, where the
 * transactions really interleave.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildMemberWriter } from '../../src/app.js';
import { loadConfig } from '../../src/configuration/index.js';
import { silentLogger } from '../../src/log.js';
import { applyPlan } from '../../src/plan/apply.js';
import { computePlan } from '../../src/plan/compute.js';
import { standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { signIn } from '../support/flow.js';
import { call, signedIn, userIdOf } from '../admin/support.js';
import { cliConfig } from './support.js';

/** Resolves every waiter once `n` have arrived: the tasks start together, not one after another. */
class Barrier {
  #waiting: (() => void)[] = [];
  constructor(private readonly n: number) {}
  arrive(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (this.#waiting.length === this.n) for (const go of this.#waiting.splice(0)) go();
    });
  }
}

const A = { email: 'ada@acme.example', groups: ['LS-Admins'] };
const B = { email: 'bob@acme.example', groups: ['LS-Admins'] };
const ROUNDS = 12;

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function activeAdmins(a: TestApp): Promise<number> {
  const rows = (await a.db('memberships')
    .join('users', 'users.id', 'memberships.user_id')
    .where({ 'memberships.organization_id': 1, 'users.is_deleted': false })
    .whereIn('memberships.role', ['OW', 'AD'])
    .select('users.email')) as unknown[];
  return rows.length;
}

describe('the last Owner or Administrator survives concurrent writers', () => {
  it(`${ROUNDS} rounds: two admin-API demotions, a login and an apply started together leave at least one`, async () => {
    const a = await startApp({ yaml: (dir, url) => standardYaml({ dir, publicUrl: url, org1Extra: '    role_management: manual' }) });
    app = a;
    await signedIn(a, A);
    await signedIn(a, B);
    const [adaId, bobId] = [await userIdOf(a, A.email), await userIdOf(a, B.email)];
    const without = loadConfig(cliConfig(a, 'without-admins.yaml', (y) => y.replace(/^ {6}LS-Admins: Administrator\n/m, '')), { env: { ...process.env, NODE_ENV: 'test' } });
    const config = { ...without, database: a.config.database };
    const writer = buildMemberWriter({ config, log: silentLogger });

    for (let round = 1; round <= ROUNDS; round++) {
      // Setup, not a role change under test: both are mapped Administrators again, each with a fresh session.
      await a.db('memberships').whereIn('user_id', [adaId, bobId]).update({ role: 'AD', role_source: 'saml' });
      const ada = await signedIn(a, A);
      const bob = await signedIn(a, B);
      expect(await activeAdmins(a)).toBe(2);

      const barrier = new Barrier(4);
      const statuses = await Promise.all([
        (async () => {
          await barrier.arrive();
          return (await call(a, ada, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: bobId, role: 'AN' } })).status;
        })(),
        (async () => {
          await barrier.arrive();
          return (await call(a, bob, 'PATCH', '/api/organizations/0/memberships', { body: { user_id: adaId, role: 'AN' } })).status;
        })(),
        (async () => {
          await barrier.arrive();
          return (await signIn(a, a.browser(), { ...B, groups: [] })).status;
        })(),
        (async () => {
          await barrier.arrive();
          const plan = await computePlan(a.db, config);
          const result = await applyPlan(a.db, config, plan, { writer, force: true, appliedBy: 'apply' });
          return result.applied ? 200 : 409;
        })(),
      ]);
      // Every writer ran to an answer: a refusal, or 401 for a caller whose session another writer ended; never a 500.
      expect([round, statuses.every((s) => [200, 302, 401, 403, 409].includes(s))]).toEqual([round, true]);
      expect([round, await activeAdmins(a)]).toEqual([round, 1]);
    }
  });
});
