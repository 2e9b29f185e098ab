/**
 * The keys of X-Rolegate-Assertion: configured files (the first signs, all are published: rotation), or one
 * generated under data_dir that survives restarts, with `signing-key.previous.pem` published beside it.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { standardYaml, startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { signIn } from '../support/flow.js';
import type { Browser } from '../support/http.js';
import { PEOPLE, cookieHeader, forwardAuthYaml, rawRequest } from './support.js';

/** On rolegate's host (127.0.0.1), as an upstream must be without cookie_domain. */
const ORIGIN = 'https://127.0.0.1:8443';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-keys-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function pemFile(name: string, kind: 'ec' | 'ed25519' | 'rsa'): string {
  const { privateKey } =
    kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  const file = path.join(dir, name);
  fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return file;
}

async function withApp<T>(yamlExtra: string, fn: (app: TestApp, b: Browser) => Promise<T>, dataDir?: string): Promise<T> {
  const app = await startApp({
    yaml: (d, url) => {
      const base = standardYaml({ dir: d, publicUrl: url }) + forwardAuthYaml([ORIGIN], yamlExtra);
      return dataDir === undefined ? base : base.replace(`data_dir: ${d}/data`, `data_dir: ${dataDir}`);
    },
  });
  try {
    const b = app.browser();
    expect((await signIn(app, b, PEOPLE.AN)).status).toBe(302);
    return await fn(app, b);
  } finally {
    await app.close();
  }
}

async function assertionAndJwks(app: TestApp, b: Browser): Promise<{ jws: string; jwks: { keys: Record<string, unknown>[] } }> {
  const res = await rawRequest(`${app.url}/auth/forward`, {
    'X-Forwarded-Method': 'GET',
    'X-Forwarded-Proto': 'https',
    'X-Forwarded-Host': '127.0.0.1:8443',
    'X-Forwarded-Uri': '/',
    cookie: cookieHeader(b),
  });
  expect(res.status).toBe(200);
  const jwks = (await app.browser().get('/.well-known/jwks.json')).json<{ keys: Record<string, unknown>[] }>();
  return { jws: String(res.headers['x-rolegate-assertion']), jwks };
}

describe('signing keys', () => {
  it('configured: the first key signs, every key is published, and an assertion of the old key still verifies', async () => {
    const oldKey = pemFile('old.pem', 'rsa');
    const newKey = pemFile('new.pem', 'ec');
    // Before the rotation: only the old key.
    const before = await withApp(`  signing_key_files: [${oldKey}]\n`, (app, b) => assertionAndJwks(app, b));
    expect(decodeProtectedHeader(before.jws).alg).toBe('RS256');
    expect(before.jwks.keys).toHaveLength(1);
    // During: new first, old still listed.
    const during = await withApp(`  signing_key_files: [${newKey}, ${oldKey}]\n`, (app, b) => assertionAndJwks(app, b));
    expect(during.jwks.keys.map((k) => k['alg'])).toEqual(['ES256', 'RS256']);
    expect(decodeProtectedHeader(during.jws)).toMatchObject({ alg: 'ES256', kid: during.jwks.keys[0]?.['kid'] });
    const set = createLocalJWKSet(during.jwks as never);
    await expect(jwtVerify(during.jws, set, { audience: '127.0.0.1:8443' })).resolves.toBeTruthy();
    await expect(jwtVerify(before.jws, set, { audience: '127.0.0.1:8443' })).resolves.toBeTruthy();
    // After: the old key is gone, and so is trust in what it signed.
    const after = await withApp(`  signing_key_files: [${newKey}]\n`, (app, b) => assertionAndJwks(app, b));
    await expect(jwtVerify(before.jws, createLocalJWKSet(after.jwks as never))).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  it('Ed25519 signs as EdDSA', async () => {
    const ed = pemFile('ed.pem', 'ed25519');
    const { jws, jwks } = await withApp(`  signing_key_files: [${ed}]\n`, (app, b) => assertionAndJwks(app, b));
    expect(decodeProtectedHeader(jws).alg).toBe('EdDSA');
    await expect(jwtVerify(jws, createLocalJWKSet(jwks as never))).resolves.toBeTruthy();
  });

  it('generated: kept under data_dir across restarts; signing-key.previous.pem is published too', async () => {
    const dataDir = path.join(dir, 'data');
    const first = await withApp('', (app, b) => assertionAndJwks(app, b), dataDir);
    const keyFile = path.join(dataDir, 'forward-auth', 'signing-key.pem');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const again = await withApp('', (app, b) => assertionAndJwks(app, b), dataDir);
    expect(again.jwks).toEqual(first.jwks);
    // Rotate as documented: the current key becomes the previous one; a restart generates a new current key.
    fs.renameSync(keyFile, path.join(dataDir, 'forward-auth', 'signing-key.previous.pem'));
    const rotated = await withApp('', (app, b) => assertionAndJwks(app, b), dataDir);
    expect(rotated.jwks.keys).toHaveLength(2);
    expect(rotated.jwks.keys[1]).toEqual(first.jwks.keys[0]);
    expect(decodeProtectedHeader(rotated.jws).kid).toBe(rotated.jwks.keys[0]?.['kid']);
    await expect(jwtVerify(first.jws, createLocalJWKSet(rotated.jwks as never))).resolves.toBeTruthy();
  });
});
