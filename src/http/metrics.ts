/**
 * GET /metrics, Prometheus text format. Deny by default: the endpoint answers 404 unless `server.metrics_token`
 * is set, and then only to `Authorization: Bearer <token>`. Not "loopback only": behind a reverse proxy on
 * the same host every request arrives from loopback, so the address says nothing about who is asking.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type Koa from 'koa';
import type { Config } from '../configuration/types.js';
import { RolegateError } from '../errors.js';
import { metricsText } from '../metrics/index.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * The check behind GET /metrics and GET /healthz/details: 404 while no `server.metrics_token` is set (the
 * operator's endpoints are off), else `Authorization: Bearer <token>` or 401.
 */
export function requireMetricsToken(config: Config): (ctx: Koa.Context) => void {
  const token = config.server.metricsToken;
  const expected = token === null ? undefined : digest(token);
  return (ctx) => {
    if (expected === undefined) throw new RolegateError('ERR_NOT_FOUND', 'no such page');
    const m = /^Bearer ([\x21-\x7e]+)$/.exec(ctx.get('Authorization'));
    // Compare digests in constant time: equal length, so timingSafeEqual applies, and no early exit.
    if (m?.[1] === undefined || !timingSafeEqual(digest(m[1]), expected)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="rolegate-metrics"');
      throw new RolegateError('ERR_UNAUTHENTICATED', 'this endpoint needs the configured metrics bearer token');
    }
  };
}

export function metricsHandler(config: Config): Koa.Middleware {
  const check = requireMetricsToken(config);
  return async (ctx) => {
    check(ctx);
    const { contentType, body } = await metricsText();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = contentType;
    ctx.body = body;
  };
}
