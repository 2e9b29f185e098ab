/**
 * closeApp after reloads: a reload replaces the SAML verifier (worker pool) and closes the old one
 * 30 s later, once the Responses it admitted are done; closeApp closes those retired verifiers at once too
 * and clears their timers, so nothing of the app is left to fire after it is closed.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { buildMemberWriter, closeApp, createApp } from '../../src/app.js';
import type { Config } from '../../src/configuration/types.js';
import { openDatabase } from '../../src/db/connect.js';
import { silentLogger } from '../../src/log.js';
import { ConfigState } from '../../src/reload/state.js';
import { ROLES, cleanupDirs, tempDir, writeConfig } from '../plan/support.js';

const verifiers = vi.hoisted(() => ({ created: 0, closed: 0 }));

vi.mock('../../src/saml/pool.js', async (importOriginal) => {
  const pool = await importOriginal<typeof import('../../src/saml/pool.js')>();
  return {
    ...pool,
    createSamlVerifier: (...args: Parameters<typeof pool.createSamlVerifier>) => {
      const verifier = pool.createSamlVerifier(...args);
      verifiers.created++;
      return {
        ...verifier,
        close: async () => {
          verifiers.closed++;
          await verifier.close();
        },
      };
    },
  };
});

afterAll(cleanupDirs);
afterEach(() => {
  vi.useRealTimers();
});

/** Inline validation: the verifier's lifecycle is what is under test, not its threads. */
const inline = (config: Config): Config => ({ ...config, saml: { ...config.saml, workers: 0 } });

describe('closeApp', () => {
  it('closes the verifiers retired by reloads at once and leaves no timer behind', async () => {
    const dir = tempDir();
    const config = inline(writeConfig(dir));
    const db = await openDatabase(config.database);
    try {
      const state = new ConfigState(config);
      const app = await createApp({ config, db, log: silentLogger, state, writer: buildMemberWriter({ config, log: silentLogger }) });
      expect(verifiers).toEqual({ created: 1, closed: 0 });
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      state.swap(inline(writeConfig(dir, { roles: ROLES.replace('LS-Managers: Manager', 'LS-Managers: Reviewer') }, 'second.yaml')));
      state.swap(inline(writeConfig(dir, { roles: ROLES.replace('LS-Managers: Manager', 'LS-Managers: Annotator') }, 'third.yaml')));
      // Two retired verifiers, each waiting for its 30 s timer.
      expect(verifiers).toEqual({ created: 3, closed: 0 });
      expect(vi.getTimerCount()).toBe(2);
      await closeApp(app);
      expect(verifiers).toEqual({ created: 3, closed: 3 });
      expect(vi.getTimerCount()).toBe(0);
      // Nothing closes twice later on.
      vi.advanceTimersByTime(60_000);
      expect(verifiers.closed).toBe(3);
    } finally {
      await db.destroy();
    }
  });
});
