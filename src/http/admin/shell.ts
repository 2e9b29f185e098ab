/** What every Organization page starts from: the caller, their organization and name, the CSRF token, the flash. */
import type Koa from 'koa';
import { ORG_ROLE_NAMES } from '../../domain/roles.js';
import { RolegateError } from '../../errors.js';
import type { Services } from '../services.js';
import { callerOf, csrfToken } from './access.js';
import type { Flash, Shell } from './views.js';

/** The one-time message a form action left for the next page (post/redirect/get), taken once. */
function takeFlash(ctx: Koa.Context): Flash | undefined {
  const s = ctx.session;
  const f = s?.['flash'] as Flash | undefined;
  if (s !== null && s !== undefined && f !== undefined) delete s['flash'];
  return f;
}

export async function shellFor(ctx: Koa.Context, services: Services): Promise<Shell> {
  const { caller, org } = callerOf(ctx);
  if (caller.kind !== 'session') throw new RolegateError('ERR_FORBIDDEN', 'the Organization page is for a signed-in browser; scripts use the API');
  const me = await services.findMember(org.id, caller.userId);
  const name = me === undefined ? '' : [me.firstName, me.lastName].filter(Boolean).join(' ');
  return {
    org,
    caller,
    who: { name: name || caller.email || 'Signed in', email: caller.email, organization: org.title, role: ORG_ROLE_NAMES[caller.role] },
    csrf: csrfToken(ctx),
    flash: takeFlash(ctx),
  };
}
