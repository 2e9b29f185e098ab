/**
 * What the Organization page's Webhooks view does, bound to the database by app.ts (the HTTP layer never
 * reaches db/ itself): an organization's endpoints' state and deliveries, resend, re-enable.
 */
import type { Db } from '../db/connect.js';
import {
  deliveryCounts,
  disabledEndpoints,
  enableEndpoint,
  findDelivery,
  listDeliveries,
  resendDelivery,
  type DeliveryRow,
  type DeliveryStatus,
  type EndpointState,
} from '../db/webhooks.js';

export type { DeliveryRow, DeliveryStatus, EndpointState } from '../db/webhooks.js';

export interface WebhookDeliveries {
  readonly disabled: ReadonlyMap<string, EndpointState>;
  readonly counts: ReadonlyMap<string, Record<DeliveryStatus, number>>;
  readonly recent: readonly DeliveryRow[];
  readonly failures: readonly DeliveryRow[];
}

export interface WebhookServices {
  /** Endpoint states, counts, the `recent` newest deliveries and the `failures` newest failed ones of an organization. */
  overview(organizationId: number, limits: { readonly recent: number; readonly failures: number }): Promise<WebhookDeliveries>;
  findDelivery(organizationId: number, id: number): Promise<DeliveryRow | undefined>;
  /** Due again now with a fresh round of attempts; false while it is being sent. */
  resend(organizationId: number, id: number, now: number): Promise<boolean>;
  /** Lift a 410's disabling; false when it was not disabled. */
  enable(endpoint: string): Promise<boolean>;
}

export function webhookServices(db: Db): WebhookServices {
  return {
    async overview(organizationId, limits) {
      return {
        disabled: await disabledEndpoints(db),
        counts: await deliveryCounts(db, organizationId),
        recent: await listDeliveries(db, organizationId, { limit: limits.recent }),
        failures: await listDeliveries(db, organizationId, { status: 'failed', limit: limits.failures }),
      };
    },
    findDelivery: (organizationId, id) => findDelivery(db, organizationId, id),
    resend: (organizationId, id, now) => resendDelivery(db, organizationId, id, now),
    enable: (endpoint) => enableEndpoint(db, endpoint),
  };
}
