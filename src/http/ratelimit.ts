/**
 * Rate limits on `/saml/*`: one token bucket per client address and one per organization,
 * so that one source cannot spend the CPU that SAML validation costs (20–200 ms per Response) and one
 * organization's flood cannot starve the others. A request takes one token from its address's bucket and,
 * except for the metadata, one from its organization's, shared fairly between addresses (FairShareBuckets);
 * a refusal answers 429 ERR_RATE_LIMITED with Retry-After.
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

/**
 * The per-organization budget, shared fairly between addresses. A plain shared bucket lets a handful of
 * addresses, each within its own per-address limit, empty it and lock everyone else of the organization out.
 * Here, once the organization's bucket is empty, an address is still admitted while its own recent use is
 * below its fair share (the organization's figure ÷ the addresses active for it): the flooders are over their
 * share and refused, a person signing in (two or three requests) is far below it. Locking everyone out would
 * take about as many flooding addresses as the figure divided by a sign-in's requests. Recent use is a
 * moving average over about a minute (each request counts 1, decaying by e every 60 s), so an address admitted
 * past the empty bucket gets about its share a minute, and all of them together about the figure again:
 * an organization's flood still costs at most about twice its figure.
 */
export class FairShareBuckets {
  private readonly shared: TokenBuckets;
  /** Per organization: each address's recent use (`tokens`) at time `at`. */
  private readonly usage = new Map<string, { readonly addresses: Map<string, Bucket>; sweptAt: number }>();
  private entries = 0;

  constructor(
    private readonly capacity: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.shared = new TokenBuckets(capacity, now);
  }

  /** Take one of `org`'s tokens for `address`: 0 when granted, else the seconds to wait (at least 1). */
  take(org: string, address: string): number {
    const now = this.now();
    let table = this.usage.get(org);
    if (table === undefined) {
      table = { addresses: new Map(), sweptAt: now };
      this.usage.set(org, table);
    }
    // Idle addresses leave the count at most once a second: a refusal costs O(1), not a walk of every address.
    if (now - table.sweptAt >= 1000) this.sweep(table, now);
    let use = table.addresses.get(address);
    if (use === undefined) {
      if (this.entries >= MAX_BUCKETS) this.forgetIdle(now);
      use = { tokens: 0, at: now };
      table.addresses.set(address, use);
      this.entries += 1;
    } else {
      use.tokens = decayed(use, now);
      use.at = now;
    }
    const wait = this.shared.take(org);
    if (wait === 0) {
      use.tokens += 1;
      return 0;
    }
    const share = this.capacity / Math.max(1, table.addresses.size);
    if (use.tokens + 1 <= share) {
      use.tokens += 1;
      return 0;
    }
    // Until this address's use has decayed under its share, or the organization's bucket has a token again.
    const ownWait = share > 1 ? Math.ceil((USE_WINDOW_MS * Math.log(use.tokens / (share - 1))) / 1000) : wait;
    return Math.max(1, Math.min(wait, ownWait));
  }

  /** Forget the addresses whose recent use has decayed under half a request (they are no longer active). */
  private sweep(table: { readonly addresses: Map<string, Bucket>; sweptAt: number }, now: number): void {
    table.sweptAt = now;
    for (const [address, b] of table.addresses) {
      if (decayed(b, now) < 0.5) {
        table.addresses.delete(address);
        this.entries -= 1;
      }
    }
  }

  private forgetIdle(now: number): void {
    for (const [org, table] of this.usage) {
      this.sweep(table, now);
      if (table.addresses.size === 0) this.usage.delete(org);
    }
    // Still full (a flood from very many addresses, such as an IPv6 range): forget the oldest organization's table.
    if (this.entries >= MAX_BUCKETS) {
      const first = this.usage.entries().next();
      if (first.done !== true) {
        this.entries -= first.value[1].addresses.size;
        this.usage.delete(first.value[0]);
      }
    }
  }
}

/** The time constant of an address's recent use: a minute, as the per-minute figures. */
const USE_WINDOW_MS = 60_000;

/** `b.tokens` decayed from `b.at` to `now` (a clock that went backwards decays nothing). */
function decayed(b: Bucket, now: number): number {
  return b.tokens * Math.exp(-Math.max(0, now - b.at) / USE_WINDOW_MS);
}

/** `/saml/<org>/…` → the organization segment (any string: unknown ids are limited too, then 404). */
const SAML_PATH = /^\/saml\/([^/]{1,64})(?:\/([^/]*))?/;

/**
 * What the organization's budget is spent on: starting a sign-in, the ACS, Single Logout. Not the metadata:
 * it is public, cacheable and costs no SAML work, so fetching it must not use up anyone's sign-ins (it still
 * counts against the requesting address).
 */
const UNBUDGETED = new Set(['metadata']);

export function samlRateLimit(limits: RateLimits, log: Logger, now: () => number = () => Date.now()): Koa.Middleware {
  const perIp = new TokenBuckets(limits.perIpPerMinute, now);
  const perOrg = new FairShareBuckets(limits.perOrganizationPerMinute, now);
  return async (ctx, next) => {
    // The router matches case-insensitively and percent-decoded (`/SAML/1/acs`, `/%73aml/1/acs` reach the ACS):
    // so must the limiter, or a spelling variant would bypass it.
    const path = normalisedPath(ctx.path);
    if (!path.startsWith('/saml/')) return next();
    // Normalised as the router reads it (`/saml/01/acs` is organization 1), so leading zeros buy no new bucket.
    const match = SAML_PATH.exec(path);
    const segment = match?.[1] ?? '';
    const org = /^\d{1,9}$/.test(segment) ? String(Number(segment)) : '?';
    // The per-IP bucket first: a single flooding source is refused before it touches the organization's.
    const ipWait = perIp.take(ctx.ip);
    const wait = ipWait > 0 || UNBUDGETED.has(match?.[2] ?? '') ? ipWait : perOrg.take(org, ctx.ip);
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
