import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigIssueCode } from '../../src/errors.js';
import { BASE, EXTERNAL, ROOT, check, cleanup, edit, issuesOf, locate, tempDir, writeFile } from './helpers.js';

afterAll(cleanup);

interface Case {
  readonly name: string;
  readonly yaml: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The issue's stable code: what the test asserts about the kind of mistake. */
  readonly code: ConfigIssueCode;
  /** Expected path of the (first) issue. */
  readonly path: string;
  /** Where it points: `inner` (default: all of it) inside the first occurrence of `snippet`. */
  readonly at: readonly [snippet: string, inner?: string];
  readonly message: string;
  /** How many issues the file has in all (default 1: each mistake is reported once). */
  readonly count?: number;
}

/** A PEM file that is not a PEM file, a private key, metadata variants: written once, referenced by absolute path. */
const dir = tempDir();
const notPem = writeFile('just some text\n', 'not-pem.crt', dir);
const privateKey = path.join(ROOT, 'fixtures/keys/idp.key');
const metadata = fs.readFileSync(path.join(ROOT, 'fixtures/config/idp-metadata.xml'), 'utf8');
const doctypeMeta = writeFile(metadata.replace('<?xml version="1.0"?>', '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e "e">]>'), 'doctype.xml', dir);
const postOnlyMeta = writeFile(metadata.replace(/<md:SingleSignOnService Binding="[^"]*HTTP-Redirect"[^>]*\/>/, ''), 'post-only.xml', dir);
const spMeta = writeFile(metadata.replace(/IDPSSODescriptor/g, 'SPSSODescriptor'), 'sp.xml', dir);
const noCertMeta = writeFile(metadata.replace(/use="signing"/, 'use="encryption"'), 'no-signing.xml', dir);
const brokenXml = writeFile('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">', 'broken.xml', dir);

const withMetadata = (file: string): string =>
  edit(BASE, ['      development_idp: true\n', `      idp_metadata_file: ${file}\n`]);

const TWO_ORGS = `${BASE}  - id: 2
    title: Beta
    owner: boss@beta.example
    sso:
      development_idp: true
`;

const cases: readonly Case[] = [
  // ---- YAML itself ----
  {
    name: 'a YAML syntax error, with its position',
    code: 'ERR_CONFIG_YAML',
    yaml: edit(BASE, ['title: Acme Labs', 'title: Acme: Labs']),
    path: '',
    at: ['title: Acme: Labs', 'Acme'],
    message: 'YAML: Nested mappings are not allowed in compact mappings',
  },
  {
    name: 'a tab used as indentation',
    code: 'ERR_CONFIG_YAML',
    yaml: edit(BASE, ['  public_url:', '\tpublic_url:']),
    path: '',
    at: ['\tpublic_url'],
    message: 'YAML: Tabs are not allowed as indentation',
    count: -1,
  },
  {
    name: 'a key written twice in one map (YAML duplicate key)',
    code: 'ERR_CONFIG_YAML',
    yaml: edit(BASE, ['  session_secret: test-secret-0123456789\n', '  session_secret: test-secret-0123456789\n  public_url: http://x\n']),
    path: '',
    at: ['  public_url: http://x', 'public_url'],
    message: 'Map keys must be unique',
  },
  {
    name: 'a YAML alias (every rule is written where it applies)',
    code: 'ERR_CONFIG_YAML',
    yaml: edit(BASE, ['title: Acme Labs', 'title: &t Acme Labs'], ['title: Radiology', 'title: *t']),
    path: 'organizations[0].projects[0].title',
    at: ['*t'],
    message: 'YAML aliases (*t) are not supported',
  },
  {
    name: 'a second YAML document',
    code: 'ERR_CONFIG_YAML',
    yaml: `${BASE}---\nserver: {}\n`,
    path: '',
    at: ['---'],
    message: 'the file must hold one YAML document',
  },
  {
    name: 'a custom tag',
    code: 'ERR_CONFIG_YAML',
    yaml: edit(BASE, ['title: Acme Labs', 'title: !secret Acme Labs']),
    path: '',
    at: ['!secret'],
    message: 'custom tags (!name) are not supported',
  },
  {
    name: 'a merge key (YAML 1.1 only; unknown here)',
    code: 'ERR_CONFIG_UNKNOWN_KEY',
    yaml: edit(BASE, ['    title: Acme Labs\n', '    title: Acme Labs\n    <<: {x: 1}\n']),
    path: 'organizations[0]["<<"]',
    at: ['<<'],
    message: 'unknown key "<<"',
  },
  {
    name: 'an empty file',
    code: 'ERR_CONFIG_TYPE',
    yaml: '# nothing here\n',
    path: '',
    at: ['#'],
    message: 'expected the configuration (a map), got nothing',
  },
  // ---- unknown keys anywhere ----
  {
    name: 'an unknown top-level key, with a suggestion',
    code: 'ERR_CONFIG_UNKNOWN_KEY',
    yaml: `${BASE}saml_settings:\n  clock_skew_seconds: 5\n`,
    path: 'saml_settings',
    at: ['saml_settings'],
    message: 'unknown key "saml_settings"; did you mean "saml"?',
  },
  {
    name: 'a misspelt required key: reported once, as unknown with the correction',
    code: 'ERR_CONFIG_UNKNOWN_KEY',
    yaml: edit(BASE, ['session_secret:', 'sesion_secret:']),
    path: 'server.sesion_secret',
    at: ['sesion_secret'],
    message: 'unknown key "sesion_secret"; did you mean "session_secret"?',
  },
  {
    name: 'a camelCase key (the YAML is snake_case)',
    code: 'ERR_CONFIG_UNKNOWN_KEY',
    yaml: edit(BASE, ['public_url:', 'publicUrl:']),
    path: 'server.publicUrl',
    at: ['publicUrl'],
    message: 'did you mean "public_url"?',
  },
  {
    name: 'an unknown key in an organization',
    code: 'ERR_CONFIG_UNKNOWN_KEY',
    yaml: edit(BASE, ['    roles:', '    role:']),
    path: 'organizations[0].role',
    at: ['    role:', 'role'],
    message: 'unknown key "role"; did you mean "roles"?',
  },
  {
    name: 'an unknown key in sso (a misspelt security switch)',
    code: 'ERR_CONFIG_UNKNOWN_KEY',
    yaml: edit(BASE, ['development_idp: true\n', 'development_idp: true\n      allow_idp_intiated: true\n']),
    path: 'organizations[0].sso.allow_idp_intiated',
    at: ['allow_idp_intiated'],
    message: 'did you mean "allow_idp_initiated"?',
  },
  {
    name: 'an unknown key in attributes',
    code: 'ERR_CONFIG_UNKNOWN_KEY',
    yaml: edit(BASE, ['development_idp: true\n', 'development_idp: true\n      attributes:\n        mail: mail\n']),
    path: 'organizations[0].sso.attributes.mail',
    at: ['mail: mail', 'mail'],
    message: 'did you mean "email"?',
  },
  {
    name: 'an unknown key in a project',
    code: 'ERR_CONFIG_UNKNOWN_KEY',
    yaml: edit(BASE, ['        groups:', '        group:']),
    path: 'organizations[0].projects[0].group',
    at: ['        group:', 'group'],
    message: 'did you mean "groups"?',
  },
  {
    name: 'an unknown key in a persona',
    code: 'ERR_CONFIG_UNKNOWN_KEY',
    yaml: edit(BASE, ['development_idp: true\n', 'development_idp: true\n      personas:\n        - email: a@acme.example\n          group: [x]\n']),
    path: 'organizations[0].sso.personas[0].group',
    at: ['group: [x]', 'group'],
    message: 'did you mean "groups"?',
  },
  // ---- server ----
  {
    name: 'server missing',
    code: 'ERR_CONFIG_MISSING_KEY',
    yaml: BASE.slice(BASE.indexOf('organizations:')),
    path: 'server',
    at: ['organizations'],
    message: 'missing required key "server"',
  },
  {
    name: 'public_url missing (reported at the server map)',
    code: 'ERR_CONFIG_MISSING_KEY',
    yaml: edit(BASE, ['  public_url: http://localhost:8080\n', '']),
    path: 'server.public_url',
    at: ['session_secret'],
    message: 'missing required key "public_url"',
  },
  {
    name: 'public_url not http(s)',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['http://localhost:8080', 'ftp://localhost:8080']),
    path: 'server.public_url',
    at: ['ftp://localhost:8080'],
    message: 'expected an http or https URL',
  },
  {
    name: 'public_url with a query',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['http://localhost:8080', 'http://localhost:8080/?x=1']),
    path: 'server.public_url',
    at: ['http://localhost:8080/?x=1'],
    message: 'without a query',
  },
  {
    name: 'public_url not a URL',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['http://localhost:8080', 'not a url']),
    path: 'server.public_url',
    at: ['not a url'],
    message: 'expected an absolute http(s) URL',
  },
  {
    name: 'session_secret missing',
    code: 'ERR_CONFIG_MISSING_KEY',
    yaml: edit(BASE, ['  session_secret: test-secret-0123456789\n', '']),
    path: 'server.session_secret',
    at: ['public_url'],
    message: 'missing required key "session_secret"',
  },
  {
    name: 'session_secret shorter than 16 characters',
    code: 'ERR_CONFIG_INSECURE',
    yaml: edit(BASE, ['test-secret-0123456789', 'dev-only-secret']),
    path: 'server.session_secret',
    at: ['dev-only-secret'],
    message: 'at least 16 characters (got 15)',
  },
  {
    name: 'port out of range',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['server:\n', 'server:\n  port: 70000\n']),
    path: 'server.port',
    at: ['70000'],
    message: 'expected a TCP port from 1 to 65535, got 70000',
  },
  {
    name: 'port as text',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['server:\n', 'server:\n  port: eighty\n']),
    path: 'server.port',
    at: ['eighty'],
    message: 'got "eighty"',
  },
  {
    name: 'ROLEGATE_PORT not a port',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['server:\n', 'server:\n  port: 8080\n']),
    env: { ROLEGATE_PORT: 'http' },
    path: 'server.port (from ROLEGATE_PORT)',
    at: ['port: 8080', '8080'],
    message: 'expected a TCP port from 1 to 65535, got "http"',
  },
  {
    name: 'PORT not a port (no port key: reported at the server map)',
    code: 'ERR_CONFIG_VALUE',
    yaml: BASE,
    env: { PORT: '0' },
    path: 'server.port (from PORT)',
    at: ['public_url'],
    message: 'got "0"',
  },
  {
    name: 'trust_proxy not a boolean (YAML 1.2: yes is a string)',
    code: 'ERR_CONFIG_TYPE',
    yaml: edit(BASE, ['server:\n', 'server:\n  trust_proxy: yes\n']),
    path: 'server.trust_proxy',
    at: ['trust_proxy: yes', 'yes'],
    message: 'expected true or false, got "yes"',
  },
  {
    name: 'session_max_age_seconds too short',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['server:\n', 'server:\n  session_max_age_seconds: 10\n']),
    path: 'server.session_max_age_seconds',
    at: ['10'],
    message: 'from 60 to 604800',
  },
  {
    name: 'an empty value (reported at the key)',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['server:\n', 'server:\n  host:\n']),
    path: 'server.host',
    at: ['host'],
    message: 'got nothing',
  },
  // ---- database ----
  {
    name: 'a database URL of another kind (never echoing it: it may hold a password)',
    code: 'ERR_CONFIG_VALUE',
    yaml: `${BASE}database:\n  url: mysql://root:hunter2@db/x\n`,
    path: 'database.url',
    at: ['mysql://'],
    message: 'expected sqlite:<path>, sqlite::memory: or postgres://',
  },
  {
    name: 'sqlite without a path',
    code: 'ERR_CONFIG_VALUE',
    yaml: `${BASE}database:\n  url: "sqlite:"\n`,
    path: 'database.url',
    at: ['"sqlite:"'],
    message: 'the sqlite file path is empty',
  },
  // ---- saml ----
  {
    name: 'clock_skew_seconds off',
    code: 'ERR_CONFIG_VALUE',
    yaml: `${BASE}saml:\n  clock_skew_seconds: off\n`,
    path: 'saml.clock_skew_seconds',
    at: ['off'],
    message: 'never off',
  },
  {
    name: 'clock_skew_seconds above 300',
    code: 'ERR_CONFIG_VALUE',
    yaml: `${BASE}saml:\n  clock_skew_seconds: 301\n`,
    path: 'saml.clock_skew_seconds',
    at: ['301'],
    message: 'from 0 to 300',
  },
  {
    name: 'max_response_bytes too small',
    code: 'ERR_CONFIG_VALUE',
    yaml: `${BASE}saml:\n  max_response_bytes: 100\n`,
    path: 'saml.max_response_bytes',
    at: ['100'],
    message: 'from 1024 to 1048576',
  },
  {
    name: 'request_ttl_seconds too short',
    code: 'ERR_CONFIG_VALUE',
    yaml: `${BASE}saml:\n  request_ttl_seconds: 5\n`,
    path: 'saml.request_ttl_seconds',
    at: ['request_ttl_seconds: 5', '5'],
    message: 'from 30 to 3600',
  },
  // ---- organizations ----
  {
    name: 'no organizations',
    code: 'ERR_CONFIG_VALUE',
    yaml: `${BASE.slice(0, BASE.indexOf('organizations:'))}organizations: []\n`,
    path: 'organizations',
    at: ['[]'],
    message: 'expected at least one organization',
  },
  {
    name: 'organizations missing',
    code: 'ERR_CONFIG_MISSING_KEY',
    yaml: BASE.slice(0, BASE.indexOf('organizations:')),
    path: 'organizations',
    at: ['server'],
    message: 'missing required key "organizations"',
  },
  {
    name: 'an organization id that is not a positive integer',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['id: 1', 'id: 0']),
    path: 'organizations[0].id',
    at: ['id: 0', '0'],
    message: 'expected a positive integer, got 0',
  },
  {
    name: 'an organization id written as a float',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['id: 1', 'id: 1.0']),
    path: 'organizations[0].id',
    at: ['id: 1.0', '1.0'],
    message: 'expected a positive integer, got 1.0',
  },
  {
    name: 'a duplicate organization id, naming the first',
    code: 'ERR_CONFIG_DUPLICATE',
    yaml: edit(TWO_ORGS, ['id: 2', 'id: 1']),
    path: 'organizations[1].id',
    at: ['  - id: 1\n    title: Beta', '1'],
    message: 'duplicate organization id 1: organizations[0].id at line 5 has it already',
  },
  {
    name: 'title missing (reported at the organization map)',
    code: 'ERR_CONFIG_MISSING_KEY',
    yaml: edit(BASE, ['    title: Acme Labs\n', '']),
    path: 'organizations[0].title',
    at: ['id: 1', 'id'],
    message: 'missing required key "title"',
  },
  {
    name: 'owner not an email address',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['owner@acme.example', 'the boss']),
    path: 'organizations[0].owner',
    at: ['the boss'],
    message: 'expected an email address',
  },
  {
    name: 'sso missing',
    code: 'ERR_CONFIG_MISSING_KEY',
    yaml: edit(BASE, ['    sso:\n      development_idp: true\n', '']),
    path: 'organizations[0].sso',
    at: ['id: 1', 'id'],
    message: 'missing required key "sso"',
  },
  // ---- the IdP source ----
  {
    name: 'no IdP configured',
    code: 'ERR_CONFIG_MISSING_KEY',
    yaml: edit(BASE, ['development_idp: true', 'development_idp: false']),
    path: 'organizations[0].sso',
    at: ['development_idp'],
    message: 'no IdP configured',
  },
  {
    name: 'an external IdP with a missing piece, naming it',
    code: 'ERR_CONFIG_MISSING_KEY',
    yaml: edit(EXTERNAL, ['      idp_cert_file: fixtures/keys/idp.crt\n', '']),
    path: 'organizations[0].sso.idp_cert_file',
    at: ['idp_entity_id'],
    message: 'missing required key "idp_cert_file": an external IdP needs idp_entity_id, idp_sso_url and idp_cert_file',
  },
  {
    name: 'the development IdP mixed with an external one',
    code: 'ERR_CONFIG_CONFLICT',
    yaml: edit(BASE, ['development_idp: true\n', 'development_idp: true\n      idp_entity_id: https://idp.example/x\n']),
    path: 'organizations[0].sso.idp_entity_id',
    at: ['idp_entity_id'],
    message: '"idp_entity_id" cannot be combined with development_idp: true',
  },
  {
    name: 'metadata mixed with the explicit keys',
    code: 'ERR_CONFIG_CONFLICT',
    yaml: edit(EXTERNAL, ['      idp_entity_id:', '      idp_metadata_file: fixtures/config/idp-metadata.xml\n      idp_entity_id:']),
    path: 'organizations[0].sso.idp_entity_id',
    at: ['idp_entity_id'],
    message: 'cannot be combined with idp_metadata_file',
    count: 3,
  },
  {
    name: 'development_idp under NODE_ENV=production',
    code: 'ERR_CONFIG_INSECURE',
    yaml: BASE,
    env: { NODE_ENV: 'production' },
    path: 'organizations[0].sso.development_idp',
    at: ['development_idp: true', 'true'],
    message: 'the development IdP signs any identity; refused when NODE_ENV=production',
  },
  {
    name: 'development_idp not a boolean',
    code: 'ERR_CONFIG_TYPE',
    yaml: edit(BASE, ['development_idp: true', 'development_idp: "yes"']),
    path: 'organizations[0].sso.development_idp',
    at: ['"yes"'],
    message: 'expected true or false',
  },
  {
    name: 'idp_sso_url not a URL',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(EXTERNAL, ['https://idp.acme.example/sso', 'idp.acme.example/sso']),
    path: 'organizations[0].sso.idp_sso_url',
    at: ['idp_sso_url: idp.acme.example/sso', 'idp.acme'],
    message: 'expected an absolute http(s) URL',
  },
  {
    name: 'idp_entity_id with spaces',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(EXTERNAL, ['https://idp.acme.example/idp', 'Acme IdP']),
    path: 'organizations[0].sso.idp_entity_id',
    at: ['Acme IdP'],
    message: 'without spaces',
  },
  {
    name: 'a missing certificate file, with the OS reason',
    code: 'ERR_CONFIG_FILE',
    yaml: edit(EXTERNAL, ['fixtures/keys/idp.crt', 'fixtures/keys/nope.crt']),
    path: 'organizations[0].sso.idp_cert_file',
    at: ['fixtures/keys/nope.crt'],
    message: 'certificate file "fixtures/keys/nope.crt" is missing or unreadable (ENOENT',
  },
  {
    name: 'an unreadable certificate file (a directory)',
    code: 'ERR_CONFIG_FILE',
    yaml: edit(EXTERNAL, ['fixtures/keys/idp.crt', 'fixtures/keys']),
    path: 'organizations[0].sso.idp_cert_file',
    at: ['idp_cert_file: fixtures/keys', 'fixtures/keys'],
    message: 'is missing or unreadable (EISDIR',
  },
  {
    name: 'a certificate file without a PEM block',
    code: 'ERR_CONFIG_FILE',
    yaml: edit(EXTERNAL, ['fixtures/keys/idp.crt', notPem]),
    path: 'organizations[0].sso.idp_cert_file',
    at: [notPem],
    message: 'contains no PEM block; expected -----BEGIN CERTIFICATE----- or -----BEGIN PUBLIC KEY-----',
  },
  {
    name: 'a private key given as the IdP certificate',
    code: 'ERR_CONFIG_FILE',
    yaml: edit(EXTERNAL, ['fixtures/keys/idp.crt', privateKey]),
    path: 'organizations[0].sso.idp_cert_file',
    at: [privateKey],
    message: 'contains a PRIVATE KEY',
  },
  {
    name: 'a bad file in a certificate list, pointing at the item',
    code: 'ERR_CONFIG_FILE',
    yaml: edit(EXTERNAL, ['fixtures/keys/idp.crt', '[fixtures/keys/idp.crt, fixtures/keys/gone.crt]']),
    path: 'organizations[0].sso.idp_cert_file[1]',
    at: ['fixtures/keys/gone.crt'],
    message: 'missing or unreadable',
  },
  {
    name: 'an empty certificate list',
    code: 'ERR_CONFIG_FILE',
    yaml: edit(EXTERNAL, ['fixtures/keys/idp.crt', '[]']),
    path: 'organizations[0].sso.idp_cert_file',
    at: ['[]'],
    message: 'expected at least one certificate file',
  },
  {
    name: 'a missing metadata file',
    code: 'ERR_CONFIG_FILE',
    yaml: withMetadata('fixtures/config/nope.xml'),
    path: 'organizations[0].sso.idp_metadata_file',
    at: ['fixtures/config/nope.xml'],
    message: 'IdP metadata file "fixtures/config/nope.xml" missing or unreadable (ENOENT',
  },
  {
    name: 'metadata with a DOCTYPE',
    code: 'ERR_CONFIG_FILE',
    yaml: withMetadata(doctypeMeta),
    path: 'organizations[0].sso.idp_metadata_file',
    at: [doctypeMeta],
    message: 'contains a DOCTYPE, which is refused',
  },
  {
    name: 'metadata without an HTTP-Redirect SingleSignOnService',
    code: 'ERR_CONFIG_FILE',
    yaml: withMetadata(postOnlyMeta),
    path: 'organizations[0].sso.idp_metadata_file',
    at: [postOnlyMeta],
    message: 'has no SingleSignOnService with Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"',
  },
  {
    name: 'SP metadata given as IdP metadata',
    code: 'ERR_CONFIG_FILE',
    yaml: withMetadata(spMeta),
    path: 'organizations[0].sso.idp_metadata_file',
    at: [spMeta],
    message: 'has no IDPSSODescriptor',
  },
  {
    name: 'metadata without a signing certificate',
    code: 'ERR_CONFIG_FILE',
    yaml: withMetadata(noCertMeta),
    path: 'organizations[0].sso.idp_metadata_file',
    at: [noCertMeta],
    message: 'has no signing certificate',
  },
  {
    name: 'metadata that is not well-formed XML',
    code: 'ERR_CONFIG_FILE',
    yaml: withMetadata(brokenXml),
    path: 'organizations[0].sso.idp_metadata_file',
    at: [brokenXml],
    message: 'is not well-formed XML',
  },
  {
    name: 'personas without the development IdP',
    code: 'ERR_CONFIG_CONFLICT',
    yaml: edit(EXTERNAL, ['idp_cert_file: fixtures/keys/idp.crt\n', 'idp_cert_file: fixtures/keys/idp.crt\n      personas: []\n']),
    path: 'organizations[0].sso.personas',
    at: ['personas'],
    message: 'personas are only for the development IdP',
  },
  {
    name: 'a persona without email',
    code: 'ERR_CONFIG_MISSING_KEY',
    yaml: edit(BASE, ['development_idp: true\n', 'development_idp: true\n      personas:\n        - first_name: Ann\n']),
    path: 'organizations[0].sso.personas[0].email',
    at: ['first_name: Ann', 'first_name'],
    message: 'missing required key "email"',
  },
  {
    name: 'two personas with one email',
    code: 'ERR_CONFIG_DUPLICATE',
    yaml: edit(BASE, ['development_idp: true\n', 'development_idp: true\n      personas:\n        - email: a@acme.example\n        - email: A@acme.example\n']),
    path: 'organizations[0].sso.personas[1].email',
    at: ['A@acme.example'],
    message: 'duplicate persona email "A@acme.example": organizations[0].sso.personas[0].email at line 11',
  },
  {
    name: 'groups_attribute: false together with groups',
    code: 'ERR_CONFIG_CONFLICT',
    yaml: edit(BASE, ['development_idp: true\n', 'development_idp: true\n      personas:\n        - email: a@acme.example\n          groups_attribute: false\n          groups: [x]\n']),
    path: 'organizations[0].sso.personas[0].groups',
    at: ['[x]'],
    message: 'groups_attribute: false means the Response has no groups attribute',
  },
  {
    name: 'group_match misspelt',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['development_idp: true\n', 'development_idp: true\n      group_match: case_insensitive\n']),
    path: 'organizations[0].sso.group_match',
    at: ['case_insensitive'],
    message: 'expected "exact" or "case-insensitive", got "case_insensitive"; did you mean "case-insensitive"?',
  },
  {
    name: 'the groups attribute equal to the email attribute',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['development_idp: true\n', 'development_idp: true\n      attributes:\n        groups: Email\n']),
    path: 'organizations[0].sso.attributes.groups',
    at: ['groups: Email', 'Email'],
    message: 'the groups attribute "Email" is also used for email or a name',
  },
  {
    name: 'two organizations with one sp_entity_id',
    code: 'ERR_CONFIG_DUPLICATE',
    yaml: edit(
      TWO_ORGS,
      ['      development_idp: true\n', '      development_idp: true\n      sp_entity_id: urn:acme\n'],
      ['owner: boss@beta.example\n    sso:\n      development_idp: true\n', 'owner: boss@beta.example\n    sso:\n      development_idp: true\n      sp_entity_id: urn:acme\n'],
    ),
    path: 'organizations[1].sso.sp_entity_id',
    at: ['boss@beta.example\n    sso:\n      development_idp: true\n      sp_entity_id: urn:acme', 'urn:acme'],
    message: 'is already used by organizations[0].sso.sp_entity_id',
  },
  // ---- organization roles ----
  {
    name: 'Owner as a mapped role',
    code: 'ERR_CONFIG_ROLE',
    yaml: edit(BASE, ['LS-Admins: Administrator', 'LS-Admins: Owner']),
    path: 'organizations[0].roles.LS-Admins',
    at: ['LS-Admins: Owner', 'Owner'],
    message: 'Owner is set by organizations[0].owner, never by a group',
  },
  {
    name: 'Not Activated as a mapped role',
    code: 'ERR_CONFIG_ROLE',
    yaml: edit(BASE, ['LS-Admins: Administrator', 'LS-Admins: Not Activated']),
    path: 'organizations[0].roles.LS-Admins',
    at: ['Not Activated'],
    message: '"Not Activated" is a state, not a role',
  },
  {
    name: 'Deactivated as a mapped role',
    code: 'ERR_CONFIG_ROLE',
    yaml: edit(BASE, ['LS-Admins: Administrator', 'LS-Admins: Deactivated']),
    path: 'organizations[0].roles.LS-Admins',
    at: ['Deactivated'],
    message: '"Deactivated" is a state, not a role',
  },
  {
    name: 'a misspelt role, with the nearest valid one',
    code: 'ERR_CONFIG_ROLE',
    yaml: edit(BASE, ['LS-Admins: Administrator', 'LS-Admins: Adminstrator']),
    path: 'organizations[0].roles.LS-Admins',
    at: ['Adminstrator'],
    message: 'unknown role "Adminstrator"; did you mean "Administrator"?',
  },
  {
    name: 'a role in the wrong case',
    code: 'ERR_CONFIG_ROLE',
    yaml: edit(BASE, ['LS-Admins: Administrator', 'LS-Admins: administrator']),
    path: 'organizations[0].roles.LS-Admins',
    at: ['administrator'],
    message: 'did you mean "Administrator"?',
  },
  {
    name: 'a role code instead of the name',
    code: 'ERR_CONFIG_ROLE',
    yaml: edit(BASE, ['LS-Admins: Administrator', 'LS-Admins: AD']),
    path: 'organizations[0].roles.LS-Admins',
    at: ['LS-Admins: AD', 'AD'],
    message: 'unknown role "AD"; did you mean "Administrator"?',
  },
  {
    name: 'an unknown role, listing the valid ones',
    code: 'ERR_CONFIG_ROLE',
    yaml: edit(BASE, ['LS-Admins: Administrator', 'LS-Admins: Superuser']),
    path: 'organizations[0].roles.LS-Admins',
    at: ['Superuser'],
    message: 'expected "Administrator", "Manager", "Reviewer" or "Annotator"',
  },
  {
    name: 'a role that is not a string',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['LS-Admins: Administrator', 'LS-Admins: [Administrator]']),
    path: 'organizations[0].roles.LS-Admins',
    at: ['[Administrator]'],
    message: 'got a list',
  },
  {
    name: 'a numeric group name (quote it)',
    code: 'ERR_CONFIG_TYPE',
    yaml: edit(BASE, ['LS-Admins: Administrator', '1234: Administrator']),
    path: 'organizations[0].roles.1234',
    at: ['1234: Administrator', '1234'],
    message: 'group name 1234 is read as a number, not a string; quote it: "1234"',
  },
  {
    name: 'a boolean group name (quote it)',
    code: 'ERR_CONFIG_TYPE',
    yaml: edit(BASE, ['LS-Admins: Administrator', 'true: Administrator']),
    path: 'organizations[0].roles.true',
    at: ['true: Administrator', 'true'],
    message: 'is read as a boolean',
  },
  {
    name: 'a group name with a trailing space',
    code: 'ERR_CONFIG_VALUE',
    yaml: edit(BASE, ['LS-Admins: Administrator', '"LS-Admins ": Administrator']),
    path: 'organizations[0].roles["LS-Admins "]',
    at: ['"LS-Admins "'],
    message: 'has leading or trailing spaces',
  },
  {
    name: 'two groups differing only by case under case-insensitive matching',
    code: 'ERR_CONFIG_DUPLICATE',
    yaml: edit(
      BASE,
      ['development_idp: true\n', 'development_idp: true\n      group_match: case-insensitive\n'],
      ['LS-Managers: Manager', 'ls-admins: Manager'],
    ),
    path: 'organizations[0].roles.ls-admins',
    at: ['ls-admins'],
    message: 'group "ls-admins" differs from "LS-Admins" (line 12) only by case',
  },
  {
    name: 'roles not a map',
    code: 'ERR_CONFIG_TYPE',
    yaml: edit(BASE, ['    roles:\n      LS-Admins: Administrator\n      LS-Managers: Manager\n', '    roles: [LS-Admins]\n']),
    path: 'organizations[0].roles',
    at: ['[LS-Admins]'],
    message: 'expected roles (a map of group → role), got a list',
  },
  // ---- projects ----
  {
    name: 'an organization-only role in a project',
    code: 'ERR_CONFIG_ROLE',
    yaml: edit(BASE, ['LS-Project42-Reviewers: Reviewer', 'LS-Project42-Reviewers: Manager']),
    path: 'organizations[0].projects[0].groups.LS-Project42-Reviewers',
    at: ['Reviewers: Manager', 'Manager'],
    message: 'project roles are Reviewer, Annotator or Inherit',
  },
  {
    name: 'Owner in a project',
    code: 'ERR_CONFIG_ROLE',
    yaml: edit(BASE, ['LS-Project42-Reviewers: Reviewer', 'LS-Project42-Reviewers: Owner']),
    path: 'organizations[0].projects[0].groups.LS-Project42-Reviewers',
    at: ['Reviewers: Owner', 'Owner'],
    message: '"Owner" is not a project role; project roles are Reviewer, Annotator or Inherit',
  },
  {
    name: 'a misspelt project role',
    code: 'ERR_CONFIG_ROLE',
    yaml: edit(BASE, ['LS-AllProjects: Inherit', 'LS-AllProjects: Inherited']),
    path: 'organizations[0].projects[0].groups.LS-AllProjects',
    at: ['Inherited'],
    message: 'unknown role "Inherited"; did you mean "Inherit"?',
  },
  {
    name: 'a project id missing',
    code: 'ERR_CONFIG_MISSING_KEY',
    yaml: edit(BASE, ['      - id: 42\n        title: Radiology\n', '      - title: Radiology\n']),
    path: 'organizations[0].projects[0].id',
    at: ['- title: Radiology', 'title'],
    message: 'missing required key "id"',
  },
  {
    name: 'a duplicate project id in one organization',
    code: 'ERR_CONFIG_DUPLICATE',
    yaml: edit(BASE, ['          LS-AllProjects: Inherit\n', '          LS-AllProjects: Inherit\n      - id: 42\n        title: Pathology\n']),
    path: 'organizations[0].projects[1].id',
    at: ['id: 42\n        title: Pathology', '42'],
    message: 'duplicate project id 42: organizations[0].projects[0].id at line 14 has it already',
  },
  {
    name: 'a project id used by another organization (project ids are global)',
    code: 'ERR_CONFIG_DUPLICATE',
    yaml: `${TWO_ORGS}    projects:\n      - id: 42\n        title: Elsewhere\n`,
    path: 'organizations[1].projects[0].id',
    at: ['id: 42\n        title: Elsewhere', '42'],
    message: 'project ids are global',
  },
  {
    name: 'two project groups differing only by case under case-insensitive matching',
    code: 'ERR_CONFIG_DUPLICATE',
    yaml: edit(
      BASE,
      ['development_idp: true\n', 'development_idp: true\n      group_match: case-insensitive\n'],
      ['LS-AllProjects: Inherit', 'LS-project42-reviewers: Inherit'],
    ),
    path: 'organizations[0].projects[0].groups.LS-project42-reviewers',
    at: ['LS-project42-reviewers'],
    message: 'differs from "LS-Project42-Reviewers" (line 18) only by case',
  },
  // ---- environment expansion ----
  {
    name: '${VAR} with VAR unset, naming it',
    code: 'ERR_CONFIG_ENV',
    yaml: edit(BASE, ['test-secret-0123456789', '${ROLEGATE_SESSION_SECRET}']),
    path: 'server.session_secret',
    at: ['${ROLEGATE_SESSION_SECRET}'],
    message: 'environment variable ROLEGATE_SESSION_SECRET is not set',
  },
  {
    name: 'a malformed reference',
    code: 'ERR_CONFIG_ENV',
    yaml: edit(BASE, ['test-secret-0123456789', 'test-secret-${BAD-NAME}']),
    path: 'server.session_secret',
    at: ['test-secret-${BAD-NAME}'],
    message: 'malformed reference "${BAD-NAME}"',
  },
];

describe('a configuration is rejected, with file, line, column, path and what was expected', () => {
  it.each(cases)('$name', (c) => {
    const { file, result } = check(c.yaml, c.env === undefined ? {} : { env: c.env });
    const issues = issuesOf(result);
    // count > 0: exactly that many; -N: at least N (syntax errors may cascade).
    const count = c.count ?? 1;
    if (count > 0) expect(issues, JSON.stringify(issues, null, 2)).toHaveLength(count);
    else expect(issues.length).toBeGreaterThanOrEqual(-count);
    const issue = issues.find((i) => i.path === c.path) ?? issues[0];
    const [snippet, inner] = c.at;
    expect(issue).toEqual({ code: c.code, file, ...locate(c.yaml, snippet, inner), path: c.path, message: expect.stringContaining(c.message) });
  });
});
