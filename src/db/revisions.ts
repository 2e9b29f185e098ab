/** Applied configuration revisions: hash, content, when, by whom. Append-only. */
import type { DbOrTrx } from './connect.js';
import { toDate } from './rows.js';

export interface RevisionRow {
  readonly id: number;
  readonly hash: string;
  readonly content: string | null;
  readonly file: string;
  readonly appliedAt: Date;
  readonly appliedBy: string;
}

export async function recordRevision(
  db: DbOrTrx,
  r: { hash: string; content: string | null; file: string; appliedBy: string },
  now: Date,
): Promise<void> {
  await db('config_revisions').insert({ hash: r.hash, content: r.content, file: r.file, applied_at: now, applied_by: r.appliedBy });
}

function toRow(row: Record<string, unknown>): RevisionRow {
  return {
    id: Number(row['id']),
    hash: String(row['hash']),
    content: typeof row['content'] === 'string' ? row['content'] : null,
    file: String(row['file']),
    appliedAt: toDate(row['applied_at']),
    appliedBy: String(row['applied_by']),
  };
}

/** The most recently applied revision, if any. */
export async function latestRevision(db: DbOrTrx): Promise<RevisionRow | undefined> {
  const row = (await db('config_revisions').orderBy('id', 'desc').first()) as Record<string, unknown> | undefined;
  return row === undefined ? undefined : toRow(row);
}

/**
 * The most recently *applied* revision: by `rolegate apply` or a reload, not a start on a file ('serve'
 * records which file a process started on without applying its plan). Several instances reloading the same
 * file use it, under the configuration lock, to apply a revision once.
 */
export async function latestAppliedRevision(db: DbOrTrx): Promise<RevisionRow | undefined> {
  const row = (await db('config_revisions').whereNot('applied_by', 'serve').orderBy('id', 'desc').first()) as Record<string, unknown> | undefined;
  return row === undefined ? undefined : toRow(row);
}

