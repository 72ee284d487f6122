// What the Worker is configured with (tenants, clients, limits, public URLs) and what time it is.

/** Seconds of clock skew allowed when checking a token's `exp`, `nbf` and `iat` (SECURITY.md). */
export const CLOCK_SKEW_SECONDS = 30;
/** Lifetime of an issued access token, as Auth0's default for machine-to-machine tokens. */
export const DEFAULT_TOKEN_SECONDS = 86_400;
/** A download link works this long after it is signed. */
export const LINK_SECONDS = 60;
/** A job and its file are kept this long. */
export const DAY_MS = 24 * 60 * 60 * 1000;
/** The largest request body the Management API takes, counted in bytes while it is read. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Rate limit of the Management API per tenant when TENANTS does not set one: a token bucket of
 * `limit` requests refilled at `per_second`. Requests that carry no valid token share a bucket
 * per client address (ANON_RATE_LIMIT).
 */
export const DEFAULT_RATE = { limit: 50, per_second: 15 };

/**
 * TENANTS: `{ "<tenant>": { users, connections: {con_id: name}, lenient?, clients?,
 * token_lifetime?, rate_limit?, public_url? } }`, as an object or its JSON text.
 */
export function tenants(env) {
  const t = env.TENANTS;
  return typeof t === 'string' ? JSON.parse(t) : (t ?? {});
}

/** The tenant's configuration, or null; own keys only, so `__proto__` and friends name nothing. */
export function tenantConfig(env, name) {
  const all = tenants(env);
  return typeof name === 'string' && Object.hasOwn(all, name) ? all[name] : null;
}

/** The tenant's Management API audience and issuer, from the configured domain only. */
export function audienceOf(env, tenant) {
  return `https://${tenant}.${domainOf(env)}/api/v2/`;
}

export function issuerOf(env, tenant) {
  return `https://${tenant}.${domainOf(env)}/`;
}

function domainOf(env) {
  return String(env.TENANT_DOMAIN ?? '').toLowerCase();
}

/** The tenant named by a Management API audience https://<tenant>.<TENANT_DOMAIN>/api/v2/, or null. */
export function tenantOfAudience(env, aud) {
  for (const a of Array.isArray(aud) ? aud : [aud]) {
    if (typeof a !== 'string') continue;
    const m = /^https:\/\/([a-z0-9_-]{1,64})\.([^/]+)\/api\/v2\/?$/.exec(a);
    if (m && m[2].toLowerCase() === domainOf(env) && tenantConfig(env, m[1])) return { tenant: m[1], audience: a };
  }
  return null;
}

/**
 * The origin written into a job's `location`: the tenant's `public_url`, else PUBLIC_URL, else
 * https://<tenant>.<TENANT_DOMAIN>. Never the request's Host, which the client chooses.
 */
export function publicOrigin(env, tenant) {
  const configured = tenantConfig(env, tenant)?.public_url ?? env.PUBLIC_URL;
  if (configured) return String(configured).replace(/\/+$/, '');
  return `https://${tenant}.${domainOf(env)}`;
}

export function tokenSeconds(env, tenant) {
  const s = Number(tenantConfig(env, tenant)?.token_lifetime ?? env.TOKEN_LIFETIME_SECONDS);
  return Number.isInteger(s) && s > 0 ? s : DEFAULT_TOKEN_SECONDS;
}

/** A bucket's `{limit, per_second}`: the tenant's `rate_limit`, else the default. */
export function rateOf(env, tenant) {
  const raw = tenant === null ? parseMaybe(env.ANON_RATE_LIMIT) : tenantConfig(env, tenant)?.rate_limit;
  const limit = Number(raw?.limit);
  const perSecond = Number(raw?.per_second);
  return {
    limit: Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_RATE.limit,
    per_second: perSecond > 0 && Number.isFinite(perSecond) ? perSecond : DEFAULT_RATE.per_second,
  };
}

function parseMaybe(v) {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** The tenant's Durable Object: its jobs, its signing keys and its link key. */
export const jobsStub = (env, tenant) => env.JOBS.get(env.JOBS.idFromName(tenant));

/** The clock: Date.now(), unless a CLOCK service (dev and tests) says what time it is. */
export async function now(env) {
  if (!env.CLOCK) return Date.now();
  const res = await env.CLOCK.fetch('http://clock/');
  return Number(await res.text());
}

/** Auth0 fails an export job that has not finished 8 hours after it was created. */
export const JOB_TIMEOUT_MS = 8 * 60 * 60 * 1000;
/** status_details of a job failed by that timeout. */
export const TIMEOUT_DETAILS = 'The job timed out: an export job must finish within 8 hours of its creation.';

const positive = (v) => {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

/**
 * How the Worker cuts exports into work (edge/README.md, "How an export runs"): `sliceMs` of
 * work per Durable Object invocation (SLICE_MS, default 10 s, well under the 30 s of CPU an
 * invocation gets by default), `shardBytes` of plain NDJSON per shard (SHARD_BYTES, default
 * 256 MiB), at most `maxShards` shards (the tenant's `max_shards`, else MAX_SHARDS, default 4),
 * and how often the tenant's object checks its running jobs (TASK_POLL_MS, default 30 s).
 */
export function workConfig(env, tenant) {
  const cfg = tenantConfig(env, tenant) ?? {};
  return {
    sliceMs: positive(env.SLICE_MS) ?? 10_000,
    shardBytes: positive(env.SHARD_BYTES) ?? 256 * 1024 * 1024,
    maxShards: Math.floor(positive(cfg.max_shards) ?? positive(env.MAX_SHARDS) ?? 4),
    pollMs: positive(env.TASK_POLL_MS) ?? 30_000,
    maxConcurrent: Math.floor(positive(cfg.max_concurrent_jobs) ?? positive(env.MAX_CONCURRENT_JOBS) ?? 2),
  };
}
