/**
 * A real SimpleSAMLphp 1.19 IdP (Debian package `simplesamlphp`) for the interop suite: everything it reads
 * is generated here into a temporary folder (SIMPLESAMLPHP_CONFIG_DIR), and `php -S 127.0.0.1:PORT` serves
 * a docroot whose only entry is a `simplesaml` link to Debian's www folder. Nothing under /etc is touched.
 *
 * The IdP runs on 127.0.0.1 and rolegate on localhost: two sites, so Chromium applies its real cross-site
 * cookie rules to the IdP's POST to the ACS.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SSP_WWW = '/usr/share/simplesamlphp/www';

export interface SspUser {
  readonly username: string;
  readonly password: string;
  readonly mail: string;
  readonly givenName: string;
  readonly sn: string;
  readonly groups: readonly string[];
}

/** Per-SP options of saml20-sp-remote.php, on top of what is read from rolegate's SP metadata XML. */
export type SpRemoteOptions = Record<string, string | boolean | readonly string[]>;

export interface SspIdp {
  readonly url: string;
  readonly dir: string;
  readonly entityId: string;
  readonly metadataUrl: string;
  /** The IdP-initiated ("unsolicited") URL for an SP entity id. */
  unsolicitedUrl(spEntityId: string, relayState?: string): string;
  /** Rewrites authsources.php (read on every request: no restart). */
  setUsers(users: readonly SspUser[]): void;
  /** Imports an SP: its metadata XML (as rolegate serves it) plus per-SP options. */
  addSp(spMetadataXml: string, options?: SpRemoteOptions): void;
  /** The IdP's signing key pair; `next` publishes a second certificate (rollover), `signWith` picks the key. */
  setHostedKeys(opts: { signWith: 'old' | 'new'; publishNew: boolean; publishOld?: boolean }): void;
  fetchMetadata(): Promise<string>;
  /** The IdP's own log (for failure messages). */
  log(): string;
  close(): Promise<void>;
}

export function sspInstalled(): boolean {
  return fs.existsSync(path.join(SSP_WWW, '_include.php')) && commandExists('php') && commandExists('openssl');
}

