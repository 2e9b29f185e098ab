/**
 * The audit log as admins read it: actors and subjects named for people ("SAML login", a member,
 * "Deleted User"), newest first, as a page or as a streamed CSV.
 */
import { Readable, pipeline } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { OrganizationConfig } from '../configuration/types.js';
import type { AuditRow } from '../db/audit.js';
import type { Db } from '../db/connect.js';
import type { AuditQuery } from '../db/audit.js';
import { auditBatches, queryAudit } from '../db/audit.js';
import type { MembershipRow } from '../db/memberships.js';
import { membershipsByIds } from '../db/memberships.js';

export const DELETED_USER = 'Deleted User';

export interface AuditEventJson {
  readonly id: number;
  readonly time: string;
  readonly actor: { readonly type: 'member' | 'saml' | 'config' | 'cli' | 'other'; readonly user_id: number | null; readonly display: string };
  readonly subject: { readonly user_id: number | null; readonly display: string } | null;
  readonly action: string;
  readonly outcome: string;
  readonly error_code: string | null;
  readonly before: string | null;
  readonly after: string | null;
  readonly reason: unknown;
  readonly config_revision: string | null;
  readonly assertion_id: string | null;
  readonly ip: string | null;
}

export function memberDisplay(m: MembershipRow | undefined): string {
  if (m === undefined || m.isDeleted || m.email === null) return DELETED_USER;
  const name = [m.firstName, m.lastName].filter(Boolean).join(' ');
  return name === '' ? m.email : `${name} <${m.email}>`;
}

function actorUserId(actor: string): number | null {
  const m = /^user:(\d+)$/.exec(actor);
  return m?.[1] === undefined ? null : Number(m[1]);
}

function toJson(row: AuditRow, members: ReadonlyMap<number, MembershipRow>): AuditEventJson {
  const actorId = actorUserId(row.actor);
  const actor: AuditEventJson['actor'] =
    actorId !== null
      ? { type: 'member', user_id: actorId, display: memberDisplay(members.get(actorId)) }
      : row.actor === 'saml'
        ? { type: 'saml', user_id: null, display: 'SAML login' }
        : row.actor.startsWith('config')
          ? { type: 'config', user_id: null, display: 'config reload' }
          : row.actor === 'cli'
            ? { type: 'cli', user_id: null, display: 'CLI' }
            : { type: 'other', user_id: null, display: row.actor };
  let subject: AuditEventJson['subject'] = null;
  if (row.subjectUserId !== null) {
    const m = members.get(row.subjectUserId);
    subject = { user_id: row.subjectUserId, display: m === undefined || m.isDeleted ? DELETED_USER : memberDisplay(m) };
  } else if (row.subjectEmail !== null) {
    subject = { user_id: null, display: row.subjectEmail };
  }
  return {
    id: row.id,
    time: row.at.toISOString(),
    actor,
    subject,
    action: row.action,
    outcome: row.outcome,
    error_code: row.errorCode,
    before: row.before,
    after: row.after,
    reason: row.reason,
    config_revision: row.configRevision,
    assertion_id: row.assertionId,
    ip: row.ip,
  };
}

async function named(db: Db, org: OrganizationConfig, rows: readonly AuditRow[]): Promise<AuditEventJson[]> {
  const ids: number[] = [];
  for (const r of rows) {
    if (r.subjectUserId !== null) ids.push(r.subjectUserId);
    const a = actorUserId(r.actor);
    if (a !== null) ids.push(a);
  }
  const members = await membershipsByIds(db, org.id, ids);
  return rows.map((r) => toJson(r, members));
}

export async function auditPage(db: Db, org: OrganizationConfig, q: Omit<AuditQuery, 'organizationId'>, page: { offset: number; limit: number }): Promise<{ count: number; results: AuditEventJson[] }> {
  const { count, rows } = await queryAudit(db, { organizationId: org.id, ...q }, page);
  return { count, results: await named(db, org, rows) };
}

