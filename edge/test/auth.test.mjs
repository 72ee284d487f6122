// Tokens as Auth0 makes them (RS256, JWKS, claims, rotation), the client-credentials grant, link keys, public origins, body limits and rate limits, in workerd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startEdge, sampleTenant, foreignToken, sha256Hex, DEV_DOMAIN } from '../lib/edge.mjs';
import { api, rawRequest, runJob } from './helpers.mjs';

const JOB = '/api/v2/jobs/job_0000000000000000';
const JOBS = '/api/v2/jobs/users-exports';
const AUD = (t) => `https://${t}.${DEV_DOMAIN}/api/v2/`;
const ISS = (t) => `https://${t}.${DEV_DOMAIN}/`;
const DEV_SECRET = 'dev-only-hs256-secret-for-this-test-0123456789';
const READER = { id: 'reader', secret: 'reader-secret-0123456789abcdefghijklmnop' };

let edge;
let acme;
before(async () => {
  const acmeTenant = sampleTenant('acme');
  edge = await startEdge({
    tenants: {
      acme: acmeTenant,
      globex: { ...sampleTenant('globex'), config: { ...sampleTenant('globex').config, public_url: 'https://files.globex.example/' } },
      // A client granted read:users only, and a bucket of 3 requests that refills once in 1000 s.
      limited: {
        config: {
          ...sampleTenant('limited').config,
          clients: { [READER.id]: { secret_sha256: sha256Hex(READER.secret), scopes: ['read:users'] } },
          rate_limit: { limit: 3, per_second: 0.001 },
        },
      },
    },
  });
  acme = await edge.token({ tenant: 'acme' });
});
after(() => edge?.dispose());

const nowS = () => Math.floor(edge.clock.now() / 1000);
const claimsFor = (t, over = {}) => {
  const iat = nowS();
  const c = { iss: ISS(t), sub: 'test@clients', aud: AUD(t), iat, exp: iat + 600, scope: 'read:users', ...over };
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
};
const status = async (token) => (await api(edge, 'GET', JOB, { token })).status;
const message = async (token) => (await api(edge, 'GET', JOB, { token })).json.message;

