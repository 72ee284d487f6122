// Shared by the edge tests: the CLI as the reference output, polling, and the auth0 SDK pointed at the local Worker.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { ManagementClient } from 'auth0';
import { ROOT } from '../lib/edge.mjs';

/** The package CLI's export of `input` for `request` (connection by name): the bytes the Worker must serve. */
export function cliExport(input, request, { tenant, connection, lenient } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cli-'));
  try {
    const { connection_id: _ignored, ...body } = request;
    writeFileSync(join(dir, 'request.json'), JSON.stringify(body));
    const out = join(dir, 'out');
    const args = [join(ROOT, 'bin', 'userexport.mjs'), input, '--request-file', join(dir, 'request.json'), '--out', out, '--quiet'];
    if (tenant) args.push('--tenant', tenant);
    if (connection) args.push('--connection', connection);
    if (lenient) args.push('--lenient');
    execFileSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The official SDK, unpatched: its documented `fetch` option sends what it would send to
 * https://<tenant>.<domain>/… (the API and /oauth/token) to the local Worker instead. `auth` is
 * a token or `{clientId, clientSecret}`; `seen` collects every path the SDK asks for, `tokens`
 * every access token /oauth/token gave it.
 */
export function sdkClient(edge, tenant, auth, { domain = 'userexport.test', seen = [], tokens = [] } = {}) {
  const local = new URL(edge.url);
  return new ManagementClient({
    domain: `${tenant}.${domain}`,
    ...(typeof auth === 'string' ? { token: auth } : auth),
    maxRetries: 0,
    fetch: async (input, init) => {
      const u = new URL(input instanceof Request ? input.url : String(input));
      seen.push(u.pathname);
      u.protocol = local.protocol;
      u.host = local.host;
      const res = await (input instanceof Request ? fetch(new Request(u, input), init) : fetch(u, init));
      if (u.pathname === '/oauth/token' && res.ok) tokens.push((await res.clone().json()).access_token);
      return res;
    },
  });
}

export async function until(fn, { timeoutMs = 60_000, everyMs = 50 } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const bearer = (token) => ({ authorization: `Bearer ${token}` });

export async function api(edge, method, path, { token, body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) Object.assign(init.headers, bearer(token));
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(edge.url + path, init);
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

/** Creates a job and waits until it is completed or failed. */
export async function runJob(edge, token, body, onPoll = () => {}) {
  const created = await api(edge, 'POST', '/api/v2/jobs/users-exports', { token, body });
  if (created.status !== 200) throw new Error(`create: ${created.status} ${created.text}`);
  const done = await until(async () => {
    const r = await api(edge, 'GET', `/api/v2/jobs/${created.json.id}`, { token });
    onPoll(r.json);
    return r.json.status === 'completed' || r.json.status === 'failed' ? r : null;
  });
  return { created: created.json, job: done.json };
}

/** A request through node:http, which sends the Host header it is given (fetch would not). */
export function rawRequest(edge, { method = 'GET', path, headers = {}, body }) {
  const u = new URL(edge.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
