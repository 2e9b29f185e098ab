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

/**
 * Every configuration that was applied (by `rolegate apply`, a reload, or a start on a new file),
 * so that an audit row's `config_revision` (the sha256 of the file) names exact content, and an older
 * file can be found again for a rollback preview.
 */
const configRevisions: Migration = {
  name: '0002_config_revisions',
  async up(knex) {
    await knex.schema.createTable('config_revisions', (t) => {
      t.increments('id').primary();
      // sha256 of the file's bytes, hex (Config.revision); not unique: a rollback applies an older one again.
      t.string('hash', 64).notNullable();
      // The file as written (${VAR} references unexpanded); null when the file changed before it was read back.
      t.text('content').nullable();
      t.string('file', 1024).notNullable();
      t.timestamp('applied_at', { useTz: true }).notNullable();
      // 'serve' (started on it), 'apply' (CLI), 'reload:SIGHUP', 'reload:file', …
      t.string('applied_by', 64).notNullable();
      t.index(['hash']);
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('config_revisions');
  },
};

/**
 * API tokens (only the sha256 of a key is stored; `key_prefix` lets a person tell
 * their tokens apart) and an index for the audit view's "what did this member do" filter.
 */
const admin: Migration = {
  name: '0003_admin',
  async up(knex) {
    await knex.schema.createTable('api_tokens', (t) => {
      t.increments('id').primary();
      t.integer('organization_id').notNullable().references('organizations.id');
      t.integer('user_id').notNullable().references('users.id');
      t.string('name', 100).notNullable();
      t.string('key_hash', 64).notNullable().unique();
      t.string('key_prefix', 16).notNullable();
      // who created it: `user:<id>` or 'cli'
      t.string('created_by', 64).notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('last_used_at', { useTz: true }).nullable();
      t.timestamp('revoked_at', { useTz: true }).nullable();
      t.index(['organization_id']);
      t.index(['user_id']);
    });
    await knex.schema.alterTable('audit_events', (t) => {
      t.index(['organization_id', 'actor']);
    });
  },
  async down(knex) {
    await knex.schema.alterTable('audit_events', (t) => {
      t.dropIndex(['organization_id', 'actor']);
    });
    await knex.schema.dropTableIfExists('api_tokens');
  },
};

/**
 * The admin members list at 100,000 members. Its count and its role filter read memberships by
 * (organization, role) and need only user_id: with user_id in the index that is an index-only scan. The live
 * users of an organization are read by (organization, is_deleted) and joined by id, again index-only.
 */
const scaleIndexes: Migration = {
  name: '0004_scale_indexes',
  async up(knex) {
    await knex.schema.alterTable('memberships', (t) => {
      t.index(['organization_id', 'user_id', 'role'], 'memberships_org_user_role_idx');
    });
    await knex.schema.alterTable('users', (t) => {
      t.index(['organization_id', 'is_deleted', 'id'], 'users_org_deleted_id_idx');
    });
  },
  async down(knex) {
    await knex.schema.alterTable('users', (t) => {
      t.dropIndex(['organization_id', 'is_deleted', 'id'], 'users_org_deleted_id_idx');
    });
    await knex.schema.alterTable('memberships', (t) => {
      t.dropIndex(['organization_id', 'user_id', 'role'], 'memberships_org_user_role_idx');
    });
  },
};

/**
 * The configuration lock of several instances sharing one database (src/db/reload-lock.ts). Used on
 * SQLite only (PostgreSQL uses an advisory lock); created on both so the schema is the same everywhere.
 * Times are epoch milliseconds: compared as numbers on either database.
 */
const configLocks: Migration = {
  name: '0005_config_locks',
  async up(knex) {
    await knex.schema.createTable('config_locks', (t) => {
      t.string('name', 64).primary();
      // `host:pid:uuid` of the holder, for the log of a waiter that gives up.
      t.string('holder', 255).notNullable();
      t.bigInteger('acquired_at').notNullable();
      t.bigInteger('expires_at').notNullable();
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('config_locks');
  },
};

/**
 * Ownership moves only by a recorded transfer: `ownership_transfers` holds each one (who gave it, with the
 * email they had, and who received it). The configured owner's role_source becomes `manual`, a value of
 * Label Studio's RoleSourceEnum (the previous `config` is not one). Owners made by a transfer before this
 * table existed are found from their membership's stored reason and recorded.
 */
const writePath: Migration = {
  name: '0006_writepath',
  async up(knex) {
    await knex.schema.createTable('ownership_transfers', (t) => {
      t.increments('id').primary();
      t.integer('organization_id').notNullable().references('organizations.id');
      t.integer('from_user_id').nullable();
      // The giver's email at the time: the `owner:` line stops applying to this address.
      t.string('from_email', 320).nullable();
      t.integer('to_user_id').notNullable();
      t.string('actor', 64).notNullable();
      t.timestamp('at', { useTz: true }).notNullable();
      t.index(['organization_id']);
    });
    await knex('memberships').where({ role_source: 'config' }).update({ role_source: 'manual' });
    await knex('project_memberships').where({ role_source: 'config' }).update({ role_source: 'manual' });
    const owners = (await knex('memberships').where({ role: 'OW', role_source: 'manual' }).select('organization_id', 'user_id', 'reason', 'updated_at')) as Record<string, unknown>[];
    for (const row of owners) {
      let reason: unknown;
      try {
        reason = JSON.parse(String(row['reason']));
      } catch {
        continue;
      }
      const from = typeof reason === 'object' && reason !== null ? (reason as Record<string, unknown>)['from_user_id'] : undefined;
      if (typeof from !== 'number') continue;
      const giver = (await knex('users').where({ id: from }).first('email')) as { email: string | null } | undefined;
      await knex('ownership_transfers').insert({
        organization_id: row['organization_id'],
        from_user_id: from,
        from_email: giver?.email ?? null,
        to_user_id: row['user_id'],
        actor: 'migration',
        at: row['updated_at'],
      });
    }
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('ownership_transfers');
  },
};

/**
 * SCIM 2.0 provisioning: the organization's SCIM bearer tokens (only sha256 of a key is stored, as for API
 * tokens; a SCIM token belongs to the organization, not to a member), the SCIM attributes of the members SCIM
 * provisioned or linked (`userName` exactly as the IdP sent it; the member's email is its lower-cased form), and
 * the IdP's groups with their members. Group names are unique per organization without case, as Entra requires.
 */
const scim: Migration = {
  name: '0007_scim',
  async up(knex) {
    await knex.schema.createTable('scim_tokens', (t) => {
      t.increments('id').primary();
      t.integer('organization_id').notNullable().references('organizations.id');
      t.string('name', 100).notNullable();
      t.string('key_hash', 64).notNullable().unique();
      t.string('key_prefix', 16).notNullable();
      t.string('created_by', 64).notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('last_used_at', { useTz: true }).nullable();
      t.timestamp('revoked_at', { useTz: true }).nullable();
      t.index(['organization_id']);
    });
    await knex.schema.createTable('scim_users', (t) => {
      t.integer('user_id').primary().references('users.id');
      t.integer('organization_id').notNullable().references('organizations.id');
      t.string('user_name', 320).notNullable();
      t.string('external_id', 255).nullable();
      t.string('display_name', 255).nullable();
      // The work (else primary, else first) email, lower-cased: what `emails.value eq` filters compare with.
      t.string('email_lower', 320).nullable();
      // JSON: the emails list as sent (values are not transformed).
      t.text('emails').nullable();
      t.boolean('active').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.index(['organization_id', 'external_id']);
      t.index(['organization_id', 'email_lower']);
    });
    await knex.schema.createTable('scim_groups', (t) => {
      t.increments('id').primary();
      t.integer('organization_id').notNullable().references('organizations.id');
      t.string('display_name', 255).notNullable();
      t.string('display_name_lower', 255).notNullable();
      t.string('external_id', 255).nullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.unique(['organization_id', 'display_name_lower']);
      t.index(['organization_id', 'external_id']);
    });
    await knex.schema.createTable('scim_group_members', (t) => {
      t.integer('group_id').notNullable().references('scim_groups.id');
      t.integer('user_id').notNullable().references('users.id');
      // When the IdP pushed this membership (explain: "SCIM group X, pushed at T").
      t.timestamp('added_at', { useTz: true }).notNullable();
      t.primary(['group_id', 'user_id']);
      t.index(['user_id']);
    });
  },
  async down(knex) {
    for (const table of ['scim_group_members', 'scim_groups', 'scim_users', 'scim_tokens']) await knex.schema.dropTableIfExists(table);
  },
};

/**
 * Signed change events (webhooks): the outbox (`webhook_events`, written in the transaction of the change),
 * one delivery per event and endpoint with its lease, every attempt, a per-member event counter and the
 * endpoints disabled by a 410. Times are epoch milliseconds, compared as numbers on either database.
 */
const webhooks: Migration = {
  name: '0008_webhooks',
  async up(knex) {
    await knex.schema.createTable('webhook_events', (t) => {
      // The Standard Webhooks `webhook-id`: stable across retries, the receiver's idempotency key.
      t.string('id', 64).primary();
      t.integer('organization_id').notNullable();
      t.string('type', 64).notNullable();
      t.integer('user_id').nullable();
      t.bigInteger('member_seq').nullable();
      // The exact bytes signed and sent, fixed at the change (a retry sends the same body).
      t.text('body').notNullable();
      t.bigInteger('created_at').notNullable();
      t.index(['organization_id', 'created_at']);
    });
    await knex.schema.createTable('webhook_member_seq', (t) => {
      t.integer('user_id').primary();
      t.bigInteger('seq').notNullable();
    });
    await knex.schema.createTable('webhook_deliveries', (t) => {
      t.increments('id').primary();
      t.string('event_id', 64).notNullable().references('webhook_events.id');
      t.integer('organization_id').notNullable();
      t.string('endpoint', 100).notNullable();
      // pending | delivered | failed
      t.string('status', 16).notNullable();
      t.integer('attempts').notNullable().defaultTo(0);
      t.bigInteger('next_attempt_at').notNullable();
      // Who is sending it now, and until when: another instance takes it over only after lease_until.
      t.string('lease_owner', 255).nullable();
      t.bigInteger('lease_until').nullable();
      t.integer('last_status_code').nullable();
      t.string('last_error_code', 64).nullable();
      t.text('last_error').nullable();
      t.bigInteger('updated_at').notNullable();
      t.unique(['event_id', 'endpoint']);
      // The claim walks pending deliveries oldest first: settled ones are outside this index's range, so a
      // claim costs the same after a million deliveries as after ten.
      t.index(['status', 'id']);
      t.index(['organization_id', 'id']);
    });
    await knex.schema.createTable('webhook_attempts', (t) => {
      t.increments('id').primary();
      t.integer('delivery_id').notNullable().references('webhook_deliveries.id');
      t.bigInteger('started_at').notNullable();
      t.integer('duration_ms').notNullable();
      t.integer('status_code').nullable();
      t.string('error_code', 64).nullable();
      t.text('error').nullable();
      t.index(['delivery_id']);
    });
    await knex.schema.createTable('webhook_endpoint_state', (t) => {
      t.string('name', 100).primary();
      t.bigInteger('disabled_at').nullable();
      t.text('disabled_reason').nullable();
    });
  },
  async down(knex) {
    for (const table of ['webhook_endpoint_state', 'webhook_attempts', 'webhook_deliveries', 'webhook_member_seq', 'webhook_events']) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};

const MIGRATIONS: readonly Migration[] = [initial, configRevisions, admin, scaleIndexes, configLocks, writePath, scim, webhooks];

export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => migration,
};
