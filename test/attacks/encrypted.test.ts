/**
 * Encrypted assertions, end to end through the ACS with really signed and
 * really encrypted Responses (xml-encryption `encrypt`, SP key pair fixtures/keys/sp.key + sp.crt).
 * Accepted: a signed assertion encrypted with AES-GCM or AES-CBC and RSA-OAEP, also inside a signed
 * Response. Refused (status, code, no session, no change, one audit row): insecure algorithms before
 * decryption, an unsigned or wrongly signed assertion inside, an encrypted plus a plain assertion, no SP
 * key configured, another SP's key, a tampered ciphertext.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePostBinding, signResponse } from '../../src/devidp/response.js';
import type { BuildResponseOptions } from '../../src/devidp/response.js';
import { ROOT, standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { expectRejected } from '../support/attacks.js';
import { ENC, SP_KEYS, encryptAssertion } from '../support/encrypt.js';
import type { EncryptAs } from '../support/encrypt.js';
import { postAcs, startLogin } from '../support/flow.js';
import type { Browser, TestResponse } from '../support/http.js';
import { IDP_KEY, responseXml } from '../support/idp.js';
import { IDP_ENTITY_ID, KEYS } from '../support/saml.js';

const SP_KEY_YAML = `      sp_private_key_file: ${path.join(ROOT, 'fixtures/keys/sp.key')}
      sp_cert_file: ${path.join(ROOT, 'fixtures/keys/sp.crt')}`;

/** Organization 1 with the SP decryption key pair. */
let app: TestApp;
/** The standard configuration: no SP key. */
let plain: TestApp;
beforeAll(async () => {
  app = await startApp({ yaml: (dir, url) => standardYaml({ dir, publicUrl: url, sso1Extra: SP_KEY_YAML }) });
  plain = await startApp();
});
afterAll(async () => {
  await app.close();
  await plain.close();
});

const ALICE = { email: 'alice@acme.example', groups: ['LS-Reviewers'] } as const;

/** An SP-initiated login answered by a Response whose signed assertion is encrypted, then `change`d. */
async function encryptedLogin(
  target: TestApp,
  b: Browser,
  as: EncryptAs = {},
  overrides: Partial<BuildResponseOptions> = {},
  change: (xml: string) => string | Promise<string> = (x) => x,
): Promise<TestResponse> {
  const { requestId } = await startLogin(b);
  const signed = responseXml(target, ALICE, { inResponseTo: requestId, ...overrides });
  return postAcs(b, 1, encodePostBinding(await change(await encryptAssertion(signed, as))));
}

describe('encrypted assertions accepted (sso.sp_private_key_file + sp_cert_file)', () => {
  const accepted: Array<[string, EncryptAs]> = [
    ['AES-256-GCM + RSA-OAEP', { data: ENC.aes256gcm, key: ENC.rsaOaep }],
    ['AES-128-GCM + RSA-OAEP', { data: ENC.aes128gcm, key: ENC.rsaOaep }],
    ['AES-256-CBC + RSA-OAEP (AD FS, Entra ID)', { data: ENC.aes256cbc, key: ENC.rsaOaep }],
    ['AES-128-CBC + RSA-OAEP (SimpleSAMLphp default)', { data: ENC.aes128cbc, key: ENC.rsaOaep }],
  ];
  for (const [name, as] of accepted) {
    it(`${name}: a session for the signed subject with the signed groups`, async () => {
      const b = app.browser();
      const res = await encryptedLogin(app, b, as);
      expect(res.status, res.text.slice(0, 300)).toBe(302);
      const me = (await b.whoami()).json<{ email: string; organization: { role: string } }>();
      expect(me).toMatchObject({ email: 'alice@acme.example', organization: { role: 'RE' } });
    });
  }

  it('the encrypted assertion inside a signed Response (signed after encryption, as Okta does)', async () => {
    const b = app.browser();
    const { requestId } = await startLogin(b);
    const org = app.config.organizations[0];
    if (org === undefined) throw new Error('no org');
    const opts: BuildResponseOptions = { issuer: IDP_ENTITY_ID, acsUrl: org.sso.acsUrl, audience: org.sso.spEntityId, nameId: ALICE.email, privateKey: IDP_KEY, cert: KEYS.idpCert };
    const signed = responseXml(app, ALICE, { inResponseTo: requestId });
    const xml = signResponse(await encryptAssertion(signed), opts);
    const res = await postAcs(b, 1, encodePostBinding(xml));
    expect(res.status, res.text.slice(0, 300)).toBe(302);
  });

  it('SP metadata advertises the encryption certificate (KeyDescriptor use="encryption")', async () => {
    const res = await app.browser().get('/saml/1/metadata');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/<KeyDescriptor use="encryption">/);
    const body = SP_KEYS.cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
    expect(res.text.replace(/\s/g, '')).toContain(body);
    expect(res.text).toContain('http://www.w3.org/2009/xmlenc11#aes256-gcm');
    // Without keys there is no KeyDescriptor at all.
    expect((await plain.browser().get('/saml/1/metadata')).text).not.toContain('KeyDescriptor');
  });
});

