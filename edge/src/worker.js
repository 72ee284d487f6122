// The userexport Worker: Auth0's user-export jobs API (create, poll, errors, signed download) on Cloudflare Workers.
import { DurableObject } from 'cloudflare:workers';
import wasmModule from '../../pkg/userexport_bg.wasm';
import { initSync } from '../../pkg/userexport.js';
import { Exporter } from '../../pkg/workerd.js';
import { b64url, fromB64url, hmacKey, hmacSign, hmacVerify, verifyJwt } from './jwt.js';

const JOB_ID = /^job_[A-Za-z0-9]{16}$/;
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DAY_MS = 24 * 60 * 60 * 1000;
const LINK_SECONDS = 60;
// R2 wants every multipart part but the last to have one size, at least 5 MiB.
const DEFAULT_PART_BYTES = 5 * 1024 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;
const PUSH_BYTES = 256 * 1024;
// Progress is kept in memory for every poll and written to storage this often, so a restarted
// object still shows roughly where the job was.
const PERSIST_EVERY_MS = 2000;

const REASONS = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };
const READ_SCOPES = ['create:users', 'read:users'];
const CREATE_SCOPES = ['read:users'];

// ---------------------------------------------------------------------------------------------
// Configuration

/** TENANTS is `{ "<tenant>": { users, connections: {con_id: name}, lenient? } }` (object or its JSON text). */
function tenants(env) {
  const t = env.TENANTS;
  return typeof t === 'string' ? JSON.parse(t) : (t ?? {});
}

/** The clock: Date.now(), unless a CLOCK service (dev and tests) says what time it is. */
async function now(env) {
  if (!env.CLOCK) return Date.now();
  const res = await env.CLOCK.fetch('http://clock/');
  return Number(await res.text());
}

function linkKey(env) {
  // A separate secret may sign links; otherwise the token secret does, domain-separated by the
  // "userexport-download" prefix of every signed text (a JWT's signing input never has a newline).
  return hmacKey(env.LINK_SECRET || env.AUTH_SECRET);
}

// ---------------------------------------------------------------------------------------------
// Responses in the Management API's shapes

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

function apiError(status, message, errorCode) {
  const body = { statusCode: status, error: REASONS[status], message };
  if (errorCode) body.errorCode = errorCode;
  return json(status, body);
}

/** 401 as the Management API's hapi/Boom layer writes it (attributes + WWW-Authenticate). */
function unauthorized(message) {
  if (message === null) {
    return json(401, { statusCode: 401, error: 'Unauthorized', message: 'Missing authentication' }, { 'www-authenticate': 'Bearer' });
  }
  return json(
    401,
    { statusCode: 401, error: 'Unauthorized', message, attributes: { error: message } },
    { 'www-authenticate': `Bearer error="${message}"` },
  );
}

function s3Error(status, code, message) {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  return new Response(xml, { status, headers: { 'content-type': 'application/xml', 'cache-control': 'no-store' } });
}

// ---------------------------------------------------------------------------------------------
// Authentication

/** The tenant whose Management API audience `aud` names: https://<tenant>.<TENANT_DOMAIN>/api/v2/. */
function tenantOfAudience(aud, env) {
  const domain = (env.TENANT_DOMAIN ?? '').toLowerCase();
  for (const a of Array.isArray(aud) ? aud : [aud]) {
    if (typeof a !== 'string') continue;
    const m = /^https:\/\/([a-z0-9_-]{1,64})\.([^/]+)\/api\/v2\/?$/.exec(a);
    if (m && m[2].toLowerCase() === domain && Object.hasOwn(tenants(env), m[1])) return m[1];
  }
  return null;
}

/** `{tenant}` or `{response}` (401/403). */
async function authenticate(request, env, nowMs, anyOf) {
  const header = request.headers.get('authorization');
  if (header === null) return { response: unauthorized(null) };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return { response: unauthorized('Bad HTTP authentication header format') };
  if (!env.AUTH_SECRET) throw new Error('AUTH_SECRET is not configured');
  const v = await verifyJwt(m[1], env.AUTH_SECRET, Math.floor(nowMs / 1000));
  if (v.fail === 'malformed') return { response: unauthorized('Invalid token') };
  if (v.fail === 'signature') return { response: unauthorized('Invalid signature received for JSON Web Token validation') };
  if (v.fail === 'expired') return { response: unauthorized('Expired token received for JSON Web Token validation') };
  const { claims } = v;
  const tenant = tenantOfAudience(claims.aud, env);
  if (tenant === null) {
    const aud = Array.isArray(claims.aud) ? claims.aud.join(' ') : String(claims.aud ?? '');
    return { response: apiError(403, `Service not enabled within domain: ${aud}`) };
  }
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  if (!anyOf.some((s) => scopes.includes(s))) {
    return { response: apiError(403, `Insufficient scope, expected any of: ${anyOf.join(',')}`, 'insufficient_scope') };
  }
  return { tenant };
}

