import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Config, checkConfig, defaultPersonas, loadConfig } from '../../src/configuration/index.js';
import { ConfigError, formatConfigIssue } from '../../src/errors.js';
import { BASE, EXTERNAL, ROOT, check, cleanup, edit, issuesOf, locate, tempDir, writeFile } from './helpers.js';

afterAll(cleanup);

const fixture = (name: string): string => path.join(ROOT, 'fixtures/config', name);
const load = (file: string, env: NodeJS.ProcessEnv = {}): Config => loadConfig(file, { cwd: ROOT, env });
const pemOf = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8').trim() + '\n';

function org(config: Config, index = 0): Config['organizations'][number] {
  const o = config.organizations[index];
  if (o === undefined) throw new Error(`no organization ${index}`);
  return o;
}

describe('the example configuration (development IdP) loads with its defaults', () => {
  const file = fixture('valid.yaml');
  const config = load(file);

  it('names the file and its revision (sha256 of the bytes)', () => {
    expect(config.file).toBe(file);
    expect(config.revision).toBe(createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
  });

  it('fills the server defaults and resolves data_dir', () => {
    expect(config.server).toEqual({
      publicUrl: 'http://localhost:8080',
      host: '127.0.0.1',
      port: 8080,
      sessionSecret: 'dev-only-secret-change-me',
      trustProxy: false,
      dataDir: path.join(ROOT, 'data'),
      sessionMaxAgeSeconds: 28800,
      rateLimits: { perIpPerMinute: 300, perOrganizationPerMinute: 3000 },
      hstsMaxAgeSeconds: 31536000,
      metricsToken: null,
    });
  });

  it('fills the database and SAML defaults', () => {
    expect(config.database).toEqual({ client: 'sqlite', url: 'sqlite:./data/rolegate.db', filename: path.join(ROOT, 'data/rolegate.db') });
    expect(config.saml).toEqual({ clockSkewSeconds: 60, maxResponseBytes: 262144, requestTtlSeconds: 600, workers: os.availableParallelism(), queueLimit: 64 });
  });

  it('derives the SP entity id and ACS URL from public_url and the organization id', () => {
    const { sso } = org(config);
    expect(sso.spEntityId).toBe('http://localhost:8080/saml/1/metadata');
    expect(sso.acsUrl).toBe('http://localhost:8080/saml/1/acs');
    expect(sso.allowIdpInitiated).toBe(false);
    expect(sso.groupMatch).toBe('exact');
    expect(sso.attributes).toEqual({ email: 'Email', firstName: 'FirstName', lastName: 'LastName', groups: 'Groups' });
  });

  it('offers the shipped personas when none are configured', () => {
    expect(org(config).sso.idp).toEqual({ kind: 'development', personas: defaultPersonas({ owner: 'owner@acme.example' }) });
  });

  it('keeps each rule with the line and path it was written at', () => {
    const text = fs.readFileSync(file, 'utf8');
    const o = org(config);
    expect(o.roles).toEqual([
      { group: 'LS-Admins', role: 'AD', source: { line: locate(text, 'LS-Admins:').line, path: 'organizations[0].roles.LS-Admins' } },
      { group: 'LS-Managers', role: 'MA', source: { line: locate(text, 'LS-Managers:').line, path: 'organizations[0].roles.LS-Managers' } },
      { group: 'LS-Reviewers', role: 'RE', source: { line: locate(text, 'LS-Reviewers:').line, path: 'organizations[0].roles.LS-Reviewers' } },
      { group: 'LS-Annotators', role: 'AN', source: { line: locate(text, 'LS-Annotators:').line, path: 'organizations[0].roles.LS-Annotators' } },
    ]);
    expect(o.projects).toEqual([
      {
        id: 42,
        title: 'Radiology',
        rules: [
          { group: 'LS-Project42-Reviewers', role: 'RE', source: { line: locate(text, 'LS-Project42-Reviewers:').line, path: 'organizations[0].projects[0].groups.LS-Project42-Reviewers' } },
          { group: 'LS-Project42-Annotators', role: 'AN', source: { line: locate(text, 'LS-Project42-Annotators:').line, path: 'organizations[0].projects[0].groups.LS-Project42-Annotators' } },
          { group: 'LS-AllProjects', role: 'INHERIT', source: { line: locate(text, 'LS-AllProjects:').line, path: 'organizations[0].projects[0].groups.LS-AllProjects' } },
        ],
      },
    ]);
  });

  it('is deeply frozen: mutation throws (ESM is strict mode)', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (org(config).roles as OrgRule[]).push(org(config).roles[0] as OrgRule);
    }).toThrow(TypeError);
    const idp = org(config).sso.idp;
    if (idp.kind !== 'development') throw new Error('expected the development IdP');
    expect(() => {
      (idp.personas[1]?.groups as string[]).push('LS-Admins');
    }).toThrow(TypeError);
  });
});

