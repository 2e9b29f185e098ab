/**
 * Hot statements (src/db/hot.ts) run outside knex's query builder and, on SQLite, outside its runner. What
 * they must keep from knex: inside a transaction they are part of it (seen by it, rolled back with it); they
 * store values exactly as knex's builder does (a Date, a boolean); and they are told as knex's own statements
 * are (a `query` event), so that counting a login's statements still counts them. On SQLite and, with
 * ROLEGATE_TEST_DATABASE=postgres, on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { HotInsert, hotRows, hotRun, insertSql, mergeSql } from '../../src/db/hot.js';
import { num } from '../../src/db/rows.js';
import { openTestDatabase } from '../support/database.js';

let db: Db;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ db, close } = await openTestDatabase());
  await db('organizations').insert({ id: 1, title: 'Hot statements', created_at: at });
});
afterAll(async () => {
  await close();
});

const at = new Date('2026-12-04T10:00:00.123Z');
const REQUEST = insertSql('authn_requests', ['id', 'organization_id', 'binding_hash', 'next_path', 'expires_at'], 1);

async function requestIds(): Promise<string[]> {
  return ((await db('authn_requests').select('id').orderBy('id')) as { id: string }[]).map((r) => r.id);
}

describe('hot statements', () => {
  it('inside a transaction: seen by it before the commit, and rolled back with it', async () => {
    await expect(
      db.transaction(async (trx) => {
        await hotRun(trx, REQUEST, ['hot-rolled-back', 1, 'b', '/', at]);
        // The transaction's own connection: a hot read inside it sees the uncommitted row.
        expect(await hotRows(trx, 'select id from authn_requests where id = ?', ['hot-rolled-back'])).toHaveLength(1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await requestIds()).not.toContain('hot-rolled-back');

    await db.transaction(async (trx) => {
      await hotRun(trx, REQUEST, ['hot-committed', 1, 'b', '/', at]);
    });
    expect(await requestIds()).toContain('hot-committed');
  });

  it('stores a Date and a boolean as knex’s builder does', async () => {
    await db('authn_requests').insert({ id: 'by-knex', organization_id: 1, binding_hash: 'b', next_path: '/', expires_at: at });
    await hotRun(db, REQUEST, ['by-hot', 1, 'b', '/', at]);
    const rows = (await db('authn_requests').whereIn('id', ['by-knex', 'by-hot']).orderBy('id')) as { id: string; expires_at: unknown }[];
    expect(rows.map((r) => r.id)).toEqual(['by-hot', 'by-knex']);
    expect(rows[0]?.expires_at).toEqual(rows[1]?.expires_at);
    // And a knex-built comparison finds both: the same type, not only the same value read back.
    const n = (await db('authn_requests').whereIn('id', ['by-knex', 'by-hot']).where('expires_at', '=', at).count({ n: '*' }).first()) as { n: unknown };
    expect(num(n.n)).toBe(2);

    const user = await hotRows(
      db,
      insertSql('users', ['organization_id', 'email', 'first_name', 'last_name', 'date_joined', 'is_deleted'], 1, 'returning id'),
      [1, 'hot@example.org', 'H', 'O', at, false],
    );
    const id = num(user[0]?.['id']);
    expect(await db('users').where({ id, is_deleted: false }).first('id')).toEqual({ id: expect.anything() });
  });

  it('an upsert keeps the columns it does not merge', async () => {
    const groups = insertSql('member_groups', ['user_id', 'groups', 'asserted_at', 'assertion_id'], 1, mergeSql(['user_id'], ['groups']));
    const [user] = (await db('users').insert({ organization_id: 1, email: 'merge@example.org', first_name: '', last_name: '', date_joined: at, is_deleted: false }).returning('id')) as unknown[];
    const userId = typeof user === 'object' && user !== null ? num((user as { id: unknown }).id) : num(user);
    await hotRun(db, groups, [userId, '["a"]', at, 'first']);
    await hotRun(db, groups, [userId, '["b"]', new Date(at.getTime() + 1000), 'second']);
    const row = (await db('member_groups').where({ user_id: userId }).first()) as { groups: string; assertion_id: string };
    expect(row.groups).toBe('["b"]');
    expect(row.assertion_id).toBe('first');
  });

  it('a many-row insert writes every row, in one statement', async () => {
    const insert = new HotInsert('authn_requests', ['id', 'organization_id', 'binding_hash', 'next_path', 'expires_at']);
    const seen: string[] = [];
    const listener = (q: { sql: string }): void => {
      seen.push(q.sql);
    };
    db.on('query', listener);
    try {
      await insert.run(
        db,
        Array.from({ length: 300 }, (_, i) => [`many-${String(i).padStart(3, '0')}`, 1, 'b', '/', at]),
      );
      await insert.run(db, []);
    } finally {
      db.off('query', listener);
    }
    expect((await requestIds()).filter((id) => id.startsWith('many-'))).toHaveLength(300);
    expect(seen).toHaveLength(1);
  });

  it('is told as a `query` event, on the handle and inside a transaction on the transaction too', async () => {
    const onDb: string[] = [];
    const onTrx: string[] = [];
    // PostgreSQL's statements are told with knex's $n placeholders.
    const text = (sql: string): string => sql.replace(/\$\d+/g, '?');
    const listener = (q: { sql: string }): void => {
      onDb.push(text(q.sql));
    };
    db.on('query', listener);
    try {
      await hotRows(db, 'select id from authn_requests where id = ?', ['nothing']);
      await db.transaction(async (trx) => {
        trx.on('query', (q: { sql: string }) => onTrx.push(text(q.sql)));
        await hotRun(trx, 'delete from authn_requests where id = ?', ['nothing']);
      });
    } finally {
      db.off('query', listener);
    }
    expect(onDb.filter((s) => /authn_requests/.test(s))).toEqual(['select id from authn_requests where id = ?', 'delete from authn_requests where id = ?']);
    expect(onTrx.filter((s) => /authn_requests/.test(s))).toEqual(['delete from authn_requests where id = ?']);
  });
});
