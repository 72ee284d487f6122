// The Worker's HTTP contract in workerd: auth (401/403), tenant isolation, 400 bodies, job states, errors report, signed links, 24 h expiry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Exporter } from '../../pkg/node.js';
import { startEdge, sampleTenant, foreignToken, ROOT, DEV_DOMAIN } from '../lib/edge.mjs';
import { api, cliExport, runJob, until } from './helpers.mjs';

const JOBS = '/api/v2/jobs/users-exports';
const BAD_LINES = [
  '{"user_id":"auth0|1","email":"a@example.com"}',
  'this is not json',
  '{"user_id":"auth0|3","email":"c@example.com","email":"dup@example.com"}',
  '{"user_id":"auth0|4","email":"d@example.com"}',
  '',
].join('\n');

// A gzip source whose trailer lies, read by the wasm core's Gunzip: a wrong CRC-32 (one shard,
// gunzipped as the slice reads it), and a length of 2 GiB, which also makes the plan stage it.
const GZ = gzipSync(Buffer.from('{"user_id":"auth0|1"}\n{"user_id":"auth0|2"}\n'));
const BAD_CRC = Buffer.from(GZ);
BAD_CRC[GZ.length - 8] ^= 1;
const BAD_LEN = Buffer.from(GZ);
BAD_LEN.writeUInt32LE(2 ** 31, GZ.length - 4);

let edge;
let acme;
let globex;
before(async () => {
  const bad = (lenient) => ({ config: { users: 'bad.ndjson', connections: {}, lenient }, seed: { 'bad.ndjson': Buffer.from(BAD_LINES) } });
  edge = await startEdge({
    tenants: {
      acme: sampleTenant('acme'),
      globex: sampleTenant('globex'),
      strict: bad(false),
      lenient: bad(true),
      nosource: { config: { users: 'missing.ndjson', connections: {} } },
      badcrc: { config: { users: 'crc.ndjson.gz', connections: {} }, seed: { 'crc.ndjson.gz': BAD_CRC } },
      badlen: { config: { users: 'len.ndjson.gz', connections: {} }, seed: { 'len.ndjson.gz': BAD_LEN } },
    },
  });
  acme = await edge.token({ tenant: 'acme', scope: 'read:users' });
  globex = await edge.token({ tenant: 'globex', scope: 'read:users create:users' });
});
after(() => edge?.dispose());

/** The message the core gives for a body, through the same wasm the Worker runs. */
function coreMessage(body) {
  try {
    new Exporter(body, {}).free();
  } catch (e) {
    return e.message;
  }
  throw new Error(`the core accepts ${JSON.stringify(body)}`);
}

test('401 without a token, with a malformed header, a bad signature, a garbage or an expired token', async () => {
  let r = await api(edge, 'POST', JOBS, { body: {} });
  assert.equal(r.status, 401);
  assert.equal(r.text, '{"statusCode":401,"error":"Unauthorized","message":"Missing authentication"}');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer');

  r = await api(edge, 'GET', '/api/v2/jobs/job_0000000000000000', { headers: { authorization: 'Basic abc' } });
  assert.equal(r.status, 401);
  assert.equal(r.json.message, 'Bad HTTP authentication header format');

  // Signed by a key that is not acme's, and acme's own token with its signature changed.
  const [h, p, sig] = acme.split('.');
  for (const forged of [await foreignToken({ tenant: 'acme' }), `${h}.${p}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`]) {
    r = await api(edge, 'POST', JOBS, { token: forged, body: {} });
    assert.equal(r.status, 401);
    assert.equal(
      r.text,
      '{"statusCode":401,"error":"Unauthorized","message":"Invalid signature received for JSON Web Token validation","attributes":{"error":"Invalid signature received for JSON Web Token validation"}}',
    );
  }

  r = await api(edge, 'POST', JOBS, { token: 'abc', body: {} });
  assert.deepEqual(r.json, { statusCode: 401, error: 'Unauthorized', message: 'Invalid token', attributes: { error: 'Invalid token' } });

  // An "alg":"none" token must not pass.
  const [, payload] = acme.split('.');
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
  r = await api(edge, 'POST', JOBS, { token: none, body: {} });
  assert.equal(r.json.message, 'Invalid token');

  // A day (the token's lifetime) and the 30 s of clock skew later, the token has expired.
  await edge.clock.advance(86_400_000 + 31_000);
  try {
    r = await api(edge, 'GET', '/api/v2/jobs/job_0000000000000000', { token: acme });
  } finally {
    await edge.clock.advance(-(86_400_000 + 31_000));
  }
  assert.equal(r.status, 401);
  assert.equal(r.json.message, 'Expired token received for JSON Web Token validation');
});

