/** The scale settings of the configuration file: saml.workers, saml.queue_limit, server.metrics_token. */
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { BASE, check, cleanup, edit, issuesOf, locate } from '../configuration/helpers.js';

afterAll(cleanup);

describe('scale settings load with their defaults', () => {
  it('workers defaults to the CPUs the process may use, queue_limit to 64, /metrics to off', () => {
    const { result } = check(BASE);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.saml.workers).toBe(os.availableParallelism());
    expect(result.config.saml.queueLimit).toBe(64);
    expect(result.config.server.metricsToken).toBeNull();
  });

  it('reads explicit values; workers: 0 means inline validation', () => {
    const yaml = edit(BASE, ['  session_secret: test-secret-0123456789\n', '  session_secret: test-secret-0123456789\n  metrics_token: metrics-token-0123456789\n']) + 'saml:\n  workers: 0\n  queue_limit: 5\n';
    const { result } = check(yaml);
    expect(result.ok && result.config.saml).toMatchObject({ workers: 0, queueLimit: 5 });
    expect(result.ok && result.config.server.metricsToken).toBe('metrics-token-0123456789');
  });

  it('takes the token from the environment like any ${VAR}', () => {
    const yaml = edit(BASE, ['  session_secret: test-secret-0123456789\n', '  session_secret: test-secret-0123456789\n  metrics_token: ${METRICS_TOKEN}\n']);
    const { result } = check(yaml, { env: { METRICS_TOKEN: 'from-the-environment-42' } });
    expect(result.ok && result.config.server.metricsToken).toBe('from-the-environment-42');
  });
});

const cases = [
  { name: 'negative workers', code: 'ERR_CONFIG_VALUE', yaml: `${BASE}saml:\n  workers: -1\n`, path: 'saml.workers', at: ['-1'], message: 'from 0 to 64' },
  { name: 'workers beyond 64', code: 'ERR_CONFIG_VALUE', yaml: `${BASE}saml:\n  workers: 65\n`, path: 'saml.workers', at: ['65'], message: '(0 = validate on the main thread)' },
  { name: 'workers as text', code: 'ERR_CONFIG_VALUE', yaml: `${BASE}saml:\n  workers: auto\n`, path: 'saml.workers', at: ['auto'], message: 'worker threads' },
  { name: 'a negative queue_limit', code: 'ERR_CONFIG_VALUE', yaml: `${BASE}saml:\n  queue_limit: -3\n`, path: 'saml.queue_limit', at: ['-3'], message: 'from 0 to 100000' },
  { name: 'a misspelt queue key', code: 'ERR_CONFIG_UNKNOWN_KEY', yaml: `${BASE}saml:\n  queue_limt: 3\n`, path: 'saml.queue_limt', at: ['queue_limt'], message: 'queue_limit' },
  {
    name: 'a short metrics token', code: 'ERR_CONFIG_INSECURE',
    yaml: edit(BASE, ['  session_secret: test-secret-0123456789\n', '  session_secret: test-secret-0123456789\n  metrics_token: short\n']),
    path: 'server.metrics_token',
    at: ['metrics_token: short', 'short'],
    message: 'at least 16 characters',
  },
] as const;

describe('scale settings are rejected with file, line, column, path and what was expected', () => {
  it.each(cases)('$name', (c) => {
    const { file, result } = check(c.yaml);
    const issues = issuesOf(result);
    expect(issues, JSON.stringify(issues, null, 2)).toHaveLength(1);
    const [snippet, inner] = c.at;
    expect(issues[0]).toEqual({ code: c.code, file, ...locate(c.yaml, snippet, inner), path: c.path, message: expect.stringContaining(c.message) });
  });
});