type OrgRule = Config['organizations'][number]['roles'][number];

describe('an external IdP given by its three keys', () => {
  const config = load(fixture('real-idp.yaml'));

  it('reads the IdP and one certificate', () => {
    expect(org(config).sso.idp).toEqual({
      kind: 'external',
      entityId: 'https://idp.acme.example/saml2/idp/metadata.php',
      ssoUrl: 'https://idp.acme.example/saml2/idp/SSOService.php',
      certs: [pemOf('fixtures/keys/idp.crt')],
    });
  });

  it('trusts every certificate of a list (key rollover)', () => {
    const idp = org(config, 1).sso.idp;
    expect(idp.kind === 'external' && idp.certs).toEqual([pemOf('fixtures/keys/idp.crt'), pemOf('fixtures/keys/idp-rollover.crt')]);
  });

  it('drops the trailing slash of public_url, lower-cases the owner, keeps an explicit SP entity id', () => {
    expect(config.server.publicUrl).toBe('https://sso.acme.example');
    expect(org(config).owner).toBe('owner@acme.example');
    expect(org(config).sso.acsUrl).toBe('https://sso.acme.example/saml/1/acs');
    expect(org(config, 1).sso.spEntityId).toBe('urn:rolegate:beta');
    expect(org(config, 1).sso.allowIdpInitiated).toBe(true);
    expect(org(config, 1).sso.attributes).toEqual({
      email: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
      firstName: 'FirstName',
      lastName: 'LastName',
      groups: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
    });
  });

  it('reads a postgres URL', () => {
    const url = 'postgres://rolegate:secret@db.internal:5432/rolegate';
    expect(config.database).toEqual({ client: 'pg', url, connectionString: url });
  });

  it('quotes group names with other characters in rule paths', () => {
    expect(org(config, 1).roles[0]?.source.path).toBe('organizations[1].roles["CN=Beta Admins,OU=Groups,DC=beta,DC=example"]');
  });

  it('keeps groups that differ by case apart under exact matching', () => {
    const { result } = check(edit(EXTERNAL, ['LS-Managers: Manager', 'ls-admins: Manager']));
    expect(result.ok && org(result.config).roles.map((r) => r.group)).toEqual(['LS-Admins', 'ls-admins']);
  });
});

