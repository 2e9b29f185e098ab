/** Shared plumbing for the webhook tests: a configuration with endpoints, a migrated database, queued events. */
import { loadConfig } from '../../src/configuration/index.js';
import type { Config } from '../../src/configuration/types.js';
import type { Db } from '../../src/db/connect.js';
import { recordEvents, eventsForChange, type EventDraft } from '../../src/webhooks/events.js';
import { BASE, ROOT, writeFile } from '../configuration/helpers.js';

export interface EndpointSpec {
  readonly name: string;
  readonly url: string;
  readonly secret: string;
  readonly events?: readonly string[];
  readonly allowPrivate?: boolean;
  readonly organizations?: readonly number[];
}

/** The YAML of a `webhooks:` section. */
export function webhooksYaml(endpoints: readonly EndpointSpec[], settings = ''): string {
  const list = endpoints
    .map(
      (e, i) => `    - name: ${e.name}
      url: ${e.url}
      secret: \${WH_SECRET_${i}}
      events: [${(e.events ?? ['member.created', 'member.role_changed', 'member.activated', 'member.deactivated', 'member.deleted', 'member.project_role_changed', 'mapping.applied']).join(', ')}]
${e.allowPrivate === false ? '' : '      allow_private_targets: true\n'}${e.organizations === undefined ? '' : `      organizations: [${e.organizations.join(', ')}]\n`}`,
    )
    .join('');
  return `webhooks:\n${settings}  endpoints:\n${list}`;
}

export function secretsEnv(endpoints: readonly EndpointSpec[]): NodeJS.ProcessEnv {
  return Object.fromEntries(endpoints.map((e, i) => [`WH_SECRET_${i}`, e.secret]));
}

/** A loaded configuration (the small development-IdP one) with these endpoints, as production loads it. */
export function configWith(endpoints: readonly EndpointSpec[], settings = ''): Config {
  const file = writeFile(`${BASE}${webhooksYaml(endpoints, settings)}`);
  return loadConfig(file, { cwd: ROOT, env: secretsEnv(endpoints) });
}

/** `count` role changes of member `userId`, committed to the outbox in one transaction. */
export async function queueRoleChanges(db: Db, config: Config, count: number, userId = 7, now = new Date()): Promise<string[]> {
  const drafts: EventDraft[] = [];
  const roles = ['AN', 'RE', 'MA'] as const;
  for (let i = 0; i < count; i++) {
    drafts.push(
      ...eventsForChange({
        kind: 'org_role',
        organizationId: 1,
        userId,
        email: `u${userId}@acme.example`,
        before: roles[i % 3] ?? 'AN',
        after: roles[(i + 1) % 3] ?? 'RE',
        source: 'saml',
        actor: 'saml',
        rule: { path: 'organizations[0].roles.LS-Admins', line: 12, group: 'LS-Admins' },
      }),
    );
  }
  return db.transaction((trx) => recordEvents(trx, config.webhooks, drafts, now));
}
