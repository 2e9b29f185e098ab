/**
 * Reloading the configuration in the running service: on SIGHUP and when the file changes,
 * validate → plan → guard → swap → apply. An invalid file, a plan past the mass-demotion guard, or a
 * change to settings that need a restart is refused: the service keeps the last good configuration, says
 * so in its log and on /healthz, and audits the refusal. Reloads run one at a time, and across instances
 * sharing one database "plan → guard → apply → record revision" runs under the configuration lock
 * (src/db/reload-lock.ts): one instance applies a revision, the others swap to it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkConfig } from '../configuration/index.js';
import type { Config } from '../configuration/types.js';
import { appendAudit } from '../db/audit.js';
import type { Db } from '../db/connect.js';
import { withConfigLock } from '../db/reload-lock.js';
import { latestAppliedRevision, latestRevision, recordRevision } from '../db/revisions.js';
import { formatConfigIssue } from '../errors.js';
import type { Logger } from '../log.js';
import { applyPlan, revisionContent } from '../plan/apply.js';
import { computePlan } from '../plan/compute.js';
import { renderPlan } from '../plan/render.js';
import type { MemberWriter } from '../members/write.js';
import type { ConfigState, ReloadStatus } from './state.js';

export interface ReloaderOptions {
  readonly db: Db;
  readonly state: ConfigState;
  readonly log: Logger;
  /** The write path a reload's role changes go through. */
  readonly writer: MemberWriter;
  /** The file to reload (default: the current configuration's file). */
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Quiet time after the last file event before reloading. Default 300 ms (editors write in several steps). */
  readonly debounceMs?: number;
}

export class Reloader {
  readonly #opts: ReloaderOptions;
  readonly #file: string;
  #chain: Promise<unknown> = Promise.resolve();
  #watcher: fs.FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #onSighup: (() => void) | undefined;

  constructor(opts: ReloaderOptions) {
    this.#opts = opts;
    this.#file = opts.file ?? opts.state.current().file;
  }

