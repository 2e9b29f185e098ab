/** `forward_auth:` in the YAML: what loads, and every mistake reported at its line with its path. */
import { afterAll, describe, expect, it } from 'vitest';
import { BASE, check, cleanup, issuesOf, locate, writeFile, tempDir } from '../configuration/helpers.js';

afterAll(cleanup);

const SECTION = `forward_auth:
  trusted_proxies: [127.0.0.1, "::1", 10.0.0.0/8]
  upstreams:
    - origin: https://app.acme.example
      organization: 1
      rules:
        - path: /
          min_role: Annotator
        - path: /admin/
          min_role: Administrator
        - path: /projects/42
          project: 42
          min_project_role: Reviewer
`;

/** rolegate on the upstreams' host (without cookie_domain an upstream must be on rolegate's host). */
const SAME_HOST = BASE.replace('http://localhost:8080', 'https://app.acme.example:8443');

function rejected(section: string, base = SAME_HOST): { yaml: string; issues: ReturnType<typeof issuesOf> } {
  const yaml = base + section;
  return { yaml, issues: issuesOf(check(yaml).result) };
}

describe('forward_auth configuration', () => {
  it('loads upstreams, rules, proxies and the defaults', () => {
    const { result } = check(SAME_HOST + SECTION);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const fa = result.config.forwardAuth;
    expect(fa?.assertionTtlSeconds).toBe(30);
    expect(fa?.signingKeys).toEqual([]);
    expect(fa?.trustedProxies).toEqual([
      { address: '127.0.0.1', prefix: 32, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
    ]);
    expect(fa?.upstreams[0]).toMatchObject({ origin: 'https://app.acme.example', host: 'app.acme.example', organizationId: 1 });
    expect(fa?.upstreams[0]?.rules.map((r) => [r.path, r.kind])).toEqual([
      ['/', 'organization'],
      ['/admin', 'organization'],
      ['/projects/42', 'project'],
    ]);
  });

  it('is null when absent', () => {
    const { result } = check(BASE);
    expect(result.ok && result.config.forwardAuth).toBeNull();
  });

  const cases: readonly { name: string; from: string; to: string; path: string; at: string; message: RegExp }[] = [
    { name: 'an unknown key', from: '  upstreams:\n', to: '  upstream: []\n  upstreams:\n', path: 'forward_auth.upstream', at: 'upstream:', message: /unknown key "upstream"; did you mean "upstreams"/ },
    { name: 'an unknown key in a rule', from: '          min_role: Annotator', to: '          min_role: Annotator\n          methods: [GET]', path: 'forward_auth.upstreams[0].rules[0].methods', at: 'methods', message: /unknown key "methods"/ },
    { name: 'a host name as trusted proxy', from: '[127.0.0.1, "::1", 10.0.0.0/8]', to: '[proxy.internal]', path: 'forward_auth.trusted_proxies[0]', at: 'proxy.internal', message: /IP address or a network/ },
    { name: 'a prefix too long', from: '10.0.0.0/8', to: '10.0.0.0/33', path: 'forward_auth.trusted_proxies[2]', at: '10.0.0.0/33', message: /prefix length from 0 to 32/ },
    { name: 'no trusted proxy', from: '[127.0.0.1, "::1", 10.0.0.0/8]', to: '[]', path: 'forward_auth.trusted_proxies', at: '[]', message: /at least one proxy/ },
    { name: 'an origin with a path', from: 'https://app.acme.example', to: 'https://app.acme.example/app', path: 'forward_auth.upstreams[0].origin', at: 'https://app.acme.example/app', message: /no path/ },
    { name: 'an origin of another scheme', from: 'https://app.acme.example', to: 'ftp://app.acme.example', path: 'forward_auth.upstreams[0].origin', at: 'ftp://app.acme.example', message: /http or https/ },
    { name: 'an unknown organization', from: '      organization: 1', to: '      organization: 7', path: 'forward_auth.upstreams[0].organization', at: 'organization: 7', message: /no organization has id 7 \(configured: 1\)/ },
    { name: 'a project of no organization', from: '          project: 42', to: '          project: 99', path: 'forward_auth.upstreams[0].rules[2].project', at: '99', message: /has no project 99 \(its projects: 42/ },
    { name: 'a state as minimum role', from: 'min_role: Annotator', to: 'min_role: Deactivated', path: 'forward_auth.upstreams[0].rules[0].min_role', at: 'Deactivated', message: /is a state, never a way in/ },
    { name: 'a misspelt role', from: 'min_role: Annotator', to: 'min_role: Anotator', path: 'forward_auth.upstreams[0].rules[0].min_role', at: 'Anotator', message: /did you mean "Annotator"/ },
    { name: 'both kinds of requirement', from: '          min_role: Annotator', to: '          min_role: Annotator\n          project: 42', path: 'forward_auth.upstreams[0].rules[0].project', at: 'project: 42', message: /either min_role, or project/ },
    { name: 'a project without its role', from: '          min_project_role: Reviewer\n', to: '', path: 'forward_auth.upstreams[0].rules[2].project', at: 'project: 42', message: /needs "min_project_role" too/ },
    { name: 'a path with a dot segment', from: '- path: /admin/', to: '- path: /public/../admin', path: 'forward_auth.upstreams[0].rules[1].path', at: '/public/../admin', message: /"\.\." segments/ },
    { name: 'a path with an escape', from: '- path: /admin/', to: '- path: /adm%69n', path: 'forward_auth.upstreams[0].rules[1].path', at: '/adm%69n', message: /%-escapes/ },
    { name: 'a duplicate path', from: '- path: /admin/', to: '- path: /', path: 'forward_auth.upstreams[0].rules[1].path', at: '- path: /\n          min_role: Administrator', message: /duplicate path \/: the rule at line/ },
    { name: 'a ttl above 60 s', from: '  upstreams:\n', to: '  assertion_ttl_seconds: 120\n  upstreams:\n', path: 'forward_auth.assertion_ttl_seconds', at: '120', message: /from 1 to 60/ },
    { name: 'no rules', from: `      rules:\n        - path: /\n          min_role: Annotator\n        - path: /admin/\n          min_role: Administrator\n        - path: /projects/42\n          project: 42\n          min_project_role: Reviewer\n`, to: '      rules: []\n', path: 'forward_auth.upstreams[0].rules', at: '[]', message: /at least one rule/ },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      const section = SECTION.replace(c.from, c.to);
      expect(section, 'the edit applies').not.toBe(SECTION);
      const { yaml, issues } = rejected(section);
      expect(issues).toHaveLength(1);
      const issue = issues[0];
      const inner = c.at.startsWith('- path') ? '/' : c.at.startsWith('project:') ? 'project' : c.at === 'upstream:' ? 'upstream' : c.at.startsWith('organization: ') ? c.at.slice(14) : c.at;
      const tail = yaml.slice(yaml.indexOf('forward_auth:'));
      const pos = locate(tail, c.at, inner);
      const base = yaml.slice(0, yaml.indexOf('forward_auth:')).split('\n').length - 1;
      expect({ path: issue?.path, line: issue?.line, col: issue?.col }).toEqual({ path: c.path, line: pos.line + base, col: pos.col });
      expect(issue?.message).toMatch(c.message);
    });
  }

  it('refuses a signing key that cannot sign, naming the file', () => {
    const dir = tempDir();
    const weak = writeFile('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'weak.pem', dir);
    const { issues } = rejected(SECTION.replace('  upstreams:\n', `  signing_key_files: [${weak}]\n  upstreams:\n`));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('forward_auth.signing_key_files[0]');
    expect(issues[0]?.message).toMatch(/does not hold an unencrypted PEM private key/);
  });

  it('sets the session cookie domain only when it covers rolegate and every upstream', () => {
    const good = check(BASE.replace('http://localhost:8080', 'https://auth.acme.example') + SECTION.replace('  upstreams:\n', '  cookie_domain: acme.example\n  upstreams:\n'));
    expect(good.result.ok && good.result.config.forwardAuth?.cookieDomain).toBe('acme.example');
    const { issues } = rejected(SECTION.replace('  upstreams:\n', '  cookie_domain: acme.example\n  upstreams:\n'), BASE);
    expect(issues.map((i) => i.path)).toEqual(['forward_auth.cookie_domain']);
    expect(issues[0]?.message).toMatch(/does not cover server.public_url \(localhost\)/);
    const ip = rejected(SECTION.replace('  upstreams:\n', '  cookie_domain: 127.0.0.1\n  upstreams:\n'));
    expect(ip.issues[0]?.message).toMatch(/no domain on IP addresses/);
  });

  it('refuses an upstream on another host than rolegate when no cookie_domain is set (sign-in would loop)', () => {
    const { yaml, issues } = rejected(SECTION, BASE);
    expect(issues.map((i) => [i.path, i.line])).toEqual([['forward_auth.upstreams[0].origin', locate(yaml, 'origin: https://app.acme.example').line]]);
    expect(issues[0]?.message).toMatch(/https:\/\/app\.acme\.example is not on rolegate's host \(localhost, from server\.public_url\) and forward_auth\.cookie_domain is not set/);
    // Another port of rolegate's host is fine: cookies do not depend on the port.
    expect(check(BASE + SECTION.replace('https://app.acme.example', 'http://localhost:9000')).result.ok).toBe(true);
  });

  it('refuses a duplicate origin', () => {
    const second = `    - origin: https://app.acme.example:443
      organization: 1
      rules:
        - path: /
          min_role: Owner
`;
    const { issues } = rejected(SECTION + second);
    expect(issues.map((i) => [i.path, /duplicate origin https:\/\/app.acme.example/.test(i.message)])).toEqual([['forward_auth.upstreams[1].origin', true]]);
  });
});

describe('forward_auth.socket', () => {
  const withSocket = (lines: string): string => SECTION.replace('  upstreams:\n', `${lines}  upstreams:\n`);

  it('is off by default; a path (relative to the working directory) gets mode 0660', () => {
    const off = check(SAME_HOST + SECTION).result;
    expect(off.ok && off.config.forwardAuth?.socket).toBeNull();
    const { result } = check(SAME_HOST + withSocket('  socket: run/forward-auth.sock\n'), { cwd: '/srv/rolegate' });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.forwardAuth?.socket).toEqual({ path: '/srv/rolegate/run/forward-auth.sock', mode: 0o660 });
  });

  it('makes trusted_proxies optional: a socket alone is a way for the proxy to ask', () => {
    const section = withSocket('  socket: /run/rolegate/fa.sock\n  socket_mode: "0600"\n').replace('  trusted_proxies: [127.0.0.1, "::1", 10.0.0.0/8]\n', '');
    const { result } = check(SAME_HOST + section);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.forwardAuth?.trustedProxies).toEqual([]);
    expect(result.config.forwardAuth?.socket).toEqual({ path: '/run/rolegate/fa.sock', mode: 0o600 });
    // An empty list is accepted too with a socket (and still refused without one, see above).
    expect(check(SAME_HOST + section.replace('  socket:', '  trusted_proxies: []\n  socket:')).result.ok).toBe(true);
  });

  const refusals: readonly { name: string; lines: string; code: string; path: string; message: RegExp }[] = [
    { name: 'a mode any local user could connect with', lines: '  socket: /run/rolegate/fa.sock\n  socket_mode: "0666"\n', code: 'ERR_CONFIG_INSECURE', path: 'forward_auth.socket_mode', message: /lets every local user connect and ask as the proxy/ },
    { name: 'a mode that is not octal', lines: '  socket: /run/rolegate/fa.sock\n  socket_mode: "rw-rw----"\n', code: 'ERR_CONFIG_VALUE', path: 'forward_auth.socket_mode', message: /octal file mode in quotes such as "0660"/ },
    { name: 'a mode without owner write', lines: '  socket: /run/rolegate/fa.sock\n  socket_mode: "0440"\n', code: 'ERR_CONFIG_VALUE', path: 'forward_auth.socket_mode', message: /without write permission/ },
    { name: 'a mode without a socket', lines: '  socket_mode: "0660"\n', code: 'ERR_CONFIG_CONFLICT', path: 'forward_auth.socket_mode', message: /socket_mode without socket/ },
    { name: 'a path longer than a Unix socket allows', lines: `  socket: /run/${'x'.repeat(120)}.sock\n`, code: 'ERR_CONFIG_VALUE', path: 'forward_auth.socket', message: /Unix sockets allow at most 103/ },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name}, at its line`, () => {
      const { yaml, issues } = rejected(withSocket(c.lines));
      expect(issues.map((i) => [i.code, i.path])).toEqual([[c.code, c.path]]);
      const key = c.path.slice('forward_auth.'.length);
      expect(issues[0]?.line).toBe(locate(yaml, `  ${key}:`).line);
      expect(issues[0]?.message).toMatch(c.message);
    });
  }
});
