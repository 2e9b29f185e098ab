/**
 * `npm run bench:xml-dos`: how long rolegate takes to REJECT each XML denial-of-service input, against the
 * time it takes to VALIDATE a normal signed Response, as a ratio table ("each rejected within a time
 * budget measured in a benchmark, not a test"). In-process, through the same SAML service provider the ACS
 * uses (precheck → structure → node-saml → assertion checks), with real signatures from fixtures/keys; the
 * deflate bomb goes through the one Redirect-binding reader (the development IdP's SAMLRequest).
 *
 * ROLEGATE_BENCH_ROUNDS (default 15) sets the samples per input; the median is reported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { resolvedOrganizationDefaults, resolvedSamlSettings } from '../src/configuration/defaults.js';
import type { OrganizationConfig, SamlSettings } from '../src/configuration/types.js';
import { buildSignedResponse, encodePostBinding } from '../src/devidp/response.js';
import { readAuthnRequestId } from '../src/devidp/routes.js';
import { RolegateError } from '../src/errors.js';
import { createServiceProvider } from '../src/saml/index.js';
import { MARKUP_LIMITS } from '../src/saml/precheck.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const key = (name: string): string => fs.readFileSync(path.join(ROOT, 'fixtures/keys', name), 'utf8');
const IDP_KEY = key('idp.key');
const IDP_CERT = key('idp.crt');
const ROUNDS = Number(process.env['ROLEGATE_BENCH_ROUNDS'] ?? 15);

const IDP = 'https://idp.test/metadata';
const org: OrganizationConfig = {
  id: 1,
  title: 'Bench',
  owner: 'owner@example.com',
  sso: {
    idp: { kind: 'external', entityId: IDP, ssoUrl: 'https://idp.test/sso', certs: [IDP_CERT] },
    spEntityId: 'http://sp.test/saml/1/metadata',
    acsUrl: 'http://sp.test/saml/1/acs',
    // Unsolicited responses allowed here so that one signed Response can be validated repeatedly (the replay
    // cache lives in the database, not in the verifier measured here).
    allowIdpInitiated: true,
    attributes: { email: 'Email', firstName: 'FirstName', lastName: 'LastName', groups: 'Groups' },
    groupMatch: 'exact',
  },
  roles: [],
  projects: [],
  ...resolvedOrganizationDefaults(),
};
const settings: SamlSettings = resolvedSamlSettings({ workers: 0 });
const sp = createServiceProvider(org, settings, { entityId: IDP, ssoUrl: 'https://idp.test/sso', certs: [IDP_CERT] });

function signed(groups: readonly string[], sign: 'assertion' | 'both' = 'assertion'): string {
  return buildSignedResponse({
    issuer: IDP,
    acsUrl: org.sso.acsUrl,
    audience: org.sso.spEntityId,
    nameId: 'alice@example.com',
    attributes: { Email: ['alice@example.com'], Groups: [...groups] },
    privateKey: IDP_KEY,
    sign,
    // Valid for an hour: the slowest inputs must not turn into "expired" while the benchmark runs.
    notOnOrAfter: new Date(Date.now() + 3600_000),
  });
}

const normal = signed(['LS-Admins', 'LS-Project42-Reviewers']);
const inExtensions = (inner: string): string => normal.replace('<samlp:Status>', `<samlp:Extensions>${inner}</samlp:Extensions><samlp:Status>`);
const nest = (n: number, open = '<x>', close = '</x>'): string => open.repeat(n) + close.repeat(n);
const attrs = (n: number, same = false): string => Array.from({ length: n }, (_, i) => ` ${same ? 'a' : `a${i}`}="1"`).join('');
const padTo = (xml: string, bytes: number): string => xml + ' '.repeat(Math.max(0, bytes - Buffer.byteLength(xml)));

interface Case {
  readonly name: string;
  /** What the form posts (base64), or for the Redirect reader the SAMLRequest value. */
  readonly input: string;
  readonly via: 'acs' | 'redirect';
}

