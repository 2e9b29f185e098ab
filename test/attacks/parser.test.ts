/**
 * Attack suite, part 3: the parser and the transport: DOCTYPE, XXE and entity
 * expansion, junk around the root, base64 and UTF-8 tricks, body sizes, deep nesting and attribute bombs,
 * deflate bombs on the one Redirect-binding reader (the development IdP's SAMLRequest), prototype-named
 * attributes and RelayState open redirects.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePostBinding } from '../../src/devidp/response.js';
import type { BuildResponseOptions } from '../../src/devidp/response.js';
import { readAuthnRequestId } from '../../src/devidp/routes.js';
import { RolegateError } from '../../src/errors.js';
import { MARKUP_LIMITS } from '../../src/saml/precheck.js';
import { serverYaml, standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { expectRejected, replaceOnce } from '../support/attacks.js';
import { auditRows, memberRole } from '../support/db.js';
import { postAcs, startLogin } from '../support/flow.js';
import type { Browser, TestResponse } from '../support/http.js';
import { responseXml, samlResponse } from '../support/idp.js';

let app: TestApp;
let idpInit: TestApp;
let listener: http.Server;
let hits = 0;
let listenerUrl = '';

beforeAll(async () => {
  app = await startApp();
  idpInit = await startApp({ yaml: (dir, url) => standardYaml({ dir, publicUrl: url, sso1Extra: '      allow_idp_initiated: true' }) });
  listener = http.createServer((_req, res) => {
    hits += 1;
    res.end('<!ENTITY leak "leaked">');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
  listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
  await idpInit.close();
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  expect(hits).toBe(0);
});

const MALLORY = { email: 'mallory@acme.example', groups: ['Staff'] } as const;

/** A valid signed Response for a login started in `b`, changed as text, sent as the raw form value. */
async function crafted(b: Browser, change: (xml: string) => string, overrides: Partial<BuildResponseOptions> = {}): Promise<TestResponse> {
  const { requestId } = await startLogin(b);
  return postAcs(b, 1, encodePostBinding(change(responseXml(app, MALLORY, { inResponseTo: requestId, ...overrides }))));
}

describe('DOCTYPE and entities (rejected before any parser sees them)', () => {
  const cases: Array<[string, (xml: string) => string]> = [
    ['a plain DOCTYPE (node-saml alone accepts it)', (xml) => `<!DOCTYPE samlp:Response [<!ELEMENT samlp:Response ANY>]>${xml}`],
    ['a lower-case doctype after an XML declaration', (xml) => `<?xml version="1.0"?><!doctype r>${xml}`],
    ['XXE: an external entity (to a local listener) used in the NameID', (xml) =>
      `<!DOCTYPE r [<!ENTITY xxe SYSTEM "${listenerUrl}/xxe">]>${replaceOnce(xml, '>mallory@acme.example</saml:NameID>', '>&xxe;</saml:NameID>')}`],
    ['XXE: a parameter entity (to a local listener)', (xml) => `<!DOCTYPE r [<!ENTITY % xxe SYSTEM "${listenerUrl}/param"> %xxe;]>${xml}`],
    ['XXE: a file entity', (xml) => `<!DOCTYPE r [<!ENTITY f SYSTEM "file:///etc/passwd">]>${replaceOnce(xml, '>Staff<', '>&f;<')}`],
    ['billion laughs (nested internal entities)', (xml) =>
      `<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>${replaceOnce(xml, '>Staff<', '>&c;<')}`],
    ['an undeclared entity reference without a DTD', (xml) => replaceOnce(xml, '>Staff<', '>&xxe;<')],
    ['CVE-2025-25291 shape: DOCTYPE SYSTEM hiding a comment', (xml) => `<!DOCTYPE response SYSTEM 'x"><!--'>${xml}`],
    ['CVE-2025-23369 shape: an ID through an entity', (xml) => `<!DOCTYPE r [<!ENTITY id "_x">]>${xml}`],
  ];
  for (const [name, change] of cases) {
    it(`${name} → MALFORMED, no outbound request`, async () => {
      await expectRejected(app, (b) => crafted(b, change), 400, 'ERR_SAML_MALFORMED');
      expect(hits).toBe(0);
    });
  }
});

