// The export-jobs endpoints: create (validated by the package's wasm core), poll, and the errors report.
import { Exporter } from 'userexport';
import { jobsStub, tenantConfig } from './config.js';
import { apiError, isForm, json, readText } from './http.js';
import { signedLocation } from './links.js';

export const JOB_ID = /^job_[A-Za-z0-9]{16}$/;
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// Auth0's key orders (COMPATIBILITY.md); `location` only on a completed job.
const JOB_KEYS = ['type', 'status', 'connection_id', 'format', 'limit', 'fields', 'location', 'connection', 'created_at', 'id'];
const POLL_KEYS = [...JOB_KEYS, 'percentage_done', 'time_left_seconds', 'status_details'];
const FAILED_ERRORS_KEYS = ['status', 'type', 'created_at', 'id', 'connection_id', 'status_details'];

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

/** The request body as the core takes it: JSON text, or for a form the object its scalars make. */
function exportRequest(request, text) {
  if (!isForm(request)) return text.trim() === '' ? '{}' : text;
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
  return body;
}

export async function createJob(request, env, tenant, nowMs) {
  const read = await readText(request);
  if (read.response) return read.response;
  const body = exportRequest(request, read.text);
  let probe;
  try {
    // The core validates the body exactly as every other host of the package does.
    probe = new Exporter(body, { tenant });
  } catch (e) {
    if (e?.statusCode === 400) return apiError(400, e.message, e.errorCode ?? 'invalid_body');
    throw e;
  }
  const format = probe.format;
  const file = probe.fileName(true);
  probe.free();
  const req = typeof body === 'string' ? JSON.parse(body) : body;
  let connection;
  if (req.connection_id !== undefined) {
    const connections = tenantConfig(env, tenant).connections ?? {};
    connection = Object.hasOwn(connections, req.connection_id) ? connections[req.connection_id] : undefined;
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
  return json(200, pick(rec, JOB_KEYS));
}

export async function getJob(env, tenant, id, nowMs) {
  const stub = jobsStub(env, tenant);
  const rec = await stub.read(id, nowMs);
  if (!rec) return apiError(404, 'Job not found.', 'inexistent_job');
  const location = rec.status === 'completed' ? await signedLocation(env, stub, rec, nowMs) : undefined;
  return json(200, pick({ ...rec, location }, POLL_KEYS));
}

export async function getJobErrors(env, tenant, id, nowMs) {
  const rec = await jobsStub(env, tenant).read(id, nowMs);
  if (!rec) return apiError(404, 'The job does not exist', 'inexistent_job');
  if (rec.status === 'failed') return json(200, pick(rec, FAILED_ERRORS_KEYS));
  if (rec.status !== 'completed' || !rec.errorCount) return new Response(null, { status: 204 });
  const errors = await (await env.EXPORTS.get(`${rec.id}/errors.json`)).json();
  return json(
    200,
    errors.map((e) => ({
      user: pick({ user_id: e.userId }, ['user_id']),
      errors: [pick(e, ['code', 'message', 'line', 'index'])],
    })),
  );
}
