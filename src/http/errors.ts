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
      } else {
        ctx.type = 'html';
        ctx.body = page(
          titleFor(err.code),
          html`<section class="card error"><h1>${titleFor(err.code)}</h1>
<p>${detail}</p>
<p class="muted">Error code: <code>${err.code}</code></p>
<p><a href="/">Back to the start page</a></p></section>`,
        );
      }
    }
  };
}
