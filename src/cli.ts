/** The `rolegate` command line. Returns the exit code; never calls process.exit itself (tests run it). */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkConfig } from './configuration/index.js';
import { formatConfigIssue } from './errors.js';
import { explainOpenError } from './db/open-errors.js';
import { ProxySocketError } from './http/proxy-socket.js';
import type { CliIo } from './log.js';
import { jsonLogger } from './log.js';
export type { CliIo };
import { buildMemberWriter } from './app.js';
import { serve } from './main.js';
import { MAPPING_COMMANDS, MAPPING_HELP, runMappingCommand } from './plan/cli.js';
import { TOKEN_HELP, runTokenCommand } from './admin/cli.js';

const HELP = `Usage: rolegate <command> [options]

Commands:
  serve [--config FILE]         Run the gateway (default config: $ROLEGATE_CONFIG or config/rolegate.yaml)
                                SIGHUP or a change of the file reloads it: validate, plan, guard, apply
  check-config [FILE]           Validate a configuration file; exit 0 when valid, 2 with every error listed
${MAPPING_HELP}${TOKEN_HELP}  help, --help                  Show this text

Environment:
  ROLEGATE_CONFIG               Configuration file when none is given
  ROLEGATE_HOST, ROLEGATE_PORT  Override server.host / server.port
  NODE_ENV=production           Refuses development_idp: true
`;


const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

function configPath(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  return explicit ?? env['ROLEGATE_CONFIG'] ?? path.join('config', 'rolegate.yaml');
}

export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(HELP);
    return command === undefined ? 1 : 0;
  }
  const mapping = MAPPING_COMMANDS.find((c) => c === command);
  if (mapping !== undefined) return runMappingCommand(mapping, rest, io, { memberWriter: (config) => buildMemberWriter({ config, log: jsonLogger() }) });
  if (command === 'token') return runTokenCommand(rest, io);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`rolegate ${command}: ${(err as Error).message}\n\n${HELP}`);
    return 64;
  }
  if (parsed.values.help === true) {
    io.out(HELP);
    return 0;
  }
  switch (command) {
    case 'check-config': {
      const file = configPath(parsed.values.config ?? parsed.positionals[0], io.env);
      const result = checkConfig(file, { env: io.env });
      if (result.ok) {
        io.out(`${file}: valid (${result.config.organizations.length} organization(s), revision ${result.config.revision.slice(0, 12)})\n`);
        return 0;
      }
      io.err(result.issues.map(formatConfigIssue).join('\n') + `\n${file}: ${result.issues.length} error(s)\n`);
      return 2;
    }
    case 'serve': {
      const file = configPath(parsed.values.config ?? parsed.positionals[0], io.env);
      const result = checkConfig(file, { env: io.env });
      if (!result.ok) {
        io.err(result.issues.map(formatConfigIssue).join('\n') + `\n${file}: ${result.issues.length} error(s); not starting\n`);
        return 2;
      }
      const log = jsonLogger();
      let running;
      try {
        running = await serve(result.config, log, { reload: { watch: true, signals: true, env: io.env } });
      } catch (err) {
        // A database that is not there, a port or socket in use is a setup step, not a crash: say which, in one line.
        const why = err instanceof ProxySocketError ? err.message : (explainOpenError(err, result.config.database) ?? listenProblem(err, result.config.server));
        if (why === undefined) throw err;
        io.err(`rolegate: not starting: ${why}\n`);
        return 1;
      }
      io.err(`rolegate is running: open ${result.config.server.publicUrl}/ (listening on ${running.url})\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          log('info', 'shutting down', { signal });
          running.close().then(resolve, resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      return 0;
    }
    default:
      io.err(`rolegate: unknown command "${command}"\n\n${HELP}`);
      return 64;
  }
}

function listenProblem(err: unknown, server: { readonly host: string; readonly port: number }): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === 'EADDRINUSE') return `port ${server.port} on ${server.host} is in use; stop what listens there or start with PORT=<another port>`;
  if (code === 'EACCES') return `not allowed to listen on port ${server.port}; use a port above 1023 (PORT=<port>)`;
  return undefined;
}
