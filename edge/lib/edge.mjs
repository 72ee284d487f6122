// Starts the userexport Worker in real workerd through Miniflare, for edge/dev.mjs and the tests.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { signJwt } from '../src/jwt.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEV_SECRET = 'dev-only-secret-never-deploy-me-0123456789';
export const DEV_DOMAIN = 'userexport.test';

/** The sample tenant: the package's 1000 sample users, with one connection id per connection. */
export const SAMPLE_CONNECTIONS = {
  con_ftSSLHb0O7rcUGmF: 'Username-Password-Authentication',
  con_GoogleOauth2Dev0: 'google-oauth2',
  con_GithubDevSample1: 'github',
  con_AcmeSamlDevSmpl1: 'acme-saml',
};

export function sampleTenant(name = 'acme') {
  return {
    config: { users: `${name}/users.ndjson.gz`, connections: SAMPLE_CONNECTIONS },
    seed: { [`${name}/users.ndjson.gz`]: gzipSync(readFileSync(join(ROOT, 'samples', 'users.ndjson'))) },
  };
}

export function mintToken({ tenant, scope = 'read:users create:users', secret = DEV_SECRET, domain = DEV_DOMAIN, expiresIn, extra = {} }) {
  const iat = Math.floor(Date.now() / 1000);
  const claims = { iss: `https://${tenant}.${domain}/`, sub: 'dev|userexport-edge', aud: `https://${tenant}.${domain}/api/v2/`, iat, scope, ...extra };
  if (expiresIn !== undefined) claims.exp = iat + expiresIn;
  return signJwt(claims, secret);
}

/** Child processes named workerd under this process: Miniflare starts exactly one. */
export function workerdPids() {
  const children = new Map();
  for (const d of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      children.set(Number(d), { comm: m[1], ppid: Number(m[2]) });
    } catch {}
  }
  const mine = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of children) if (!mine.has(pid) && mine.has(p.ppid)) (mine.add(pid), (grew = true));
  }
  return [...mine].filter((pid) => children.get(pid)?.comm === 'workerd');
}

export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

/**
 * `tenants`: `{name: {config, seed: {r2Key: bytes}}}`. Returns the URL, the Miniflare instance, a
 * settable clock, `scheduled()` and `dispose()`.
 */
export async function startEdge({ port = 0, tenants = { acme: sampleTenant('acme') }, secret = DEV_SECRET, domain = DEV_DOMAIN, partBytes, log = false, persistDir } = {}) {
  let offsetMs = 0;
  const bindings = {
    AUTH_SECRET: secret,
    TENANT_DOMAIN: domain,
    TENANTS: Object.fromEntries(Object.entries(tenants).map(([k, v]) => [k, v.config])),
  };
  if (partBytes) bindings.R2_PART_BYTES = String(partBytes);
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(ROOT, 'edge', 'src', 'worker.js'),
    modulesRoot: ROOT,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-04-01',
    host: '127.0.0.1',
    port,
    cf: false,
    durableObjects: { JOBS: 'ExportJobs' },
    r2Buckets: ['USERS', 'EXPORTS'],
    bindings,
    // On disk, R2 objects and job records stay out of workerd's memory (what the large test measures).
    ...(persistDir ? { r2Persist: join(persistDir, 'r2'), durableObjectsPersist: join(persistDir, 'do') } : {}),
    // The Worker asks this for the time, so tests can move it 24 hours on.
    serviceBindings: { CLOCK: () => new Response(String(Date.now() + offsetMs)) },
    ...(log ? { log: new Log(LogLevel.INFO) } : {}),
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const users = await mf.getR2Bucket('USERS');
  for (const t of Object.values(tenants)) {
    // The proxy carries ArrayBuffers, not Node Buffers (views into a shared pool).
    for (const [key, bytes] of Object.entries(t.seed ?? {})) await users.put(key, new Uint8Array(bytes).buffer);
  }
  return {
    url,
    mf,
    clock: {
      advance: (ms) => {
        offsetMs += ms;
      },
      now: () => Date.now() + offsetMs,
    },
    token: (opts) => mintToken({ secret, domain, ...opts }),
    async scheduled() {
      const worker = await mf.getWorker();
      return worker.scheduled({ cron: '17 * * * *', scheduledTime: new Date(Date.now() + offsetMs) });
    },
    async inspect(tenant, id) {
      const ns = await mf.getDurableObjectNamespace('JOBS');
      return JSON.parse(await ns.get(ns.idFromName(tenant)).inspect(id));
    },
    dispose: () => mf.dispose(),
  };
}
