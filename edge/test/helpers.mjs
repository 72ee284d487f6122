// Shared by the edge tests: the CLI as the reference output, polling, and the auth0 SDK pointed at the local Worker.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { ManagementClient } from 'auth0';
import { ROOT } from '../lib/edge.mjs';
import { xorshift32 } from '../../tests/seeded.mjs';

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
  let res;
  try {
    res = await fetch(edge.url + path, init);
  } catch (e) {
    // A keep-alive socket the server closed just as it was reused (the race fuzz.test.mjs
    // describes): a GET is sent again once, on a new connection.
    if (method !== 'GET' || !['UND_ERR_SOCKET', 'ECONNRESET'].includes(e?.cause?.code)) throw e;
    res = await fetch(edge.url + path, init);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

/** Creates a job and waits until it is completed or failed. */
export async function runJob(edge, token, body, onPoll = () => {}, { timeoutMs = 60_000, everyMs = 50 } = {}) {
  const created = await api(edge, 'POST', '/api/v2/jobs/users-exports', { token, body });
  if (created.status !== 200) throw new Error(`create: ${created.status} ${created.text}`);
  const done = await until(async () => {
    const r = await api(edge, 'GET', `/api/v2/jobs/${created.json.id}`, { token });
    onPoll(r.json);
    return r.json.status === 'completed' || r.json.status === 'failed' ? r : null;
  }, { timeoutMs, everyMs });
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

/**
 * The CLI's export of `input` (lenient) with its report of skipped records: `{ bytes, skipped }`,
 * each skipped record as the core words it ("line N: …", the stream's line numbers).
 */
export function cliExportLenient(input, request, { tenant, connection } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cli-'));
  try {
    const { connection_id: _ignored, ...body } = request;
    writeFileSync(join(dir, 'request.json'), JSON.stringify(body));
    const out = join(dir, 'out');
    const args = [join(ROOT, 'bin', 'userexport.mjs'), input, '--request-file', join(dir, 'request.json'), '--out', out, '--lenient'];
    if (tenant) args.push('--tenant', tenant);
    if (connection) args.push('--connection', connection);
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`CLI exit ${r.status}: ${r.stderr}`);
    const prefix = `userexport: skipped ${input}: `;
    const skipped = r.stderr.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
    return { bytes: readFileSync(out), skipped };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Deterministic Auth0-style NDJSON users (xorshift32), ~650 bytes each, with a bad record every
 * `badEvery` lines when given (invalid JSON, a non-object, a duplicate key, or a blank line):
 * the same bytes on every run (for one `seed`).
 */
export function fakeUsers(count, { badEvery = 0, start = 0, seed = 0x2545f491 } = {}) {
  // `start`: the number of the first user, for a file written in batches (each batch its own seed).
  const next = xorshift32(start ? seed ^ Math.imul(start, 0x9e3779b1) : seed);
  const rand = () => next() / 2 ** 32;
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const hex = (n) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  const conns = ['Username-Password-Authentication', 'google-oauth2', 'github'];
  const lines = [];
  for (let i = start; i < start + count; i++) {
    if (badEvery && i % badEvery === badEvery - 1) {
      lines.push(pick([`{"user_id":"auth0|bad${i}",}`, '[1,2]', `{"user_id":"auth0|dup${i}","a":1,"a":2}`, '']));
      continue;
    }
    const id = hex(24);
    const conn = pick(conns);
    const t = Date.UTC(2021, 0, 1) + Math.floor(rand() * 1e11);
    lines.push(
      JSON.stringify({
        user_id: `${conn === 'github' ? 'github' : 'auth0'}|${id}`,
        email: `user.${i}@example.com`,
        email_verified: rand() < 0.7,
        name: `${pick(['Ada', 'Grace', 'Zoë', '美咲', "O'Neil"])} ${pick(['Lovelace', '=cmd|x', 'Smith, Jr.', '"Q"'])}`,
        nickname: `nick${i}`,
        picture: `https://example.com/a/${id}.png`,
        created_at: new Date(t).toISOString(),
        updated_at: new Date(t + 1e9).toISOString(),
        last_login: new Date(t + 2e9).toISOString(),
        last_ip: `198.51.100.${i % 256}`,
        logins_count: Math.floor(rand() * 1000),
        identities: [{ connection: conn, user_id: id, provider: 'auth0', isSocial: false }],
        app_metadata: { plan: pick(['free', 'pro', null]), roles: ['a', 'b'] },
        user_metadata: { bio: `line one\nline "two" ${hex(32)}` },
      }),
    );
  }
  return Buffer.from(lines.join('\n') + '\n');
}

/** The lenient report of a completed job as the core words each skipped record ("line N: …"). */
export async function jobErrors(edge, token, id) {
  const r = await api(edge, 'GET', `/api/v2/jobs/${id}/errors`, { token });
  if (r.status === 204) return [];
  return r.json.map((u) => u.errors[0].message);
}
