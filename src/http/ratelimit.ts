/**
 * Rate limits on `/saml/*`: one token bucket per client address and one per organization,
 * so that one source cannot spend the CPU that SAML validation costs (20–200 ms per Response) and one
 * organization's flood cannot starve the others. A request takes one token from both buckets; an empty bucket
 * answers 429 ERR_RATE_LIMITED with Retry-After.
 *
 * The buckets live in this process's memory: with N instances behind a load balancer, the effective limit is
 * up to N times the configured one. The client address is koa's `ctx.ip`, which honours X-Forwarded-For only
 * when `server.trust_proxy` is set (and then only the entry the nearest proxy added: see app.ts).
 */
import type Koa from 'koa';
import type { RateLimits } from '../configuration/types.js';
import { RolegateError } from '../errors.js';
import type { Logger } from '../log.js';

/** Buckets remembered at most; past that the least recently created are forgotten (a spoofed-address flood). */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  /** Date.now() of the last refill. */
  at: number;
}

/** A set of token buckets that each hold `capacity` tokens and refill `capacity` per minute. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly capacity: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.perMs = capacity / 60_000;
  }

  /** Take one token for `key`: 0 when granted, else the seconds until one is available (at least 1). */
  take(key: string): number {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.evict(now);
      bucket = { tokens: this.capacity, at: now };
      this.buckets.set(key, bucket);
    } else {
      // A clock that went backwards (or a pinned test clock) refills nothing.
      bucket.tokens = Math.min(this.capacity, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Drop the buckets that are full again (forgetting them changes nothing), else the oldest tenth. */
  private evict(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.capacity) this.buckets.delete(key);
    }
    if (this.buckets.size < MAX_BUCKETS) return;
    let drop = Math.ceil(MAX_BUCKETS / 10);
    for (const key of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}

/** `/saml/<org>/…` → the organization segment (any string: unknown ids are limited too, then 404). */
const SAML_PATH = /^\/saml\/([^/]{1,64})(?:\/|$)/;

export function samlRateLimit(limits: RateLimits, log: Logger, now: () => number = () => Date.now()): Koa.Middleware {
  const perIp = new TokenBuckets(limits.perIpPerMinute, now);
  const perOrg = new TokenBuckets(limits.perOrganizationPerMinute, now);
  return async (ctx, next) => {
    // The router matches case-insensitively and percent-decoded (`/SAML/1/acs`, `/%73aml/1/acs` reach the ACS):
    // so must the limiter, or a spelling variant would bypass it.
    const path = normalisedPath(ctx.path);
    if (!path.startsWith('/saml/')) return next();
    // Normalised as the router reads it (`/saml/01/acs` is organization 1), so leading zeros buy no new bucket.
    const segment = SAML_PATH.exec(path)?.[1] ?? '';
    const org = /^\d{1,9}$/.test(segment) ? String(Number(segment)) : '?';
    // The per-IP bucket first: a single flooding source is refused before it drains the organization's.
    const ipWait = perIp.take(ctx.ip);
    const wait = ipWait > 0 ? ipWait : perOrg.take(org);
    if (wait > 0) {
      // Logged, not audited: an audit row per refused request would turn a flood into database writes.
      log('warn', 'rate limited', { path: ctx.path, ip: ctx.ip, org, limit: ipWait > 0 ? 'ip' : 'organization', retry_after: wait });
      // Set here and carried on the error (koa's `headers` contract), so it survives either way.
      ctx.set('Retry-After', String(wait));
      throw Object.assign(new RolegateError('ERR_RATE_LIMITED', 'too many requests; retry later'), {
        headers: { 'Retry-After': String(wait) },
      });
    }
    return next();
  };
}

function normalisedPath(raw: string): string {
  let path = raw;
  try {
    path = decodeURIComponent(raw);
  } catch {
    // Not decodable: the router will not match it either; limit it under its raw spelling.
  }
  return path.toLowerCase();
}
