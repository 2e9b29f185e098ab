/**
 * The fast path's gate: stock node-saml (plus rolegate's checks) is the reference decider, and on every
 * input of the corpus the fast path must reach the identical outcome: the same accept/reject, the same
 * error code, and for an accepted Response the same VerifiedLogin.
 *
 * Corpus: valid Responses of every fixture IdP shape (Entra ID, Okta, AD FS, SimpleSAMLphp), signed at the
 * assertion, the Response and both levels, with SHA-256/384/512, under each canonicalization (exclusive,
 * with and without comments and with an InclusiveNamespaces PrefixList, and inclusive with and without comments);
 * the eight XML Signature Wrapping trees on each; and the mutation fuzzer's random edits (test/support/
 * attacks-fuzz.ts) of those Responses. GATE_FUZZ_RUNS sets the number of fuzzed inputs (400 in `npm test`,
 * more in .ci/run). The HTTP attack suite and the HTTP fuzzer run both pipelines too (vitest.config.ts sets
 * ROLEGATE_SAML_DIFFERENTIAL), with their expected codes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fastPathSupport, PINNED_VERSIONS } from '../../src/saml/fast/pinned.js';
import { XSW } from '../support/attacks.js';
import { applyEdit, editArbitrary } from '../support/attacks-fuzz.js';
import {
  ALGORITHMS,
  CANONICALIZATIONS,
  decideBothWays,
  IDP_SHAPES,
  resignAssertionSignedInfo,
  shapeOrg,
  SIGN_LEVELS,
  signAt,
  unsignedResponse,
  verifiersFor,
  type AlgorithmName,
  type GateVerdict,
} from '../support/gate.js';
import { NOW } from '../support/saml.js';

const FUZZ_RUNS = Number(process.env['GATE_FUZZ_RUNS'] ?? 400);
const FUZZ_SEED = Number(process.env['GATE_FUZZ_SEED'] ?? 20_261_203);

beforeAll(() => {
  vi.useFakeTimers({ now: NOW.getTime() + 1_000, toFake: ['Date'] });
});
afterAll(() => {
  vi.useRealTimers();
});

interface Tally {
  inputs: number;
  accepted: number;
  codes: Map<string, number>;
  differences: string[];
}

function newTally(): Tally {
  return { inputs: 0, accepted: 0, codes: new Map(), differences: [] };
}

function record(tally: Tally, label: string, verdict: GateVerdict): void {
  tally.inputs += 1;
  if (verdict.stock.ok) tally.accepted += 1;
  else tally.codes.set(verdict.stock.code, (tally.codes.get(verdict.stock.code) ?? 0) + 1);
  if (!verdict.same && tally.differences.length < 10) {
    const show = (o: GateVerdict['stock']): string => (o.ok ? `accepted ${JSON.stringify(o.login)}` : o.code);
    tally.differences.push(`${label}: stock ${show(verdict.stock)} / fast ${show(verdict.fast)}`);
  }
}

const corpus = { valid: newTally(), wrapping: newTally(), signatureShape: newTally(), fuzz: newTally() };

describe('the fast path is pinned to the library versions it re-enacts', () => {
  it('the installed node-saml, xml-crypto and xmldom are the pinned versions, so logins take the fast path', () => {
    expect(fastPathSupport(), JSON.stringify(PINNED_VERSIONS)).toEqual({ ok: true, reason: 'pinned versions installed' });
  });
});

describe('fast path ≡ stock node-saml', () => {
  const algorithms = Object.keys(ALGORITHMS) as AlgorithmName[];

  for (const shape of IDP_SHAPES) {
    it(`${shape.name}: every signing level × algorithm × canonicalization gets the same outcome both ways`, async () => {
      const org = shapeOrg(shape);
      const verifiers = verifiersFor(org);
      const unsigned = unsignedResponse(shape, org);
      let acceptedHere = 0;
      for (const level of SIGN_LEVELS) {
        for (const algorithm of algorithms) {
          for (const c14n of CANONICALIZATIONS) {
            const verdict = await decideBothWays(verifiers, signAt(unsigned, level, algorithm, c14n));
            record(corpus.valid, `${shape.name} ${level} ${algorithm} ${c14n}`, verdict);
            if (verdict.stock.ok) acceptedHere += 1;
          }
        }
      }
      expect(corpus.valid.differences).toEqual([]);
      // The corpus must exercise acceptance, not only rejection. Stock accepts SHA-256 and SHA-512 with the
      // assertion signed alone under every canonicalization, and with both levels signed under the two
      // exclusive ones without a PrefixList. Stock rejects (ERR_SAML_SIGNATURE), and so must the fast path: SHA-384 (xml-crypto 6.3
      // implements neither its digest nor its signature), a Response-only signature (the assertion's is
      // required), and both levels under inclusive c14n (xml-crypto canonicalises every SignedInfo with the
      // ancestor namespaces of the document's FIRST SignedInfo, the Response's, which the fast path re-enacts)
      // or with a PrefixList (as observed of xml-crypto 6.3.2 with this signer).
      expect(acceptedHere).toBe(2 * CANONICALIZATIONS.length + 2 * 2);
    });
  }

  it('edge values: carriage returns (as character references, and as CR LF line ends), whitespace-only and empty values, a byte order mark, a comment in the signed NameID', async () => {
    const acceptedBefore = corpus.valid.accepted;
    for (const shape of IDP_SHAPES) {
      const org = shapeOrg(shape);
      const verifiers = verifiersFor(org);
      const { firstName: first, lastName: last } = shape.configured;
      const edge = (n: string, v: readonly string[]): readonly string[] => (n === first ? ['Ann\rMarie', ' \r '] : n === last ? ['', '  ', 'a\tb\nc'] : v);
      const withCr = { ...shape, nameId: `${shape.nameId}\r`, attributes: shape.attributes.map(([n, v]) => [n, edge(n, v)] as const) };
      // The builder writes a CR raw; as &#xD; it survives parsing (a raw CR would be normalised away).
      const unsigned = unsignedResponse(withCr, org).replace(/\r/g, '&#xD;');
      for (const level of ['assertion', 'both'] as const) {
        const signed = signAt(unsigned, level, 'SHA-256', CANONICALIZATIONS[0]);
        record(corpus.valid, `${shape.name} ${level} &#xD; in a value`, await decideBothWays(verifiers, signed));
        // CR LF where whitespace is not signed: inside a SignatureValue and after the root (posted with CRs).
        const crlf = `${signed.replace('</ds:SignatureValue>', '\r\n</ds:SignatureValue>')}\r\n`;
        record(corpus.valid, `${shape.name} ${level} CR LF line ends`, await decideBothWays(verifiers, crlf));
        // A byte order mark: rolegate's decoder drops it, node-saml's Buffer.toString keeps it.
        record(corpus.valid, `${shape.name} ${level} byte order mark`, await decideBothWays(verifiers, `\uFEFF${signed}`));
        // Comments are not signed (exclusive c14n without comments): this one leaves the signature valid.
        const nameIdText = '>' + shape.nameId;
        record(corpus.valid, `${shape.name} ${level} comment in NameID`, await decideBothWays(verifiers, signed.replace(nameIdText, `>${shape.nameId.slice(0, 3)}<!--x-->${shape.nameId.slice(3)}`)));
      }
    }
    expect(corpus.valid.differences).toEqual([]);
    // All of them are valid signed Responses: both pipelines accept them, with the same login.
    expect(corpus.valid.accepted - acceptedBefore).toBe(IDP_SHAPES.length * 2 * 4);
  });

  it('the eight XML Signature Wrapping trees, on every shape signed at the assertion and at both levels', async () => {
    for (const shape of IDP_SHAPES) {
      const org = shapeOrg(shape);
      const verifiers = verifiersFor(org);
      for (const level of ['assertion', 'both'] as const) {
        const signed = signAt(unsignedResponse(shape, org), level, 'SHA-256', CANONICALIZATIONS[0]);
        for (const [name, wrap] of Object.entries(XSW)) {
          let xml: string;
          try {
            xml = wrap(signed);
          } catch {
            continue; // XSW1/2 need a Response signature to move.
          }
          record(corpus.wrapping, `${shape.name} ${level} ${name}`, await decideBothWays(verifiers, xml));
        }
      }
    }
    expect(corpus.wrapping.differences).toEqual([]);
    expect(corpus.wrapping.accepted).toBe(0);
    expect(corpus.wrapping.inputs).toBeGreaterThanOrEqual(IDP_SHAPES.length * 12);
  });

  it("the Signature as xml-crypto's loadSignature reads it: look-alike elements before and after the real ones, attribute names in other cases, comments and CDATA in SignatureValue", async () => {
    const INCLUSIVE = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
    const SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
    const SHA512 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512';
    const EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';
    const decoys = `<x:CanonicalizationMethod xmlns:x="urn:x" Algorithm="${INCLUSIVE}"/><x:SignatureMethod xmlns:x="urn:x" Algorithm="${SHA512}"/><x:SignatureValue xmlns:x="urn:x">AAAA</x:SignatureValue><x:KeyInfo xmlns:x="urn:x"/>`;
    // [label, edit of the signed text, whether to sign the edited SignedInfo again, stock's expected acceptance]
    const variants: [string, (xml: string) => string, boolean, boolean][] = [
      ['look-alikes after the real elements', (x) => x.replace('</ds:Signature>', `<ds:Object>${decoys}</ds:Object></ds:Signature>`), false, true],
      ['look-alikes before SignedInfo', (x) => x.replace('<ds:SignedInfo>', `<x:Decoy xmlns:x="urn:x">${decoys}</x:Decoy><ds:SignedInfo>`), false, false],
      ['a look-alike SignatureValue nested after the real value', (x) => x.replace('</ds:SignatureValue>', '<x:SignatureValue xmlns:x="urn:x">AAAA</x:SignatureValue></ds:SignatureValue>'), false, true],
      ['a comment before the SignatureValue text', (x) => x.replace('<ds:SignatureValue>', '<ds:SignatureValue><!--c-->'), false, true],
      ['the SignatureValue as CDATA', (x) => x.replace(/<ds:SignatureValue>([^<]*)<\/ds:SignatureValue>/, '<ds:SignatureValue><![CDATA[$1]]></ds:SignatureValue>'), false, false],
      // text() selects CDATA too, and the first node it selects is the CDATA: not a text node, so no value.
      ['a CDATA section before the SignatureValue text', (x) => x.replace('<ds:SignatureValue>', '<ds:SignatureValue><![CDATA[ ]]>'), false, false],
      ['a lower-case algorithm (inclusive c14n) before CanonicalizationMethod@Algorithm', (x) => x.replace(`<ds:CanonicalizationMethod Algorithm="${EXC}"`, `<ds:CanonicalizationMethod algorithm="${INCLUSIVE}" Algorithm="${EXC}"`), true, false],
      ['a lower-case algorithm (inclusive c14n) after CanonicalizationMethod@Algorithm', (x) => x.replace(`<ds:CanonicalizationMethod Algorithm="${EXC}"`, `<ds:CanonicalizationMethod Algorithm="${EXC}" algorithm="${INCLUSIVE}"`), true, true],
      ['an upper-case ALGORITHM (RSA-SHA512) before SignatureMethod@Algorithm', (x) => x.replace(`<ds:SignatureMethod Algorithm="${SHA256}"`, `<ds:SignatureMethod ALGORITHM="${SHA512}" Algorithm="${SHA256}"`), true, false],
      ['an upper-case ALGORITHM (RSA-SHA512) after SignatureMethod@Algorithm', (x) => x.replace(`<ds:SignatureMethod Algorithm="${SHA256}"`, `<ds:SignatureMethod Algorithm="${SHA256}" ALGORITHM="${SHA512}"`), true, true],
      ['a namespaced x:Algorithm (inclusive c14n) before CanonicalizationMethod@Algorithm', (x) => x.replace(`<ds:CanonicalizationMethod Algorithm="${EXC}"`, `<ds:CanonicalizationMethod xmlns:x="urn:x" x:Algorithm="${INCLUSIVE}" Algorithm="${EXC}"`), true, true],
    ];
    for (const shape of IDP_SHAPES) {
      const org = shapeOrg(shape);
      const verifiers = verifiersFor(org);
      const signed = signAt(unsignedResponse(shape, org), 'assertion', 'SHA-256', CANONICALIZATIONS[0]);
      for (const [label, edit, resign, accepted] of variants) {
        const xml = resign ? resignAssertionSignedInfo(edit(signed)) : edit(signed);
        if (xml === signed) throw new Error(`${label}: the edit did not apply`);
        const verdict = await decideBothWays(verifiers, xml);
        record(corpus.signatureShape, `${shape.name} ${label}`, verdict);
        expect([label, verdict.stock.ok]).toEqual([label, accepted]);
      }
    }
    expect(corpus.signatureShape.differences).toEqual([]);
  });

  it(`the mutation fuzzer's edits (${FUZZ_RUNS} inputs, seed ${FUZZ_SEED}) get the same outcome both ways`, { timeout: 60_000 + FUZZ_RUNS * 100 }, async () => {
    const bases = IDP_SHAPES.flatMap((shape) => {
      const org = shapeOrg(shape);
      const verifiers = verifiersFor(org);
      const unsigned = unsignedResponse(shape, org);
      return (['assertion', 'both'] as const).flatMap((level) =>
        [CANONICALIZATIONS[0], CANONICALIZATIONS[3]].map((c14n) => ({ label: `${shape.name} ${level} ${c14n}`, verifiers, xml: signAt(unsigned, level, 'SHA-256', c14n) })),
      );
    });
    const edits = fc.sample(fc.tuple(fc.nat(), fc.array(editArbitrary, { minLength: 1, maxLength: 3 })), { seed: FUZZ_SEED, numRuns: FUZZ_RUNS });
    for (const [pick, list] of edits) {
      const base = bases[pick % bases.length]!;
      let xml = base.xml;
      for (const edit of list) xml = applyEdit(xml, edit);
      record(corpus.fuzz, `${base.label} ${JSON.stringify(list)}`, await decideBothWays(base.verifiers, xml));
    }
    expect(corpus.fuzz.differences).toEqual([]);
    // Edits land everywhere: most are rejected, some leave the signed content intact and are accepted.
    expect(corpus.fuzz.inputs).toBe(FUZZ_RUNS);
    expect(corpus.fuzz.accepted).toBeGreaterThan(0);
    expect(corpus.fuzz.accepted).toBeLessThan(FUZZ_RUNS);
  });

  afterAll(() => {
    const summary = Object.fromEntries(
      Object.entries(corpus).map(([k, t]) => [k, { inputs: t.inputs, accepted: t.accepted, rejected: Object.fromEntries(t.codes), differences: t.differences.length }]),
    );
    const total = Object.values(corpus).reduce((n, t) => n + t.inputs, 0);
    console.log(`fast-path gate: ${total} inputs, ${Object.values(corpus).reduce((n, t) => n + t.differences.length, 0)} differences`, JSON.stringify(summary));
  });
});
