/**
 * The configuration the running service acts on, swappable by a reload. Everything that used to
 * capture `config` at start-up and must follow a reload reads `current()` per request instead; things
 * derived from the configuration (the per-organization SAML providers) register a preparer that builds
 * the new derivation first and commits it only when every preparer succeeded, so a swap is all or nothing.
 */
import type { Config, OrganizationConfig } from '../configuration/types.js';
import { recordReloadOutcome } from '../metrics/index.js';

/** The outcome of the last reload attempt, for the log and /healthz. */
export interface ReloadStatus {
  readonly ok: boolean;
  readonly at: string;
  /** 'SIGHUP', 'file', 'api', … */
  readonly trigger: string;
  /** The revision that was tried (null when the file could not be read as a configuration). */
  readonly revision: string | null;
  /** One line each: `file:line:col path: message` for an invalid file, or the guard / restart reason. */
  readonly errors: readonly string[];
  /** One sentence for people. */
  readonly message: string;
}

/** Builds what depends on the new configuration; returns the commit step (must not throw). */
export type SwapPreparer = (next: Config) => () => void;

export class ConfigState {
  #config: Config;
  readonly #preparers: SwapPreparer[] = [];
  #lastReload: ReloadStatus | null = null;

  constructor(config: Config) {
    this.#config = config;
  }

  current(): Config {
    return this.#config;
  }

  org(id: number): OrganizationConfig | undefined {
    return this.#config.organizations.find((o) => o.id === id);
  }

  onSwap(prepare: SwapPreparer): void {
    this.#preparers.push(prepare);
  }

  /** Throws (and changes nothing) when a preparer fails, e.g. an IdP certificate that does not load. */
  swap(next: Config): void {
    const commits = this.#preparers.map((prepare) => prepare(next));
    this.#config = next;
    for (const commit of commits) commit();
  }

  get lastReload(): ReloadStatus | null {
    return this.#lastReload;
  }

  recordReload(status: ReloadStatus): void {
    this.#lastReload = status;
    recordReloadOutcome(status.ok);
  }

  /** The `config` object of GET /healthz/details (behind the metrics token: it names files, keys and lines). */
  health(): { revision: string; last_reload: ReloadStatus | null } {
    return { revision: this.#config.revision, last_reload: this.#lastReload };
  }
}