test('an issued token is RS256, names its key, and verifies against the JWKS at /.well-known/jwks.json', async () => {
  const header = decodeProtectedHeader(acme);
  assert.equal(header.alg, 'RS256');
  assert.equal(header.typ, 'JWT');
  const jwksRes = await rawRequest(edge, { path: '/.well-known/jwks.json', headers: { host: `acme.${DEV_DOMAIN}` } });
  assert.equal(jwksRes.status, 200);
  const { keys } = jwksRes.json;
  assert.deepEqual(keys.map((k) => k.kid), [header.kid]);
  assert.deepEqual(Object.keys(keys[0]).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'], 'public halves only');
  // A third party that knows only the JWKS can check the token, claims included.
  const { payload } = await jwtVerify(acme, createLocalJWKSet(jwksRes.json), { issuer: ISS('acme'), audience: AUD('acme') });
  assert.equal(payload.gty, 'client-credentials');
  assert.equal(payload.sub, 'acme-client@clients');
  assert.equal(payload.exp - payload.iat, 86_400);
  // Each tenant has its own keys; an unknown host has no JWKS.
  const globex = await rawRequest(edge, { path: '/.well-known/jwks.json', headers: { host: `globex.${DEV_DOMAIN}` } });
  assert.notEqual(globex.json.keys[0].kid, header.kid);
  assert.equal((await rawRequest(edge, { path: '/.well-known/jwks.json', headers: { host: 'evil.example' } })).status, 404);
});

test('iss, aud and exp are required; nbf and iat are honoured with 30 s of skew', async () => {
  const t = 'acme';
  const sign = (over) => edge.sign(t, claimsFor(t, over));
  assert.equal(await status(await sign({})), 404, 'a well-formed token reaches the route');
  assert.equal(await message(await sign({ exp: undefined })), 'Invalid token', 'no exp: never expires is refused');
  assert.equal(await message(await sign({ iss: undefined })), 'Invalid token');
  assert.equal(await message(await sign({ iss: 'https://evil.example/' })), 'Invalid token');
  assert.equal(await message(await sign({ nbf: nowS() + 3600 })), 'Invalid token', 'nbf an hour ahead');
  assert.equal(await status(await sign({ nbf: nowS() + 20 })), 404, 'nbf within the skew');
  assert.equal(await message(await sign({ iat: nowS() + 3600 })), 'Invalid token', 'issued an hour in the future');
  assert.equal(await status(await sign({ iat: nowS() + 20 })), 404, 'iat within the skew');
  assert.equal(await message(await sign({ exp: nowS() - 31 })), 'Expired token received for JSON Web Token validation');
  assert.equal(await status(await sign({ exp: nowS() - 20 })), 404, 'exp within the skew');
  assert.equal(await message(await sign({ exp: 'tomorrow' })), 'Invalid token');
  // No aud at all: not a Management API token.
  assert.equal(await message(await sign({ aud: undefined })), 'Invalid token');
});

test('tenant isolation: a token signed by one tenant\'s key is refused by every other tenant', async () => {
  const crossed = await edge.sign('acme', claimsFor('globex'));
  assert.equal(await message(crossed), 'Invalid signature received for JSON Web Token validation');
  const stranger = await foreignToken({ tenant: 'acme', header: { kid: decodeProtectedHeader(acme).kid } });
  assert.equal(await message(stranger), 'Invalid signature received for JSON Web Token validation');
});

test('algorithms: RS256 only; HS256 signed with the public key or a guessed secret is refused; alg none is refused', async () => {
  const jwks = (await rawRequest(edge, { path: '/.well-known/jwks.json', headers: { host: `acme.${DEV_DOMAIN}` } })).text;
  for (const secret of [jwks, JSON.parse(jwks).keys[0].n, DEV_SECRET]) {
    assert.equal(await message(await foreignToken({ tenant: 'acme', secret })), 'Invalid token');
  }
  const [, payload] = acme.split('.');
  assert.equal(await message(`${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`), 'Invalid token');
  assert.equal(await message(`${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${payload}.`), 'Invalid signature received for JSON Web Token validation');
});

test('HS256 is a local-development switch: with DEV_HS256_SECRET set it works, with the right secret only', async () => {
  const dev = await startEdge({ devHs256Secret: DEV_SECRET, publicUrl: null });
  try {
    const ok = await foreignToken({ tenant: 'acme', secret: DEV_SECRET });
    assert.equal((await api(dev, 'GET', JOB, { token: ok })).status, 404);
    const wrong = await foreignToken({ tenant: 'acme', secret: 'another-secret' });
    assert.equal((await api(dev, 'GET', JOB, { token: wrong })).json.message, 'Invalid signature received for JSON Web Token validation');
    const noExp = await foreignToken({ tenant: 'acme', secret: DEV_SECRET, claims: { exp: undefined } });
    assert.equal((await api(dev, 'GET', JOB, { token: noExp })).json.message, 'Invalid token');
    // RS256 tokens keep working next to it.
    const rs = await dev.token({ tenant: 'acme' });
    assert.equal((await api(dev, 'GET', JOB, { token: rs })).status, 404);
    // This instance has no PUBLIC_URL: links go to the tenant's https://<tenant>.<TENANT_DOMAIN>.
    const { job } = await runJob(dev, rs, { limit: 1 });
    assert.ok(job.location.startsWith(`https://acme.${DEV_DOMAIN}/download/`), job.location);
  } finally {
    await dev.dispose();
  }
});

test('rotation: a new key signs, the old one verifies until revoked, the current one cannot be revoked', async () => {
  const admin = await edge.token({ tenant: 'globex' });
  const before = await edge.token({ tenant: 'globex', scope: 'read:users' });
  const oldKid = decodeProtectedHeader(before).kid;
  assert.equal((await api(edge, 'POST', '/api/v2/keys/signing/rotate', { token: await edge.token({ tenant: 'globex', scope: 'create:signing_keys' }) })).status, 403);
  const rotated = await api(edge, 'POST', '/api/v2/keys/signing/rotate', { token: admin });
  assert.equal(rotated.status, 201);
  const newKid = rotated.json.kid;
  assert.notEqual(newKid, oldKid);
  const jwks = await rawRequest(edge, { path: '/.well-known/jwks.json', headers: { host: `globex.${DEV_DOMAIN}` } });
  assert.deepEqual(jwks.json.keys.map((k) => k.kid), [newKid, oldKid]);
  const after = await edge.token({ tenant: 'globex', scope: 'read:users' });
  assert.equal(decodeProtectedHeader(after).kid, newKid);
  assert.equal(await status(before), 404, 'the old key still verifies');
  const list = await api(edge, 'GET', '/api/v2/keys/signing', { token: admin });
  assert.deepEqual(list.json.map((k) => [k.kid, k.current]), [[newKid, true], [oldKid, false]]);

  assert.equal((await api(edge, 'PUT', `/api/v2/keys/signing/${newKid}/revoke`, { token: admin })).status, 400);
  assert.equal((await api(edge, 'PUT', '/api/v2/keys/signing/nope/revoke', { token: admin })).status, 404);
  const revoked = await api(edge, 'PUT', `/api/v2/keys/signing/${oldKid}/revoke`, { token: admin });
  assert.equal(revoked.status, 200);
  assert.equal(await message(before), 'Invalid signature received for JSON Web Token validation', 'revoked at once');
  assert.equal(await status(after), 404);
});

test('POST /oauth/token: the client-credentials grant, its refusals in OAuth\'s shape', async () => {
  const c = edge.clients.acme;
  const grant = (body, headers = { 'content-type': 'application/json' }) =>
    api(edge, 'POST', '/oauth/token', { body: typeof body === 'string' ? body : JSON.stringify(body), headers });
  const good = { grant_type: 'client_credentials', client_id: c.id, client_secret: c.secret, audience: AUD('acme') };
  let r = await grant(good);
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.json), ['access_token', 'scope', 'expires_in', 'token_type']);
  assert.equal(r.json.token_type, 'Bearer');
  assert.equal(r.json.expires_in, 86_400);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  // The form the SDK sends, and HTTP Basic client authentication.
  r = await grant(new URLSearchParams(good).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(r.status, 200);
  const basic = Buffer.from(`${c.id}:${c.secret}`).toString('base64');
  r = await grant({ grant_type: 'client_credentials', audience: AUD('acme') }, { 'content-type': 'application/json', authorization: `Basic ${basic}` });
  assert.equal(r.status, 200);

  const refusals = [
    [{ ...good, client_secret: `${c.secret}x` }, 401, 'access_denied', 'Unauthorized'],
    [{ ...good, client_secret: undefined }, 401, 'access_denied', 'Unauthorized'],
    [{ ...good, client_id: 'nobody' }, 401, 'access_denied', 'Unauthorized'],
    [{ ...good, client_id: '__proto__' }, 401, 'access_denied', 'Unauthorized'],
    // acme's client and secret for globex: clients belong to one tenant.
    [{ ...good, audience: AUD('globex') }, 401, 'access_denied', 'Unauthorized'],
    [{ ...good, audience: AUD('initech') }, 403, 'access_denied', `Service not found: ${AUD('initech')}`],
    [{ ...good, audience: undefined }, 403, 'access_denied', 'No audience parameter was provided.'],
    [{ ...good, grant_type: 'password' }, 400, 'unsupported_grant_type', 'Unsupported grant type: password'],
    [{ ...good, grant_type: undefined }, 400, 'invalid_request', 'Missing required parameter: grant_type'],
  ];
  for (const [body, code, error, description] of refusals) {
    r = await grant(body);
    assert.equal(r.status, code, JSON.stringify(body));
    assert.deepEqual(r.json, { error, error_description: description });
  }
  r = await grant('{"grant_type":');
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_request');

  // A client gets the scopes it was granted, or a subset it asks for, never more.
  const reader = { grant_type: 'client_credentials', client_id: READER.id, client_secret: READER.secret, audience: AUD('limited') };
  r = await grant(reader);
  assert.equal(r.json.scope, 'read:users');
  r = await grant({ ...reader, scope: 'read:users create:users' });
  assert.equal(r.status, 403);
  assert.deepEqual(r.json, { error: 'access_denied', error_description: 'Client has not been granted scopes: create:users' });
  r = await grant({ ...good, scope: 'read:users' });
  assert.equal(r.json.scope, 'read:users');
  assert.equal((await api(edge, 'POST', JOBS, { token: r.json.access_token, body: { limit: 1 } })).status, 200);
});

