/**
 * Two rolegate instances on one database (a PostgreSQL schema in the PostgreSQL pass, one SQLite file
 * otherwise), each with its own relay and connection pool, deliver a queued outbox together: every event
 * arrives exactly once (the receiver always answers 2xx, so a second send of an id could only be a double claim).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standardYaml, startApp, type TestApp } from '../support/app.js';
import { Receiver, newSecret } from './receiver.js';
import { queueRoleChanges, webhooksYaml } from './support.js';

let a: TestApp;
let b: TestApp;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await Receiver.start(newSecret());
  process.env['WH_SECRET_0'] = receiver.secret;
  a = await startApp({
    yaml: (dir, url) => standardYaml({ dir, publicUrl: url }) + webhooksYaml([{ name: 'sink', url: receiver.url, secret: receiver.secret }], '  poll_interval_ms: 20\n  concurrency: 4\n'),
  });
  b = await startApp({ share: a });
});

afterAll(async () => {
  await b.close();
  await a.close();
  await receiver.down();
  delete process.env['WH_SECRET_0'];
});

describe('two instances sharing the outbox', () => {
  it('deliver every event exactly once', async () => {
    const ids = await queueRoleChanges(a.db, a.config, 300);
    for (let i = 0; i < 800 && receiver.uniqueIds().length < ids.length; i++) await new Promise((r) => setTimeout(r, 25));
    expect(receiver.uniqueIds().sort()).toEqual([...ids].sort());
    expect(receiver.received).toHaveLength(300);
    expect(receiver.received.every((r) => r.verifyError === undefined)).toBe(true);
    for (let i = 0; i < 200; i++) {
      const open = (await a.db('webhook_deliveries').whereNot({ status: 'delivered' }).count({ n: '*' })) as { n: number | string }[];
      if (Number(open[0]?.n) === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(Number(((await a.db('webhook_attempts').count({ n: '*' })) as { n: number | string }[])[0]?.n)).toBe(300);
  });
});