test('403 without the scope, and for a tenant the Worker does not serve', async () => {
  const noScope = await edge.token({ tenant: 'acme', scope: 'read:clients' });
  let r = await api(edge, 'POST', JOBS, { token: noScope, body: {} });
  assert.equal(r.status, 403);
  assert.equal(r.text, '{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:users","errorCode":"insufficient_scope"}');
  r = await api(edge, 'GET', '/api/v2/jobs/job_0000000000000000', { token: noScope });
  assert.equal(r.status, 403);
  assert.equal(r.json.message, 'Insufficient scope, expected any of: create:users,read:users');

  // create:users may read jobs but not create an export.
  const createOnly = await edge.token({ tenant: 'acme', scope: 'create:users' });
  r = await api(edge, 'POST', JOBS, { token: createOnly, body: {} });
  assert.equal(r.status, 403);
  r = await api(edge, 'GET', '/api/v2/jobs/job_0000000000000000', { token: createOnly });
  assert.equal(r.status, 404);

  const stranger = await foreignToken({ tenant: 'initech' });
  r = await api(edge, 'GET', '/api/v2/jobs/job_0000000000000000', { token: stranger });
  assert.equal(r.status, 403);
  assert.equal(r.json.message, `Service not enabled within domain: https://initech.${DEV_DOMAIN}/api/v2/`);
});

