/** The pure parts of forward-auth: reading the original request, the decision table, return URLs, header text. */
import { describe, expect, it } from 'vitest';
import type { ForwardAuthConfig } from '../../src/configuration/types.js';
import type { ActiveOrgRole, OrgRole } from '../../src/domain/roles.js';
import { headerText } from '../../src/forwardauth/identity.js';
import { type MemberState, decide, rulesFor } from '../../src/forwardauth/policy.js';
import { trustedPeers } from '../../src/forwardauth/proxies.js';
import { type OriginalRequest, readOriginalRequest } from '../../src/forwardauth/request.js';
import { safeReturnUrl } from '../../src/http/return-url.js';

const src = { line: 1, path: 'x' };
const FA: ForwardAuthConfig = {
  trustedProxies: [],
  socket: null,
  assertionTtlSeconds: 30,
  signingKeys: [],
  cookieDomain: null,
  upstreams: [
    {
      origin: 'https://app.example',
      host: 'app.example',
      organizationId: 1,
      rules: [
        { path: '/', kind: 'organization', minRole: 'AN', source: src },
        { path: '/admin', kind: 'organization', minRole: 'AD', source: src },
        { path: '/owner', kind: 'organization', minRole: 'OW', source: src },
        { path: '/projects/42', kind: 'project', projectId: 42, minProjectRole: 'RE', source: src },
      ],
    },
    { origin: 'http://strict.example:8081', host: 'strict.example:8081', organizationId: 1, rules: [{ path: '/api', kind: 'organization', minRole: 'MA', source: src }] },
  ],
};

function req(url: string): OriginalRequest {
  const parsed = readOriginalRequest('nginx', (n) => (n === 'X-Original-URL' ? url : n === 'X-Original-Method' ? 'GET' : ''));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.request;
}

function member(role: OrgRole, projects: Record<number, ActiveOrgRole> = {}, organizationId = 1): MemberState {
  return { userId: 7, organizationId, role, projects: new Map(Object.entries(projects).map(([k, v]) => [Number(k), v])) };
}

function outcome(url: string, m: MemberState | undefined): string {
  const d = decide(FA, req(url), m);
  return d.allow ? 'allow' : `${d.code}${d.signIn ? ' (sign in)' : ''}`;
}

describe('the decision', () => {
  const table: readonly [string, MemberState | undefined, string][] = [
    ['https://app.example/', member('AN'), 'allow'],
    ['https://app.example/anything?q=1', member('RE'), 'allow'],
    ['https://app.example/', undefined, 'ERR_UNAUTHENTICATED (sign in)'],
    ['https://app.example/', member('AD', {}, 2), 'ERR_UNAUTHENTICATED (sign in)'],
    ['https://app.example/', member('NO'), 'ERR_FORBIDDEN'],
    ['https://app.example/', member('DI'), 'ERR_ACCESS_REVOKED'],
    ['https://app.example/admin', member('MA'), 'ERR_FORBIDDEN'],
    ['https://app.example/admin/users', member('AD'), 'allow'],
    ['https://app.example/administrator', member('AN'), 'allow'],
    ['https://app.example/owner', member('AD'), 'ERR_FORBIDDEN'],
    ['https://app.example/owner', member('OW'), 'allow'],
    ['https://app.example/projects/42/tasks', member('OW'), 'ERR_FORBIDDEN'],
    ['https://app.example/projects/42/tasks', member('AN', { 42: 'AN' }), 'ERR_FORBIDDEN'],
    ['https://app.example/projects/42/tasks', member('AN', { 42: 'RE' }), 'allow'],
    ['https://app.example/projects/42', member('AN', { 42: 'AD' }), 'allow'],
    ['https://app.example/projects/421', member('AN'), 'allow'],
    ['https://app.example/projects/42', member('DI', { 42: 'RE' }), 'ERR_ACCESS_REVOKED'],
    // readings that must not pick a laxer rule
    ['https://app.example/ADMIN', member('AN'), 'ERR_FORBIDDEN'],
    ['https://app.example/%61dmin', member('AN'), 'ERR_FORBIDDEN'],
    ['https://app.example/admin;x=1/users', member('AN'), 'ERR_FORBIDDEN'],
    ['https://app.example/public/../admin', member('AN'), 'ERR_FORBIDDEN'],
    ['https://app.example/public/%2e%2e/admin', member('AN'), 'ERR_FORBIDDEN'],
    // unknown host, other port, other scheme: no upstream
    ['https://evil.example/', member('OW'), 'ERR_FORWARD_AUTH_UNKNOWN_UPSTREAM'],
    ['https://app.example:8443/', member('OW'), 'ERR_FORWARD_AUTH_UNKNOWN_UPSTREAM'],
    ['http://app.example/', member('OW'), 'ERR_FORWARD_AUTH_UNKNOWN_UPSTREAM'],
    // a path no rule covers: denied even before sign-in
    ['http://strict.example:8081/', undefined, 'ERR_FORBIDDEN'],
    ['http://strict.example:8081/api/x', member('MA'), 'allow'],
  ];
  for (const [url, m, expected] of table) {
    it(`${url} as ${m === undefined ? 'nobody' : `${m.role}${m.organizationId === 1 ? '' : ` of org ${m.organizationId}`} ${JSON.stringify(Object.fromEntries(m.projects))}`} → ${expected}`, () => {
      expect(outcome(url, m)).toBe(expected);
    });
  }

  it('needs every rule of every reading of the path', () => {
    const upstream = FA.upstreams[0];
    if (upstream === undefined) throw new Error('fixture');
    expect(rulesFor(upstream, '/Admin').map((r) => r.path).sort()).toEqual(['/', '/admin']);
    expect(rulesFor(upstream, '/x').map((r) => r.path)).toEqual(['/']);
  });
});

