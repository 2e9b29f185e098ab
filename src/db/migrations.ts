/**
 * The schema's single definition. Migrations are code (not files discovered at run time) so the same list
 * runs from `dist/` and under vitest, on SQLite and PostgreSQL alike: only portable knex schema calls here.
 * Never edit a shipped migration; add a new one.
 */
import type { Knex } from 'knex';

interface Migration {
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const initial: Migration = {
  name: '0001_initial',
  async up(knex) {
    await knex.schema.createTable('organizations', (t) => {
      t.integer('id').primary();
      t.string('title', 255).notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
    });
    await knex.schema.createTable('projects', (t) => {
      t.integer('id').primary();
      t.integer('organization_id').notNullable().references('organizations.id');
      t.string('title', 255).notNullable();
      t.index(['organization_id']);
    });
    // A user belongs to one organization: an identity asserted by organization 2's IdP can never be the
    // same row as one of organization 1 (tenant isolation by construction, not by a check).
    await knex.schema.createTable('users', (t) => {
      t.increments('id').primary();
      t.integer('organization_id').notNullable().references('organizations.id');
      // NULL once deleted (personal data scrubbed); unique among live users of the organization.
      t.string('email', 320).nullable();
      t.string('first_name', 255).notNullable().defaultTo('');
      t.string('last_name', 255).notNullable().defaultTo('');
      t.timestamp('date_joined', { useTz: true }).notNullable();
      t.timestamp('last_login_at', { useTz: true }).nullable();
      t.boolean('is_deleted').notNullable().defaultTo(false);
      t.unique(['organization_id', 'email']);
    });
    await knex.schema.createTable('memberships', (t) => {
      t.increments('id').primary();
      t.integer('organization_id').notNullable().references('organizations.id');
      t.integer('user_id').notNullable().references('users.id');
      t.string('role', 2).notNullable();
      t.string('role_source', 16).notNullable();
      // JSON: the decision's reasons (rules, groups, assertion id, config revision, previous role).
      t.text('reason').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.unique(['organization_id', 'user_id']);
      t.index(['organization_id', 'role']);
    });
    await knex.schema.createTable('project_memberships', (t) => {
      t.increments('id').primary();
      t.integer('project_id').notNullable().references('projects.id');
      t.integer('user_id').notNullable().references('users.id');
      t.string('role', 2).notNullable();
      t.string('role_source', 16).notNullable();
      t.text('reason').notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.unique(['project_id', 'user_id']);
      t.index(['user_id']);
    });
    // Last groups the IdP asserted for a member. `groups` NULL = never known (only "unknown" logins so far).
    await knex.schema.createTable('member_groups', (t) => {
      t.integer('user_id').primary().references('users.id');
      t.text('groups').nullable();
      t.timestamp('asserted_at', { useTz: true }).nullable();
      t.string('assertion_id', 255).nullable();
      t.timestamp('last_unknown_at', { useTz: true }).nullable();
    });
    await knex.schema.createTable('audit_events', (t) => {
      t.increments('id').primary();
      t.timestamp('at', { useTz: true }).notNullable();
      t.integer('organization_id').nullable();
      // who acted: 'saml' (a login), 'config', 'cli', or 'user:<id>'
      t.string('actor', 64).notNullable();
      t.integer('subject_user_id').nullable();
      t.string('subject_email', 320).nullable();
      t.string('action', 64).notNullable();
      t.string('outcome', 16).notNullable();
      t.string('error_code', 64).nullable();
      t.string('before', 64).nullable();
      t.string('after', 64).nullable();
      t.text('reason').nullable();
      t.string('config_revision', 64).nullable();
      t.string('assertion_id', 255).nullable();
      t.string('ip', 64).nullable();
      t.index(['organization_id', 'at']);
      t.index(['subject_user_id']);
    });
    // Server-side sessions; `id` is the sha256 of the cookie's key, so a database dump holds no usable key.
    await knex.schema.createTable('sessions', (t) => {
      t.string('id', 64).primary();
      t.text('data').notNullable();
      t.integer('user_id').nullable();
      t.integer('organization_id').nullable();
      t.timestamp('expires_at', { useTz: true }).notNullable();
      t.index(['user_id']);
      t.index(['expires_at']);
    });
    // Issued AuthnRequest ids, bound to the browser that started the login (hash of a cookie value).
    await knex.schema.createTable('authn_requests', (t) => {
      t.string('id', 128).primary();
      t.integer('organization_id').notNullable();
      t.string('binding_hash', 64).notNullable();
      t.string('next_path', 2048).notNullable();
      t.timestamp('expires_at', { useTz: true }).notNullable();
      t.index(['expires_at']);
    });
    // Consumed assertion ids (SAML Profiles §4.1.4.5): kept until the assertion could no longer be accepted.
    await knex.schema.createTable('consumed_assertions', (t) => {
      t.string('issuer', 1024).notNullable();
      t.string('assertion_id', 255).notNullable();
      t.timestamp('expires_at', { useTz: true }).notNullable();
      t.primary(['issuer', 'assertion_id']);
      t.index(['expires_at']);
    });
  },
  async down(knex) {
    for (const table of [
      'consumed_assertions',
      'authn_requests',
      'sessions',
      'audit_events',
      'member_groups',
      'project_memberships',
      'memberships',
      'users',
      'projects',
      'organizations',
    ]) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};

const MIGRATIONS: readonly Migration[] = [initial];

export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => migration,
};
