/** Organizations and projects mirror the configuration: the YAML is their source of truth. */
import type { Config } from '../configuration/types.js';
import type { Db } from './connect.js';

/** Insert or retitle every configured organization and project (never deletes: history points at them). */
export async function syncOrganizations(db: Db, config: Config, now: Date): Promise<void> {
  await db.transaction(async (trx) => {
    for (const org of config.organizations) {
      await trx('organizations').insert({ id: org.id, title: org.title, created_at: now }).onConflict('id').merge(['title']);
      for (const project of org.projects) {
        await trx('projects')
          .insert({ id: project.id, organization_id: org.id, title: project.title })
          .onConflict('id')
          .merge(['title', 'organization_id']);
      }
    }
  });
}

export async function organizationCreatedAt(db: Db, id: number): Promise<Date | undefined> {
  const row = (await db('organizations').where({ id }).first('created_at')) as { created_at: unknown } | undefined;
  if (row === undefined) return undefined;
  return row.created_at instanceof Date ? row.created_at : new Date(row.created_at as string | number);
}