describe('around the root, base64 and encoding', () => {
  const textCases: Array<[string, (xml: string) => string]> = [
    ['junk text before the root (node-saml alone accepts it)', (xml) => `junk${xml}`],
    ['a comment before the root', (xml) => `<!-- hi -->${xml}`],
    ['a processing instruction before the root', (xml) => `<?evil x?>${xml}`],
    ['text after the root', (xml) => `${xml}junk`],
    ['a second root element', (xml) => `${xml}<x/>`],
    ['a NUL character inside a value', (xml) => replaceOnce(xml, '>Staff<', '>Staff\u0000<')],
    ['an unclosed element', (xml) => xml.replace('</samlp:Response>', '')],
    ['an unquoted attribute (xmldom would recover)', (xml) => xml.replace('Version="2.0"', 'Version=2.0')],
  ];
  for (const [name, change] of textCases) {
    it(`${name} → MALFORMED`, async () => {
      await expectRejected(app, (b) => crafted(b, change), 400, 'ERR_SAML_MALFORMED');
    });
  }

  const formCases: Array<[string, (base64: string) => Record<string, string> | string]> = [
    ['invalid base64 characters that Buffer.from would skip', (b64) => `${b64.slice(0, 40)}!!!${b64.slice(40)}`],
    ['base64 with wrong padding', (b64) => `${b64.replace(/=+$/, '')}===`],
    ['base64 of bytes that are not UTF-8', () => Buffer.from([0x3c, 0x61, 0xff, 0xfe, 0x3e]).toString('base64')],
    ['an empty SAMLResponse', () => ''],
    ['the deflated (Redirect-binding) form posted to the POST endpoint', (b64) => deflateRawSync(Buffer.from(b64, 'base64')).toString('base64')],
  ];
  for (const [name, make] of formCases) {
    it(`${name} → MALFORMED`, async () => {
      await expectRejected(app, async (b) => {
        const { requestId } = await startLogin(b);
        const value = make(samlResponse(app, MALLORY, { inResponseTo: requestId }));
        return postAcs(b, 1, typeof value === 'string' ? value : '');
      }, 400, 'ERR_SAML_MALFORMED');
    });
  }

  it('SAMLResponse given twice → MALFORMED', async () => {
    await expectRejected(app, async (b) => {
      const { requestId } = await startLogin(b);
      const value = samlResponse(app, MALLORY, { inResponseTo: requestId });
      const body = `SAMLResponse=${encodeURIComponent(value)}&SAMLResponse=${encodeURIComponent(value)}`;
      return b.request('POST', '/saml/1/acs', { body, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' } });
    }, 400, 'ERR_SAML_MALFORMED');
  });

  it('no SAMLResponse, only __proto__ fields → MALFORMED', async () => {
    await expectRejected(app, (b) => b.request('POST', '/saml/1/acs', {
      body: '__proto__[SAMLResponse]=x&constructor[prototype][SAMLResponse]=y',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    }), 400, 'ERR_SAML_MALFORMED');
  });
});

describe('sizes (saml.max_response_bytes: 262144)', () => {
  const MAX = 262_144;
  it('a multi-megabyte body → 413 PAYLOAD_TOO_LARGE before parsing', async () => {
    await expectRejected(app, (b) => postAcs(b, 1, 'A'.repeat(5 * 1024 * 1024)), 413, 'ERR_PAYLOAD_TOO_LARGE');
  });

  it('a body just over the form limit → 413 PAYLOAD_TOO_LARGE', async () => {
    const formLimit = Math.ceil((MAX * 4) / 3) + 8192;
    await expectRejected(app, (b) => postAcs(b, 1, 'A'.repeat(formLimit - 'SAMLResponse='.length + 1)), 413, 'ERR_PAYLOAD_TOO_LARGE');
  });

  it('a body under the form limit that decodes to one byte over max_response_bytes → 413 SAML_TOO_LARGE', async () => {
    await expectRejected(app, (b) => postAcs(b, 1, Buffer.alloc(MAX + 1, 'a').toString('base64')), 413, 'ERR_SAML_TOO_LARGE');
  });

  it('a valid Response padded to exactly max_response_bytes is accepted', async () => {
    const b = app.browser();
    const { requestId } = await startLogin(b);
    const xml = responseXml(app, MALLORY, { inResponseTo: requestId });
    const padded = xml + ' '.repeat(MAX - Buffer.byteLength(xml));
    expect(Buffer.byteLength(padded)).toBe(MAX);
    expect((await postAcs(b, 1, encodePostBinding(padded))).status).toBe(302);
  });
});

describe('deep nesting, element floods and attribute bombs (limits: depth 64, 64 attributes per element, 4096 elements)', () => {
  const inExtensions = (inner: string) => (xml: string) => replaceOnce(xml, '<samlp:Status>', `<samlp:Extensions>${inner}</samlp:Extensions><samlp:Status>`);
  const nest = (n: number, open = '<x>', close = '</x>') => open.repeat(n) + close.repeat(n);
  const attrs = (n: number, name = (i: number) => `a${i}`) => Array.from({ length: n }, (_, i) => ` ${name(i)}="1"`).join('');
  // Response (1) > Extensions (2) > x… : a chain of k elements reaches depth 2 + k.
  const atLimit = MARKUP_LIMITS.depth - 2;

  const rejected: Array<[string, (xml: string) => string]> = [
    ['10,000 nested elements in an unsigned Extensions', inExtensions(nest(10_000))],
    ['5,000 nested elements each declaring a namespace (GHSA-965w-775f-mr7g)', inExtensions(nest(5_000, '<a:x xmlns:a="urn:a">', '</a:x>'))],
    [`nesting one past the limit (depth ${MARKUP_LIMITS.depth + 1})`, inExtensions(nest(atLimit + 1))],
    ['40,000 empty elements side by side (xpath sorts node sets in quadratic time: ~25 s unchecked)', inExtensions('<x/>'.repeat(40_000))],
    [`one element more than the ${MARKUP_LIMITS.elements}-element limit`, inExtensions('<x/>'.repeat(MARKUP_LIMITS.elements))],
    ['one element with 20,000 attributes', inExtensions(`<x${attrs(20_000)}/>`)],
    ['one element with 30,000 duplicate attributes (GHSA-8344-3jmq-59r6)', inExtensions(`<x${attrs(30_000, () => 'a')}/>`)],
    [`one element with ${MARKUP_LIMITS.attributesPerElement + 1} attributes`, inExtensions(`<x${attrs(MARKUP_LIMITS.attributesPerElement + 1)}/>`)],
    // xmldom 0.8 reads an unterminated `<?x` or a stray `<` as text (no error), so a bomb could hide behind
    // it from a naive pre-scan: the pre-scan refuses both.
    ['an unterminated processing instruction (GHSA-g53g-w8rj-fmg7) before a nesting bomb', inExtensions(`<?x ${' '.repeat(50_000)}${nest(10_000)}`)],
    ['a stray "<" and a quote before a nesting bomb', inExtensions(`< "${nest(10_000)}"`)],
    ['an unterminated comment', inExtensions(`<!-- ${nest(100)}`)],
    ['a "<" inside an attribute value', inExtensions('<x a="<y>"/>')],
  ];
  for (const [name, change] of rejected) {
    it(`${name} → MALFORMED`, async () => {
      await expectRejected(app, (b) => crafted(b, change), 400, 'ERR_SAML_MALFORMED');
    });
  }

  it('nesting exactly at the limit, and exactly the attribute limit, in an unsigned Extensions are accepted', async () => {
    for (const change of [inExtensions(nest(atLimit)), inExtensions(`<x${attrs(MARKUP_LIMITS.attributesPerElement)}/>`)]) {
      const b = app.browser();
      expect((await crafted(b, change)).status).toBe(302);
    }
  });
});

describe('deflate bombs on the Redirect binding', () => {
  let dev: TestApp;
  beforeAll(async () => {
    dev = await startApp({
      yaml: (dir, url) => `${serverYaml(dir, url)}organizations:
  - id: 1
    title: Acme Labs
    owner: owner@acme.example
    sso:
      development_idp: true
    roles:
      LS-Admins: Administrator
`,
    });
  });
  afterAll(async () => {
    await dev.close();
  });

  it('readAuthnRequestId refuses a 100 MiB deflate bomb (bounded inflate) quickly', () => {
    const bomb = deflateRawSync(Buffer.alloc(100 * 1024 * 1024, ' ')).toString('base64');
    let err: unknown;
    try {
      readAuthnRequestId(bomb);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RolegateError);
    expect((err as RolegateError).code).toBe('ERR_BAD_REQUEST');
  });

  it('the development IdP refuses an 8 MiB deflate bomb in SAMLRequest → 400 BAD_REQUEST', async () => {
    const bomb = deflateRawSync(Buffer.alloc(8 * 1024 * 1024, ' ')).toString('base64');
    const res = await dev.browser().get(`/dev-idp/1/sso?SAMLRequest=${encodeURIComponent(bomb)}`, { accept: 'application/json' });
    expect(res.status).toBe(400);
    expect(res.json<{ error: string }>().error).toBe('ERR_BAD_REQUEST');
  });

  it('a 100 MiB bomb does not even fit in the request line: 431 from the header limit', async () => {
    const bomb = deflateRawSync(Buffer.alloc(100 * 1024 * 1024, ' ')).toString('base64');
    const res = await dev.browser().get(`/dev-idp/1/sso?SAMLRequest=${encodeURIComponent(bomb)}`, { accept: 'application/json' });
    expect(res.status).toBe(431);
  });

  it('the ACS has no Redirect binding: GET with a deflated SAMLResponse → 405, nothing audited', async () => {
    const bomb = deflateRawSync(Buffer.alloc(1024 * 1024, ' ')).toString('base64');
    const before = (await auditRows(app.db)).length;
    const b = app.browser();
    const res = await b.get(`/saml/1/acs?SAMLResponse=${encodeURIComponent(bomb)}`, { accept: 'application/json' });
    expect(res.status).toBe(405);
    expect((await b.whoami()).status).toBe(401);
    expect((await auditRows(app.db)).length).toBe(before);
  });
});

describe('prototype-named attributes', () => {
  it('__proto__, constructor and prototype attributes carrying admin groups are ignored; nothing is polluted', async () => {
    const b = app.browser();
    const res = await crafted(b, (x) => x, {
      attributes: [
        ['Email', ['proto@acme.example']],
        ['Groups', ['Staff']],
        ['__proto__', ['LS-Admins', 'LS-Managers']],
        ['constructor', ['LS-Admins']],
        ['prototype', ['LS-Admins']],
        ['hasOwnProperty', ['LS-Admins']],
      ],
      nameId: 'proto@acme.example',
    });
    expect(res.status).toBe(302);
    expect((await b.whoami()).json<{ organization: { role: string } }>().organization.role).toBe('NO');
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['LS-Admins']).toBeUndefined();
  });

  it('a __proto__ attribute with admin groups and NO Groups attribute: groups unknown, no role granted', async () => {
    const b = app.browser();
    const res = await crafted(b, (x) => x, {
      attributes: [['Email', ['proto2@acme.example']], ['__proto__', ['LS-Admins', 'LS-Managers']]],
      nameId: 'proto2@acme.example',
    });
    expect(res.status).toBe(302);
    expect(await memberRole(app.db, 1, 'proto2@acme.example')).toMatchObject({ role: 'NO' });
  });

  it('the Groups attribute twice (which list wins would be an accident of order) → ATTRIBUTES', async () => {
    await expectRejected(app, (b) => crafted(b, (x) => x, {
      attributes: [['Email', ['mallory@acme.example']], ['Groups', ['Staff']], ['Groups', ['LS-Admins']]],
    }), 401, 'ERR_SAML_ATTRIBUTES');
  });

  it('an attribute named nameID cannot stand in for the NameID', async () => {
    await expectRejected(app, (b) => crafted(b, (x) => x, {
      nameId: '',
      attributes: [['nameID', ['owner@acme.example']], ['Groups', ['LS-Admins']]],
    }), 401, 'ERR_SAML_ATTRIBUTES');
  });
});

describe('RelayState and next: open redirects (extends test/login RelayState cases)', () => {
  // Each would make a browser leave for another host if used as Location. The first three survived the
  // original check (dot segments resolved to `//evil.example`) and are fixed in src/http/safety.ts.
  const targets = [
    '/.//evil.example/',
    '/a/..//evil.example/',
    '/%2e//evil.example/',
    '/..//evil.example',
    '/\t/evil.example',
    '\t//evil.example',
    ' //evil.example',
    '/%5C/evil.example',
    'https:/evil.example',
    'https:evil.example',
    'data:text/html,<script>alert(1)</script>',
    'JaVaScRiPt:alert(1)',
    '/\u2028//evil.example',
    '/ok\r\nSet-Cookie: x=y',
  ];
  const offHost = (location: string | null): boolean => {
    if (location === null) return true;
    const url = new URL(location, 'http://rolegate.invalid');
    return url.origin !== 'http://rolegate.invalid' || location.startsWith('//') || /[\r\n]/.test(location);
  };

  it('IdP-initiated RelayState: never a Location off this host, never CR/LF', async () => {
    for (const target of targets) {
      const res = await postAcs(idpInit.browser(), 1, samlResponse(idpInit, { email: 'sam@acme.example', groups: ['LS-Reviewers'] }), target);
      expect(res.status, target).toBe(302);
      expect(offHost(res.location), `${JSON.stringify(target)} → ${res.location}`).toBe(false);
    }
  });

  it('SP-initiated next: never a Location off this host', async () => {
    for (const target of targets) {
      const b = app.browser();
      const { requestId } = await startLogin(b, 1, target);
      const res = await postAcs(b, 1, samlResponse(app, { email: 'tess@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId }));
      expect(res.status, target).toBe(302);
      expect(offHost(res.location), `${JSON.stringify(target)} → ${res.location}`).toBe(false);
    }
  });

  it('SP-initiated: a RelayState posted by the attacker is ignored in favour of the stored next', async () => {
    const b = app.browser();
    const { requestId } = await startLogin(b, 1, '/projects/42');
    const res = await postAcs(b, 1, samlResponse(app, { email: 'tess@acme.example', groups: ['LS-Reviewers'] }, { inResponseTo: requestId }), '/.//evil.example');
    expect(res.location).toBe('/projects/42');
  });
});
