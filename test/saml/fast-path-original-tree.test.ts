/**
 * The fast path reads an assertion signed alone from the posted document's own tree instead of parsing its
 * canonical text again (src/saml/fast/original-tree.ts). Each case below signs one of the differences
 * between that tree and the parse into the assertion (or adds it after signing where the signature does
 * not cover it), and requires: the same outcome, code and VerifiedLogin as stock node-saml (the reference
 * decider), and the read the fast path took (its own tree where the difference is accounted for, the
 * reparse where original-tree.ts refuses). Cases marked "tells" give a different outcome if the difference
 * were ignored (checked by hand: with `hasAttributes` answering from the posted tree, or the `_` check not
 * skipping the Signature, they fail).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signedAssertionReads } from '../../src/saml/fast/verify.js';
import { CANONICALIZATIONS, decideBothWays, IDP_SHAPES, shapeOrg, signAt, unsignedResponse, verifiersFor, type GateOutcome } from '../support/gate.js';
import { NOW } from '../support/saml.js';

beforeAll(() => {
  vi.useFakeTimers({ now: NOW.getTime() + 1_000, toFake: ['Date'] });
});
afterAll(() => {
  vi.useRealTimers();
});

const OKTA = IDP_SHAPES.find((s) => s.name === 'Okta');
if (OKTA === undefined) throw new Error('no Okta shape');
const ORG = shapeOrg(OKTA);
const VERIFIERS = verifiersFor(ORG);
const EXC_C14N = CANONICALIZATIONS[0];

function edit(xml: string, from: string, to: string): string {
  const at = xml.indexOf(from);
  if (at === -1 || xml.indexOf(from, at + 1) !== -1) throw new Error(`expected one ${from}`);
  return xml.slice(0, at) + to + xml.slice(at + from.length);
}

const DSIG_VALUE_END = '</ds:SignatureValue>';

interface Case {
  readonly name: string;
  /** Edits to the unsigned Response (signed afterwards, at the assertion). */
  readonly before?: (xml: string) => string;
  /** Edits after signing (where the signature does not reach). */
  readonly after?: (xml: string) => string;
  readonly c14n?: string;
  readonly level?: 'assertion' | 'both';
  /** The read the fast path must take; absent when the Response is refused before the assertion is read. */
  readonly read?: 'originalTree' | 'reparsed';
  /** What stock decides (so that the case is not vacuous). */
  readonly expect: (stock: GateOutcome) => void;
}

const accepted = (check?: (login: Extract<GateOutcome, { ok: true }>['login']) => void) => (stock: GateOutcome) => {
  expect(stock.ok, JSON.stringify(stock)).toBe(true);
  if (stock.ok && check) check(stock.login);
};
const GROUPS = '<saml:AttributeValue xsi:type="xs:string">Everyone</saml:AttributeValue>';