  /** Reload now; resolves with the outcome (also kept in the state for /healthz). Never rejects. */
  reload(trigger: string): Promise<ReloadStatus> {
    const run = this.#chain.then(() => this.#reload(trigger));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Watch the file's directory (editors and `kubectl` ConfigMaps replace the file by rename). */
  watch(): void {
    if (this.#watcher !== undefined) return;
    const dir = path.dirname(this.#file);
    const base = path.basename(this.#file);
    this.#watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
      if (name !== null && name !== base && !String(name).startsWith('..')) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.reload('file'), this.#opts.debounceMs ?? 300);
      this.#timer.unref();
    });
    this.#watcher.on('error', (err) => this.#opts.log('error', 'config watch failed', { file: this.#file, cause: String(err) }));
  }

  handleSignals(): void {
    if (this.#onSighup !== undefined) return;
    this.#onSighup = () => void this.reload('SIGHUP');
    process.on('SIGHUP', this.#onSighup);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#onSighup !== undefined) process.off('SIGHUP', this.#onSighup);
    this.#onSighup = undefined;
    await this.#chain;
  }

  async #reload(trigger: string): Promise<ReloadStatus> {
    const { db, state, log } = this.#opts;
    const current = state.current();
    const at = new Date();
    const refuse = async (revision: string | null, errors: readonly string[], message: string, action: string): Promise<ReloadStatus> => {
      const status: ReloadStatus = { ok: false, at: at.toISOString(), trigger, revision, errors, message };
      state.recordReload(status);
      log('error', message, { trigger, file: this.#file, attempted_revision: revision, running_revision: current.revision, errors });
      try {
        await appendAudit(db, [{ organizationId: null, actor: 'config', action, outcome: 'refused', configRevision: revision, reason: { trigger, message, errors, running_revision: current.revision } }], at);
      } catch (err) {
        log('error', 'audit of a refused reload failed', { cause: String(err) });
      }
      return status;
    };
    try {
      const checked = checkConfig(this.#file, { env: this.#opts.env ?? process.env });
      if (!checked.ok) {
        return await refuse(null, checked.issues.map(formatConfigIssue), `config reload refused: ${this.#file} is invalid; still running on revision ${current.revision.slice(0, 12)}`, 'config_reload');
      }
      const next = checked.config;
      if (next.revision === current.revision) {
        const status: ReloadStatus = { ok: true, at: at.toISOString(), trigger, revision: next.revision, errors: [], message: 'configuration unchanged' };
        state.recordReload(status);
        return status;
      }
      const restartOnly = restartOnlyChanges(current, next);
      if (restartOnly.length > 0) {
        return await refuse(
          next.revision,
          restartOnly.map((k) => `${k}: changing it needs a restart`),
          `config reload refused: ${restartOnly.join(', ')} changed, which needs a restart; still running on revision ${current.revision.slice(0, 12)}`,
          'config_reload',
        );
      }
      // Several instances sharing the database reload the same file at about the same time: under the
      // configuration lock, the first applies the plan and records the revision; the others find it
      // recorded as applied, and only swap (no second plan, no duplicate audit rows).
      return await withConfigLock(db, async () => {
        const applied = await latestAppliedRevision(db);
        if (applied?.hash === next.revision) {
          try {
            state.swap(next);
          } catch (err) {
            return await refuse(next.revision, [String((err as Error).message ?? err)], `config reload refused: ${String((err as Error).message ?? err)}`, 'config_reload');
          }
          const status: ReloadStatus = {
            ok: true,
            at: at.toISOString(),
            trigger,
            revision: next.revision,
            errors: [],
            message: `configuration reloaded: revision ${next.revision.slice(0, 12)}, already applied (${applied.appliedBy} at ${applied.appliedAt.toISOString()}); nothing to apply here`,
          };
          state.recordReload(status);
          log('info', status.message, { trigger, previous_revision: current.revision, revision: next.revision, applied_by: applied.appliedBy });
          return status;
        }
        const plan = await computePlan(db, next, at);
        if (plan.refused) {
          const errors = plan.organizations.flatMap((o) => (o.guard.message === null ? [] : [o.guard.message]));
          log('warn', 'refused plan', { plan: renderPlan(plan) });
          return await refuse(next.revision, errors, `config reload refused by the mass-demotion guard; still running on revision ${current.revision.slice(0, 12)} (apply it with \`rolegate apply --force\`)`, 'config_reload');
        }
        try {
          state.swap(next);
        } catch (err) {
          return await refuse(next.revision, [String((err as Error).message ?? err)], `config reload refused: ${String((err as Error).message ?? err)}`, 'config_reload');
        }
        const result = await applyPlan(db, next, plan, { writer: this.#opts.writer, appliedBy: `reload:${trigger}`, log });
        const changes = result.applied ? result.organizations.reduce((n, o) => n + Object.values(o.counts).reduce((a, b) => a + b, 0) - o.counts.sessions_ended, 0) : 0;
        const status: ReloadStatus = {
          ok: true,
          at: at.toISOString(),
          trigger,
          revision: next.revision,
          errors: [],
          message: `configuration reloaded: revision ${next.revision.slice(0, 12)}, ${changes} change(s) applied`,
        };
        state.recordReload(status);
        log('info', status.message, { trigger, previous_revision: current.revision, revision: next.revision });
        return status;
      });
    } catch (err) {
      return refuse(null, [String(err)], `config reload failed: ${String(err)}; still running on revision ${current.revision.slice(0, 12)}`, 'config_reload');
    }
  }
}

/** Settings read once at start-up (listening socket, database, cookies): a reload cannot change them. */
function restartOnlyChanges(a: Config, b: Config): string[] {
  const out: string[] = [];
  if (JSON.stringify(a.server) !== JSON.stringify(b.server)) out.push('server');
  if (JSON.stringify(a.database) !== JSON.stringify(b.database)) out.push('database');
  const devA = a.organizations.filter((o) => o.sso.idp.kind === 'development').map((o) => o.id).join(',');
  const devB = b.organizations.filter((o) => o.sso.idp.kind === 'development').map((o) => o.id).join(',');
  if (devA !== devB) out.push('which organizations use the development IdP');
  // The forward-auth routes and their signing keys are set up at start, and so is the session cookie's Domain:
  // a reload that adds the section, or changes cookie_domain, would otherwise be "applied" and do nothing.
  if (a.forwardAuth === null && b.forwardAuth !== null) out.push('forward_auth (added)');
  if ((a.forwardAuth?.cookieDomain ?? null) !== (b.forwardAuth?.cookieDomain ?? null)) out.push('forward_auth.cookie_domain');
  // The proxy socket is opened once, at start.
  const socketOf = (c: Config): string => JSON.stringify(c.forwardAuth?.socket ?? null);
  if (socketOf(a) !== socketOf(b)) out.push('forward_auth.socket');
  return out;
}

/** At start-up: record the configuration the service runs on when it is not the last one recorded. */
export async function recordStartRevision(db: Db, config: Config, now: Date = new Date()): Promise<void> {
  const last = await latestRevision(db);
  if (last?.hash === config.revision) return;
  await recordRevision(db, { hash: config.revision, content: revisionContent(config), file: config.file, appliedBy: 'serve' }, now);
}