test('links are signed by the tenant\'s link key: not by a token key, not by the dev HS256 secret', async () => {
  const { job } = await runJob(edge, acme, { format: 'csv', limit: 1 });
  const good = new URL(job.location);
  assert.equal((await fetch(good)).status, 200);
  const expires = good.searchParams.get('Expires');
  // What the Worker used to do: HMAC of the same text under the token secret.
  const forged = new URL(good);
  forged.searchParams.set('Signature', createHmac('sha256', DEV_SECRET).update(`userexport-download\n${good.pathname}\n${expires}`).digest('base64url'));
  const r = await fetch(forged);
  assert.equal(r.status, 403);
  assert.match(await r.text(), /SignatureDoesNotMatch/);
});

test('location is built from the configured origin, never from Host', async () => {
  const { created } = await runJob(edge, acme, { format: 'json', limit: 1 });
  for (const host of ['evil.example', `acme.${DEV_DOMAIN}`, '127.0.0.1:1']) {
    const r = await rawRequest(edge, { path: `/api/v2/jobs/${created.id}`, headers: { host, authorization: `Bearer ${acme}` } });
    assert.equal(r.status, 200);
    assert.ok(r.json.location.startsWith(`${edge.url}/download/`), r.json.location);
  }
  // A tenant's own public_url wins over PUBLIC_URL.
  const globex = await edge.token({ tenant: 'globex' });
  const other = await runJob(edge, globex, { format: 'json', limit: 1 });
  assert.ok(other.job.location.startsWith('https://files.globex.example/download/'), other.job.location);
});

