/**
 * The write path's contract below HTTP: one list of changes per write, hooks inside the same transaction,
 * side effects derived from the list, refusals that change nothing; and the rule that nothing else writes
 * memberships or project memberships (read from the source).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/configuration/types.js';
import { appendAudit } from '../../src/db/audit.js';
import type { Db } from '../../src/db/connect.js';
import { syncOrganizations } from '../../src/db/organizations.js';
import { storeSession } from '../../src/db/sessions.js';
import { upsertUser } from '../../src/db/users.js';
import { RolegateError } from '../../src/errors.js';
import type { Intent, RoleChange, WriteContext } from '../../src/members/write.js';
import { MemberWriter } from '../../src/members/write.js';
import { ROOT } from '../support/app.js';
import { openTestDatabase } from '../support/database.js';
import { tempDir, writeConfig, cleanupDirs } from '../plan/support.js';

const NOW = new Date('2026-12-01T12:00:00.000Z');
let db: Db;
let close: () => Promise<void>;
let config: Config;

beforeEach(async () => {
  config = writeConfig(tempDir());
  const opened = await openTestDatabase();
  db = opened.db;
  close = opened.close;
  await syncOrganizations(db, config, NOW);
});
afterEach(async () => {
  await close();
  cleanupDirs();
});

const ctx = (source: WriteContext['source'] = 'apply'): WriteContext => ({ organizationId: 1, source, actor: 'config', configRevision: config.revision, now: NOW, ip: null, assertionId: null });

async function member(email: string): Promise<number> {
  return (await upsertUser(db, 1, { email, firstName: '', lastName: '' }, NOW)).user.id;
}

function setRole(userId: number, role: 'OW' | 'AD' | 'MA' | 'AN' | 'DI' | 'NO'): Intent {
  return { kind: 'org_role', userId, role, roleSource: 'saml', reason: { kind: 'test' } };
}

async function rows(table: string, where: Record<string, unknown> = {}): Promise<number> {
  return Number(((await db(table).where(where).count({ n: '*' }).first()) as { n: number | string }).n);
}

async function roleOf(userId: number): Promise<string | undefined> {
  return ((await db('memberships').where({ user_id: userId }).first('role')) as { role: string } | undefined)?.role;
}

describe('the write path', () => {
  it('yields one list of changes (old → new, source, reason) and hands it to every hook inside the transaction', async () => {
    const seen: RoleChange[][] = [];
    const writer = new MemberWriter([
      async (trx, changes) => {
        seen.push([...changes]);
        // Written in the same transaction as the changes: an outbox row would be written like this.
        await appendAudit(trx, [{ organizationId: 1, actor: 'hook', action: 'hook_saw', outcome: 'ok', reason: { n: changes.length } }], NOW);
      },
    ]);
    const ada = await member('ada@acme.example');
    await db.transaction((trx) => writer.write(trx, ctx(), [setRole(ada, 'AD'), { kind: 'project_role', userId: ada, projectId: 42, role: 'AD', roleSource: 'saml', reason: { kind: 'test' } }], { refusals: 'skip' }));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual([
      expect.objectContaining({ kind: 'org_role', userId: ada, email: 'ada@acme.example', before: null, after: { role: 'AD', roleSource: 'saml' }, transition: 'created', source: 'apply', actor: 'config' }),
      expect.objectContaining({ kind: 'project_role', userId: ada, projectId: 42, before: null, after: { role: 'AD', roleSource: 'saml' } }),
    ]);
    expect(await rows('audit_events', { action: 'hook_saw' })).toBe(1);
    // Nothing changes, nothing is handed on.
    await db.transaction((trx) => writer.write(trx, ctx(), [setRole(ada, 'AD')], { refusals: 'skip' }));
    expect(seen).toHaveLength(1);
  });

  it('a hook that throws rolls the whole write back', async () => {
    const writer = new MemberWriter([
      async () => {
        throw new Error('outbox unavailable');
      },
    ]);
    const ada = await member('ada@acme.example');
    await expect(db.transaction((trx) => writer.write(trx, ctx(), [setRole(ada, 'AD')], { refusals: 'skip' }))).rejects.toThrow('outbox unavailable');
    expect(await roleOf(ada)).toBeUndefined();
    expect(await rows('audit_events')).toBe(0);
  });

  it('a deactivation ends sessions and revokes tokens for good; the list carries the counts on its audit row', async () => {
    const writer = new MemberWriter([]);
    const ada = await member('ada@acme.example');
    const bob = await member('bob@acme.example');
    await db.transaction((trx) => writer.write(trx, ctx(), [setRole(ada, 'AD'), setRole(bob, 'AD')], { refusals: 'skip' }));
    await storeSession(db, 'k1', { userId: ada, organizationId: 1 }, new Date(NOW.getTime() + 3_600_000));
    await db('api_tokens').insert({ organization_id: 1, user_id: ada, name: 't', key_hash: 'h'.repeat(64), key_prefix: 'rg_', created_by: 'cli', created_at: NOW });
    const result = await db.transaction((trx) => writer.write(trx, ctx(), [setRole(ada, 'DI')], { refusals: 'skip' }));
    expect([result.sessionsEnded, result.tokensRevoked]).toEqual([1, 1]);
    expect(await rows('sessions', { user_id: ada })).toBe(0);
    expect(((await db('api_tokens').where({ user_id: ada }).first('revoked_at')) as { revoked_at: unknown }).revoked_at).not.toBeNull();
    await db.transaction((trx) => writer.write(trx, ctx(), [setRole(ada, 'AD')], { refusals: 'skip' }));
    expect(((await db('api_tokens').where({ user_id: ada }).first('revoked_at')) as { revoked_at: unknown }).revoked_at).not.toBeNull();
  });

  it('refuses taking away the last Administrator: skip keeps the member and audits once; run throws ERR_LAST_ADMIN, writes nothing, audits once', async () => {
    const writer = new MemberWriter([]);
    const ada = await member('ada@acme.example');
    const bob = await member('bob@acme.example');
    await db.transaction((trx) => writer.write(trx, ctx(), [setRole(ada, 'AD'), setRole(bob, 'AD')], { refusals: 'skip' }));
    const skipped = await db.transaction((trx) => writer.write(trx, ctx(), [setRole(ada, 'DI'), setRole(bob, 'DI')], { refusals: 'skip' }));
    expect(skipped.refusals.map((r) => r.rule)).toEqual(['last_admin']);
    expect([await roleOf(ada), await roleOf(bob)].sort()).toEqual(['AD', 'DI']);
    const survivor = (await roleOf(ada)) === 'AD' ? ada : bob;
    const before = await db('memberships').orderBy('id');
    const audits = await rows('audit_events');
    const err = await writer.run(db, ctx('admin'), async () => ({ intents: [setRole(survivor, 'MA')], value: undefined })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RolegateError);
    expect((err as RolegateError).code).toBe('ERR_LAST_ADMIN');
    expect(await db('memberships').orderBy('id')).toEqual(before);
    const after = (await db('audit_events').orderBy('id')) as Record<string, unknown>[];
    expect(after).toHaveLength(audits + 1);
    expect(after.at(-1)).toMatchObject({ outcome: 'refused', error_code: 'ERR_LAST_ADMIN', subject_user_id: survivor, before: 'AD', after: 'MA' });
  });

  it('adds before it takes away: a batch promoting one Administrator while demoting the other is allowed', async () => {
    const writer = new MemberWriter([]);
    const ada = await member('ada@acme.example');
    const bob = await member('bob@acme.example');
    await db.transaction((trx) => writer.write(trx, ctx(), [setRole(ada, 'AD'), setRole(bob, 'MA')], { refusals: 'skip' }));
    const r = await db.transaction((trx) => writer.write(trx, ctx(), [setRole(ada, 'AN'), setRole(bob, 'AD')], { refusals: 'skip' }));
    expect(r.refusals).toEqual([]);
    expect([await roleOf(ada), await roleOf(bob)]).toEqual(['AN', 'AD']);
  });
});

/** Every file under src/, relative to the repository, with its text. */
function sources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) out.push({ file: path.relative(ROOT, full).split(path.sep).join('/'), text: fs.readFileSync(full, 'utf8') });
    }
  };
  walk(path.join(ROOT, 'src'));
  return out;
}

