/**
 * Outbound safety: loopback, link-local and private targets are refused unless the endpoint allows them, on
 * the address actually connected to (a name is checked after it resolves, an IP literal before connecting).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { silentLogger } from '../../src/log.js';
import { Relay } from '../../src/webhooks/relay.js';
import { sendWebhook } from '../../src/webhooks/send.js';
import { blockedReason } from '../../src/webhooks/target.js';
import { cleanup } from '../configuration/helpers.js';
import { openTestDatabase } from '../support/database.js';
import { Receiver, newSecret } from './receiver.js';
import { configWith, queueRoleChanges } from './support.js';

afterAll(cleanup);

describe('which addresses a webhook may reach', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.1.2.3',
    '64:ff9b::a9fe:a9fe',
  ])('refuses %s', (address) => {
    expect(blockedReason(address)).not.toBeNull();
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows the public address %s', (address) => {
    expect(blockedReason(address)).toBeNull();
  });
});

describe('a relay sending to a private target', () => {
  let db: Db;
  let close: () => Promise<void>;
  let receiver: Receiver;
  beforeEach(async () => {
    ({ db, close } = await openTestDatabase());
    receiver = await Receiver.start(newSecret());
  });
  afterEach(async () => {
    await receiver.down();
    await close();
  });

  for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]']) {
    it(`refuses http://${host} without allow_private_targets, records the refusal, sends nothing`, async () => {
      const url = receiver.url.replace('127.0.0.1', host);
      const config = configWith([{ name: 'inside', url, secret: receiver.secret, allowPrivate: false }]);
      const clock = Date.now();
      await queueRoleChanges(db, config, 1, 7, new Date(clock));
      const relay = new Relay({ db, config: () => config, log: silentLogger, now: () => clock });
      expect(await relay.runOnce()).toBe(1);
      const attempt = (await db('webhook_attempts').first()) as Record<string, unknown>;
      expect(attempt['error_code']).toBe('ERR_WEBHOOK_TARGET_REFUSED');
      expect(attempt['status_code']).toBeNull();
      expect(receiver.received).toEqual([]);
    });
  }

  it('sends to the same receiver when the endpoint allows private targets', async () => {
    const result = await sendWebhook({ url: receiver.url.replace('127.0.0.1', 'localhost'), headers: {}, body: '{}', allowPrivateTargets: true, timeoutMs: 5000, maxResponseBytes: 1024 });
    expect(result).toEqual({ statusCode: 204, errorCode: null, error: null, retryAfterMs: null });
    expect(receiver.received).toHaveLength(1);
  });
});
