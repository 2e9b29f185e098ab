/** `webhooks:` in the YAML: defaults, and every mistake reported at its line with its path, secrets never echoed. */
import { afterAll, describe, expect, it } from 'vitest';
import { BASE, check, cleanup, issuesOf, locate } from '../configuration/helpers.js';

afterAll(cleanup);

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

const withWebhooks = (section: string): string => `${BASE}webhooks:\n${section}`;

const ENDPOINT = `  endpoints:
    - name: hr-sync
      url: https://hooks.example.com/rolegate
      secret: \${HR_SECRET}
      events: [member.created, member.deactivated]
`;

describe('webhooks configuration', () => {
  it('is empty (no endpoints, defaults) when the section is absent', () => {
    const { result } = check(BASE);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.webhooks).toEqual({
      endpoints: [],
      timeoutSeconds: 15,
      maxResponseBytes: 65536,
      concurrency: 8,
      pollIntervalMs: 1000,
      retry: { maxAttempts: 10, initialDelayMs: 5000, maxDelayMs: 86_400_000 },
      retentionDays: 30,
    });
  });

  it('reads an endpoint with its secret from the environment, all organizations and private targets refused by default', () => {
    const { result } = check(withWebhooks(`  timeout_seconds: 5\n  retry:\n    max_attempts: 3\n    initial_delay_ms: 50\n${ENDPOINT}`), { env: { HR_SECRET: SECRET } });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.config.webhooks.timeoutSeconds).toBe(5);
    expect(result.config.webhooks.retry).toEqual({ maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 86_400_000 });
    expect(result.config.webhooks.endpoints).toEqual([
      {
        name: 'hr-sync',
        url: 'https://hooks.example.com/rolegate',
        secret: SECRET,
        events: ['member.created', 'member.deactivated'],
        organizations: [1],
        allowPrivateTargets: false,
      },
    ]);
    expect(Object.isFrozen(result.config.webhooks.endpoints[0])).toBe(true);
  });

  interface Case {
    readonly name: string;
    readonly section: string;
    readonly path: string;
    readonly at: readonly [string, string?];
    readonly code: string;
    readonly env?: NodeJS.ProcessEnv;
  }
  const cases: Case[] = [
    { name: 'an unknown key, with the nearest known one', code: 'ERR_CONFIG_UNKNOWN_KEY', section: ENDPOINT.replace('      events:', '      allow_private_target: true\n      events:'), path: 'webhooks.endpoints[0].allow_private_target', at: ['allow_private_target'] },
    { name: 'an unknown event, with a suggestion', code: 'ERR_CONFIG_VALUE', section: ENDPOINT.replace('member.deactivated', 'member.deactivate'), path: 'webhooks.endpoints[0].events[1]', at: ['member.deactivate]', 'member.deactivate'] },
    { name: 'a secret that is not whsec_', code: 'ERR_CONFIG_VALUE', section: ENDPOINT.replace('${HR_SECRET}', 'hunter2-not-a-secret'), path: 'webhooks.endpoints[0].secret', at: ['hunter2-not-a-secret'] },
    { name: 'a secret that is too short', code: 'ERR_CONFIG_INSECURE', section: ENDPOINT.replace('${HR_SECRET}', `whsec_${Buffer.alloc(8).toString('base64')}`), path: 'webhooks.endpoints[0].secret', at: ['whsec_'] },
    { name: 'an unset secret variable', code: 'ERR_CONFIG_ENV', section: ENDPOINT, env: {}, path: 'webhooks.endpoints[0].secret', at: ['${HR_SECRET}'] },
    { name: 'a non-http URL', code: 'ERR_CONFIG_VALUE', section: ENDPOINT.replace('https://hooks.example.com/rolegate', 'ftp://hooks.example.com/x'), path: 'webhooks.endpoints[0].url', at: ['ftp://hooks.example.com/x'] },
    { name: 'credentials in the URL', code: 'ERR_CONFIG_INSECURE', section: ENDPOINT.replace('https://hooks', 'https://u:p@hooks'), path: 'webhooks.endpoints[0].url', at: ['https://u:p@hooks'] },
    { name: 'a missing secret', code: 'ERR_CONFIG_MISSING_KEY', section: ENDPOINT.replace('      secret: ${HR_SECRET}\n', ''), path: 'webhooks.endpoints[0].secret', at: ['name: hr-sync'] },
    { name: 'no events', code: 'ERR_CONFIG_VALUE', section: ENDPOINT.replace('[member.created, member.deactivated]', '[]'), path: 'webhooks.endpoints[0].events', at: ['[]'] },
    { name: 'an unknown organization', code: 'ERR_CONFIG_VALUE', section: ENDPOINT + '      organizations: [1, 7]\n', path: 'webhooks.endpoints[0].organizations[1]', at: ['[1, 7]', '7'] },
    { name: 'a duplicate endpoint name', code: 'ERR_CONFIG_DUPLICATE', section: ENDPOINT + ENDPOINT.replace('  endpoints:\n', ''), path: 'webhooks.endpoints[1].name', at: ['hr-sync\n      url: https://hooks.example.com/rolegate\n      secret: ${HR_SECRET}\n      events: [member.created, member.deactivated]\n    - name: hr-sync', 'hr-sync\n      url'] },
    { name: 'a timeout out of range', code: 'ERR_CONFIG_VALUE', section: '  timeout_seconds: 0\n' + ENDPOINT, path: 'webhooks.timeout_seconds', at: ['timeout_seconds: 0', '0'] },
    { name: 'a back-off ceiling below its start', code: 'ERR_CONFIG_VALUE', section: '  retry:\n    initial_delay_ms: 5000\n    max_delay_ms: 100\n' + ENDPOINT, path: 'webhooks.retry.max_delay_ms', at: ['max_delay_ms: 100', '100'] },
  ];

  for (const c of cases) {
    it(`rejects ${c.name} at its position`, () => {
      const yaml = withWebhooks(c.section);
      const { result } = check(yaml, { env: c.env ?? { HR_SECRET: SECRET } });
      const issues = issuesOf(result);
      expect(issues.map((i) => [i.code, i.path])).toEqual([[c.code, c.path]]);
      const [snippet, inner] = c.at;
      // The duplicate's snippet spans two endpoints: its second "hr-sync" is the one reported.
      const where = c.name.startsWith('a duplicate') ? { line: locate(yaml, snippet, 'hr-sync\n      url').line + 4, col: 13 } : locate(yaml, snippet, inner);
      expect({ line: issues[0]?.line, col: issues[0]?.col }).toEqual(where);
    });
  }

  it('never echoes a secret in its messages', () => {
    const bad = `whsec_${Buffer.alloc(8, 9).toString('base64')}`;
    for (const secret of [bad, 'not-a-secret-but-private-9f8e7d']) {
      const { result } = check(withWebhooks(ENDPOINT), { env: { HR_SECRET: secret } });
      const text = JSON.stringify(issuesOf(result));
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(6, 16));
    }
  });

  it('suggests the event name a typo was meant to be', () => {
    const { result } = check(withWebhooks(ENDPOINT.replace('member.deactivated', 'member.deactivate')), { env: { HR_SECRET: SECRET } });
    expect(issuesOf(result)[0]?.message).toContain('member.deactivated');
  });
});