function commandExists(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** An RSA-2048 key and a self-signed certificate (openssl CLI), PEM files in `dir`. */
export function makeKeyPair(dir: string, name: string, cn: string): { key: string; cert: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${cn}`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { key, cert };
}

/** PHP literal of a JS value (strings, booleans, string arrays). */
function php(value: string | boolean | readonly string[]): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `[${value.map((v) => php(v)).join(', ')}]`;
}

export async function startSimpleSamlPhp(opts: { port: number; users: readonly SspUser[] }): Promise<SspIdp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-ssp-'));
  const config = path.join(dir, 'config');
  const docroot = path.join(dir, 'docroot');
  for (const sub of ['config', 'config/metadata', 'cert', 'log', 'data', 'tmp', 'sessions', 'docroot', 'sp']) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  fs.symlinkSync(SSP_WWW, path.join(docroot, 'simplesaml'));
  const url = `http://127.0.0.1:${opts.port}`;
  const entityId = `${url}/simplesaml/saml2/idp/metadata.php`;

  makeKeyPair(path.join(dir, 'cert'), 'idp-old', '127.0.0.1 IdP signing (old)');
  makeKeyPair(path.join(dir, 'cert'), 'idp-new', '127.0.0.1 IdP signing (new)');

  fs.writeFileSync(
    path.join(config, 'config.php'),
    `<?php
$config = [
    'baseurlpath' => 'simplesaml/',
    'certdir' => ${php(path.join(dir, 'cert') + '/')},
    'loggingdir' => ${php(path.join(dir, 'log') + '/')},
    'datadir' => ${php(path.join(dir, 'data') + '/')},
    'tempdir' => ${php(path.join(dir, 'tmp'))},
    'metadatadir' => ${php(path.join(config, 'metadata') + '/')},
    'secretsalt' => ${php(randomHex())},
    'auth.adminpassword' => ${php(randomHex())},
    'technicalcontact_name' => 'rolegate interop',
    'technicalcontact_email' => 'interop@rolegate.test',
    'timezone' => 'UTC',
    'admin.protectindexpage' => false,
    'admin.protectmetadata' => false,
    'admin.checkforupdates' => false,
    'showerrors' => true,
    'errorreporting' => false,
    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'logging.level' => SimpleSAML\\Logger::DEBUG,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'enable.saml20-idp' => true,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true],
    'store.type' => 'phpsession',
    'session.phpsession.savepath' => ${php(path.join(dir, 'sessions'))},
    // Plain http: a Secure session cookie would never come back.
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'language.cookie.secure' => false,
    'metadata.sources' => [['type' => 'flatfile']],
    'production' => false,
];
`,
  );
  const idp: SspIdp = {
    url,
    dir,
    entityId,
    metadataUrl: entityId,
    unsolicitedUrl: (sp, relay) =>
      `${url}/simplesaml/saml2/idp/SSOService.php?spentityid=${encodeURIComponent(sp)}${relay === undefined ? '' : `&RelayState=${encodeURIComponent(relay)}`}`,
    setUsers(users) {
      const entries = users
        .map(
          (u) =>
            `        ${php(`${u.username}:${u.password}`)} => ['mail' => ${php(u.mail)}, 'givenName' => ${php(u.givenName)}, 'sn' => ${php(u.sn)}, 'groups' => ${php(u.groups)}],`,
        )
        .join('\n');
      writeAtomic(
        path.join(config, 'authsources.php'),
        `<?php
$config = [
    'admin' => ['core:AdminPassword'],
    'example-userpass' => [
        'exampleauth:UserPass',
${entries}
    ],
];
`,
      );
    },
    addSp(xml, options = {}) {
      const name = `sp-${fs.readdirSync(path.join(dir, 'sp')).length + 1}.xml`;
      const file = path.join(dir, 'sp', name);
      fs.writeFileSync(file, xml);
      const overrides = Object.entries(options)
        .map(([k, v]) => `        ${php(k)} => ${php(v)},`)
        .join('\n');
      // The import the metadata converter does (SAMLParser on the SP's XML), plus the per-SP options.
      const block = `
foreach (\\SimpleSAML\\Metadata\\SAMLParser::parseDescriptorsFile(${php(file)}) as $id => $entity) {
    $metadata[$id] = array_merge($entity->getMetadata20SP(), [
${overrides}
    ]);
}
`;
      const target = path.join(config, 'metadata', 'saml20-sp-remote.php');
      const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '<?php\n';
      writeAtomic(target, current + block);
    },
    setHostedKeys({ signWith, publishNew, publishOld = true }) {
      const sign = signWith === 'old' ? 'idp-old' : 'idp-new';
      const other = signWith === 'old' ? 'idp-new' : 'idp-old';
      const publishOther = signWith === 'old' ? publishNew : publishOld;
      writeAtomic(
        path.join(config, 'metadata', 'saml20-idp-hosted.php'),
        `<?php
$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__',
    'privatekey' => '${sign}.key',
    'certificate' => '${sign}.crt',
${publishOther ? `    // Rollover: published in the metadata, not used for signing.\n    'new_certificate' => '${other}.crt',\n` : ''}    'auth' => 'example-userpass',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
];
`,
      );
    },
    async fetchMetadata() {
      const res = await fetch(entityId);
      const text = await res.text();
      if (res.status !== 200 || !text.includes('IDPSSODescriptor')) {
        throw new Error(`IdP metadata: HTTP ${res.status}\n${text.slice(0, 2000)}\n${idp.log()}`);
      }
      return text;
    },
    log() {
      const file = path.join(dir, 'log', 'simplesamlphp.log');
      return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(-40).join('\n') : '';
    },
    async close() {
      await stop(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  idp.setUsers(opts.users);
  idp.setHostedKeys({ signWith: 'old', publishNew: false });
  fs.writeFileSync(path.join(config, 'metadata', 'saml20-sp-remote.php'), '<?php\n');

  // opcache is on for the cli-server SAPI (opcache.enable_cli only covers `cli`) and revalidates every 2 s by
  // mtime: rewritten authsources/metadata would be read stale. Off.
  const child = spawn('php', ['-d', 'opcache.enable=0', '-S', `127.0.0.1:${opts.port}`, '-t', docroot], {
    env: { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: config },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(entityId);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop(child);
      throw new Error(`SimpleSAMLphp did not start on ${url}: ${stderr}\n${idp.log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return idp;
}

function writeAtomic(file: string, text: string): void {
  fs.writeFileSync(file + '.tmp', text);
  fs.renameSync(file + '.tmp', file);
}

function randomHex(): string {
  return Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
