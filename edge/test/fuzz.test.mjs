// Route fuzz: 10 000 seeded random requests (methods, paths, escapes, headers, bodies, tokens) to the Worker in workerd; no 5xx, every body well-formed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { randomInt } from 'node:crypto';
import { startEdge, foreignToken, DEV_DOMAIN } from '../lib/edge.mjs';
import { runJob } from './helpers.mjs';
import { mulberry32 as prng } from '../../tests/seeded.mjs';

const COUNT = Number(process.env.EDGE_FUZZ_REQUESTS ?? 10_000);
const SEED = Number(process.env.EDGE_FUZZ_SEED ?? randomInt(2 ** 31));
const PARALLEL = 8;
let resets = 0;
const USERS = Array.from({ length: 10 }, (_, i) => JSON.stringify({ user_id: `auth0|${i}`, email: `u${i}@example.com`, identities: [{ connection: 'db' }] })).join('\n');


let edge;
let pool;
const agent = new Agent({ keepAlive: true, maxSockets: PARALLEL });
before(async () => {
  edge = await startEdge({
    tenants: {
      acme: { config: { users: 'acme.ndjson', connections: { con_ftSSLHb0O7rcUGmF: 'db' } }, seed: { 'acme.ndjson': Buffer.from(USERS) } },
      globex: { config: { users: 'missing.ndjson', connections: {}, lenient: true } },
    },
  });
  const acme = await edge.token({ tenant: 'acme' });
  const { created, job } = await runJob(edge, acme, { format: 'csv', limit: 2 });
  const nowS = Math.floor(Date.now() / 1000);
  const iss = `https://acme.${DEV_DOMAIN}/`;
  const aud = `https://acme.${DEV_DOMAIN}/api/v2/`;
  // Tokens: good ones, narrow ones, other tenants', foreign, odd claims signed by acme's own key.
  const tokens = [
    acme,
    await edge.token({ tenant: 'acme', scope: 'read:users' }),
    await edge.token({ tenant: 'acme', scope: 'read:clients' }),
    await edge.token({ tenant: 'globex' }),
    await foreignToken({ tenant: 'acme' }),
    await foreignToken({ tenant: 'initech' }),
    await foreignToken({ tenant: 'acme', secret: 'guess' }),
  ];
  const odd = [
    { aud: ['x', aud], iss, exp: nowS + 600 },
    { aud: { __proto__: aud }, iss, exp: nowS + 600 },
    { aud: `https://__proto__.${DEV_DOMAIN}/api/v2/`, iss, exp: nowS + 600 },
    { aud, iss, exp: 'soon', scope: ['read:users'] },
    { aud, iss, exp: nowS + 600, scope: 42, nbf: {} },
    { aud, iss, exp: 1e308, iat: -1, scope: 'read:users' },
    { aud, iss: [iss], exp: nowS + 600, scope: 'read:users' },
  ];
  for (const c of odd) tokens.push(await edge.sign('acme', c));
  pool = { tokens, jobId: created.id, location: new URL(job.location), kid: JSON.parse(Buffer.from(acme.split('.')[0], 'base64url')).kid, acme: edge.clients.acme };
});
after(async () => {
  agent.destroy();
  await edge?.dispose();
});

