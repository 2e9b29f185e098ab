/**
 * The admin surface's HTTP side, mounted by http/routes.ts: the access guard first (deny by
 * default, for every route of the router), then the API and the Organization page.
 */
import type Router from '@koa/router';
import type { AccessDeps } from './access.js';
import { accessGuard, protectRoutes } from './access.js';
import { mountAdminApi } from './api.js';
import { mountLabelStudioApi } from './lsapi.js';
import { mountMappingPage } from './mapping-page.js';
import { mountAdminPages } from './pages.js';
import { mountWebhookPages } from './webhooks.js';

export type { AccessDeps } from './access.js';
export { whoamiHandler } from './lsapi.js';

/** Must run before any route is registered: the guard is router middleware and precedes every route. */
export function mountAccessGuard(router: Router, deps: AccessDeps): void {
  router.use(accessGuard(deps));
}

/** Must run after the last route is registered: each route gets the guard with its own rule. */
export function protectAllRoutes(router: Router, deps: AccessDeps): void {
  protectRoutes(router as unknown as Parameters<typeof protectRoutes>[0], deps);
}

export function mountAdmin(router: Router, deps: AccessDeps): void {
  mountAdminApi(router, deps);
  mountLabelStudioApi(router, deps);
  mountAdminPages(router, deps);
  mountMappingPage(router, deps);
  mountWebhookPages(router, deps);
}