describe('the original request', () => {
  const nginx = (h: Record<string, string>) => readOriginalRequest('nginx', (n) => h[n] ?? '');
  const forward = (h: Record<string, string>) => readOriginalRequest('forward', (n) => h[n] ?? '');

  it('reads nginx and forward headers into one origin and path', () => {
    expect(nginx({ 'X-Original-URL': 'https://App.Example:443/a/b?x=1', 'X-Original-Method': 'post' })).toEqual({
      ok: true,
      request: { method: 'POST', url: 'https://app.example/a/b?x=1', origin: 'https://app.example', path: '/a/b' },
    });
    expect(forward({ 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': 'strict.example:8081', 'X-Forwarded-Uri': '/api/x?y', 'X-Forwarded-Method': 'GET' })).toMatchObject({
      ok: true,
      request: { origin: 'http://strict.example:8081', path: '/api/x' },
    });
  });

  const bad: readonly [string, Record<string, string>, 'nginx' | 'forward'][] = [
    ['no URL', { 'X-Original-Method': 'GET' }, 'nginx'],
    ['no method', { 'X-Original-URL': 'https://app.example/' }, 'nginx'],
    ['a relative URL', { 'X-Original-URL': '/admin', 'X-Original-Method': 'GET' }, 'nginx'],
    ['another scheme', { 'X-Original-URL': 'ftp://app.example/', 'X-Original-Method': 'GET' }, 'nginx'],
    ['user info', { 'X-Original-URL': 'https://a:b@app.example/', 'X-Original-Method': 'GET' }, 'nginx'],
    ['an encoded slash', { 'X-Original-URL': 'https://app.example/public%2F..%2Fadmin', 'X-Original-Method': 'GET' }, 'nginx'],
    ['an encoded backslash', { 'X-Original-URL': 'https://app.example/public%5Cadmin', 'X-Original-Method': 'GET' }, 'nginx'],
    ['a Tomcat dot segment', { 'X-Original-URL': 'https://app.example/public/..;/admin', 'X-Original-Method': 'GET' }, 'nginx'],
    ['an encoded NUL', { 'X-Original-URL': 'https://app.example/a%00', 'X-Original-Method': 'GET' }, 'nginx'],
    ['two hosts', { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example, app.example', 'X-Forwarded-Uri': '/', 'X-Forwarded-Method': 'GET' }, 'forward'],
    ['a host with a path', { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example/x', 'X-Forwarded-Uri': '/', 'X-Forwarded-Method': 'GET' }, 'forward'],
    ['no proto', { 'X-Forwarded-Host': 'app.example', 'X-Forwarded-Uri': '/', 'X-Forwarded-Method': 'GET' }, 'forward'],
    ['a URI that is not a path', { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example', 'X-Forwarded-Uri': '@evil.example/', 'X-Forwarded-Method': 'GET' }, 'forward'],
    ['nginx headers in forward mode', { 'X-Original-URL': 'https://app.example/', 'X-Original-Method': 'GET' }, 'forward'],
  ];
  for (const [name, headers, mode] of bad) {
    it(`refuses ${name}`, () => {
      expect((mode === 'nginx' ? nginx(headers) : forward(headers)).ok).toBe(false);
    });
  }
});

describe('trusted proxies', () => {
  it('checks addresses and networks, IPv4-mapped IPv6 as IPv4', () => {
    const ok = trustedPeers([
      { address: '127.0.0.1', prefix: 32, family: 'ipv4' },
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: 'fd00::', prefix: 8, family: 'ipv6' },
    ]);
    expect(['127.0.0.1', '::ffff:127.0.0.1', '10.200.3.4', 'fd12::1', '127.0.0.2', '::1', '11.0.0.1', 'fe80::1', undefined, 'x'].map(ok)).toEqual([
      true, true, true, true, false, false, false, false, false, false,
    ]);
  });
});

describe('the return URL (rd)', () => {
  const upstreams = ['https://app.example', 'http://127.0.0.1:8081'];
  const cases: readonly [unknown, string][] = [
    ['https://app.example/a?b=1#c', 'https://app.example/a?b=1#c'],
    ['http://127.0.0.1:8081/x', 'http://127.0.0.1:8081/x'],
    ['/organization', '/organization'],
    ['https://app.example.evil.example/', '/'],
    ['https://evil.example/?https://app.example', '/'],
    ['https://app.example@evil.example/', '/'],
    ['https://app.example:444/', '/'],
    ['http://app.example/', '/'],
    ['http://127.0.0.1:8082/', '/'],
    ['//evil.example/', '/'],
    ['/\\evil.example/', '/'],
    ['/%2f%2fevil.example/', '/'],
    ['/%5Cevil.example/', '/'],
    ['https:app.example/', '/'],
    ['javascript:alert(1)', '/'],
    [' https://app.example/', '/'],
    ['https://app.example/\n', '/'],
    ['/./\\evil.example', '/'],
    ['/a/..//evil.example', '/'],
    [['https://app.example/'], '/'],
    [`https://app.example/${'a'.repeat(3000)}`, '/'],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value).slice(0, 60)} → ${expected}`, () => {
      expect(safeReturnUrl(value, upstreams)).toBe(expected);
    });
  }
});

describe('header text', () => {
  it('keeps ASCII, percent-encodes %, commas and the rest as UTF-8', () => {
    expect(headerText('José Müller')).toBe('Jos%C3%A9 M%C3%BCller');
    expect(headerText('CN=Admins,DC=x 100%')).toBe('CN=Admins%2CDC=x 100%25');
    expect(headerText('a\r\nX-Rolegate-Role: OW')).toBe('a%0D%0AX-Rolegate-Role: OW');
    expect(headerText('\uD800x')).toBe('%EF%BF%BDx');
  });
});
