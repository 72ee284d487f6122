// The userexport Worker: Auth0's user-export jobs API, its token endpoint and JWKS, and signed downloads; routes only.
import { authenticate } from './auth.js';
import { jobsStub, now, tenantConfig, tenants } from './config.js';
import { apiError, json } from './http.js';
import { JOB_ID, createJob, getJob, getJobErrors } from './jobs.js';
import { download } from './links.js';
import { issueToken } from './oauth.js';
import { takeRate, tooManyRequests, withRateHeaders } from './ratelimit.js';
import { SIGNING_KEY_SCOPES, listKeys, revokeKey, rotateKeys } from './signing-keys.js';

export { ExportJobs } from './durable-object.js';
export { RateLimiter } from './ratelimit.js';

const READ_SCOPES = { anyOf: ['create:users', 'read:users'] };
const CREATE_SCOPES = { anyOf: ['read:users'] };
const BAD_JOB_ID = "Path validation error: 'String does not match pattern ^job_[A-Za-z0-9]{16}$' on property id (The id of the job).";

/** A path segment decoded, or null when its escapes are not valid UTF-8 percent-encoding. */
function decodeSegment(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** The Management API route a request names: its scopes and what answers it for a tenant; else null. */
function managementRoute(method, path, nowMs, env) {
  if (path === '/api/v2/jobs/users-exports' && method === 'POST') {
    return { scopes: CREATE_SCOPES, run: (tenant, request) => createJob(request, env, tenant, nowMs) };
  }
  let m = /^\/api\/v2\/jobs\/([^/]+)(\/errors)?$/.exec(path);
  if (m && method === 'GET' && m[1] !== 'users-exports') {
    const id = decodeSegment(m[1]);
    const errors = m[2] !== undefined;
    return {
      scopes: READ_SCOPES,
      run: (tenant) => {
        if (id === null || !JOB_ID.test(id)) return apiError(400, BAD_JOB_ID, 'invalid_uri');
        return errors ? getJobErrors(env, tenant, id, nowMs) : getJob(env, tenant, id, nowMs);
      },
    };
  }
  if (path === '/api/v2/keys/signing' && method === 'GET') return { scopes: SIGNING_KEY_SCOPES.list, run: (t) => listKeys(env, t) };
  if (path === '/api/v2/keys/signing/rotate' && method === 'POST') {
    return { scopes: SIGNING_KEY_SCOPES.rotate, run: (t) => rotateKeys(env, t, nowMs) };
  }
  m = /^\/api\/v2\/keys\/signing\/([^/]+)\/revoke$/.exec(path);
  if (m && method === 'PUT') {
    const kid = decodeSegment(m[1]);
    return {
      scopes: SIGNING_KEY_SCOPES.revoke,
      run: (t) => (kid === null ? apiError(404, 'Signing key not found', 'inexistent_signing_key') : revokeKey(env, t, kid)),
    };
  }
  return null;
}

/** The tenant whose JWKS a request asks for: its Host is <tenant>.<TENANT_DOMAIN>, as Auth0's issuer URLs. */
async function jwks(request, env) {
  const host = (request.headers.get('host') ?? '').toLowerCase().replace(/:\d+$/, '');
  const suffix = `.${String(env.TENANT_DOMAIN ?? '').toLowerCase()}`;
  const tenant = host.endsWith(suffix) ? host.slice(0, -suffix.length) : null;
  if (!tenant || !tenantConfig(env, tenant)) return apiError(404, 'Not Found');
  // Verifiers fetch again when they meet a kid they do not know, so a short cache is safe.
  return json(200, await jobsStub(env, tenant).jwks(), { 'cache-control': 'public, max-age=60' });
}

async function route(request, env) {
  const url = new URL(request.url);
  const nowMs = await now(env);
  const { method } = request;
  const api = managementRoute(method, url.pathname, nowMs, env);
  if (api) {
    const auth = await authenticate(request, env, nowMs, api.scopes);
    // Only a verified token spends its tenant's requests; anything else spends its address's.
    const rate = await takeRate(env, auth.tenant ?? null, request, nowMs);
    if (!rate.allowed) return withRateHeaders(tooManyRequests(), rate);
    return withRateHeaders(auth.response ?? (await api.run(auth.tenant, request)), rate);
  }
  const rate = await takeRate(env, null, request, nowMs);
  if (!rate.allowed) return withRateHeaders(tooManyRequests(), rate);
  let response;
  if (url.pathname.startsWith('/download/')) response = await download(request, env, url, nowMs);
  else if (url.pathname === '/oauth/token' && method === 'POST') response = await issueToken(request, env, nowMs);
  else if (url.pathname === '/.well-known/jwks.json' && method === 'GET') response = await jwks(request, env);
  else response = apiError(404, 'Not Found');
  return withRateHeaders(response, rate);
}

export default {
  async fetch(request, env) {
    try {
      return await route(request, env);
    } catch (e) {
      // Reached only by a fault of the Worker or its bindings, never by input (test/fuzz.test.mjs).
      console.error('userexport edge:', e?.stack ?? e);
      return apiError(500, 'Internal Server Error');
    }
  },

  /** Cron: every configured tenant forgets jobs (and files) older than 24 hours. */
  async scheduled(controller, env, ctx) {
    const nowMs = await now(env);
    ctx.waitUntil(Promise.all(Object.keys(tenants(env)).map((t) => jobsStub(env, t).purge(nowMs))));
  },
};
