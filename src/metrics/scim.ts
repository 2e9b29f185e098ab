/**
 * SCIM metrics, on the process registry of metrics/index.ts:
 *   scim_requests_total{endpoint, method, status}   endpoint is the route template (Users, Users/{id}, Groups, …)
 */
import client from 'prom-client';
import { registry } from './index.js';

const scimRequestsTotal = new client.Counter({
  name: 'rolegate_scim_requests_total',
  help: 'SCIM requests by endpoint (route template), method and HTTP status',
  labelNames: ['endpoint', 'method', 'status'] as const,
  registers: [registry],
});

export function recordScimRequest(endpoint: string, method: string, status: number): void {
  scimRequestsTotal.inc({ endpoint, method, status: String(status) });
}