test('400s: the core validation messages, an unknown connection, bad JSON, a bad job id', async () => {
  const bodies = [
    { format: 'xml' },
    { limit: 0 },
    { limit: 'ten' },
    { connection_id: 'con_short' },
    { foo: 1 },
    { fields: [{ name: 'email', column: 'x' }] },
    { format: 'csv', fields: [{ name: 'app_metadata' }] },
    { format: 'csv', fields: Array.from({ length: 31 }, (_, i) => ({ name: `user_metadata.f${i}` })) },
    { fields: [{ name: 'email' }, { name: 'name', export_as: 'email' }] },
    [],
  ];
  for (const body of bodies) {
    const r = await api(edge, 'POST', JOBS, { token: acme, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.deepEqual(r.json, { statusCode: 400, error: 'Bad Request', message: coreMessage(body), errorCode: 'invalid_body' });
  }
  let r = await api(edge, 'POST', JOBS, { token: acme, body: '{"format":' });
  assert.equal(r.status, 400);
  assert.equal(r.json.message, coreMessage('{"format":'));

  r = await api(edge, 'POST', JOBS, { token: acme, body: { connection_id: 'con_0000000000000001' } });
  assert.equal(r.text, '{"statusCode":400,"error":"Bad Request","message":"The connection does not exist.","errorCode":"invalid_body"}');

  // Ids that are not job ids, escapes that decode to nothing valid: 400, never 500.
  for (const id of ['job_123', '%ZZ', 'job_%E0%A4%A', '%C0%AF', 'job_000000000000000%00', '..%2F..%2Fetc']) {
    for (const suffix of ['', '/errors']) {
      r = await api(edge, 'GET', `/api/v2/jobs/${id}${suffix}`, { token: acme });
      assert.equal(r.status, 400, id + suffix);
      assert.equal(r.json.errorCode, 'invalid_uri');
    }
  }
});

test('the created job: Auth0 key order, id pattern, ISO created_at; form bodies and an empty body work', async () => {
  const sent = { connection_id: 'con_GithubDevSample1', format: 'csv', limit: 5, fields: [{ name: 'email' }, { name: 'identities[0].connection', export_as: 'provider' }] };
  const t0 = Date.now();
  const r = await api(edge, 'POST', JOBS, { token: acme, body: sent });
  assert.equal(r.status, 200);
  const job = r.json;
  assert.deepEqual(Object.keys(job), ['type', 'status', 'connection_id', 'format', 'limit', 'fields', 'connection', 'created_at', 'id']);
  assert.deepEqual(
    { ...job, created_at: undefined, id: undefined },
    { type: 'users_export', status: 'pending', ...sent, connection: 'github', created_at: undefined, id: undefined },
  );
  assert.match(job.id, /^job_[A-Za-z0-9]{16}$/);
  assert.match(job.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Math.abs(Date.parse(job.created_at) - t0) < 60_000);

  const form = await api(edge, 'POST', JOBS, {
    token: acme,
    body: 'format=csv&limit=3&connection_id=con_GithubDevSample1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(form.status, 200, form.text);
  assert.deepEqual([form.json.format, form.json.limit, form.json.connection], ['csv', 3, 'github']);

  const empty = await api(edge, 'POST', JOBS, { token: acme });
  assert.equal(empty.status, 200);
  assert.equal(empty.json.format, 'json');

  const ids = new Set([job.id, form.json.id, empty.json.id]);
  assert.equal(ids.size, 3);
});

test('another tenant never sees a job: 404 on the job, its errors and a link for it', async () => {
  const { created, job } = await runJob(edge, acme, { format: 'json', limit: 3 });
  assert.equal(job.status, 'completed');
  let r = await api(edge, 'GET', `/api/v2/jobs/${created.id}`, { token: globex });
  assert.equal(r.status, 404);
  assert.equal(r.text, '{"statusCode":404,"error":"Not Found","message":"Job not found.","errorCode":"inexistent_job"}');
  r = await api(edge, 'GET', `/api/v2/jobs/${created.id}/errors`, { token: globex });
  assert.equal(r.status, 404);
  // A link signed for acme's file cannot be bent to globex's name.
  const loc = new URL(job.location);
  loc.pathname = loc.pathname.replace('/acme.json.gz', '/globex.json.gz');
  assert.equal((await fetch(loc)).status, 403);
});

test('a completed job: location, percentage_done, errors endpoint 204', async () => {
  const { created, job } = await runJob(edge, acme, { format: 'csv', fields: [{ name: 'user_id' }] });
  assert.deepEqual(Object.keys(job), ['type', 'status', 'format', 'fields', 'location', 'created_at', 'id', 'percentage_done', 'time_left_seconds']);
  assert.equal(job.percentage_done, 100);
  assert.equal(job.time_left_seconds, 0);
  assert.match(job.location, new RegExp(`^${edge.url}/download/${created.id}/acme\\.csv\\.gz\\?Expires=\\d+&Signature=[A-Za-z0-9_-]+$`));
  const r = await api(edge, 'GET', `/api/v2/jobs/${created.id}/errors`, { token: acme });
  assert.equal(r.status, 204);
  assert.equal(r.text, '');
});

test('strict source with a bad line: failed with status_details naming the line; errors gives the job object', async () => {
  const token = await edge.token({ tenant: 'strict' });
  const { created, job } = await runJob(edge, token, { format: 'json' });
  assert.equal(job.status, 'failed');
  assert.equal(job.location, undefined);
  assert.match(job.status_details, /^line 2: /);
  const r = await api(edge, 'GET', `/api/v2/jobs/${created.id}/errors`, { token });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 'failed', type: 'users_export', created_at: created.created_at, id: created.id, status_details: job.status_details });
});

test('lenient source: completed, the file equals the CLI --lenient output, errors lists each skipped line', async () => {
  const token = await edge.token({ tenant: 'lenient' });
  const request = { format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }] };
  const { created, job } = await runJob(edge, token, request);
  assert.equal(job.status, 'completed');
  const bytes = gunzipSync(Buffer.from(await (await fetch(job.location)).arrayBuffer()));
  const dir = mkdtempSync(join(tmpdir(), 'edge-bad-'));
  writeFileSync(join(dir, 'bad.ndjson'), BAD_LINES);
  try {
    assert.ok(bytes.equals(cliExport(join(dir, 'bad.ndjson'), request, { tenant: 'lenient', lenient: true })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const r = await api(edge, 'GET', `/api/v2/jobs/${created.id}/errors`, { token });
  assert.equal(r.status, 200);
  assert.equal(r.json.length, 2);
  assert.deepEqual(r.json[0].user, {});
  assert.equal(r.json[0].errors[0].code, 'invalid_json');
  assert.equal(r.json[0].errors[0].line, 2);
  assert.deepEqual(r.json[1].user, { user_id: 'auth0|3' });
  assert.equal(r.json[1].errors[0].code, 'duplicate_key');
  assert.equal(r.json[1].errors[0].line, 3);
});

test('a missing users source fails the job with a clear status_details', async () => {
  const token = await edge.token({ tenant: 'nosource' });
  const { job } = await runJob(edge, token, {});
  assert.equal(job.status, 'failed');
  assert.equal(job.status_details, 'The users source "missing.ndjson" is missing from the USERS bucket.');
});

test('a gzip source with a bad trailer fails the job naming the source, the check and the byte offset', async () => {
  for (const [tenant, key, what, at] of [
    ['badcrc', 'crc', 'CRC-32', GZ.length - 8],
    ['badlen', 'len', 'length of 2147483648', GZ.length - 4],
  ]) {
    const token = await edge.token({ tenant });
    const { created, job } = await runJob(edge, token, {});
    assert.equal(job.status, 'failed', tenant);
    // The first read by the slice, the second by the staging that precedes shards.
    assert.equal(Boolean((await edge.inspect(tenant, created.id)).staged), tenant === 'badlen', tenant);
    assert.match(job.status_details, new RegExp(`^The users source "${key}\\.ndjson\\.gz" is not a valid gzip file: gzip input: member 1 .*${what}.* at compressed byte ${at}$`), tenant);
  }
});

test('links: tampered refused, expired after 60 s refused, every GET signs a fresh one that works', async () => {
  const { created, job } = await runJob(edge, acme, { format: 'csv', fields: [{ name: 'email' }], limit: 2 });
  const good = new URL(job.location);
  const expected = cliExport(join(ROOT, 'samples', 'users.ndjson'), { format: 'csv', fields: [{ name: 'email' }], limit: 2 }, { tenant: 'acme' });

  const sig = good.searchParams.get('Signature');
  const tampered = [
    (u) => u.searchParams.set('Signature', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)),
    (u) => u.searchParams.set('Expires', String(Number(u.searchParams.get('Expires')) + 3600)),
    (u) => u.searchParams.delete('Signature'),
    (u) => (u.pathname = u.pathname.replace(created.id, 'job_0000000000000000')),
  ];
  for (const bend of tampered) {
    const u = new URL(good);
    bend(u);
    const r = await fetch(u);
    assert.equal(r.status, 403, u.href);
    assert.match(await r.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  }
  const ok = await fetch(good);
  assert.equal(ok.status, 200);
  assert.ok(gunzipSync(Buffer.from(await ok.arrayBuffer())).equals(expected));

  await edge.clock.advance(61_000);
  const late = await fetch(good);
  assert.equal(late.status, 403);
  assert.match(await late.text(), /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);

  const again = await api(edge, 'GET', `/api/v2/jobs/${created.id}`, { token: acme });
  assert.notEqual(again.json.location, job.location);
  const fresh = await fetch(again.json.location);
  assert.equal(fresh.status, 200);
  assert.ok(gunzipSync(Buffer.from(await fresh.arrayBuffer())).equals(expected));
});

test('after 24 hours a job and its file (its slices and their list) are gone: on GET, and through the scheduled purge', async () => {
  const exports = await edge.mf.getR2Bucket('EXPORTS');
  const a = await runJob(edge, globex, { format: 'json', limit: 1 });
  const b = await runJob(edge, globex, { format: 'csv', limit: 1 });
  assert.ok(await exports.head(`${a.created.id}/parts.json`));
  assert.ok(await exports.head(`${b.created.id}/parts.json`));

  await edge.clock.advance(24 * 3600_000 - 120_000);
  assert.equal((await api(edge, 'GET', `/api/v2/jobs/${a.created.id}`, { token: globex })).status, 200);
  await edge.scheduled();
  assert.ok(await edge.inspect('globex', b.created.id), 'a job younger than 24 h survives the purge');

  await edge.clock.advance(121_000);
  // globex's first token is past its day now too: a fresh one, as a client would get.
  globex = await edge.token({ tenant: 'globex', scope: 'read:users create:users' });
  const gone = await api(edge, 'GET', `/api/v2/jobs/${a.created.id}`, { token: globex });
  assert.equal(gone.status, 404);
  assert.equal(gone.json.message, 'Job not found.');
  assert.equal(await exports.head(`${a.created.id}/parts.json`), null);
  const link = new URL(a.job.location);
  assert.equal((await fetch(link)).status, 403);

  // b was never read after its 24 hours: the cron handler removes it.
  await edge.scheduled();
  await until(async () => (await edge.inspect('globex', b.created.id)) === null, { timeoutMs: 10_000 });
  assert.equal(await exports.head(`${b.created.id}/parts.json`), null);
});