const acs = (name: string, xml: string): Case => ({ name, input: encodePostBinding(xml), via: 'acs' });
const bomb = deflateRawSync(Buffer.alloc(100 * 1024 * 1024, ' ')).toString('base64');
const normalRequest = deflateRawSync(
  Buffer.from('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_abc" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"/>'),
).toString('base64');

const cases: Case[] = [
  acs('normal Response, assertion signed (baseline)', normal),
  acs('normal Response, both signed', signed(['LS-Admins', 'LS-Project42-Reviewers'], 'both')),
  acs('valid Response with 2,000 groups (legitimately big)', signed(Array.from({ length: 2000 }, (_, i) => `Team-${i}`))),
  acs('valid Response padded to max_response_bytes', padTo(normal, settings.maxResponseBytes)),
  acs('deep nesting: 20,000 elements', inExtensions(nest(20_000))),
  acs('deep nesting: 5,000 namespaced elements', inExtensions(nest(5_000, '<a:x xmlns:a="urn:a">', '</a:x>'))),
  acs('attribute bomb: 20,000 attributes', inExtensions(`<x${attrs(20_000)}/>`)),
  acs('attribute bomb: 30,000 duplicate attributes', inExtensions(`<x${attrs(30_000, true)}/>`)),
  acs('flat flood: 40,000 empty elements', inExtensions('<x/>'.repeat(40_000))),
  acs(`flat flood at the element limit (${MARKUP_LIMITS.elements} in all)`, inExtensions('<x/>'.repeat(MARKUP_LIMITS.elements - (normal.match(/<[A-Za-z_:]/g)?.length ?? 0) - 1))),
  acs('long whitespace in an end tag (200,000)', normal.replace('</samlp:Response>', `</samlp:Response${' '.repeat(200_000)}>`)),
  acs('unterminated PI + bomb', inExtensions(`<?x ${' '.repeat(50_000)}${nest(10_000)}`)),
  acs('billion laughs (DOCTYPE)', `<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>${normal.replace('>alice@example.com<', '>&b;<')}`),
  acs('big body: 1 byte over max_response_bytes', 'x'.repeat(settings.maxResponseBytes + 1)),
  { name: 'big body: 5 MiB form value', input: 'A'.repeat(5 * 1024 * 1024), via: 'acs' },
  { name: 'normal SAMLRequest (Redirect reader)', input: normalRequest, via: 'redirect' },
  { name: 'deflate bomb: 100 MiB of spaces (Redirect reader)', input: bomb, via: 'redirect' },
];

async function once(c: Case): Promise<{ ms: number; outcome: string }> {
  const start = performance.now();
  let outcome = 'accepted';
  try {
    if (c.via === 'acs') await sp.verifyPostResponse({ SAMLResponse: c.input });
    else readAuthnRequestId(c.input);
  } catch (err) {
    outcome = err instanceof RolegateError ? err.code : `THREW ${String(err).slice(0, 60)}`;
  }
  return { ms: performance.now() - start, outcome };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  // Warm up the JIT and node-saml's caches on the baseline.
  for (let i = 0; i < 5; i++) await once(cases[0] as Case);
  const rows: Array<{ name: string; bytes: number; ms: number; outcome: string }> = [];
  for (const c of cases) {
    const samples: number[] = [];
    let outcome = '';
    for (let i = 0; i < ROUNDS; i++) {
      const r = await once(c);
      samples.push(r.ms);
      outcome = r.outcome;
    }
    rows.push({ name: c.name, bytes: c.input.length, ms: median(samples), outcome });
  }
  const base = rows[0]?.ms ?? 1;
  console.log(`rolegate bench:xml-dos — median of ${ROUNDS} runs; ratio = time / time to validate a normal Response (${base.toFixed(2)} ms)`);
  console.log(`node ${process.version}; input = posted form value (base64) or SAMLRequest, in bytes\n`);
  const header = ['input', 'bytes', 'median ms', 'ratio', 'outcome'];
  const table = rows.map((r) => [r.name, String(r.bytes), r.ms.toFixed(2), `${(r.ms / base).toFixed(2)}x`, r.outcome]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 1 || i === 2 || i === 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i >= 1 && i <= 3 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
  for (const row of table) console.log(line(row));
}

await main();
