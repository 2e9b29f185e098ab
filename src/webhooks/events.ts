/**
 * What a committed change tells the outside world: membership changes become Standard Webhooks events
 * (`{"type", "timestamp", "data"}`), written to the outbox in the transaction of the change.
 *
 * Event choice for an organization role change, so that a receiver can subscribe to exactly what it needs:
 *   - no previous membership → `member.created` (with the first role);
 *   - any other change of role → `member.role_changed` (old, new), the complete stream of role changes;
 *   - and, when the change crosses the line between having access and not, also `member.activated`
 *     (Not Activated/Deactivated → a role) or `member.deactivated` (→ Deactivated).
 * A project role change (granted, changed or removed) → `member.project_role_changed`; a deletion →
 * `member.deleted`; a configuration applied to an organization → `mapping.applied`.
 * Every member event carries `sequence`: that member's event number, 1, 2, 3…, in commit order.
 */
import { randomBytes } from 'node:crypto';
import type { WebhooksConfig } from '../configuration/types.js';
import type { DbOrTrx } from '../db/connect.js';
import { insertEvents, reserveMemberSeqs, type NewEvent } from '../db/webhooks.js';
import { ACTIVE_ORG_ROLES, type OrgRole } from '../domain/roles.js';
import type { WebhookEventType } from '../domain/webhook-events.js';

/** The rule of the configuration that decided a role, when one did. */
export interface DecidingRule {
  /** e.g. `organizations[0].roles.LS-Admins` */
  readonly path: string;
  readonly line: number;
  readonly group: string | null;
}

/** Who or what made a change: `saml` (a login), `config` (apply/reload), `admin` (API or page), `scim`, … */
export interface ChangeOrigin {
  readonly source: string;
  /** `saml`, `config`, `cli`, `user:<id>`, `scim`… as in the audit log. */
  readonly actor: string;
  readonly rule: DecidingRule | null;
}

export interface MemberRef {
  readonly organizationId: number;
  readonly userId: number;
  readonly email: string | null;
}

export type MemberChangeFacts =
  | ({ readonly kind: 'org_role'; readonly before: OrgRole | null; readonly after: OrgRole } & MemberRef & ChangeOrigin)
  | ({ readonly kind: 'project_role'; readonly projectId: number; readonly before: string | null; readonly after: string | null } & MemberRef & ChangeOrigin)
  | ({ readonly kind: 'deleted'; readonly before: OrgRole | null } & MemberRef & ChangeOrigin);

export interface MappingAppliedFacts {
  readonly organizationId: number;
  readonly configRevision: string;
  readonly previousRevision?: string | null;
  readonly appliedBy: string;
  readonly forced?: boolean;
  /** Members whose organization or project roles the application changed. */
  readonly membersChanged: number;
  /** The changes by kind (promoted, demoted, …, project_removed). */
  readonly changes?: Readonly<Record<string, number>>;
  readonly refused?: number;
}

export interface EventDraft {
  readonly type: WebhookEventType;
  readonly organizationId: number;
  /** The member the event is about; null for organization-wide events. */
  readonly userId: number | null;
  readonly data: Readonly<Record<string, unknown>>;
}

function hasAccess(role: OrgRole | null): boolean {
  return role !== null && (ACTIVE_ORG_ROLES as readonly string[]).includes(role);
}

function memberData(c: MemberRef & ChangeOrigin): Record<string, unknown> {
  return {
    organization: { id: c.organizationId },
    member: { id: c.userId, email: c.email },
    source: c.source,
    actor: c.actor,
    rule: c.rule === null ? null : { path: c.rule.path, line: c.rule.line, group: c.rule.group },
  };
}

/** The events one membership change produces (none when nothing changed). */
export function eventsForChange(c: MemberChangeFacts): EventDraft[] {
  const draft = (type: WebhookEventType, extra: Record<string, unknown>): EventDraft => ({
    type,
    organizationId: c.organizationId,
    userId: c.userId,
    data: { ...memberData(c), ...extra },
  });
  switch (c.kind) {
    case 'org_role': {
      if (c.before === null) return [draft('member.created', { old: null, new: c.after })];
      if (c.before === c.after) return [];
      const out = [draft('member.role_changed', { old: c.before, new: c.after })];
      if (!hasAccess(c.before) && hasAccess(c.after)) out.push(draft('member.activated', { old: c.before, new: c.after }));
      if (c.after === 'DI') out.push(draft('member.deactivated', { old: c.before, new: c.after }));
      return out;
    }
    case 'project_role':
      if (c.before === c.after) return [];
      return [draft('member.project_role_changed', { project: { id: c.projectId }, old: c.before, new: c.after })];
    case 'deleted':
      return [draft('member.deleted', { old: c.before, new: null })];
  }
}

export function mappingAppliedEvent(f: MappingAppliedFacts): EventDraft {
  return {
    type: 'mapping.applied',
    organizationId: f.organizationId,
    userId: null,
    data: {
      organization: { id: f.organizationId },
      config_revision: f.configRevision,
      previous_revision: f.previousRevision ?? null,
      applied_by: f.appliedBy,
      forced: f.forced ?? false,
      members_changed: f.membersChanged,
      changes: { ...(f.changes ?? {}) },
      refused: f.refused ?? 0,
    },
  };
}

/** Standard Webhooks message ids: unique, opaque, without "." (it separates the signed parts). */
export function newEventId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`;
}

/** Endpoint names that take this event (subscribed to its type and its organization). */
function subscribers(config: WebhooksConfig, draft: EventDraft): string[] {
  return config.endpoints.filter((e) => e.events.includes(draft.type) && e.organizations.includes(draft.organizationId)).map((e) => e.name);
}

/**
 * The outbox writer: call it inside the transaction that makes the changes. With no endpoint configured
 * nothing is recorded (no cost for installations without webhooks); otherwise every event is recorded, with
 * a delivery for each endpoint that wants it. Returns the ids of the events written.
 */
export async function recordEvents(trx: DbOrTrx, config: WebhooksConfig, drafts: readonly EventDraft[], now: Date): Promise<string[]> {
  if (config.endpoints.length === 0 || drafts.length === 0) return [];
  const counts = new Map<number, number>();
  for (const d of drafts) if (d.userId !== null) counts.set(d.userId, (counts.get(d.userId) ?? 0) + 1);
  const last = await reserveMemberSeqs(trx, counts);
  // Each member's reserved numbers end at `last`: hand them out in the order the drafts came.
  const next = new Map([...counts].map(([userId, count]) => [userId, (last.get(userId) ?? count) - count + 1]));
  const events: NewEvent[] = [];
  for (const d of drafts) {
    let memberSeq: number | null = null;
    if (d.userId !== null) {
      memberSeq = next.get(d.userId) ?? 1;
      next.set(d.userId, memberSeq + 1);
    }
    const id = newEventId();
    const data = memberSeq === null ? d.data : { ...d.data, sequence: memberSeq };
    const body = JSON.stringify({ type: d.type, timestamp: now.toISOString(), data });
    events.push({ id, organizationId: d.organizationId, type: d.type, userId: d.userId, memberSeq, body, endpoints: subscribers(config, d) });
  }
  await insertEvents(trx, events, now.getTime());
  return events.map((e) => e.id);
}
