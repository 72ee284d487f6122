// Bundles the userexport Worker as wrangler would and starts it in real workerd through Miniflare, for edge/dev.mjs and the tests.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { SignJWT } from 'jose';
import { Log, LogLevel, Miniflare } from 'miniflare';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EDGE = join(ROOT, 'edge');
export const DEV_DOMAIN = 'userexport.test';
/** Every scope the Worker knows: what the test and dev clients are granted. */
export const ALL_SCOPES = 'read:users create:users read:clients read:signing_keys create:signing_keys update:signing_keys';
/** The CLOCK service of dev and tests: Date.now() plus an offset that /advance?ms=… moves. */
const CLOCK_WORKER = `let offset = 0;
export default {
  fetch(request) {
    const u = new URL(request.url);
    if (u.pathname === '/advance') offset += Number(u.searchParams.get('ms'));
    return new Response(String(Date.now() + offset));
  },
};`;
/** Limits high enough that no test meets them unless it sets its own. */
const UNLIMITED = { limit: 1_000_000, per_second: 1_000_000 };

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

export const sha256Hex = (text) => createHash('sha256').update(text).digest('hex');

/**
 * The Worker bundled the way wrangler bundles it: esbuild resolves `userexport` and `jose`
 * through edge/package.json with the `workerd` condition, and the package's .wasm stays a
 * separate module that workerd compiles. Returns the directory holding worker.js and the wasm.
 */
export async function bundleWorker() {
  const outdir = mkdtempSync(join(tmpdir(), 'userexport-edge-'));
  await build({
    entryPoints: [join(EDGE, 'src', 'worker.js')],
    absWorkingDir: EDGE,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*'],
    loader: { '.wasm': 'copy' },
    assetNames: '[name]',
    outdir,
    logLevel: 'silent',
  });
  return outdir;
}

// Small parts: local R2 reads a range of a multipart object part by part, and a slice's range
// read of a 64 MiB-part object cost seconds before its first byte (measured).
const SEED_PART_BYTES = 8 * 1024 * 1024;

/**
 * A users file into the USERS bucket a part at a time (the proxy takes buffers, not streams);
 * skipped when the object is already there with the file's size (a restart on kept storage).
 */
async function putFile(bucket, key, file) {
  const size = statSync(file).size;
  if ((await bucket.head(key))?.size === size) return;
  const fd = openSync(file, 'r');
  try {
    const read = (offset, length) => {
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, offset);
      return new Uint8Array(buf).buffer;
    };
    if (size <= SEED_PART_BYTES) return void (await bucket.put(key, read(0, size)));
    const upload = await bucket.createMultipartUpload(key);
    const parts = [];
    for (let at = 0, n = 1; at < size; at += SEED_PART_BYTES, n++) {
      parts.push(await upload.uploadPart(n, read(at, Math.min(SEED_PART_BYTES, size - at))));
    }
    await upload.complete(parts);
  } finally {
    closeSync(fd);
  }
}

/** A free port on 127.0.0.1, so the public URL written into links is known before workerd starts. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * A token the Worker did not issue: signed with a throwaway RSA key (or `secret` for HS256), with
 * Auth0's claims for `tenant` unless `claims` replaces them. For tests of what must be refused.
 */
export async function foreignToken({ tenant, domain = DEV_DOMAIN, claims = {}, header = {}, secret, nowMs = Date.now() }) {
  const iat = Math.floor(nowMs / 1000);
  const base = { iss: `https://${tenant}.${domain}/`, sub: 'x@clients', aud: `https://${tenant}.${domain}/api/v2/`, iat, exp: iat + 3600, scope: ALL_SCOPES };
  const body = Object.fromEntries(Object.entries({ ...base, ...claims }).filter(([, v]) => v !== undefined));
  const jwt = new SignJWT(body);
  if (secret !== undefined) return jwt.setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(new TextEncoder().encode(secret));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return jwt.setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'not-a-key-of-this-worker', ...header }).sign(privateKey);
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
 * `tenants`: `{name: {config, seed: {r2Key: bytes | {file: path}}}}` (a file is streamed, not read whole). Every tenant gets a client
 * `<tenant>-client` granted ALL_SCOPES unless its config lists `clients`. Returns the URL, the
 * Miniflare instance, a settable clock, `token()` (client credentials), `scheduled()` and `dispose()`.
 */