describe('encrypted assertions refused', () => {
  it('key transport rsa-1_5 (PKCS#1 v1.5, Bleichenbacher) → ALGORITHM, before decryption', async () => {
    await expectRejected(app, (b) => encryptedLogin(app, b, { data: ENC.aes256gcm, key: ENC.rsa15 }), 401, 'ERR_SAML_ALGORITHM');
  });

  it('content encryption tripledes-cbc → ALGORITHM, before decryption', async () => {
    await expectRejected(app, (b) => encryptedLogin(app, b, { data: ENC.tripledes, key: ENC.rsaOaep }), 401, 'ERR_SAML_ALGORITHM');
  });

  it('xmlenc11 rsa-oaep (not decryptable by xml-encryption 3.1) → ALGORITHM', async () => {
    await expectRejected(app, (b) => encryptedLogin(app, b, {}, {}, (xml) => xml.replace(ENC.rsaOaep, 'http://www.w3.org/2009/xmlenc11#rsa-oaep')), 401, 'ERR_SAML_ALGORITHM');
  });

  it('an OAEP digest the library would silently replace by SHA-1 → ALGORITHM', async () => {
    await expectRejected(app, (b) => encryptedLogin(app, b, {}, {}, (xml) => xml.replace('http://www.w3.org/2000/09/xmldsig#sha1', 'http://www.w3.org/2001/04/xmlenc#sha256')), 401, 'ERR_SAML_ALGORITHM');
  });

  it('an encrypted UNSIGNED assertion (Response unsigned) → SIGNATURE', async () => {
    await expectRejected(app, (b) => encryptedLogin(app, b, {}, { sign: 'none' }), 401, 'ERR_SAML_SIGNATURE');
  });

  it('an encrypted unsigned assertion inside a signed Response → SIGNATURE (the assertion itself must be signed)', async () => {
    await expectRejected(app, (b) => encryptedLogin(app, b, {}, { sign: 'response' }), 401, 'ERR_SAML_SIGNATURE');
  });

  it('an encrypted assertion signed by another key (evil key, its certificate in KeyInfo) → SIGNATURE', async () => {
    await expectRejected(app, (b) => encryptedLogin(app, b, {}, { privateKey: KEYS.evilKey, cert: KEYS.evilCert }), 401, 'ERR_SAML_SIGNATURE');
  });

  it('an encrypted assertion signed with RSA-SHA1 (the allow-list applies inside too) → ALGORITHM', async () => {
    await expectRejected(
      app,
      (b) => encryptedLogin(app, b, {}, { signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', digestAlgorithm: 'http://www.w3.org/2000/09/xmldsig#sha1' }),
      401,
      'ERR_SAML_ALGORITHM',
    );
  });

  it('an EncryptedAssertion and a plain Assertion side by side → MALFORMED (exactly one assertion)', async () => {
    await expectRejected(
      app,
      async (b) => {
        const { requestId } = await startLogin(b);
        const signed = responseXml(app, ALICE, { inResponseTo: requestId });
        const assertion = signed.slice(signed.indexOf('<saml:Assertion '), signed.indexOf('</saml:Assertion>') + '</saml:Assertion>'.length);
        const encrypted = await encryptAssertion(signed);
        return postAcs(b, 1, encodePostBinding(encrypted.replace('</samlp:Response>', `${assertion}</samlp:Response>`)));
      },
      400,
      'ERR_SAML_MALFORMED',
    );
  });

  it('no SP key configured → ENCRYPTED', async () => {
    await expectRejected(plain, (b) => encryptedLogin(plain, b), 401, 'ERR_SAML_ENCRYPTED');
  });

  it("encrypted to another SP's certificate (wrong SP key) → ENCRYPTED", async () => {
    await expectRejected(app, (b) => encryptedLogin(app, b, { cert: SP_KEYS.evilCert }), 401, 'ERR_SAML_ENCRYPTED');
  });

  it('a tampered ciphertext (GCM tag fails) → ENCRYPTED, with the same detail as a wrong key', async () => {
    const flip = (xml: string): string => {
      const values = [...xml.matchAll(/<xenc:CipherValue>([^<]+)<\/xenc:CipherValue>/g)];
      const data = values[values.length - 1]?.[1];
      if (data === undefined) throw new Error('no CipherValue');
      const bytes = Buffer.from(data, 'base64');
      bytes[20] = (bytes[20] ?? 0) ^ 1;
      return xml.replace(data, bytes.toString('base64'));
    };
    const tampered = await expectRejected(app, (b) => encryptedLogin(app, b, {}, {}, flip), 401, 'ERR_SAML_ENCRYPTED');
    const wrongKey = await expectRejected(app, (b) => encryptedLogin(app, b, { cert: SP_KEYS.evilCert }), 401, 'ERR_SAML_ENCRYPTED');
    expect(tampered.json<{ detail: string }>().detail).toBe(wrongKey.json<{ detail: string }>().detail);
  });

  it('a tampered AES-CBC ciphertext (padding or parse failure) → ENCRYPTED, the same detail again', async () => {
    const flipLastBlock = (xml: string): string => {
      const values = [...xml.matchAll(/<xenc:CipherValue>([^<]+)<\/xenc:CipherValue>/g)];
      const data = values[values.length - 1]?.[1];
      if (data === undefined) throw new Error('no CipherValue');
      const bytes = Buffer.from(data, 'base64');
      const at = bytes.length - 17;
      bytes[at] = (bytes[at] ?? 0) ^ 0x5a;
      return xml.replace(data, bytes.toString('base64'));
    };
    const res = await expectRejected(app, (b) => encryptedLogin(app, b, { data: ENC.aes256cbc }, {}, flipLastBlock), 401, 'ERR_SAML_ENCRYPTED');
    expect(res.json<{ detail: string }>().detail).toContain('does not decrypt to one assertion');
  });
});

describe('encrypted assertions in a validation worker thread (saml.workers: 1, the built worker)', () => {
  let pooled: TestApp;
  beforeAll(async () => {
    pooled = await startApp({ yaml: (dir, url) => standardYaml({ dir, publicUrl: url, sso1Extra: SP_KEY_YAML }), samlWorkers: 1 });
  });
  afterAll(async () => {
    await pooled.close();
  });

  it('AES-256-GCM + RSA-OAEP accepted; 3DES refused with the same code as inline', async () => {
    const b = pooled.browser();
    expect((await encryptedLogin(pooled, b)).status).toBe(302);
    await expectRejected(pooled, (b2) => encryptedLogin(pooled, b2, { data: ENC.tripledes }), 401, 'ERR_SAML_ALGORITHM');
  });
});