test('bodies are limited to 1 MiB counted in bytes while read: 413 with the Management API message', async () => {
  const expected = { statusCode: 413, error: 'Request Entity Too Large', message: 'Payload content length greater than maximum allowed: 1048576' };
  // 10 MB declared: refused before it is read. The server answers and closes while the client
  // still sends, so the client may meet the closed socket before it reads the answer: tried again.
  const tooLarge = async (body) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await api(edge, 'POST', JOBS, { token: acme, body });
      } catch (e) {
        if (attempt === 3) throw e;
      }
    }
  };
  let r = await tooLarge('x'.repeat(10_000_000));
  assert.equal(r.status, 413);
  assert.deepEqual(r.json, expected);
  // 400 000 three-byte characters: under a million characters, 1.2 MB.
  r = await api(edge, 'POST', JOBS, { token: acme, body: `{"format":"${'€'.repeat(400_000)}"}` });
  assert.equal(r.status, 413);
  // A streamed body with no Content-Length is counted as it arrives: the answer comes while the
  // client is still sending, long before 10 MB.
  const u = new URL(edge.url);
  // As above, the client may meet the closed socket before it reads the answer: tried again.
  const streamOnce = () => new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    let answered = false;
    const req = httpRequest(
      { agent: false, host: u.hostname, port: u.port, method: 'POST', path: JOBS, headers: { authorization: `Bearer ${acme}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
      (res) => {
        answered = true;
        const parts = [];
        res.on('data', (c) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(parts)), sent: written }));
      },
    );
    req.on('error', (e) => (answered ? undefined : reject(e)));
    const pump = () => {
      while (!answered && written < 10_000_000) {
        written += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
  let streamedAnswer;
  for (let attempt = 1; !streamedAnswer; attempt++) {
    try {
      streamedAnswer = await streamOnce();
    } catch (e) {
      if (attempt === 3 || !['ECONNRESET', 'EPIPE'].includes(e.code)) throw e;
    }
  }
  const { status: streamed, body, sent } = streamedAnswer;
  assert.equal(streamed, 413);
  assert.deepEqual(body, expected);
  assert.ok(sent < 10_000_000, `the Worker stopped reading (${sent} bytes sent)`);
  // The same on the token endpoint.
  r = await api(edge, 'POST', '/oauth/token', { body: 'x'.repeat(2_000_000) });
  assert.equal(r.status, 413);
  // Exactly the limit is not too large: it is JSON the core then judges.
  r = await api(edge, 'POST', JOBS, { token: acme, body: `{"format":"json"}${' '.repeat(1024 * 1024 - 17)}` });
  assert.equal(r.status, 200);
});

test('rate limits: X-RateLimit-* on every answer, 429 with Auth0\'s body past the tenant\'s limit', async () => {
  const grant = await api(edge, 'POST', '/oauth/token', {
    body: { grant_type: 'client_credentials', client_id: READER.id, client_secret: READER.secret, audience: AUD('limited') },
  });
  const token = grant.json.access_token;
  const seen = [];
  for (let i = 0; i < 4; i++) seen.push(await api(edge, 'GET', JOB, { token }));
  assert.deepEqual(seen.map((r) => r.status), [404, 404, 404, 429]);
  assert.deepEqual(seen.map((r) => r.headers.get('x-ratelimit-limit')), ['3', '3', '3', '3']);
  assert.deepEqual(seen.map((r) => r.headers.get('x-ratelimit-remaining')), ['2', '1', '0', '0']);
  const reset = Number(seen[3].headers.get('x-ratelimit-reset'));
  assert.ok(reset > nowS() + 2000 && reset <= nowS() + 3001, `reset ${reset} is when the bucket is full again`);
  assert.deepEqual(seen[3].json, { statusCode: 429, error: 'Too Many Requests', message: 'Global limit has been reached', errorCode: 'too_many_requests' });
  // Another tenant's bucket is its own; and answers without a valid token carry the headers too.
  const other = await api(edge, 'GET', JOB, { token: acme });
  assert.equal(other.status, 404);
  assert.equal(other.headers.get('x-ratelimit-limit'), '1000000');
  for (const r of [await api(edge, 'GET', JOB), await api(edge, 'GET', '/nowhere'), await api(edge, 'GET', '/download/x')]) {
    assert.ok(r.headers.get('x-ratelimit-remaining') !== null, `${r.status} has X-RateLimit-Remaining`);
  }
  // The bucket refills: 1000 s later one request more.
  await edge.clock.advance(1_000_000);
  try {
    assert.equal((await api(edge, 'GET', JOB, { token })).status, 404);
  } finally {
    await edge.clock.advance(-1_000_000);
  }
});
