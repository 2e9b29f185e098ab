/**
 * The attack suite and the fuzzer run in both validation modes: in the worker pool (`npm test`: the
 * configuration's default, os.availableParallelism() threads) and inline (`.ci/run` again with
 * ROLEGATE_TEST_SAML_WORKERS=0, which every startApp of test/support honours). This checks that a run
 * validates in the mode it was asked for, so an inline run cannot silently be a pool one, nor the reverse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samlDefaultWorkers } from '../../src/configuration/defaults.js';
import { metricsText } from '../../src/metrics/index.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { signIn } from '../support/flow.js';

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app.close();
});

async function validations(): Promise<{ inline: number; worker: number }> {
  const { body } = await metricsText();
  const count = (mode: string): number => Number(new RegExp(`^rolegate_saml_validation_seconds_count\\{mode="${mode}"\\} (\\d+)`, 'm').exec(body)?.[1] ?? 0);
  return { inline: count('inline'), worker: count('worker') };
}

describe('validation mode of this run', () => {
  const env = process.env['ROLEGATE_TEST_SAML_WORKERS'];
  const workers = env !== undefined && /^\d+$/.test(env) ? Number(env) : samlDefaultWorkers();

  it(`validates Responses ${workers > 0 ? `in ${workers} worker threads` : 'inline'} (ROLEGATE_TEST_SAML_WORKERS=${env ?? 'unset'})`, async () => {
    expect(app.config.saml.workers).toBe(workers);
    const before = await validations();
    const res = await signIn(app, app.browser(), { email: 'mode@acme.example', groups: ['LS-Annotators'] });
    expect(res.status, res.text).toBe(302);
    const after = await validations();
    expect({ inline: after.inline - before.inline, worker: after.worker - before.worker }).toEqual(workers > 0 ? { inline: 0, worker: 1 } : { inline: 1, worker: 0 });
  });
});
