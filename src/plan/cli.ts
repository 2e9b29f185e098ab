/**
 * `rolegate plan`, `rolegate apply` and `rolegate explain` Exit codes: 0 done, 2 invalid
 * configuration, 3 apply refused by the mass-demotion guard, 4 not found, 64 usage.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from '../log.js';
import { checkConfig } from '../configuration/index.js';
import type { Config } from '../configuration/types.js';
import { openDatabase } from '../db/connect.js';
import { formatConfigIssue, RolegateError } from '../errors.js';
import { explainGroups, explainMember, renderExplain } from '../explain/explain.js';
import { withConfigLock } from '../db/reload-lock.js';
import type { MemberWriter } from '../members/write.js';
import { applyPlan } from './apply.js';
import { computePlan } from './compute.js';
import { renderApplyResult, renderPlan } from './render.js';

export const MAPPING_COMMANDS = ['plan', 'apply', 'explain'] as const;

export const MAPPING_HELP = `  plan [--config FILE] [--json] [--stale] [--limit N]
                                What FILE's mapping would change for stored members (from their last-seen
                                groups); writes nothing. Against an older file: a rollback preview
  apply [--config FILE] [--force] [--json]
                                Apply that plan in batches, one audit event per change; refused (exit 3)
                                past guards.max_demotions / max_demotion_percent unless --force
  explain --org ID (--user EMAIL|ID | --groups "A,B") [--config FILE] [--json]
                                Why a member has their roles: each rule matched or not, what a login now
                                would change; --groups evaluates a hypothetical member without the database
`;

function configPath(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  return explicit ?? env['ROLEGATE_CONFIG'] ?? path.join('config', 'rolegate.yaml');
}

function load(file: string, io: CliIo): Config | undefined {
  const result = checkConfig(file, { env: io.env });
  if (result.ok) return result.config;
  io.err(result.issues.map(formatConfigIssue).join('\n') + `\n${file}: ${result.issues.length} error(s)\n`);
  return undefined;
}

const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';

/** What the composition root gives the commands that write (cli.ts builds it from app.ts). */
export interface MappingServices {
  readonly memberWriter: (config: Config) => MemberWriter;
}

export async function runMappingCommand(command: (typeof MAPPING_COMMANDS)[number], args: readonly string[], io: CliIo, services: MappingServices): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean' },
        stale: { type: 'boolean' },
        limit: { type: 'string' },
        force: { type: 'boolean' },
        org: { type: 'string' },
        user: { type: 'string' },
        groups: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.err(`rolegate ${command}: ${(err as Error).message}\n\nUsage:\n${MAPPING_HELP}`);
    return 64;
  }
  const v = parsed.values;
  const allowed: Record<typeof command, readonly string[]> = {
    plan: ['config', 'json', 'stale', 'limit'],
    apply: ['config', 'json', 'force', 'limit'],
    explain: ['config', 'json', 'org', 'user', 'groups'],
  };
  const extra = Object.keys(v).filter((k) => !allowed[command].includes(k));
  if (extra.length > 0 || parsed.positionals.length > 1) {
    io.err(`rolegate ${command}: unexpected ${extra.length > 0 ? `--${extra.join(', --')}` : 'argument'}\n\nUsage:\n${MAPPING_HELP}`);
    return 64;
  }
  const file = configPath(v.config ?? parsed.positionals[0], io.env);
  const limit = v.limit === undefined ? 20 : Number(v.limit);
  if (!Number.isInteger(limit) || limit < 0) {
    io.err(`rolegate ${command}: --limit expects a whole number (0 = all)\n`);
    return 64;
  }

  if (command === 'explain') {
    const orgId = Number(v.org);
    if (v.org === undefined || !Number.isInteger(orgId) || orgId <= 0 || (v.user === undefined) === (v.groups === undefined)) {
      io.err(`rolegate explain: needs --org ID and exactly one of --user EMAIL|ID or --groups "A,B"\n`);
      return 64;
    }
    const config = load(file, io);
    if (config === undefined) return 2;
    try {
      if (v.groups !== undefined) {
        const groups = v.groups.split(',').map((g) => g.trim()).filter((g) => g !== '');
        const trace = explainGroups(config, orgId, groups);
        io.out(v.json === true ? json(trace) : renderExplain(trace));
        return 0;
      }
      const db = await openDatabase(config.database);
      try {
        const user = v.user ?? '';
        const trace = await explainMember(db, config, orgId, /^\d+$/.test(user) ? Number(user) : user);
        io.out(v.json === true ? json(trace) : renderExplain(trace));
        return 0;
      } finally {
        await db.destroy();
      }
    } catch (err) {
      if (err instanceof RolegateError && err.code === 'ERR_NOT_FOUND') {
        io.err(`rolegate explain: ${err.message}\n`);
        return 4;
      }
      throw err;
    }
  }

  const config = load(file, io);
  if (config === undefined) return 2;
  const db = await openDatabase(config.database);
  try {
    if (command === 'plan') {
      const plan = await computePlan(db, config);
      io.out(v.json === true ? json(plan) : renderPlan(plan, { limit, stale: v.stale === true }));
      return 0;
    }
    // Under the configuration lock, like a reload of a running instance: never two appliers at once.
    const { plan, result } = await withConfigLock(db, async () => {
      const plan = await computePlan(db, config);
      return { plan, result: await applyPlan(db, config, plan, { writer: services.memberWriter(config), force: v.force === true, appliedBy: 'apply' }) };
    });
    if (!result.applied) {
      if (v.json === true) io.out(json({ applied: false, refused: true, plan }));
      else io.err(renderPlan(plan, { limit }) + 'Nothing applied: the plan exceeds the mass-demotion guard (apply --force to override).\n');
      return 3;
    }
    io.out(v.json === true ? json(result) : renderApplyResult(result));
    return 0;
  } finally {
    await db.destroy();
  }
}
