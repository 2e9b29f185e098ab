/**
 * `rolegate token create|list|revoke`: API tokens from the command line, for bootstrapping scripts
 * before anyone opens the Organization page. The key is printed once and stored only as its sha256.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from '../log.js';
import { checkConfig } from '../configuration/index.js';
import { openDatabase } from '../db/connect.js';
import { findMembership } from '../db/memberships.js';
import { findUserByEmail } from '../db/users.js';
import { listTokens } from '../db/api-tokens.js';
import { formatConfigIssue, RolegateError } from '../errors.js';
import { isOrgAdmin } from './caller.js';
import { createToken, revokeTokenById } from './tokens.js';

export const TOKEN_HELP = `  token create --org ID --email EMAIL [--name NAME] [--config FILE]
                                Create an API token for an Owner/Administrator; prints the key once
  token list --org ID [--config FILE]
                                List the organization's live tokens (never the keys)
  token revoke --org ID --id N [--config FILE]
                                Revoke a token
`;

const USAGE = `Usage:\n${TOKEN_HELP}`;

export async function runTokenCommand(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { org: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, id: { type: 'string' }, config: { type: 'string', short: 'c' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.err(`rolegate token: ${(err as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const [sub] = parsed.positionals;
  const v = parsed.values;
  if ((sub !== 'create' && sub !== 'list' && sub !== 'revoke') || parsed.positionals.length !== 1) {
    io.err(`rolegate token: expected create, list or revoke\n\n${USAGE}`);
    return 64;
  }
  if (v.org === undefined || !/^[1-9]\d{0,14}$/.test(v.org)) {
    io.err(`rolegate token ${sub}: --org ID is required (a positive integer)\n\n${USAGE}`);
    return 64;
  }
  if (sub === 'create' && v.email === undefined) {
    io.err(`rolegate token create: --email EMAIL is required\n\n${USAGE}`);
    return 64;
  }
  if (sub === 'revoke' && (v.id === undefined || !/^[1-9]\d{0,14}$/.test(v.id))) {
    io.err(`rolegate token revoke: --id N is required\n\n${USAGE}`);
    return 64;
  }
  const file = v.config ?? io.env['ROLEGATE_CONFIG'] ?? path.join('config', 'rolegate.yaml');
  const checked = checkConfig(file, { env: io.env });
  if (!checked.ok) {
    io.err(checked.issues.map(formatConfigIssue).join('\n') + `\n${file}: ${checked.issues.length} error(s)\n`);
    return 2;
  }
  const config = checked.config;
  const orgId = Number(v.org);
  if (!config.organizations.some((o) => o.id === orgId)) {
    io.err(`rolegate token: no organization ${orgId} in ${file}\n`);
    return 1;
  }
  const db = await openDatabase(config.database);
  try {
    if (sub === 'list') {
      for (const t of await listTokens(db, orgId)) {
        io.out(`${t.id}\t${t.keyPrefix}…\tuser ${t.userId}\t${t.name}\tcreated ${t.createdAt.toISOString()} by ${t.createdBy}\tlast used ${t.lastUsedAt?.toISOString() ?? 'never'}\n`);
      }
      return 0;
    }
    if (sub === 'revoke') {
      try {
        await revokeTokenById(db, { organizationId: orgId, id: Number(v.id), actor: 'cli', by: null, configRevision: config.revision, ip: null }, new Date());
      } catch (err) {
        if (err instanceof RolegateError && err.code === 'ERR_NOT_FOUND') {
          io.err(`rolegate token revoke: no live token ${v.id} in organization ${orgId}\n`);
          return 1;
        }
        throw err;
      }
      io.out(`token ${v.id} revoked\n`);
      return 0;
    }
    const email = (v.email ?? '').trim().toLowerCase();
    const user = await findUserByEmail(db, orgId, email);
    const member = user === undefined ? undefined : await findMembership(db, orgId, user.id);
    if (member === undefined) {
      io.err(`rolegate token create: no member ${email} in organization ${orgId}; they must sign in once first\n`);
      return 1;
    }
    if (!isOrgAdmin(member.role)) {
      io.err(`rolegate token create: ${email} is ${member.role}; only an Owner (OW) or Administrator (AD) may hold a token\n`);
      return 1;
    }
    const created = await createToken(db, { organizationId: orgId, userId: member.userId, name: v.name ?? 'CLI token', createdBy: 'cli', configRevision: config.revision, ip: null }, new Date());
    io.err(`token ${created.token.id} created for ${email} (organization ${orgId}); the key is shown once:\n`);
    io.out(`${created.key}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
}
