/**
 * The development IdP's signing key: generated at first start under `server.data_dir` (never committed),
 * readable by the owner only. The public key (a PEM "PUBLIC KEY") is what the SP side trusts.
 */
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface DevIdpKeys {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

export function loadOrCreateDevIdpKeys(dataDir: string): DevIdpKeys {
  const dir = path.join(dataDir, 'dev-idp');
  const keyFile = path.join(dir, 'signing-key.pem');
  if (!fs.existsSync(keyFile)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    // 'wx' fails if another process created it meanwhile; then we read theirs.
    try {
      fs.writeFileSync(keyFile, pem, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const privateKeyPem = fs.readFileSync(keyFile, 'utf8');
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  return { privateKeyPem, publicKeyPem };
}