export async function startEdge({
  port = 0,
  tenants = { acme: sampleTenant('acme') },
  domain = DEV_DOMAIN,
  partBytes,
  log = false,
  persistDir,
  devHs256Secret,
  anonRate = UNLIMITED,
  tokenLifetime,
  publicUrl,
  vars = {},
  inspectorPort,
} = {}) {
  let offsetMs = 0;
  const clients = {};
  const config = {};
  for (const [name, t] of Object.entries(tenants)) {
    const c = { rate_limit: UNLIMITED, ...t.config };
    if (!c.clients) {
      const id = `${name}-client`;
      const secret = randomBytes(32).toString('base64url');
      clients[name] = { id, secret };
      c.clients = { [id]: { secret_sha256: sha256Hex(secret), scopes: ALL_SCOPES } };
    }
    config[name] = c;
  }
  const listen = port || (await freePort());
  const url = `http://127.0.0.1:${listen}`;
  // `vars`: more Worker variables (SLICE_MS, SHARD_BYTES, MAX_SHARDS, TASK_POLL_MS, MAX_CONCURRENT_JOBS, …).
  const bindings = { ...vars, TENANT_DOMAIN: domain, TENANTS: config, ANON_RATE_LIMIT: anonRate };
  // Links point at this server unless the caller says otherwise (null: no PUBLIC_URL at all).
  if (publicUrl !== null) bindings.PUBLIC_URL = publicUrl ?? url;
  if (partBytes) bindings.R2_PART_BYTES = String(partBytes);
  if (devHs256Secret) bindings.DEV_HS256_SECRET = devHs256Secret;
  if (tokenLifetime) bindings.TOKEN_LIFETIME_SECONDS = String(tokenLifetime);
  const outdir = await bundleWorker();
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: listen,
    cf: false,
    // A DevTools port on 127.0.0.1 for CPU profiles of the Worker (edge/bench/profile.mjs).
    ...(inspectorPort ? { inspectorPort } : {}),
    // On disk, R2 objects and job records stay out of workerd's memory (what the large test measures).
    ...(persistDir ? { r2Persist: join(persistDir, 'r2'), durableObjectsPersist: join(persistDir, 'do') } : {}),
    ...(log ? { log: new Log(LogLevel.INFO) } : {}),
    workers: [
      {
        name: 'userexport-edge',
        modules: true,
        scriptPath: join(outdir, 'worker.js'),
        modulesRoot: outdir,
        modulesRules: [
          { type: 'ESModule', include: ['**/*.js'] },
          { type: 'CompiledWasm', include: ['**/*.wasm'] },
        ],
        compatibilityDate: '2025-04-01',
        durableObjects: { JOBS: 'ExportJobs', RATE: 'RateLimiter' },
        r2Buckets: ['USERS', 'EXPORTS'],
        bindings,
        // The Worker asks this for the time, so tests can move it 24 hours on.
        serviceBindings: { CLOCK: 'clock' },
      },
      // The clock runs inside workerd too: a call into Node for every request would cost ~3 ms.
      { name: 'clock', modules: true, compatibilityDate: '2025-04-01', script: CLOCK_WORKER },
    ],
  });
  await mf.ready;
  const users = await mf.getR2Bucket('USERS');
  for (const t of Object.values(tenants)) {
    // The proxy carries ArrayBuffers, not Node Buffers (views into a shared pool).
    for (const [key, bytes] of Object.entries(t.seed ?? {})) {
      if (bytes.file) await putFile(users, key, bytes.file);
      else await users.put(key, new Uint8Array(bytes).buffer);
    }
  }
  const clockWorker = await mf.getWorker('clock');
  const clock = {
    /** Moves the Worker's time (and this mirror of it) by `ms`. */
    async advance(ms) {
      offsetMs += ms;
      await (await clockWorker.fetch(`http://clock/advance?ms=${ms}`)).text();
    },
    now: () => Date.now() + offsetMs,
  };
  return {
    url,
    mf,
    clock,
    clients,
    domain,
    /** A token from the Worker's own /oauth/token, as the tenant's client gets it (`scope` narrows it). */
    async token({ tenant, scope }) {
      const c = clients[tenant];
      if (!c) throw new Error(`no client for tenant ${tenant}`);
      const body = { grant_type: 'client_credentials', client_id: c.id, client_secret: c.secret, audience: `https://${tenant}.${domain}/api/v2/` };
      if (scope) body.scope = scope;
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
      // A keep-alive socket closed by workerd as it is reused fails the fetch before any answer:
      // asking for a token again is harmless.
      const res = await fetch(`${url}/oauth/token`, init).catch((e) => {
        if (e?.cause?.code !== 'UND_ERR_SOCKET' && e?.cause?.code !== 'ECONNRESET') throw e;
        return fetch(`${url}/oauth/token`, init);
      });
      const json = await res.json();
      if (res.status !== 200) throw new Error(`token for ${tenant}: ${res.status} ${JSON.stringify(json)}`);
      return json.access_token;
    },
    /** Claims signed by the tenant's own current key (its Durable Object), to test what the Worker accepts. */
    async sign(tenant, claims) {
      const ns = await mf.getDurableObjectNamespace('JOBS');
      return ns.get(ns.idFromName(tenant)).issueToken(claims);
    },
    async scheduled() {
      const worker = await mf.getWorker();
      return worker.scheduled({ cron: '17 * * * *', scheduledTime: new Date(clock.now()) });
    },
    async inspect(tenant, id) {
      const ns = await mf.getDurableObjectNamespace('JOBS');
      return JSON.parse(await ns.get(ns.idFromName(tenant)).inspect(id));
    },
    async dispose() {
      await mf.dispose();
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}
