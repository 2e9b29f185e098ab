/**
 * The closed set of change events rolegate signs and sends to webhook endpoints. Names follow Standard
 * Webhooks: dot-delimited, `[a-z_]` parts. The YAML (`webhooks.endpoints[].events`) and the outbox speak
 * these names; nothing else may appear on the wire.
 */
export const WEBHOOK_EVENT_TYPES = [
  'member.created',
  'member.activated',
  'member.deactivated',
  'member.deleted',
  'member.role_changed',
  'member.project_role_changed',
  'mapping.applied',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return typeof value === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}
