// K = 1, 2, 4 shards (and a recut for `limit`) give the CLI's bytes and lenient report; a strict failure names the stream's line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ROOT, SAMPLE_CONNECTIONS, startEdge } from '../lib/edge.mjs';
import { cliExportLenient, fakeUsers, jobErrors, runJob } from './helpers.mjs';

const USERS = 8_000;
const GITHUB = 'con_GithubDevSample1';
let edge;
let dir;
let file;
const KS = [1, 2, 4];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edge-shards-'));
  const users = fakeUsers(USERS, { badEvery: 97 });
  file = join(dir, 'users.ndjson');
  writeFileSync(file, users);
  const tenants = {};
  for (const k of KS) {
    // A gzipped source (staged as plain NDJSON first) for k1/k2/k4, a plain one for p4.
    tenants[`k${k}`] = { config: { users: 'u.gz', connections: SAMPLE_CONNECTIONS, lenient: true, max_shards: k }, seed: { 'u.gz': gzipSync(users) } };
  }
  tenants.p4 = { config: { users: 'u.ndjson', connections: SAMPLE_CONNECTIONS, lenient: true, max_shards: 4 }, seed: { 'u.ndjson': users } };
  tenants.strict = { config: { users: 'u.ndjson', connections: SAMPLE_CONNECTIONS, max_shards: 4 }, seed: { 'u.ndjson': users } };
  edge = await startEdge({ tenants, persistDir: join(dir, 'state'), vars: { SLICE_MS: '150', SHARD_BYTES: '65536', TASK_POLL_MS: '300', MAX_CONCURRENT_JOBS: '4' } });
});
after(async () => {
  await edge?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const REQUESTS = [
  // The limit ends inside the second shard or later: that shard runs again with what is left.
  { format: 'csv', connection_id: GITHUB, limit: 700, fields: [{ name: 'user_id' }, { name: 'email' }, { name: 'name', export_as: 'Name' }] },
  { format: 'json' },
  // The limit ends inside the first shard: the others' output and errors are dropped.
  { format: 'csv', limit: 100 },
  { format: 'json', connection_id: GITHUB, limit: 5_000, fields: [{ name: 'user_id' }, { name: 'identities[0].connection' }] },
];

for (const [n, request] of REQUESTS.entries()) {
  test(`request ${n} ${JSON.stringify(request)}: K = 1, 2, 4 (gz source) and 4 (plain) equal the CLI`, { timeout: 300_000 }, async () => {
    const want = cliExportLenient(file, request, { connection: request.connection_id ? 'github' : undefined });
    assert.ok(want.skipped.length > 0 || request.limit === 100, 'the request meets bad records');
    const runs = await Promise.all(
      [...KS.map((k) => `k${k}`), 'p4'].map(async (tenant) => {
        const token = await edge.token({ tenant });
        const { created, job } = await runJob(edge, token, request);
        assert.equal(job.status, 'completed', `${tenant}: ${job.status_details}`);
        const got = gunzipSync(Buffer.from(await (await fetch(job.location)).arrayBuffer()));
        return { tenant, got, errors: await jobErrors(edge, token, created.id), rec: await edge.inspect(tenant, created.id) };
      }),
    );
    for (const r of runs) {
      assert.equal(r.got.toString('utf8'), want.bytes.toString('utf8'), `${r.tenant}: the CLI's bytes`);
      assert.deepEqual(r.errors, want.skipped, `${r.tenant}: the CLI's report, the stream's line numbers`);
    }
    if (n === 0) {
      // The 700th github user is in the first of 2 shards (~1 330 there) but past the first of
      // 4 (~670 there): k4 and p4 ran the shard where it is again with the remaining limit.
      assert.deepEqual(
        runs.map((r) => 'recut' in r.rec.tasks),
        [false, false, true, true],
        'a recut where the limit ends inside a later shard',
      );
    }
    assert.deepEqual(
      runs.map((r) => r.rec.stats.shards),
      [1, 2, 4, 4],
      'the shards asked for',
    );
  });
}

test('strict: a bad record fails the job with the stream line the CLI names, unless the limit ends first', { timeout: 120_000 }, async () => {
  const token = await edge.token({ tenant: 'strict' });
  const cli = spawnSync(process.execPath, [join(ROOT, 'bin', 'userexport.mjs'), file, '--out', join(dir, 'strict.json')], { encoding: 'utf8' });
  assert.notEqual(cli.status, 0);
  const prefix = `userexport: ${file}: `;
  const message = cli.stderr.split('\n').find((l) => l.startsWith(prefix)).slice(prefix.length);
  const failed = await runJob(edge, token, { format: 'json' });
  assert.equal(failed.job.status, 'failed');
  assert.equal(failed.job.status_details, message);
  // 50 users come before the first bad line (97): shards 2–4 fail, the first one ends the export.
  const ok = await runJob(edge, token, { format: 'json', limit: 50 });
  assert.equal(ok.job.status, 'completed', ok.job.status_details);
  const got = gunzipSync(Buffer.from(await (await fetch(ok.job.location)).arrayBuffer()));
  assert.equal(got.toString('utf8').split('\n').length - 1, 50);
});