const CASES: Case[] = [
  { name: 'as signed by the IdP', read: 'originalTree', expect: accepted((l) => expect(l.nameId).toBe('alice@corp.example')) },
  {
    name: 'comments inside the NameID and a group value (text split in the posted tree)',
    before: (x) => edit(edit(x, '>alice@corp.example</saml:NameID>', '>alice<!-- x -->@corp.example</saml:NameID>'), '>LS-Admins<', '>LS-<!---->Admins<'),
    read: 'originalTree',
    expect: accepted((l) => {
      expect(l.nameId).toBe('alice@corp.example');
      expect(l.groups).toContain('LS-Admins');
    }),
  },
  {
    name: 'CDATA sections in the Audience and a group value',
    before: (x) => edit(edit(x, '>http://sp.test/saml/1/metadata</saml:Audience>', '><![CDATA[http://sp.test/saml/1/metadata]]></saml:Audience>'), '>Everyone<', '><![CDATA[Every]]>one<'),
    read: 'originalTree',
    expect: accepted((l) => expect(l.groups).toContain('Everyone')),
  },
  {
    name: 'a processing instruction in a group value (exc-c14n renders its data as text)',
    before: (x) => edit(x, '>Everyone<', '>Every<?pi one?><'),
    read: 'reparsed',
    expect: accepted(),
  },
  {
    name: 'tells: Conditions with only a namespace declaration (no attributes once canonical: no time checks)',
    before: (x) => edit(x, '<saml:Conditions NotBefore="2026-12-01T12:00:00.000Z" NotOnOrAfter="2026-12-01T12:05:00.000Z">', '<saml:Conditions xmlns:unused="urn:unused">'),
    read: 'originalTree',
    expect: accepted(),
  },
  {
    name: 'tells: Conditions with only an attribute named xmlnsX (exc-c14n drops it)',
    before: (x) => edit(x, '<saml:Conditions NotBefore="2026-12-01T12:00:00.000Z" NotOnOrAfter="2026-12-01T12:05:00.000Z">', '<saml:Conditions xmlnsX="1">'),
    read: 'originalTree',
    expect: accepted(),
  },
  {
    name: 'tells: a blank group value with only a namespace declaration (a string once canonical)',
    before: (x) => edit(x, GROUPS, `${GROUPS}<saml:AttributeValue xmlns:q="urn:q"> </saml:AttributeValue>`),
    read: 'originalTree',
    expect: (stock) => expect(stock.ok).toBeDefined(),
  },
  {
    name: 'a group value whose only attribute is a namespace the value uses (declaration kept)',
    before: (x) => edit(x, GROUPS, `${GROUPS}<saml:AttributeValue xmlns:q="urn:q"><q:v>x</q:v></saml:AttributeValue>`),
    read: 'originalTree',
    expect: (stock) => expect(stock.ok).toBeDefined(),
  },
  {
    name: 'a default-namespace element and an xmlns="" element inside group values',
    before: (x) => edit(x, GROUPS, `${GROUPS}<saml:AttributeValue><G xmlns="urn:g">a</G></saml:AttributeValue><saml:AttributeValue><H xmlns="">b</H></saml:AttributeValue>`),
    read: 'originalTree',
    expect: (stock) => expect(stock.ok).toBeDefined(),
  },
  {
    name: 'the saml prefix bound to another namespace inside a group value, and back',
    before: (x) => edit(x, GROUPS, `${GROUPS}<saml:AttributeValue><saml:X xmlns:saml="urn:other"><saml:Y xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/></saml:X></saml:AttributeValue>`),
    read: 'originalTree',
    expect: (stock) => expect(stock.ok).toBeDefined(),
  },
  {
    name: 'tab and line feed as character references, and literal ones, in attribute values',
    before: (x) =>
      edit(
        edit(x, 'Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"', 'Format="a&#x9;b&#xA;c\td\ne"'),
        '<saml:AuthnStatement AuthnInstant',
        '<saml:AuthnStatement x="&lt;&amp;&quot;&gt;" AuthnInstant',
      ),
    read: 'originalTree',
    expect: accepted((l) => expect(l.nameIdFormat).toBe('a\tb\nc d e')),
  },
  {
    name: 'a carriage return (as a reference) in the NameID',
    before: (x) => edit(x, '>alice@corp.example</saml:NameID>', '>alice&#xD;@corp.example</saml:NameID>'),
    read: 'reparsed',
    expect: (stock) => expect(stock.ok).toBeDefined(),
  },
  {
    name: 'a namespace URI with a quote (written unescaped by exc-c14n)',
    before: (x) => edit(x, GROUPS, `${GROUPS}<saml:AttributeValue><q:v xmlns:q="urn:a&quot;b">x</q:v></saml:AttributeValue>`),
    read: 'reparsed',
    expect: (stock) => expect(stock.ok).toBeDefined(),
  },
  {
    name: 'a namespace URI with a line feed',
    before: (x) => edit(x, GROUPS, `${GROUPS}<saml:AttributeValue><q:v xmlns:q="urn:a&#xA;b">x</q:v></saml:AttributeValue>`),
    read: 'reparsed',
    expect: (stock) => expect(stock.ok).toBeDefined(),
  },
  {
    name: 'an element named "_" in the signed assertion (xml2js fails on it)',
    before: (x) => edit(x, GROUPS, `${GROUPS}<saml:AttributeValue><_>x</_></saml:AttributeValue>`),
    read: 'originalTree',
    expect: (stock) => expect(stock.ok).toBe(false),
  },
  {
    name: 'tells: an element named "_" in the Signature, outside what it signs (not in the canonical text)',
    after: (x) => edit(x, DSIG_VALUE_END, `${DSIG_VALUE_END}<ds:Object><_/></ds:Object>`),
    read: 'originalTree',
    expect: accepted(),
  },
  {
    name: 'a copy of the Signature inside a group value',
    after: (x) => {
      const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(x)?.[0];
      if (sig === undefined) throw new Error('no signature');
      return edit(x, GROUPS, `${GROUPS}<saml:AttributeValue>${sig}</saml:AttributeValue>`);
    },
    expect: (stock) => expect(stock.ok).toBe(false),
  },
  { name: 'exclusive c14n with comments (not canonicalised in place)', c14n: CANONICALIZATIONS[2], read: 'reparsed', expect: accepted() },
  { name: 'an InclusiveNamespaces PrefixList (not canonicalised in place)', c14n: CANONICALIZATIONS[1], read: 'reparsed', expect: accepted() },
  { name: 'Response and assertion signed (stock reads the Response’s canonical text)', level: 'both', read: 'reparsed', expect: accepted() },
];

describe('the assertion read from the posted tree decides as the parse of its canonical text', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      let xml = unsignedResponse(OKTA, ORG);
      if (c.before) xml = c.before(xml);
      xml = signAt(xml, c.level ?? 'assertion', 'SHA-256', c.c14n ?? EXC_C14N);
      if (c.after) xml = c.after(xml);
      const before = { ...signedAssertionReads };
      const verdict = await decideBothWays(VERIFIERS, xml);
      expect(verdict.fast).toEqual(verdict.stock);
      c.expect(verdict.stock);
      const taken = {
        originalTree: signedAssertionReads.originalTree - before.originalTree,
        reparsed: signedAssertionReads.reparsed - before.reparsed,
      };
      if (c.read !== undefined) expect(taken).toEqual({ originalTree: c.read === 'originalTree' ? 1 : 0, reparsed: c.read === 'reparsed' ? 1 : 0 });
    });
  }

  it('every fixture IdP shape signed at the assertion with exclusive c14n is read from the posted tree', async () => {
    for (const shape of IDP_SHAPES) {
      const org = shapeOrg(shape);
      for (const algorithm of ['SHA-256', 'SHA-512'] as const) {
        const before = signedAssertionReads.originalTree;
        const verdict = await decideBothWays(verifiersFor(org), signAt(unsignedResponse(shape, org), 'assertion', algorithm, EXC_C14N));
        expect(verdict.same, `${shape.name} ${algorithm}`).toBe(true);
        expect(verdict.stock.ok, `${shape.name} ${algorithm}`).toBe(true);
        expect(signedAssertionReads.originalTree - before, `${shape.name} ${algorithm}`).toBe(1);
      }
    }
  });
});
