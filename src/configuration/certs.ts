/**
 * IdP signing keys: PEM files (`idp_cert_file`) and certificates from IdP metadata. Each PEM block is
 * parsed with node:crypto here, at start, so a truncated or mangled certificate fails `check-config`
 * instead of failing every login later.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const PEM_BLOCK = /-----BEGIN (CERTIFICATE|PUBLIC KEY)-----([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function errorReason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Canonical PEM: base64 body wrapped at 64 characters, trailing newline. */
export function toPem(label: 'CERTIFICATE' | 'PUBLIC KEY', base64: string): string {
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Checks that a base64 DER body is a certificate (or SPKI public key) node can use for verification. */
export function checkKey(label: 'CERTIFICATE' | 'PUBLIC KEY', base64: string): Result<string> {
  if (!BASE64.test(base64) || base64.length % 4 !== 0) return { ok: false, message: 'its base64 body is malformed' };
  const pem = toPem(label, base64);
  try {
    if (label === 'CERTIFICATE') new X509Certificate(pem);
    else createPublicKey(pem);
  } catch (err) {
    return { ok: false, message: `it is not a valid ${label.toLowerCase()} (${errorReason(err)})` };
  }
  return { ok: true, value: pem };
}

/** All certificates / public keys of one PEM file, canonicalised. */
export function readPemFile(absPath: string): Result<string[]> {
  let text: string;
  try {
    text = readFileSync(absPath, 'utf8');
  } catch (err) {
    return { ok: false, message: `missing or unreadable (${errorReason(err)})` };
  }
  // The IdP's private key has no business on this side; finding one means it was copied by mistake.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    return { ok: false, message: 'contains a PRIVATE KEY; give only the IdP certificate, and treat that key as leaked' };
  }
  const pems: string[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const label = m[1] === 'PUBLIC KEY' ? 'PUBLIC KEY' : 'CERTIFICATE';
    const checked = checkKey(label, (m[2] ?? '').replace(/\s+/g, ''));
    if (!checked.ok) return { ok: false, message: `PEM block ${pems.length + 1}: ${checked.message}` };
    pems.push(checked.value);
  }
  if (pems.length === 0) {
    return {
      ok: false,
      message: 'contains no PEM block; expected -----BEGIN CERTIFICATE----- or -----BEGIN PUBLIC KEY-----',
    };
  }
  return { ok: true, value: pems };
}

/**
 * The SP's decryption key pair (`sso.sp_private_key_file` + `sso.sp_cert_file`): exactly one RSA private
 * key and exactly one certificate, belonging together. Checked at start so that a mismatched pair fails
 * `check-config`, not every encrypted login (the IdP encrypts to the certificate; only its key decrypts).
 */
const PRIVATE_KEY_BLOCK = /-----BEGIN ((?:RSA |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/g;
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function readText(absPath: string): Result<string> {
  try {
    return { ok: true, value: readFileSync(absPath, 'utf8') };
  } catch (err) {
    return { ok: false, message: `missing or unreadable (${errorReason(err)})` };
  }
}

export function readPrivateKeyFile(absPath: string): Result<string> {
  const text = readText(absPath);
  if (!text.ok) return text;
  const blocks = [...text.value.matchAll(PRIVATE_KEY_BLOCK)];
  if (blocks.length !== 1 || blocks[0] === undefined) {
    return {
      ok: false,
      message: `holds ${blocks.length} private keys; expected exactly one -----BEGIN PRIVATE KEY----- (or RSA PRIVATE KEY) block`,
    };
  }
  if (blocks[0][1] === 'ENCRYPTED PRIVATE KEY') return { ok: false, message: 'holds a passphrase-protected key; give it unencrypted (file mode 0600)' };
  const pem = blocks[0][0];
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') return { ok: false, message: `holds a ${key.asymmetricKeyType ?? 'non-RSA'} key; XML Encryption key transport needs RSA` };
  } catch (err) {
    return { ok: false, message: `does not hold a valid private key (${errorReason(err)})` };
  }
  return { ok: true, value: `${pem}\n` };
}

export function readCertificateFile(absPath: string): Result<string> {
  const text = readText(absPath);
  if (!text.ok) return text;
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text.value)) {
    return { ok: false, message: 'contains a PRIVATE KEY; give the key in sp_private_key_file and only the certificate here' };
  }
  const blocks = [...text.value.matchAll(CERTIFICATE_BLOCK)];
  if (blocks.length !== 1 || blocks[0] === undefined) {
    return { ok: false, message: `holds ${blocks.length} certificates; expected exactly one -----BEGIN CERTIFICATE----- block` };
  }
  const body = blocks[0][0].replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return checkKey('CERTIFICATE', body);
}

/** Whether the certificate's public key is the private key's. */
export function keyMatchesCertificate(privateKeyPem: string, certPem: string): boolean {
  const fromKey = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' });
  const fromCert = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return Buffer.compare(fromKey, fromCert) === 0;
}
