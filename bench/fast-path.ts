/**
 * `node dist-bench/bench/fast-path.js`: CPU per validation of rolegate's fast path (and, for comparison, stock
 * node-saml with rolegate's pinned options) in this process, at 20 and 500 groups, on freshly signed Responses
 * of the same shape as bench/login.ts. A quick loop for profiling the trust boundary alone:
 *
 *   node --cpu-prof --cpu-prof-dir=<dir> dist-bench/bench/fast-path.js
 *
 * ROLEGATE_BENCH_FAST_SECONDS (default 5) per measured pass; ROLEGATE_BENCH_FAST_GROUPS (e.g. "20") for one
 * group count; ROLEGATE_BENCH_FAST_STOCK=0 skips the stock passes (for a profile of the fast path only);
 * ROLEGATE_BENCH_FAST_POOL=1 adds a pass through the validation pool with one worker thread (src/saml/pool.ts,
 * as `rolegate serve` runs it, without HTTP or database), reporting that thread's CPU per validation from
 * Linux /proc after the same warm-up: the thread hand-off and the reply included.
 * Prints the load average with every row: on a shared machine only CPU per validation means anything.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SAML } from '@node-saml/node-saml';
import { loadConfig } from '../src/configuration/index.js';
import { resolvedSamlSettings } from '../src/configuration/defaults.js';
import type { OrganizationConfig } from '../src/configuration/types.js';
import { nodeSamlOptions } from '../src/saml/node-saml-options.js';
import { createSamlVerifier } from '../src/saml/pool.js';
import { createResponseVerifiers } from '../src/saml/provider.js';
import { ROOT, cpuBetween, ratePass, signedBenchResponse, threadCpuMs } from './lib.js';

const PUBLIC_URL = 'http://bench.rolegate.test';
const IDP_ENTITY_ID = 'https://idp.bench.example/metadata';
const IDP_KEY = fs.readFileSync(path.join(ROOT, 'fixtures/keys/idp.key'), 'utf8');
const SECONDS = Number(process.env['ROLEGATE_BENCH_FAST_SECONDS'] ?? '5');
const GROUPS = (process.env['ROLEGATE_BENCH_FAST_GROUPS'] ?? '20,500').split(',').map(Number);
const WITH_STOCK = process.env['ROLEGATE_BENCH_FAST_STOCK'] !== '0';
const WITH_POOL = process.env['ROLEGATE_BENCH_FAST_POOL'] === '1';
const SAML_SETTINGS = resolvedSamlSettings({ workers: 0 });

function org(): OrganizationConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-bench-fast-'));
  const file = path.join(dir, 'rolegate.yaml');
  fs.writeFileSync(
    file,
    `server:\n  public_url: ${PUBLIC_URL}\n  session_secret: bench-secret-0123456789abcdef\n  data_dir: ${dir}/data\ndatabase:\n  url: "sqlite::memory:"\n` +
      `organizations:\n  - id: 1\n    title: Bench\n    owner: owner@bench.example\n    sso:\n      idp_entity_id: ${IDP_ENTITY_ID}\n` +
      `      idp_sso_url: https://idp.bench.example/sso\n      idp_cert_file: ${ROOT}/fixtures/keys/idp.crt\n      allow_idp_initiated: true\n`,
  );
  const config = loadConfig(file, { env: {} });
  fs.rmSync(dir, { recursive: true, force: true });
  const first = config.organizations[0];
  if (first === undefined) throw new Error('no organization');
  return first;
}

function responses(count: number, groups: number): string[] {
  const now = new Date();
  return Array.from({ length: count }, (_, i) => {
    const email = `u${i}@bench.example`;
    const names = Array.from({ length: groups }, (_, g) => `Team-${String(g === 0 ? i % 40 : 2000 + g).padStart(4, '0')}`);
    return signedBenchResponse({ publicUrl: PUBLIC_URL, issuer: IDP_ENTITY_ID, privateKey: IDP_KEY, email, lastName: `User ${i}`, groups: names, now });
  });
}


async function main(): Promise<void> {
  const o = org();
  if (o.sso.idp.kind !== 'external') throw new Error('external IdP expected');
  const trust = { entityId: o.sso.idp.entityId, ssoUrl: o.sso.idp.ssoUrl, certs: o.sso.idp.certs };
  const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  for (const groups of GROUPS) {
    const samples = responses(groups >= 100 ? 60 : 200, groups);
    const verifiers = createResponseVerifiers(o, SAML_SETTINGS, trust);
    const fast = (body: string) => verifiers.fast({ SAMLResponse: body });
    await ratePass(fast, samples, Math.min(2, SECONDS));
    const f = await ratePass(fast, samples, SECONDS);
    console.log(`fast path in-process, ${groups} groups: CPU ${f.cpuMs.toFixed(2)} ms/validation (${f.n} validations), load ${load()}`);
    if (WITH_POOL) {
      const verifier = createSamlVerifier([{ org: o, saml: SAML_SETTINGS, idp: trust }], new Map(), { workers: 1, queueLimit: 1 });
      const viaPool = (body: string) => verifier.verify(o.id, { SAMLResponse: body });
      await ratePass(viaPool, samples, Math.min(2, SECONDS));
      const before = threadCpuMs(process.pid);
      const p = await ratePass(viaPool, samples, SECONDS);
      const used = cpuBetween(process.pid, before, threadCpuMs(process.pid), 1);
      await verifier.close();
      console.log(
        `through the pool, 1 worker, ${groups} groups: worker thread CPU ${((used.workerMs[0] ?? Number.NaN) / p.n).toFixed(2)} ms/validation, ` +
          `main thread ${(used.mainMs / p.n).toFixed(2)} ms, other threads ${(used.otherMs / p.n).toFixed(2)} ms (${p.n} validations), load ${load()}`,
      );
    }
    if (WITH_STOCK) {
      const raw = new SAML(nodeSamlOptions(o, SAML_SETTINGS, trust, false));
      const stock = (body: string) => raw.validatePostResponseAsync({ SAMLResponse: body });
      await ratePass(stock, samples, Math.min(2, SECONDS));
      const s = await ratePass(stock, samples, SECONDS);
      console.log(`stock node-saml, ${groups} groups: CPU ${s.cpuMs.toFixed(2)} ms/validation (${s.n} validations), load ${load()}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
