// Rate limits as the Management API reports them: a token bucket per tenant (or per client address), X-RateLimit-* on every answer, 429 past it.
import { DurableObject } from 'cloudflare:workers';
import { rateOf } from './config.js';
import { apiError } from './http.js';

/**
 * One bucket per name (`tenant:<name>` or `addr:<ip>`). The state lives in memory: an evicted
 * object comes back with a full bucket, which only ever errs towards letting a request in.
 */
export class RateLimiter extends DurableObject {
  /** Takes one request from the bucket. `reset` is when it is full again, in UTC epoch seconds. */
  take(nowMs, limit, perSecond) {
    const b = this.bucket ?? { tokens: limit, atMs: nowMs };
    b.tokens = Math.min(limit, b.tokens + (Math.max(0, nowMs - b.atMs) / 1000) * perSecond);
    b.atMs = nowMs;
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    this.bucket = b;
    return {
      allowed,
      limit,
      remaining: Math.floor(b.tokens),
      reset: Math.ceil((nowMs + ((limit - b.tokens) / perSecond) * 1000) / 1000),
    };
  }
}

/** Counts one request against the tenant's bucket, or the address's when no tenant is known. */
export async function takeRate(env, tenant, request, nowMs) {
  const name = tenant === null ? `addr:${request.headers.get('cf-connecting-ip') ?? 'unknown'}` : `tenant:${tenant}`;
  const { limit, per_second } = rateOf(env, tenant);
  return env.RATE.get(env.RATE.idFromName(name)).take(nowMs, limit, per_second);
}

export function tooManyRequests() {
  return apiError(429, 'Global limit has been reached', 'too_many_requests');
}

/** The answer with the bucket's X-RateLimit-* headers (a copy: fetched responses are immutable). */
export function withRateHeaders(response, rate) {
  const out = new Response(response.body, response);
  out.headers.set('x-ratelimit-limit', String(rate.limit));
  out.headers.set('x-ratelimit-remaining', String(rate.remaining));
  out.headers.set('x-ratelimit-reset', String(rate.reset));
  return out;
}