// ---------------------------------------------------------------------------------------------
// Jobs as the API shows them

function newJobId() {
  // Rejection sampling keeps the 62 characters equally likely.
  let id = 'job_';
  while (id.length < 20) {
    for (const b of crypto.getRandomValues(new Uint8Array(24))) {
      if (b < 248 && id.length < 20) id += ID_CHARS[b % 62];
    }
  }
  return id;
}

/** The members of `source` named in `keys`, in that order, leaving out those that are undefined. */
function pick(source, keys) {
  const v = {};
  for (const k of keys) if (source[k] !== undefined) v[k] = source[k];
  return v;
}

// Auth0's key orders (auth0-export-spec.md §1.2–1.4); `location` only on a completed job.
const JOB_KEYS = ['type', 'status', 'connection_id', 'format', 'limit', 'fields', 'location', 'connection', 'created_at', 'id'];
const POLL_KEYS = [...JOB_KEYS, 'percentage_done', 'time_left_seconds', 'status_details'];
const FAILED_ERRORS_KEYS = ['status', 'type', 'created_at', 'id', 'connection_id', 'status_details'];

/** The job body: Auth0's key order `type, status, connection_id, format, limit, fields, [location], connection, created_at, id`. */
function jobView(rec, location) {
  return pick({ ...rec, location }, JOB_KEYS);
}

function pollView(rec, location) {
  return pick({ ...rec, location }, POLL_KEYS);
}

async function signedLocation(env, origin, rec, nowMs) {
  const path = `/download/${rec.id}/${rec.file}`;
  const expires = Math.floor(nowMs / 1000) + LINK_SECONDS;
  const sig = await hmacSign(await linkKey(env), `userexport-download\n${path}\n${expires}`);
  return `${origin}${path}?Expires=${expires}&Signature=${b64url(sig)}`;
}

function jobsStub(env, tenant) {
  return env.JOBS.get(env.JOBS.idFromName(tenant));
}

// ---------------------------------------------------------------------------------------------
// Handlers

async function readBody(request) {
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) return { error: 'The request body is larger than 1 MiB.' };
  const type = (request.headers.get('content-type') ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    // Form bodies carry scalars; limit is a number there, fields (if any) its JSON text.
    const body = {};
    for (const [k, v] of new URLSearchParams(text)) {
      if (k === 'limit' && /^\d+$/.test(v)) body[k] = Number(v);
      else if (k === 'fields') {
        try {
          body[k] = JSON.parse(v);
        } catch {
          body[k] = v;
        }
      } else body[k] = v;
    }
    return { body };
  }
  return { body: text.trim() === '' ? '{}' : text };
}

async function createJob(request, env, tenant, nowMs) {
  const cfg = tenants(env)[tenant];
  const { body, error } = await readBody(request);
  if (error) return apiError(400, error, 'invalid_body');
  let probe;
  try {
    // The core validates the body exactly as every other host of the package does.
    probe = new Exporter(body, { tenant });
  } catch (e) {
    if (e.statusCode === 400) return apiError(400, e.message, e.errorCode ?? 'invalid_body');
    throw e;
  }
  const format = probe.format;
  const file = probe.fileName(true);
  probe.free();
  const req = typeof body === 'string' ? JSON.parse(body) : body;
  let connection;
  if (req.connection_id !== undefined) {
    connection = cfg.connections?.[req.connection_id];
    if (typeof connection !== 'string') return apiError(400, 'The connection does not exist.', 'invalid_body');
  }
  const rec = {
    type: 'users_export',
    status: 'pending',
    connection_id: req.connection_id,
    format,
    limit: req.limit,
    fields: req.fields,
    connection,
    created_at: new Date(nowMs).toISOString(),
    id: newJobId(),
    tenant,
    file,
    request: req,
    createdMs: nowMs,
    percentage_done: 0,
  };
  await jobsStub(env, tenant).create(rec);
  return json(200, jobView(rec));
}

