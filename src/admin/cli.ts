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
import { listScimTokens } from '../db/scim.js';
import { createScimToken, revokeScimTokenById } from '../scim/tokens.js';
import { formatConfigIssue, RolegateError } from '../errors.js';
import { isOrgAdmin } from './caller.js';
import { createToken, revokeTokenById } from './tokens.js';

export const TOKEN_HELP = `  token create --org ID --email EMAIL [--name NAME] [--config FILE]
                                Create an API token for an Owner/Administrator; prints the key once
  token create --org ID --scim [--name NAME] [--config FILE]
                                Create a SCIM token for the organization's IdP; prints only the key
  token list --org ID [--config FILE]
                                List the organization's live API and SCIM tokens (never the keys)
  token revoke --org ID --id N [--scim] [--config FILE]
                                Revoke a token (--scim: a SCIM token)
`;

const USAGE = `Usage:\n${TOKEN_HELP}`;

export async function runTokenCommand(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { org: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, id: { type: 'string' }, scim: { type: 'boolean' }, config: { type: 'string', short: 'c' } },
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
  if (sub === 'create' && v.scim === true && v.email !== undefined) {
    io.err(`rolegate token create: a SCIM token belongs to the organization, not to a member; drop --email\n\n${USAGE}`);
    return 64;
  }
  if (sub === 'create' && v.email === undefined && v.scim !== true) {
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
      for (const t of await listScimTokens(db, orgId)) {
        io.out(`${t.id}\t${t.keyPrefix}…\tscim\t${t.name}\tcreated ${t.createdAt.toISOString()} by ${t.createdBy}\tlast used ${t.lastUsedAt?.toISOString() ?? 'never'}\n`);
      }
      return 0;
    }
    if (sub === 'revoke') {
      const kind = v.scim === true ? 'SCIM token' : 'token';
      try {
        if (v.scim === true) await revokeScimTokenById(db, { organizationId: orgId, id: Number(v.id), actor: 'cli', configRevision: config.revision, ip: null }, new Date());
        else await revokeTokenById(db, { organizationId: orgId, id: Number(v.id), actor: 'cli', by: null, configRevision: config.revision, ip: null }, new Date());
      } catch (err) {
        if (err instanceof RolegateError && err.code === 'ERR_NOT_FOUND') {
          io.err(`rolegate token revoke: no live ${kind} ${v.id} in organization ${orgId}\n`);
          return 1;
        }
        throw err;
      }
      io.out(`${kind} ${v.id} revoked\n`);
      return 0;
    }
    if (v.scim === true) {
      const org = config.organizations.find((o) => o.id === orgId);
      const created = await createScimToken(db, { organizationId: orgId, name: v.name ?? 'SCIM token', createdBy: 'cli', configRevision: config.revision, ip: null }, new Date());
      io.err(
        `SCIM token ${created.token.id} created for organization ${orgId}; the key is shown once. Base URL: ${config.server.publicUrl}/scim/v2` +
          (org?.scim?.enabled === true ? '\n' : `\nnote: organizations[].scim.enabled is not true for organization ${orgId}; the token answers 403 until it is\n`),
      );
      io.out(`${created.key}\n`);
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
