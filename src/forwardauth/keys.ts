/**
 * The keys that sign X-Rolegate-Assertion, and the JWKS that publishes their public halves.
 *
 * Configured (`forward_auth.signing_key_files`): the first file signs; every file is published, so a rotation
 * is "add the new key first, keep the old one listed until every assertion it signed has expired and every
 * upstream has re-read the JWKS, then drop it". Several instances behind one load balancer need this form
 * (each must publish and use the same keys).
 *
 * Generated (no `signing_key_files`): an EC P-256 key in `<data_dir>/forward-auth/signing-key.pem` (mode
 * 0600), created on first start. A `signing-key.previous.pem` beside it is published too: to rotate, rename
 * the current file to that name and restart; a new current key is generated and the old one stays verifiable.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type CryptoKey, type JSONWebKeySet, calculateJwkThumbprint, exportJWK, importPKCS8 } from 'jose';
import { jwsAlgorithmOf } from '../configuration/forward-auth.js';
import type { ForwardAuthConfig } from '../configuration/types.js';

export interface SigningKey {
  /** Imported once: converting a KeyObject on every signature costs more than the signature itself. */
  readonly privateKey: CryptoKey;
  readonly alg: 'ES256' | 'ES384' | 'RS256' | 'EdDSA';
  /** RFC 7638 thumbprint of the public key: stable across restarts and instances. */
  readonly kid: string;
}

export interface SigningKeys {
  /** The key that signs. */
  readonly current: SigningKey;
  readonly jwks: JSONWebKeySet;
}

export const GENERATED_KEY_DIR = 'forward-auth';
export const GENERATED_KEY_FILE = 'signing-key.pem';
export const PREVIOUS_KEY_FILE = 'signing-key.previous.pem';

/** The PEM texts to use: configured, or read (and on first start created) under the data directory. */
export function signingKeyPems(config: ForwardAuthConfig, dataDir: string): string[] {
  if (config.signingKeys.length > 0) return [...config.signingKeys];
  const dir = path.join(dataDir, GENERATED_KEY_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const current = path.join(dir, GENERATED_KEY_FILE);
  if (!fs.existsSync(current)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      // `wx`: two instances starting on one data directory keep the first key written.
      fs.writeFileSync(current, pem, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const pems = [fs.readFileSync(current, 'utf8')];
  const previous = path.join(dir, PREVIOUS_KEY_FILE);
  if (fs.existsSync(previous)) pems.push(fs.readFileSync(previous, 'utf8'));
  return pems;
}

export async function loadSigningKeys(pems: readonly string[]): Promise<SigningKeys> {
  const keys: SigningKey[] = [];
  const jwks: JSONWebKeySet = { keys: [] };
  for (const pem of pems) {
    const keyObject = createPrivateKey(pem);
    const alg = jwsAlgorithmOf(keyObject);
    if (!alg.ok) throw new Error(`forward-auth signing key ${alg.message}`);
    const jwk = await exportJWK(createPublicKey(keyObject));
    const kid = await calculateJwkThumbprint(jwk);
    if (keys.some((k) => k.kid === kid)) continue;
    const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'pem' }).toString();
    keys.push({ privateKey: await importPKCS8(pkcs8, alg.alg), alg: alg.alg, kid });
    jwks.keys.push({ ...jwk, kid, alg: alg.alg, use: 'sig' });
  }
  const current = keys[0];
  if (current === undefined) throw new Error('no forward-auth signing key');
  return { current, jwks };
}