async function getJob(env, tenant, id, origin, nowMs) {
  const rec = await jobsStub(env, tenant).read(id, nowMs);
  if (!rec) return apiError(404, 'Job not found.', 'inexistent_job');
  const location = rec.status === 'completed' ? await signedLocation(env, origin, rec, nowMs) : undefined;
  return json(200, pollView(rec, location));
}

async function getJobErrors(env, tenant, id, nowMs) {
  const rec = await jobsStub(env, tenant).read(id, nowMs);
  if (!rec) return apiError(404, 'The job does not exist', 'inexistent_job');
  if (rec.status === 'failed') {
    return json(200, pick(rec, FAILED_ERRORS_KEYS));
  }
  if (rec.status !== 'completed' || !rec.errors?.length) return new Response(null, { status: 204 });
  return json(
    200,
    rec.errors.map((e) => ({
      user: pick({ user_id: e.userId }, ['user_id']),
      errors: [pick(e, ['code', 'message', 'line', 'index'])],
    })),
  );
}

async function download(request, env, url, nowMs) {
  const m = /^\/download\/(job_[A-Za-z0-9]{16})\/([a-z0-9_-]{1,64}\.(?:csv|json)\.gz)$/.exec(url.pathname);
  if (!m || request.method !== 'GET') return s3Error(404, 'NoSuchKey', 'The specified key does not exist.');
  const expires = url.searchParams.get('Expires') ?? '';
  const sig = fromB64url(url.searchParams.get('Signature') ?? '');
  if (!/^\d{1,12}$/.test(expires) || !sig || !(await hmacVerify(await linkKey(env), sig, `userexport-download\n${url.pathname}\n${expires}`))) {
    return s3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
  if (Math.floor(nowMs / 1000) > Number(expires)) return s3Error(403, 'AccessDenied', 'Request has expired');
  const obj = await env.EXPORTS.get(`${m[1]}/${m[2]}`);
  if (!obj) return s3Error(404, 'NoSuchKey', 'The specified key does not exist.');
  // A plain gzip file, not Content-Encoding: consumers gunzip it themselves.
  return new Response(obj.body, {
    headers: {
      'content-type': 'application/gzip',
      'content-length': String(obj.size),
      'content-disposition': `attachment; filename="${m[2]}"`,
      'cache-control': 'private, no-store',
    },
  });
}

async function route(request, env) {
  const url = new URL(request.url);
  const nowMs = await now(env);
  if (url.pathname.startsWith('/download/')) return download(request, env, url, nowMs);
  const origin = env.PUBLIC_URL ? env.PUBLIC_URL.replace(/\/+$/, '') : url.origin;
  if (url.pathname === '/api/v2/jobs/users-exports' && request.method === 'POST') {
    const auth = await authenticate(request, env, nowMs, CREATE_SCOPES);
    if (auth.response) return auth.response;
    return createJob(request, env, auth.tenant, nowMs);
  }
  const m = /^\/api\/v2\/jobs\/([^/]+)(\/errors)?$/.exec(url.pathname);
  if (m && request.method === 'GET' && m[1] !== 'users-exports') {
    const auth = await authenticate(request, env, nowMs, READ_SCOPES);
    if (auth.response) return auth.response;
    const id = decodeURIComponent(m[1]);
    if (!JOB_ID.test(id)) {
      return apiError(
        400,
        "Path validation error: 'String does not match pattern ^job_[A-Za-z0-9]{16}$' on property id (The id of the job).",
        'invalid_uri',
      );
    }
    return m[2] ? getJobErrors(env, auth.tenant, id, nowMs) : getJob(env, auth.tenant, id, origin, nowMs);
  }
  return apiError(404, 'Not Found');
}

export default {
  async fetch(request, env) {
    try {
      return await route(request, env);
    } catch (e) {
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

// ---------------------------------------------------------------------------------------------
// One Durable Object per tenant: its job records, and the exports, run one at a time by alarm.

/** Writes a stream to R2 with at most one part in memory: one put when small, multipart when not. */
async function writeR2(bucket, key, stream, partBytes, httpMetadata) {
  const reader = stream.getReader();
  const buf = new Uint8Array(partBytes);
  let fill = 0;
  let total = 0;
  let upload = null;
  const parts = [];
  const flushPart = async () => {
    upload ??= await bucket.createMultipartUpload(key, { httpMetadata });
    parts.push(await upload.uploadPart(parts.length + 1, buf.slice(0, fill)));
    fill = 0;
  };
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      let chunk = r.value;
      total += chunk.byteLength;
      while (chunk.byteLength > 0) {
        const n = Math.min(chunk.byteLength, partBytes - fill);
        buf.set(chunk.subarray(0, n), fill);
        fill += n;
        chunk = chunk.subarray(n);
        if (fill === partBytes) await flushPart();
      }
    }
    if (upload) {
      if (fill > 0) await flushPart();
      await upload.complete(parts);
    } else {
      await bucket.put(key, buf.subarray(0, fill), { httpMetadata });
    }
    return total;
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    await upload?.abort().catch(() => {});
    throw e;
  }
}

/**
 * The NDJSON size of a users object, for percentage_done: its size, or for gzip the ISIZE
 * trailer (exact below 4 GiB; R2 reads come in chunks too large to count compressed bytes by).
 */
async function plainSize(bucket, key, size) {
  if (size < 18) return size;
  const head = new Uint8Array(await (await bucket.get(key, { range: { offset: 0, length: 2 } })).arrayBuffer());
  if (head[0] !== 0x1f || head[1] !== 0x8b) return size;
  const t = new Uint8Array(await (await bucket.get(key, { range: { suffix: 4 } })).arrayBuffer());
  return (t[0] | (t[1] << 8) | (t[2] << 16) | (t[3] << 24)) >>> 0;
}

/** Byte chunks of an R2 body, gunzipped when it starts with gzip's magic bytes. */
async function ndjsonReader(body) {
  const reader = body.getReader();
  const first = await reader.read();
  if (first.done) return reader;
  const head = first.value;
  const rest = new ReadableStream(
    {
      start(controller) {
        controller.enqueue(head);
      },
      async pull(controller) {
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  const gzipped = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  return (gzipped ? rest.pipeThrough(new DecompressionStream('gzip')) : rest).getReader();
}

/**
 * Source NDJSON -> wasm Exporter (which gzips) -> R2, one chunk at a time: the encoder holds one
 * record and one output chunk, the compressor its window, the R2 writer one part.
 */
async function exportToR2(source, rec, lenient, bucket, partBytes, onProgress) {
  const ex = new Exporter(rec.request, { tenant: rec.tenant, connection: rec.connection, lenient, gzip: true });
  const gzipped = new TransformStream();
  const writer = gzipped.writable.getWriter();
  const upload = writeR2(bucket, `${rec.id}/${rec.file}`, gzipped.readable, partBytes, { contentType: 'application/gzip' });
  const drain = async () => {
    for (let c = ex.pull(); c !== undefined; c = ex.pull()) {
      await writer.ready;
      await writer.write(c);
    }
  };
  // DecompressionStream hands out 4 KiB pieces; the encoder gets them in PUSH_BYTES batches so
  // the wasm calls and gzip writes per user stay few.
  const batch = new Uint8Array(PUSH_BYTES);
  let fill = 0;
  let pushed = 0;
  const push = async (bytes) => {
    ex.pushNdjson(bytes);
    pushed += bytes.byteLength;
    await drain();
    await onProgress(pushed);
  };
  const pump = async () => {
    const reader = await ndjsonReader(source);
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        const chunk = r.value;
        if (fill + chunk.byteLength > PUSH_BYTES && fill > 0) {
          await push(batch.subarray(0, fill));
          fill = 0;
          // When the streams settle without real I/O (R2 in workerd locally, cached reads) the
          // export would run as one chain of microtasks and starve every poll of this object;
          // a timer turn per batch lets them in.
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        if (chunk.byteLength >= PUSH_BYTES) await push(chunk);
        else {
          batch.set(chunk, fill);
          fill += chunk.byteLength;
        }
        // Past the limit nothing more is written, so the rest of the source is never read.
        if (ex.limitReached) break;
      }
      if (fill > 0 && !ex.limitReached) await push(batch.subarray(0, fill));
      ex.finish();
      await drain();
      await writer.close();
    } catch (e) {
      await writer.abort(e).catch(() => {});
      throw e;
    } finally {
      await reader.cancel().catch(() => {});
    }
    return { stats: ex.stats, errors: ex.errors };
  };
  try {
    const [summary, gzipBytes] = await Promise.all([pump(), upload]);
    return { ...summary, gzipBytes };
  } finally {
    ex.free();
  }
}

export class ExportJobs extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    /** Progress of the running export, newer than storage between persists. */
    this.live = null;
  }

  async create(rec) {
    await this.ctx.storage.put(`job:${rec.id}`, rec);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  /** The record, or null when it never was, belongs elsewhere, or is past 24 hours (then removed). */
  async read(id, nowMs) {
    const rec = await this.ctx.storage.get(`job:${id}`);
    if (!rec) return null;
    if (nowMs - rec.createdMs >= DAY_MS) {
      await this.remove(rec);
      return null;
    }
    if (this.live?.id === id) Object.assign(rec, this.live.view);
    return rec;
  }

  async remove(rec) {
    await this.ctx.storage.delete(`job:${rec.id}`);
    await this.env.EXPORTS.delete(`${rec.id}/${rec.file}`);
  }

  async purge(nowMs) {
    let removed = 0;
    for (const rec of (await this.ctx.storage.list({ prefix: 'job:' })).values()) {
      if (nowMs - rec.createdMs >= DAY_MS && this.live?.id !== rec.id) {
        await this.remove(rec);
        removed++;
      }
    }
    return removed;
  }

  async alarm() {
    const waiting = [...(await this.ctx.storage.list({ prefix: 'job:' })).values()]
      .filter((r) => r.status === 'pending' || r.status === 'processing')
      .sort((a, b) => a.createdMs - b.createdMs);
    if (waiting.length === 0) return;
    // A job left `processing` by an evicted object starts over: its R2 object is rewritten whole.
    await this.run(waiting[0]);
    if (waiting.length > 1) await this.ctx.storage.setAlarm(Date.now());
  }

  async run(rec) {
    const { env } = this;
    const cfg = tenants(env)[rec.tenant];
    const started = Date.now();
    rec.status = 'processing';
    rec.percentage_done = 0;
    delete rec.time_left_seconds;
    await this.ctx.storage.put(`job:${rec.id}`, rec);
    this.live = { id: rec.id, view: { status: 'processing', percentage_done: 0 } };
    let lastPersist = started;
    try {
      if (!cfg) throw new Error(`The tenant ${rec.tenant} is no longer configured.`);
      const source = await env.USERS.get(cfg.users);
      if (!source) throw new Error(`The users source "${cfg.users}" is missing from the USERS bucket.`);
      const total = await plainSize(env.USERS, cfg.users, source.size);
      const onProgress = async (pushed) => {
        const view = { status: 'processing', percentage_done: total > 0 ? Math.min(99, Math.floor((pushed * 100) / total)) : 0 };
        if (pushed > 0 && pushed < total) view.time_left_seconds = Math.round(((Date.now() - started) / 1000) * ((total - pushed) / pushed));
        this.live.view = view;
        if (Date.now() - lastPersist >= PERSIST_EVERY_MS) {
          lastPersist = Date.now();
          await this.ctx.storage.put(`job:${rec.id}`, { ...rec, ...view });
        }
      };
      const partBytes = Number(env.R2_PART_BYTES) || DEFAULT_PART_BYTES;
      const summary = await exportToR2(source.body, rec, cfg.lenient === true, env.EXPORTS, partBytes, onProgress);
      const gzipBytes = summary.gzipBytes;
      rec.status = 'completed';
      rec.percentage_done = 100;
      rec.time_left_seconds = 0;
      rec.errors = summary.errors;
      rec.stats = {
        ...summary.stats,
        gzipBytes,
        sourceBytes: source.size,
        plainBytes: total,
        durationMs: Date.now() - started,
        // Linear memory of the wasm encoder after the run: flat whatever the export's size.
        wasmMemoryBytes: initSync({ module: wasmModule }).memory.buffer.byteLength,
      };
    } catch (e) {
      console.warn(`userexport edge: job ${rec.id} (${rec.tenant}) failed: ${e?.message ?? e}`);
      rec.status = 'failed';
      rec.status_details = e?.message ?? String(e);
      rec.percentage_done = this.live.view.percentage_done;
      delete rec.time_left_seconds;
      await env.EXPORTS.delete(`${rec.id}/${rec.file}`).catch(() => {});
    } finally {
      this.live = null;
    }
    await this.ctx.storage.put(`job:${rec.id}`, rec);
  }

  /** For tests and `edge/dev.mjs` only: the whole record, stats included. */
  async inspect(id) {
    return JSON.stringify((await this.ctx.storage.get(`job:${id}`)) ?? null);
  }
}
