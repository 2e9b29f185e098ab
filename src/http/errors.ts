/**
 * The one place that turns an error into what a client sees: JSON for API clients, in Label Studio's error
 * shape (`id`, `status_code`, `detail`, `exc_info`, `validation_errors` when fields are named) plus rolegate's
 * stable `code` (also as `error`, the name older rolegate clients read), and HTML for browsers. Internals
 * (ERR_INTERNAL, anything unexpected) are logged and never shown.
 */
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { ErrorCode } from '../errors.js';
import { ERROR_STATUS, RolegateError } from '../errors.js';
import type { Logger } from '../log.js';
import { html, page } from './html.js';
import { safeNextPath } from './safety.js';

/** Text for people, per code. The detail from the error is added when the error is exposable. */
const TITLES: Partial<Record<ErrorCode, string>> = {
  ERR_ACCESS_REVOKED: 'Access revoked',
  ERR_UNAUTHENTICATED: 'Please sign in',
  ERR_FORBIDDEN: 'Not allowed',
  ERR_NOT_FOUND: 'Not found',
  ERR_PAYLOAD_TOO_LARGE: 'Request too large',
  ERR_RATE_LIMITED: 'Too many requests',
  ERR_METHOD_NOT_ALLOWED: 'Method not allowed',
  ERR_INTERNAL: 'Something went wrong',
};

function titleFor(code: ErrorCode): string {
  return TITLES[code] ?? (code.startsWith('ERR_SAML_') ? 'Sign-in failed' : 'Request failed');
}

/**
 * What happened, in words, for the sign-in failures people meet in ordinary use. The SP-initiated request a
 * Response answers is used up by the first successful login and expires after saml.request_ttl_seconds, so
 * the Back button after signing in and a sign-in page left open too long both end here; the technical
 * detail stays on the page, under the words, for whoever they ask.
 */
const PEOPLE_TEXT: Partial<Record<ErrorCode, { readonly title: string; readonly text: string }>> = {
  ERR_SAML_IN_RESPONSE_TO: {
    title: 'This sign-in has already been used or has expired',
    text: 'This happens when the browser’s Back button returns to a sign-in that already finished, or when a sign-in was started too long ago. Nothing is wrong with your account: sign in again.',
  },
  ERR_SAML_REPLAY: {
    title: 'This sign-in has already been used',
    text: 'The identity provider’s answer was sent a second time, usually by the browser’s Back button or a reload after signing in. Sign in again to get a fresh one.',
  },
  ERR_SAML_EXPIRED: {
    title: 'This sign-in took too long',
    text: 'The identity provider’s answer is only valid for a few minutes (or its clock and this server’s disagree). Sign in again; if it keeps happening, tell your administrator.',
  },
};

/** The organization whose SAML endpoint failed (`/saml/1/acs` → 1), for the "Sign in again" link. */
function samlOrg(path: string): string | undefined {
  return /^\/saml\/(\d{1,9})\//.exec(path)?.[1];
}

/** Map foreign errors (koa's http-errors from body parsing, …) onto our codes. */
export function toRolegateError(err: unknown): RolegateError {
  if (err instanceof RolegateError) return err;
  const status = typeof err === 'object' && err !== null ? (err as { status?: unknown }).status : undefined;
  if (status === 413) return new RolegateError('ERR_PAYLOAD_TOO_LARGE', 'request body too large');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new RolegateError(status === 404 ? 'ERR_NOT_FOUND' : 'ERR_BAD_REQUEST', 'malformed request');
  }
  return new RolegateError('ERR_INTERNAL', 'internal error', { cause: err });
}

export function wantsJson(ctx: Koa.Context): boolean {
  if (ctx.path.startsWith('/api/') || ctx.path === '/healthz' || ctx.path === '/healthz/details') return true;
  return ctx.accepts('html', 'json') === 'json';
}

export function errorMiddleware(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no such page');
      // The router's allowedMethods answers these with an empty body; give them a code like every other error,
      // keeping the Allow header it set.
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        const allow = String(ctx.response.get('Allow') ?? '');
        throw Object.assign(
          ctx.status === 405
            ? new RolegateError('ERR_METHOD_NOT_ALLOWED', `method ${ctx.method} not allowed here${allow === '' ? '' : `; allowed: ${allow}`}`)
            : new RolegateError('ERR_NOT_IMPLEMENTED', 'method not supported'),
          allow === '' ? {} : { headers: { Allow: allow } },
        );
      }
    } catch (caught) {
      const err = toRolegateError(caught);
      if (err.code === 'ERR_INTERNAL') {
        const cause = err.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}` : String(err.cause);
        log('error', 'unhandled error', { path: ctx.path, cause, stack: err.cause instanceof Error ? err.cause.stack : undefined });
      }
      ctx.status = ERROR_STATUS[err.code];
      const detail = err.expose ? err.message : 'internal error';
      ctx.set('Cache-Control', 'no-store');
      // koa's error contract: `headers` on an error (e.g. Retry-After of a 503 when the ACS queue is full).
      const headers = (err as { headers?: unknown }).headers;
      if (typeof headers === 'object' && headers !== null) {
        for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') ctx.set(name, value);
      }
      if (wantsJson(ctx)) {
        ctx.body = {
          id: randomUUID(),
          status_code: ctx.status,
          detail,
          exc_info: null,
          ...(err.fields === undefined || !err.expose ? {} : { validation_errors: err.fields }),
          code: err.code,
          error: err.code,
        };
      } else if (err.code === 'ERR_UNAUTHENTICATED' && (ctx.method === 'GET' || ctx.method === 'HEAD') && (ctx.path === '/organization' || ctx.path.startsWith('/organization/'))) {
        // A browser on one of the Organization pages: to the sign-in page, which brings it back here
        // afterwards. Only there: /metrics and the other token-checked endpoints answer 401 to everyone.
        ctx.redirect(`/?next=${encodeURIComponent(safeNextPath(ctx.originalUrl))}`);
      } else {
        const words = PEOPLE_TEXT[err.code];
        const org = err.code.startsWith('ERR_SAML_') ? samlOrg(ctx.path) : undefined;
        const title = words?.title ?? titleFor(err.code);
        ctx.type = 'html';
        ctx.body = page(
          title,
          html`<section class="card error"><h1>${title}</h1>
${words === undefined ? html`<p>${detail}</p>` : html`<p>${words.text}</p><p class="muted">Details: ${detail}</p>`}
<p class="muted">Error code: <code>${err.code}</code></p>
<p class="actions">${org === undefined ? '' : html`<a class="button" href="/saml/${org}/login">Sign in again</a> `}<a href="/">Back to the start page</a></p></section>`,
        );
      }
    }
  };
}