/** One random request: `{method, path, headers, body, chunked}`. */
function randomRequest(rand) {
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const chance = (p) => rand() < p;
  const int = (n) => Math.floor(rand() * n);
  const ascii = (n, from = 0x21, to = 0x7e) => Array.from({ length: n }, () => String.fromCharCode(from + int(to - from + 1))).join('');
  const escapes = ['%', '%Z', '%ZZ', '%E0%A4%A', '%C0%AF', '%00', '%2F', '%2e%2e', '%FF', '%ED%A0%80', '%F0%9F%98%80', '..', '.', '~', '%25', '+', ';', ':', '@'];
  const segment = () =>
    pick([
      () => pool.jobId,
      () => `job_${ascii(16, 0x30, 0x7a)}`,
      () => `job_${ascii(int(20))}`,
      () => pick(escapes),
      () => ascii(int(40)).replace(/[?#]/g, ''),
      () => Array.from({ length: 1 + int(4) }, () => pick(escapes)).join(pool.jobId.slice(0, int(20))),
      () => 'users-exports',
      () => pool.kid,
      () => 'x'.repeat(int(3000)),
      () => '',
    ])();
  const { location } = pool;
  const linkQuery = () => {
    const q = new URLSearchParams(location.search);
    const mutate = pick([
      () => q.set('Expires', pick(['', '-1', '1e3', '99999999999999', String(Number(q.get('Expires')) + int(100)), ascii(5)])),
      () => q.set('Signature', pick(['', ascii(43), q.get('Signature').slice(1), `${q.get('Signature')}A`, '%%%'])),
      () => q.delete(pick(['Expires', 'Signature'])),
      () => q.append('Signature', 'x'),
      () => {},
    ]);
    mutate();
    return q.toString().replace(/%25/g, pick(['%25', '%']));
  };
  // Each path with the method its route answers; most requests use it, the rest any method.
  const [path, routeMethod] = pick([
    () => ['/api/v2/jobs/users-exports', 'POST'],
    () => [`/api/v2/jobs/${segment()}`, 'GET'],
    () => [`/api/v2/jobs/${pool.jobId}`, 'GET'],
    () => [`/api/v2/jobs/${segment()}/errors`, 'GET'],
    () => [`/api/v2/jobs/${segment()}/${segment()}`, 'GET'],
    () => ['/oauth/token', 'POST'],
    () => ['/.well-known/jwks.json', 'GET'],
    () => [`${location.pathname}?${linkQuery()}`, 'GET'],
    () => [`/download/${segment()}/${pick(['acme.csv.gz', 'globex.json.gz', '__proto__.csv.gz', segment()])}?${linkQuery()}`, 'GET'],
    () => ['/api/v2/keys/signing', 'GET'],
    () => ['/api/v2/keys/signing/rotate', 'POST'],
    () => [`/api/v2/keys/signing/${segment()}/revoke`, 'PUT'],
    () => [`/${segment()}/${segment()}`, 'GET'],
    () => [`/api/v2/jobs/users-exports?${ascii(int(30))}`, 'POST'],
    () => [`//${segment()}`, 'GET'],
    () => [`/api/v2/${pick(escapes)}jobs/${segment()}`, 'GET'],
  ])();
  const token = () => pick(pool.tokens);
  const headers = {};
  const auth = pick([
    () => undefined,
    () => `Bearer ${token()}`,
    () => `Bearer ${token()}`,
    () => `bearer  ${token()} `,
    () => `Bearer ${token().slice(0, int(200))}`,
    () => `Bearer ${token().replace(/[A-Za-z]/, 'x')}`,
    () => `Bearer ${ascii(int(100))}`,
    () => `Bearer ${Buffer.from(pick(['{"alg":"none"}', '{"alg":"RS256","kid":{}}', '{', '[]', 'null', '{"alg":"HS256","crit":["x"]}'])).toString('base64url')}.${Buffer.from(pick(['{}', '{"aud":[]}', '{"aud":null}', 'null', '1', '{"aud":"https://acme.userexport.test/api/v2/","exp":1e999}'])).toString('base64url')}.${ascii(int(50), 0x41, 0x5a)}`,
    () => `Basic ${Buffer.from(`${pool.acme.id}:${chance(0.5) ? pool.acme.secret : ascii(8)}`).toString('base64')}`,
    () => `Basic ${ascii(int(30))}`,
    () => 'Bearer',
    () => `Bearer ${'a.'.repeat(int(2000))}`,
  ])();
  if (auth !== undefined) headers.authorization = auth;
  const type = pick([undefined, 'application/json', 'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', ascii(int(30), 0x20)]);
  if (type !== undefined) headers['content-type'] = type;
  // Hosts are host names: one that is not never reaches a Worker (Cloudflare's edge refuses it,
  // and so does workerd's own HTTP server, with a 500 of its own, before any Worker code runs).
  if (chance(0.3)) headers.host = pick([`acme.${DEV_DOMAIN}`, 'evil.example', `__proto__.${DEV_DOMAIN}`, `${ascii(1 + int(20), 0x61, 0x7a)}.${DEV_DOMAIN}`, `globex.${DEV_DOMAIN}:443`, '[::1]:80']);
  if (chance(0.2)) headers[`x-${ascii(5, 0x61, 0x7a)}`] = ascii(int(200), 0x20);
  if (chance(0.1)) headers['cf-connecting-ip'] = ascii(int(20), 0x20);
  const method = chance(0.75) ? routeMethod : pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
  let body;
  if (method !== 'GET' && method !== 'HEAD' && chance(0.8)) {
    const json = (v) => JSON.stringify(v);
    body = pick([
      () => json({ format: pick(['csv', 'json', 'xml', 1, null]), limit: pick([1, 0, -1, 1e20, '5', undefined]), connection_id: pick(['con_ftSSLHb0O7rcUGmF', 'con_x', '__proto__', undefined]) }),
      () => json({ fields: Array.from({ length: int(40) }, () => ({ name: pick(['email', 'user_id', 'app_metadata.x', '__proto__', ascii(int(10))]), export_as: pick([undefined, ascii(int(8))]) })) }),
      () => json({ grant_type: pick(['client_credentials', 'password', 1]), client_id: pick([pool.acme.id, '__proto__', 'x']), client_secret: pick([pool.acme.secret, ascii(10), []]), audience: pick([`https://acme.${DEV_DOMAIN}/api/v2/`, `https://globex.${DEV_DOMAIN}/api/v2/`, 'x', {}]), scope: pick([undefined, 'read:users', 'admin', 7]) }),
      () => new URLSearchParams({ grant_type: 'client_credentials', client_id: pool.acme.id, client_secret: pool.acme.secret, audience: `https://acme.${DEV_DOMAIN}/api/v2/`, format: 'csv', limit: String(int(5)), fields: pick(['[{"name":"email"}]', '[', 'x']) }).toString(),
      () => pick(['{', '[]', 'null', '""', '1e999', '{"a":' + '['.repeat(500), '{"format":"csv","format":"json"}', '\uFEFF{}', ' ']),
      () => '['.repeat(int(100_000)),
      () => Buffer.from(Array.from({ length: int(2000) }, () => int(256))),
      () => json(pick([[], {}, 1, 'x', true])),
      () => (chance(0.3) ? 'x'.repeat(1024 * 1024 + int(3)) : ''),
    ])();
  }
  // Framed either way on purpose: Node would send a GET's or DELETE's body unframed otherwise.
  const chunked = body !== undefined && chance(0.3);
  if (body !== undefined) {
    if (chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(Buffer.byteLength(body));
  }
  return { method, path, headers, body, chunked };
}

/**
 * Sends one request. Bodies past the limit go on their own connection, which the Worker may close
 * before it has read them all (it answers 413 first). A connection reset before any answer is
 * retried once on a new connection: a keep-alive socket the server closed as it was reused (the
 * race Node's documentation describes for `reusedSocket`), or one closed with an unread body.
 */
function send({ method, path, headers, body, chunked }, retried = false) {
  const u = new URL(edge.url);
  const big = body !== undefined && body.length > 1024 * 1024;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(
      { agent: big || retried ? false : agent, host: u.hostname, port: u.port, method, path, headers, setHost: headers.host === undefined },
      (res) => {
        answered = true;
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', (e) => {
      if (answered) return;
      if (!retried && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
        resets++;
        resolve(send({ method, path, headers, body, chunked }, true));
        return;
      }
      reject(new Error(`${e.code ?? e.message} on ${method} ${path.slice(0, 120)} ${JSON.stringify(headers).slice(0, 400)} (${body?.length ?? 0} body bytes${chunked ? ', chunked' : ''}; reused socket: ${req.reusedSocket})`));
    });
    if (body === undefined) req.end();
    else if (chunked) {
      req.write(body);
      req.end();
    } else req.end(body);
  });
}

const XML = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>[A-Za-z]+<\/Code><Message>[^<]+<\/Message><\/Error>$/;

/** Why an answer is not well-formed, or null when it is. */
function problem(req, res) {
  if (res.status >= 500) return `status ${res.status}`;
  if (![200, 201, 204, 400, 401, 403, 404, 413, 429].includes(res.status)) return `unexpected status ${res.status}`;
  for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) {
    if (!/^\d+$/.test(res.headers[h] ?? '')) return `no ${h}`;
  }
  if (req.method === 'HEAD' || res.status === 204) return res.bytes.length === 0 ? null : 'a body where none belongs';
  const type = res.headers['content-type'] ?? '';
  const text = res.bytes.toString('utf8');
  if (type === 'application/xml') return XML.test(text) && res.status >= 400 ? null : `bad XML error: ${text.slice(0, 200)}`;
  if (type === 'application/gzip') return res.status === 200 && res.bytes[0] === 0x1f && res.bytes[1] === 0x8b ? null : 'bad gzip';
  if (type !== 'application/json; charset=utf-8') return `content-type ${type}`;
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 200)}`;
  }
  if (res.status < 400) return v !== null && typeof v === 'object' ? null : 'a 2xx body that is no object';
  const oauth = typeof v.error === 'string' && typeof v.error_description === 'string' && Object.keys(v).length === 2;
  const envelope = v.statusCode === res.status && typeof v.error === 'string' && typeof v.message === 'string';
  return envelope || oauth ? null : `bad error body: ${text.slice(0, 200)}`;
}

test(`${COUNT} random requests: no 5xx, every answer well-formed`, { timeout: 300_000 }, async (t) => {
  const rand = prng(SEED);
  const requests = Array.from({ length: COUNT }, () => randomRequest(rand));
  const statuses = {};
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < requests.length) {
      const i = next++;
      const req = requests[i];
      const res = await send(req);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const why = problem(req, res);
      if (why) {
        const shown = { ...req, body: req.body === undefined ? undefined : String(req.body).slice(0, 300) };
        assert.fail(`seed ${SEED} (EDGE_FUZZ_SEED=${SEED}), request #${i}: ${why}\n${JSON.stringify(shown)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  const report = `fuzz seed ${SEED}: ${COUNT} requests in ${seconds} s, statuses ${JSON.stringify(statuses)}, ${resets} connections reset and resent`;
  t.diagnostic(report);
  // The mix reaches past authentication: jobs are found, created, refused for their bodies.
  for (const s of [200, 400, 401, 403, 404]) assert.ok(statuses[s] > 0, `no ${s} in ${JSON.stringify(statuses)}`);
});
