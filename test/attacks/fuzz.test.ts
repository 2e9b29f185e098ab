/**
 * Seeded mutation fuzzer: random edits (byte flips, insertions and deletions, element duplication,
 * removal and moves, attribute and text edits) to a valid, really signed Response, posted end to end to
 * `POST /saml/1/acs`. Whatever the edit, a session may only ever exist for the signed subject with the signed
 * groups, and the app never answers 5xx.
 *
 * `npm test` runs a fixed seed with a bounded count and time. `npm run fuzz` runs a longer campaign:
 * FUZZ_SEED (default random, printed), FUZZ_RUNS (default 3000), FUZZ_TIME_LIMIT_MS (default 600000).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePostBinding } from '../../src/devidp/response.js';
import { standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { applyEdit, editArbitrary, fuzzSettings } from '../support/attacks-fuzz.js';
import { postAcs, startLogin } from '../support/flow.js';
import { responseXml } from '../support/idp.js';

const settings = fuzzSettings();

let app: TestApp;
beforeAll(async () => {
  app = await startApp({
    yaml: (dir, url) =>
      standardYaml({ dir, publicUrl: url }).replace('server:\n', 'server:\n  rate_limits:\n    per_ip_per_minute: 1000000\n    per_organization_per_minute: 1000000\n'),
  });
});
afterAll(async () => {
  await app.close();
});

const SIGNED_GROUPS = ['LS-Reviewers', 'LS-Project42-Annotators'];

describe('mutation fuzzer', () => {
  it(
    `random edits to a signed Response never yield a session for anyone but the signed subject with the signed groups (seed ${settings.seed}, ≤${settings.numRuns} runs, ≤${settings.timeLimitMs} ms)`,
    async () => {
      let run = 0;
      let accepted = 0;
      const statuses = new Map<number, number>();
      const signedEmails = new Set<string>();
      const started = Date.now();
      const property = fc.asyncProperty(
        fc.array(editArbitrary, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('assertion' as const, 'both' as const),
        async (edits, sign) => {
          run += 1;
          const email = `fuzz-${run}@acme.example`;
          signedEmails.add(email);
          const b = app.browser();
          const { requestId } = await startLogin(b);
          let xml = responseXml(app, { email, groups: SIGNED_GROUPS }, { inResponseTo: requestId, sign });
          for (const edit of edits) xml = applyEdit(xml, edit);
          const res = await postAcs(b, 1, encodePostBinding(xml));
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, res.text.slice(0, 200)).toBeLessThan(500);
          const me = await b.whoami();
          if (res.status !== 302) {
            expect(me.status).toBe(401);
            return;
          }
          accepted += 1;
          expect(me.status).toBe(200);
          const body = me.json<{ email: string; organization: { role: string } }>();
          expect(body.email).toBe(email);
          expect(body.organization.role).toBe('RE');
          const stored = (await app.db('member_groups').join('users', 'users.id', 'member_groups.user_id').where('users.email', email).first('groups')) as { groups: string };
          expect(JSON.parse(stored.groups)).toEqual(SIGNED_GROUPS);
        },
      );
      await fc.assert(property, {
        seed: settings.seed,
        numRuns: settings.numRuns,
        interruptAfterTimeLimit: settings.timeLimitMs,
        markInterruptAsFailure: false,
      });
      // Nobody else was created along the way: every user in the organization was a signed subject.
      const users = (await app.db('users').where({ organization_id: 1 }).select('email')) as { email: string }[];
      for (const u of users) expect(signedEmails.has(u.email), u.email).toBe(true);
      // Keep the campaign honest: edits land in many places, so most are rejected, some are harmless.
      expect(run).toBeGreaterThan(0);
      const summary = { mode: (app.config.saml.workers ?? 0) > 0 ? `${app.config.saml.workers ?? 0} workers` : 'inline', seed: settings.seed, runs: run, accepted, statuses: Object.fromEntries(statuses), ms: Date.now() - started };
      if (settings.long) console.log('fuzz campaign', JSON.stringify(summary));
      else console.log('fuzz', JSON.stringify(summary));
    },
    settings.timeLimitMs + 60_000,
  );
});