/** A readable reason: its sentence, and the rule/group that decided it when there is one. */
export function reasonText(reason: unknown): { text: string; rule: string } {
  if (reason === null || reason === undefined) return { text: '', rule: '' };
  if (typeof reason !== 'object') return { text: String(reason), rule: '' };
  const r = reason as { text?: unknown; detail?: unknown; matches?: unknown };
  const text = typeof r.text === 'string' ? r.text : typeof r.detail === 'string' ? r.detail : JSON.stringify(reason);
  const rule = Array.isArray(r.matches)
    ? r.matches
        .filter((m): m is { asserted: string; source: { path: string } } => typeof m === 'object' && m !== null && typeof (m as { asserted?: unknown }).asserted === 'string')
        .map((m) => `${m.asserted} (${m.source.path})`)
        .join('; ')
    : '';
  return { text, rule };
}

export const CSV_COLUMNS = ['time', 'actor', 'subject', 'action', 'outcome', 'error_code', 'before', 'after', 'reason', 'rule', 'config_revision', 'assertion_id', 'ip'] as const;

/**
 * Spreadsheet formula injection (OWASP "CSV Injection"). A spreadsheet runs a cell that starts with `=`, `+`,
 * `-` or `@` as a formula; it skips leading whitespace first, and some read the fullwidth forms (U+FF1D ＝,
 * U+FF0B ＋, U+FF0D －, U+FF20 ＠) as the ASCII ones. Such a start gets a `'` in front, which keeps it text.
 *
 * Quoting is not enough on its own: a spreadsheet whose list separator is `;` (many locales) reads this
 * comma-separated file with `;`, and then a quoted `"Eve;=1+1;"` is no longer one quoted cell (its closing
 * quote is followed by `,`, not by the separator) and LibreOffice splits it at the `;`. So a formula start is
 * also neutralised after every `,`, `;`, tab or line break inside a value: whatever separator the reader
 * picks, no piece of a value starts a formula. (`\s` covers ASCII, no-break and the Unicode spaces; the
 * zero-width ones are added.)
 */
const SPACE = '[\\s\\u200b-\\u200d\\u2060]*';
const FORMULA = '[=+\\-@\\uff1d\\uff0b\\uff0d\\uff20]';
const FORMULA_START = new RegExp(`^(?:[\\t\\r]|${SPACE}${FORMULA})`);
const FORMULA_AFTER_SEPARATOR = new RegExp(`([,;\\t\\r\\n])(?=${SPACE}${FORMULA})`, 'g');

export function csvCell(value: string | null): string {
  if (value === null) return '';
  const inner = value.replace(FORMULA_AFTER_SEPARATOR, "$1'");
  return FORMULA_START.test(value) ? `'${inner}` : inner;
}

/** The whole filtered log as CSV, streamed in batches (bounded memory whatever the size of the log). */
export function auditCsv(db: Db, org: OrganizationConfig, q: Omit<AuditQuery, 'organizationId'>): Readable {
  async function* records(): AsyncGenerator<string[]> {
    for await (const batch of auditBatches(db, { organizationId: org.id, ...q })) {
      for (const e of await named(db, org, batch)) {
        const { text, rule } = reasonText(e.reason);
        yield [e.time, e.actor.display, e.subject?.display ?? '', e.action, e.outcome, e.error_code, e.before, e.after, text, rule, e.config_revision, e.assertion_id, e.ip].map(csvCell);
      }
    }
  }
  // csv-stringify quotes a cell holding a comma, quote or line break; a semicolon (the list separator of
  // spreadsheets in many locales, which split an unquoted `Eve;=1+1` into a formula cell) and a tab too.
  const out = stringify({ header: true, columns: [...CSV_COLUMNS], quoted_match: [';', '\t'] });
  // pipeline, not pipe: a database error mid-export destroys the response stream instead of hanging it.
  pipeline(Readable.from(records()), out, () => {});
  return out;
}