/** The places that may write memberships or project memberships, and the rule that finds a write elsewhere. */
function membershipWriters(files: readonly { file: string; text: string }[]): string[] {
  const WRITE_FUNCTIONS = /\b(upsertMembership|upsertProjectMembership|deleteProjectMembership|deleteUserProjectMemberships|recordTransfer|scrubUser|lockOrganization)\s*\(/;
  const TABLES = /['"`](memberships|project_memberships|ownership_transfers)['"`]/;
  const offenders: string[] = [];
  for (const { file, text } of files) {
    if (file.startsWith('src/db/')) continue;
    if (TABLES.test(text)) offenders.push(`${file}: names a membership table (SQL belongs in src/db/)`);
    if (file !== 'src/members/write.ts' && WRITE_FUNCTIONS.test(text)) offenders.push(`${file}: calls a membership write (only src/members/write.ts may)`);
  }
  return offenders;
}

describe('one writer', () => {
  it('only src/members/write.ts writes memberships and project memberships (through src/db/)', () => {
    expect(membershipWriters(sources())).toEqual([]);
  });

  it('the rule finds a planted write elsewhere', () => {
    const planted = [
      { file: 'src/admin/members.ts', text: "await upsertMembership(trx, { organizationId: 1 }, now);" },
      { file: 'src/plan/apply.ts', text: "await trx('project_memberships').where({ user_id: 1 }).delete();" },
      { file: 'src/members/write.ts', text: 'await upsertMembership(trx, m, now);' },
    ];
    expect(membershipWriters(planted)).toEqual([
      'src/admin/members.ts: calls a membership write (only src/members/write.ts may)',
      'src/plan/apply.ts: names a membership table (SQL belongs in src/db/)',
    ]);
  });
});
