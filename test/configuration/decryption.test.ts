/**
 * `sso.sp_private_key_file` + `sso.sp_cert_file` (encrypted assertions): both or neither, a
 * readable RSA private key and a certificate that belong together; every problem with file:line:col and path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTERNAL, ROOT, check, cleanup, edit, issuesOf, locate, tempDir, writeFile } from './helpers.js';

afterAll(cleanup);

const KEY = 'fixtures/keys/sp.key';
const CERT = 'fixtures/keys/sp.crt';
const withKeys = (key: string | null, cert: string | null): string =>
  edit(EXTERNAL, [
    '      idp_cert_file: fixtures/keys/idp.crt\n',
    `      idp_cert_file: fixtures/keys/idp.crt\n${key === null ? '' : `      sp_private_key_file: ${key}\n`}${cert === null ? '' : `      sp_cert_file: ${cert}\n`}`,
  ]);

const dir = tempDir();
const spKey = fs.readFileSync(path.join(ROOT, KEY), 'utf8');
const spCert = fs.readFileSync(path.join(ROOT, CERT), 'utf8');
const twoCerts = writeFile(spCert + spCert, 'two.crt', dir);
const keyAndCert = writeFile(spKey + spCert, 'both.pem', dir);
const brokenCert = writeFile('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'broken.crt', dir);
const brokenKey = writeFile('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'broken.key', dir);

describe('sso.sp_private_key_file and sso.sp_cert_file', () => {
  it('both given: the key pair is loaded (PEM) into sso.decryption', () => {
    const { result } = check(withKeys(KEY, CERT));
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const sso = result.config.organizations[0]?.sso;
    expect(sso?.decryption?.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(sso?.decryption?.cert).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('neither given: no decryption (EncryptedAssertion stays refused)', () => {
    const { result } = check(EXTERNAL);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.organizations[0]?.sso).not.toHaveProperty('decryption');
  });

  const cases: Array<{ name: string; code: string; yaml: string; path: string; at: [string, string?]; message: string }> = [
    {
      name: 'the key without the certificate', code: 'ERR_CONFIG_CONFLICT',
      yaml: withKeys(KEY, null),
      path: 'organizations[0].sso.sp_private_key_file',
      at: ['sp_private_key_file'],
      message: '"sp_private_key_file" needs "sp_cert_file" too',
    },
    {
      name: 'the certificate without the key', code: 'ERR_CONFIG_CONFLICT',
      yaml: withKeys(null, CERT),
      path: 'organizations[0].sso.sp_cert_file',
      at: ['sp_cert_file'],
      message: '"sp_cert_file" needs "sp_private_key_file" too',
    },
    {
      name: 'a missing key file, with the OS reason', code: 'ERR_CONFIG_FILE',
      yaml: withKeys('fixtures/keys/nope.key', CERT),
      path: 'organizations[0].sso.sp_private_key_file',
      at: ['fixtures/keys/nope.key'],
      message: 'private key file "fixtures/keys/nope.key" missing or unreadable (ENOENT',
    },
    {
      name: 'a missing certificate file', code: 'ERR_CONFIG_FILE',
      yaml: withKeys(KEY, 'fixtures/keys/nope.crt'),
      path: 'organizations[0].sso.sp_cert_file',
      at: ['fixtures/keys/nope.crt'],
      message: 'certificate file "fixtures/keys/nope.crt" missing or unreadable (ENOENT',
    },
    {
      name: 'a certificate given as the private key', code: 'ERR_CONFIG_FILE',
      yaml: withKeys(CERT, CERT),
      path: 'organizations[0].sso.sp_private_key_file',
      at: ['sp_private_key_file: fixtures/keys/sp.crt', 'fixtures/keys/sp.crt'],
      message: 'holds 0 private keys; expected exactly one -----BEGIN PRIVATE KEY-----',
    },
    {
      name: 'a private key given as the certificate', code: 'ERR_CONFIG_FILE',
      yaml: withKeys(KEY, KEY),
      path: 'organizations[0].sso.sp_cert_file',
      at: ['sp_cert_file: fixtures/keys/sp.key', 'fixtures/keys/sp.key'],
      message: 'contains a PRIVATE KEY',
    },
    {
      name: 'a certificate file holding the key as well', code: 'ERR_CONFIG_FILE',
      yaml: withKeys(KEY, keyAndCert),
      path: 'organizations[0].sso.sp_cert_file',
      at: [keyAndCert],
      message: 'contains a PRIVATE KEY',
    },
    {
      name: 'two certificates', code: 'ERR_CONFIG_FILE',
      yaml: withKeys(KEY, twoCerts),
      path: 'organizations[0].sso.sp_cert_file',
      at: [twoCerts],
      message: 'holds 2 certificates; expected exactly one',
    },
    {
      name: 'a mangled certificate', code: 'ERR_CONFIG_FILE',
      yaml: withKeys(KEY, brokenCert),
      path: 'organizations[0].sso.sp_cert_file',
      at: [brokenCert],
      message: 'it is not a valid certificate',
    },
    {
      name: 'a mangled private key', code: 'ERR_CONFIG_FILE',
      yaml: withKeys(brokenKey, CERT),
      path: 'organizations[0].sso.sp_private_key_file',
      at: [brokenKey],
      message: 'does not hold a valid private key',
    },
    {
      name: 'a key and a certificate that do not belong together', code: 'ERR_CONFIG_CONFLICT',
      yaml: withKeys(KEY, 'fixtures/keys/evil.crt'),
      path: 'organizations[0].sso.sp_cert_file',
      at: ['fixtures/keys/evil.crt'],
      message: 'is not the certificate of sp_private_key_file "fixtures/keys/sp.key" (their public keys differ)',
    },
    {
      name: 'a misspelt key, with a suggestion', code: 'ERR_CONFIG_UNKNOWN_KEY',
      yaml: edit(withKeys(KEY, CERT), ['sp_cert_file:', 'sp_cert_fil:']),
      path: 'organizations[0].sso.sp_cert_fil',
      at: ['sp_cert_fil:', 'sp_cert_fil'],
      message: 'unknown key "sp_cert_fil"',
    },
  ];
  it.each(cases)('rejected: $name', (c) => {
    const { file, result } = check(c.yaml);
    const issues = issuesOf(result);
    expect(issues, JSON.stringify(issues, null, 2)).toHaveLength(1);
    const [snippet, inner] = c.at;
    expect(issues[0]).toEqual({ code: c.code, file, ...locate(c.yaml, snippet, inner), path: c.path, message: expect.stringContaining(c.message) });
  });
});

describe('sso.sign_authn_requests', () => {
  const signing = (value: string, keys: boolean): string =>
    edit(keys ? withKeys(KEY, CERT) : EXTERNAL, ['      idp_cert_file: fixtures/keys/idp.crt\n', `      idp_cert_file: fixtures/keys/idp.crt\n      sign_authn_requests: ${value}\n`]);

  it('true with the SP key pair: sso.signAuthnRequests', () => {
    const { result } = check(signing('true', true));
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.organizations[0]?.sso.signAuthnRequests).toBe(true);
  });

  it('false or absent: not set (requests unsigned)', () => {
    for (const yaml of [signing('false', true), withKeys(KEY, CERT)]) {
      const { result } = check(yaml);
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(result.config.organizations[0]?.sso).not.toHaveProperty('signAuthnRequests');
    }
  });

  const cases: Array<{ name: string; code: string; yaml: string; at: [string, string?]; message: string }> = [
    {
      name: 'true without sp_private_key_file / sp_cert_file', code: 'ERR_CONFIG_CONFLICT',
      yaml: signing('true', false),
      at: ['sign_authn_requests: true', 'true'],
      message: 'sign_authn_requests: true needs the SP key pair: set sp_private_key_file and sp_cert_file',
    },
    {
      name: 'not a boolean', code: 'ERR_CONFIG_TYPE',
      yaml: signing('"yes"', true),
      at: ['sign_authn_requests: "yes"', '"yes"'],
      message: 'expected',
    },
  ];
  it.each(cases)('rejected: $name', (c) => {
    const { file, result } = check(c.yaml);
    const issues = issuesOf(result);
    expect(issues, JSON.stringify(issues, null, 2)).toHaveLength(1);
    const [snippet, inner] = c.at;
    expect(issues[0]).toEqual({ code: c.code, file, ...locate(c.yaml, snippet, inner), path: 'organizations[0].sso.sign_authn_requests', message: expect.stringContaining(c.message) });
  });
});
