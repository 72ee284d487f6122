// The official auth0 SDK drives the Worker in workerd: create, poll to completed, download, and compare with the CLI's bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startEdge, sampleTenant, ROOT, SAMPLE_CONNECTIONS } from '../lib/edge.mjs';
import { api, cliExport, sdkClient, until } from './helpers.mjs';

const SAMPLE = join(ROOT, 'samples', 'users.ndjson');
const ESCAPING = join(ROOT, 'tests', 'fixtures', 'csv-escaping');
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const GITHUB = Object.keys(SAMPLE_CONNECTIONS).find((id) => SAMPLE_CONNECTIONS[id] === 'github');
const UPA = Object.keys(SAMPLE_CONNECTIONS).find((id) => SAMPLE_CONNECTIONS[id] === 'Username-Password-Authentication');

let edge;
before(async () => {
  edge = await startEdge({
    tenants: {
      acme: sampleTenant('acme'),
      // Plain (not gzipped) NDJSON source: the fixture whose expected CSV the core's tests pin.
      // Tokens live 12 s: the SDK, which renews 10 s before expiry, asks again after 2 s.
      brief: { ...sampleTenant('brief'), config: { ...sampleTenant('brief').config, token_lifetime: 12 } },
      escapes: {
        config: { users: 'escapes.ndjson', connections: {} },
        seed: { 'escapes.ndjson': readFileSync(join(ESCAPING, 'input.ndjson')) },
      },
    },
  });
});
after(() => edge?.dispose());

async function exportWithSdk(tenant, request) {
  const client = sdkClient(edge, tenant, await edge.token({ tenant, scope: 'read:users' }));
  const created = await client.jobs.usersExports.create(request);
  assert.equal(created.status, 'pending');
  assert.match(created.id, /^job_[A-Za-z0-9]{16}$/);
  const job = await until(async () => {
    const j = await client.jobs.get(created.id);
    assert.ok(['pending', 'processing', 'completed'].includes(j.status), JSON.stringify(j));
    return j.status === 'completed' ? j : null;
  });
  assert.equal(job.percentage_done, 100);
  const res = await fetch(job.location);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/gzip');
  assert.equal(res.headers.get('content-encoding'), null);
  const gz = Buffer.from(await res.arrayBuffer());
  assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b]);
  return { created, job, file: new URL(job.location).pathname.split('/').pop(), bytes: gunzipSync(gz) };
}

test('CSV with a connection filter and a limit equals the CLI output', async () => {
  const request = { ...readJson(join(ROOT, 'samples', 'request.json')), connection_id: GITHUB, limit: 50 };
  const { created, file, bytes } = await exportWithSdk('acme', request);
  assert.deepEqual(Object.keys(created), ['type', 'status', 'connection_id', 'format', 'limit', 'fields', 'connection', 'created_at', 'id']);
  assert.equal(created.connection, 'github');
  assert.equal(file, 'acme.csv.gz');
  const expected = cliExport(SAMPLE, request, { tenant: 'acme', connection: 'github' });
  assert.equal(bytes.toString('utf8').split('\n').length, 52); // header + 50 rows + final newline
  assert.ok(bytes.equals(expected));
});

test('JSON with a connection filter and a limit equals the CLI output', async () => {
  const request = {
    ...readJson(join(ROOT, 'tests', 'fixtures', 'ndjson-limit-connection', 'request.json')),
    connection_id: UPA,
  };
  const { file, bytes } = await exportWithSdk('acme', request);
  assert.equal(file, 'acme.json.gz');
  const expected = cliExport(SAMPLE, request, { tenant: 'acme', connection: 'Username-Password-Authentication' });
  assert.equal(bytes.toString('utf8').trimEnd().split('\n').length, request.limit);
  for (const line of bytes.toString('utf8').trimEnd().split('\n')) assert.equal(JSON.parse(line).identities[0].connection, 'Username-Password-Authentication');
  assert.ok(bytes.equals(expected));
});

test('an empty request exports every user as NDJSON with the default fields', async () => {
  const { created, bytes } = await exportWithSdk('acme', {});
  assert.deepEqual(Object.keys(created), ['type', 'status', 'format', 'created_at', 'id']);
  assert.equal(created.format, 'json');
  assert.equal(bytes.toString('utf8').trimEnd().split('\n').length, 1000);
  assert.ok(bytes.equals(cliExport(SAMPLE, {}, { tenant: 'acme' })));
});

test('a plain NDJSON source, CSV escaping: the core fixture and the CLI agree with the download', async () => {
  const request = readJson(join(ESCAPING, 'request.json'));
  const { file, bytes } = await exportWithSdk('escapes', request);
  assert.equal(file, 'escapes.csv.gz');
  assert.ok(bytes.equals(readFileSync(join(ESCAPING, 'expected.csv'))));
  assert.ok(bytes.equals(cliExport(join(ESCAPING, 'input.ndjson'), request, { tenant: 'escapes' })));
});

test('the SDK sees Auth0-shaped errors: 400 for an unknown connection, 404 for an unknown job', async () => {
  const client = sdkClient(edge, 'acme', await edge.token({ tenant: 'acme', scope: 'read:users' }));
  await assert.rejects(client.jobs.usersExports.create({ connection_id: 'con_0000000000000000' }), (e) => {
    assert.equal(e.statusCode, 400);
    assert.deepEqual(e.body, { statusCode: 400, error: 'Bad Request', message: 'The connection does not exist.', errorCode: 'invalid_body' });
    return true;
  });
  await assert.rejects(client.jobs.get('job_0000000000000000'), (e) => {
    assert.equal(e.statusCode, 404);
    assert.equal(e.body.message, 'Job not found.');
    return true;
  });
});

test('clientId and clientSecret, unchanged: the SDK gets RS256 tokens from /oauth/token, exports, and gets a new token once the first expires', async () => {
  const seen = [];
  const tokens = [];
  const { id, secret } = edge.clients.brief;
  const client = sdkClient(edge, 'brief', { clientId: id, clientSecret: secret }, { seen, tokens });
  const request = { format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }], connection_id: GITHUB, limit: 20 };
  const created = await client.jobs.usersExports.create(request);
  assert.deepEqual(seen, ['/oauth/token', '/api/v2/jobs/users-exports']);
  assert.equal(tokens.length, 1);

  // Past the SDK's renewal point, and on the Worker's clock past the token's expiry and skew.
  await new Promise((r) => setTimeout(r, 2_500));
  await edge.clock.advance(43_000);
  const stale = await api(edge, 'GET', `/api/v2/jobs/${created.id}`, { token: tokens[0] });
  assert.equal(stale.status, 401);
  assert.equal(stale.json.message, 'Expired token received for JSON Web Token validation');

  const job = await until(async () => {
    const j = await client.jobs.get(created.id);
    return j.status === 'completed' ? j : null;
  });
  assert.equal(tokens.length, 2, 'one new token, cached for the polls after it');
  assert.notEqual(tokens[1], tokens[0]);
  assert.equal(seen.filter((p) => p === '/oauth/token').length, 2);
  const res = await fetch(job.location);
  assert.equal(res.status, 200);
  const bytes = gunzipSync(Buffer.from(await res.arrayBuffer()));
  assert.ok(bytes.equals(cliExport(SAMPLE, request, { tenant: 'brief', connection: 'github' })));
});