describe('an external IdP given by its metadata file', () => {
  it('reads the entity id, the HTTP-Redirect SSO URL, the signing certificate and the HTTP-Redirect SLO URL', () => {
    const idp = org(load(fixture('metadata-idp.yaml'))).sso.idp;
    expect(idp).toEqual({
      kind: 'external',
      entityId: 'https://idp.acme.example/simplesaml/saml2/idp/metadata.php',
      ssoUrl: 'https://idp.acme.example/simplesaml/saml2/idp/SSOService.php',
      certs: [pemOf('fixtures/keys/idp.crt')],
      sloUrl: 'https://idp.acme.example/simplesaml/saml2/idp/SingleLogoutService.php',
    });
  });

  it('wraps the certificate at 64 characters', () => {
    const idp = org(load(fixture('metadata-idp.yaml'))).sso.idp;
    const pem = idp.kind === 'external' ? (idp.certs[0] ?? '') : '';
    const body = pem.split('\n').slice(1, -2);
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    expect(body.slice(0, -1).every((l) => l.length === 64)).toBe(true);
  });

  it('reads every signing certificate of an EntitiesDescriptor, skipping encryption keys', () => {
    const cert = (f: string): string => fs.readFileSync(path.join(ROOT, f), 'utf8').replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const key = (use: string, c: string): string =>
      `<md:KeyDescriptor${use}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\n${c}\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
    const xml = `<?xml version="1.0"?>
<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <md:EntityDescriptor entityID="urn:idp">
    <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      ${key('', cert('fixtures/keys/idp.crt'))}
      ${key(' use="signing"', cert('fixtures/keys/idp-rollover.crt'))}
      ${key(' use="encryption"', cert('fixtures/keys/evil.crt'))}
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso?tenant=1"/>
    </md:IDPSSODescriptor>
  </md:EntityDescriptor>
</md:EntitiesDescriptor>`;
    const meta = writeFile(xml, 'idp.xml');
    const { result } = check(edit(BASE, ['development_idp: true', `idp_metadata_file: ${meta}`]));
    expect(result.ok && org(result.config).sso.idp).toEqual({
      kind: 'external',
      entityId: 'urn:idp',
      ssoUrl: 'https://idp.example/sso?tenant=1',
      certs: [pemOf('fixtures/keys/idp.crt'), pemOf('fixtures/keys/idp-rollover.crt')],
    });
  });
});

describe('seats', () => {
  it('are optional (null), and read as a number when given', () => {
    expect(org(loadConfig(writeFile(BASE), { cwd: ROOT, env: {} })).seats).toBeNull();
    const yaml = edit(BASE, ['    owner: owner@acme.example\n', '    owner: owner@acme.example\n    seats: 25\n']);
    expect(org(loadConfig(writeFile(yaml), { cwd: ROOT, env: {} })).seats).toBe(25);
  });
});

describe('the shipped configuration follows the port it is started on', () => {
  const shipped = path.join(ROOT, 'config/rolegate.yaml');
  it.each([
    [{}, 8080, 'http://localhost:8080'],
    [{ PORT: '19300' }, 19300, 'http://localhost:19300'],
    [{ PORT: '19300', ROLEGATE_PORT: '19400' }, 19400, 'http://localhost:19400'],
    [{ PORT: '19300', ROLEGATE_PUBLIC_URL: 'https://sso.example.org' }, 19300, 'https://sso.example.org'],
  ])('%o → port %i, public_url %s', (env, port, url) => {
    const config = loadConfig(shipped, { cwd: ROOT, env });
    expect(config.server.port).toBe(port);
    expect(config.server.publicUrl).toBe(url);
    expect(org(config).sso.acsUrl).toBe(`${url}/saml/1/acs`);
  });
});

describe('environment variables', () => {
  const yaml = edit(BASE, ['test-secret-0123456789', '${SECRET}'], ['http://localhost:8080', '${URL:-http://localhost:9090}']);

  it('expand ${VAR} from the environment', () => {
    const config = loadConfig(writeFile(yaml), { cwd: ROOT, env: { SECRET: 'from-the-environment-1234' } });
    expect(config.server.sessionSecret).toBe('from-the-environment-1234');
    expect(config.server.publicUrl).toBe('http://localhost:9090');
  });

  it('use the default of ${VAR:-default} when VAR is unset or empty, and VAR when set', () => {
    const env = { SECRET: 'from-the-environment-1234' };
    expect(loadConfig(writeFile(yaml), { cwd: ROOT, env: { ...env, URL: '' } }).server.publicUrl).toBe('http://localhost:9090');
    expect(loadConfig(writeFile(yaml), { cwd: ROOT, env: { ...env, URL: 'https://x.example' } }).server.publicUrl).toBe('https://x.example');
  });

  it('report ${VAR} with VAR unset at its node, naming it', () => {
    const { file, result } = check(yaml);
    expect(issuesOf(result)).toEqual([
      {
        code: 'ERR_CONFIG_ENV',
        file,
        ...locate(yaml, '${SECRET}'),
        path: 'server.session_secret',
        message: 'environment variable SECRET is not set (write ${SECRET:-default} for a fallback)',
      },
    ]);
  });

  it('leave $$ and a lone $ alone, and never expand keys', () => {
    const { result } = check(
      edit(BASE, ['test-secret-0123456789', 'pa$$word-$HOME-$${X}-cost$5'], ['LS-Admins:', '"${GROUP}":']),
      { env: { HOME: '/root', X: 'x', GROUP: 'g' } },
    );
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.server.sessionSecret).toBe('pa$$word-$HOME-$${X}-cost$5');
    expect(org(result.config).roles[0]?.group).toBe('${GROUP}');
  });

  it('give numbers and booleans where a reference fills the whole value', () => {
    const text = edit(BASE, ['server:\n', 'server:\n  port: ${P:-9000}\n  trust_proxy: ${TP:-true}\n']);
    const { result } = check(text);
    expect(result.ok && [result.config.server.port, result.config.server.trustProxy]).toEqual([9000, true]);
  });

  it('ROLEGATE_HOST and ROLEGATE_PORT override host and port; PORT too, below ROLEGATE_PORT', () => {
    const file = writeFile(BASE);
    expect(loadConfig(file, { cwd: ROOT, env: { ROLEGATE_HOST: '0.0.0.0', ROLEGATE_PORT: '3000', PORT: '4000' } }).server).toMatchObject({
      host: '0.0.0.0',
      port: 3000,
    });
    expect(loadConfig(file, { cwd: ROOT, env: { PORT: '4000' } }).server.port).toBe(4000);
    expect(loadConfig(file, { cwd: ROOT, env: { PORT: '' } }).server.port).toBe(8080);
  });
});

describe('the whole file is checked at once', () => {
  it('lists three independent mistakes as three issues, in file order', () => {
    const yaml = edit(
      BASE,
      ['  public_url: http://localhost:8080\n', '  public_url: http://localhost:8080\n  port: 0\n'],
      ['owner@acme.example', 'nobody'],
      ['LS-Managers: Manager', 'LS-Managers: Manger'],
    );
    const { file, result } = check(yaml);
    expect(issuesOf(result)).toEqual([
      { code: 'ERR_CONFIG_VALUE', file, ...locate(yaml, 'port: 0', '0'), path: 'server.port', message: expect.stringContaining('1 to 65535') },
      { code: 'ERR_CONFIG_VALUE', file, ...locate(yaml, 'nobody'), path: 'organizations[0].owner', message: expect.stringContaining('email') },
      { code: 'ERR_CONFIG_ROLE', file, ...locate(yaml, 'Manger'), path: 'organizations[0].roles.LS-Managers', message: expect.stringContaining('did you mean "Manager"?') },
    ]);
  });

  it('loadConfig throws ConfigError (ERR_CONFIG_INVALID) listing every issue as file:line:col path: message', () => {
    const yaml = edit(BASE, ['LS-Admins: Administrator', 'LS-Admins: Owner'], ['Inherit', 'Owner']);
    const file = writeFile(yaml);
    let error: unknown;
    try {
      loadConfig(file, { cwd: ROOT, env: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.code).toBe('ERR_CONFIG_INVALID');
    expect(e.issues).toHaveLength(2);
    const first = locate(yaml, 'LS-Admins: Owner', 'Owner');
    expect(e.issues.map((i) => i.code)).toEqual(['ERR_CONFIG_ROLE', 'ERR_CONFIG_ROLE']);
    expect(formatConfigIssue(e.issues[0] ?? { code: 'ERR_CONFIG_ROLE', file: '', line: 0, col: 0, path: '', message: '' })).toBe(
      `${file}:${first.line}:${first.col} organizations[0].roles.LS-Admins: Owner is set by organizations[0].owner, never by a group`,
    );
    expect(e.message).toContain('organizations[0].projects[0].groups.LS-AllProjects');
  });

  it('reports an unreadable configuration file at 1:1', () => {
    const result = checkConfig('does/not/exist.yaml', { cwd: ROOT, env: {} });
    expect(issuesOf(result)).toEqual([
      { code: 'ERR_CONFIG_FILE', file: 'does/not/exist.yaml', line: 1, col: 1, path: '', message: expect.stringContaining('cannot read the configuration file (ENOENT') },
    ]);
  });
});

describe('NODE_ENV=production', () => {
  it('refuses the development IdP', () => {
    expect(() => loadConfig(fixture('valid.yaml'), { cwd: ROOT, env: { NODE_ENV: 'production' } })).toThrow(
      'the development IdP signs any identity; refused when NODE_ENV=production',
    );
  });

  it('accepts an external IdP', () => {
    expect(load(fixture('real-idp.yaml'), { NODE_ENV: 'production' }).organizations).toHaveLength(2);
  });
});

describe('relative paths resolve against the cwd option', () => {
  it('resolves the file, certificate files, data_dir and the sqlite file', () => {
    const cwd = tempDir();
    fs.mkdirSync(path.join(cwd, 'keys'));
    fs.copyFileSync(path.join(ROOT, 'fixtures/keys/idp.crt'), path.join(cwd, 'keys/idp.crt'));
    const yaml = edit(
      EXTERNAL,
      ['fixtures/keys/idp.crt', 'keys/idp.crt'],
      ['server:\n', 'server:\n  data_dir: state\n'],
    ) + 'database:\n  url: sqlite:db/rolegate.sqlite\n';
    writeFile(yaml, 'conf/rolegate.yaml', cwd);
    const config = loadConfig('conf/rolegate.yaml', { cwd, env: {} });
    expect(config.file).toBe(path.join(cwd, 'conf/rolegate.yaml'));
    expect(config.server.dataDir).toBe(path.join(cwd, 'state'));
    expect(config.database).toEqual({ client: 'sqlite', url: 'sqlite:db/rolegate.sqlite', filename: path.join(cwd, 'db/rolegate.sqlite') });
    const idp = org(config).sso.idp;
    expect(idp.kind === 'external' && idp.certs).toEqual([pemOf('fixtures/keys/idp.crt')]);
    // From another directory the same relative certificate path does not exist.
    expect(checkConfig(path.join(cwd, 'conf/rolegate.yaml'), { cwd: ROOT, env: {} }).ok).toBe(false);
  });

  it('keeps sqlite::memory: in memory', () => {
    const { result } = check(`${BASE}database:\n  url: "sqlite::memory:"\n`);
    expect(result.ok && result.config.database).toEqual({ client: 'sqlite', url: 'sqlite::memory:', filename: ':memory:' });
  });
});

describe('configured personas', () => {
  it('read email, names and groups; groups null or groups_attribute: false mean no groups attribute', () => {
    const { result } = check(
      edit(BASE, [
        'development_idp: true\n',
        `development_idp: true
      personas:
        - email: Ann@acme.example
          first_name: Ann
          last_name: Lee
          groups: [LS-Admins]
        - email: bob@acme.example
        - email: cy@acme.example
          groups: null
        - email: di@acme.example
          groups_attribute: false
`,
      ]),
    );
    const idp = result.ok ? org(result.config).sso.idp : undefined;
    expect(idp).toEqual({
      kind: 'development',
      personas: [
        { email: 'Ann@acme.example', firstName: 'Ann', lastName: 'Lee', groups: ['LS-Admins'] },
        { email: 'bob@acme.example', firstName: 'bob', lastName: '', groups: [] },
        { email: 'cy@acme.example', firstName: 'cy', lastName: '', groups: null },
        { email: 'di@acme.example', firstName: 'di', lastName: '', groups: null },
      ],
    });
  });
});
