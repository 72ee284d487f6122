// Lines longer than a slice's hold (1 MiB) go into the core before their end and still come out whole: plain and gzip sources, slices ending after every batch, bytes equal to the CLI's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { startEdge } from '../lib/edge.mjs';
import { cliExport, fakeUsers, runJob } from './helpers.mjs';

const MiB = 1024 * 1024;
let edge;
let dir;
let file;

/** A user whose notes make its line `bytes` long, give or take a few hundred bytes. */
const longUser = (n, bytes) => JSON.stringify({ user_id: `auth0|long${n}`, email: `long${n}@example.com`, user_metadata: { notes: `${n}`.padEnd(bytes, 'é') } });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edge-long-'));
  file = join(dir, 'users.ndjson');
  // Lines of 1.5 and 2.5 MiB among ordinary ones (é is two bytes, so a multi-byte character
  // straddles chunk ends too), the last one with no newline at the end of the source.
  const text = [fakeUsers(300).toString().trimEnd(), longUser(1, 0.75 * MiB), fakeUsers(300, { start: 300 }).toString().trimEnd(), longUser(2, 1.25 * MiB)].join('\n');
  writeFileSync(file, text);
  edge = await startEdge({
    persistDir: join(dir, 'state'),
    tenants: {
      plain: { config: { users: 'u.ndjson', connections: {}, max_shards: 1 }, seed: { 'u.ndjson': { file } } },
      packed: { config: { users: 'u.ndjson.gz', connections: {}, max_shards: 1 }, seed: { 'u.ndjson.gz': gzipSync(text) } },
    },
    // Every batch past the first ends its slice: the long lines' pushes fall across slice ends.
    vars: { SLICE_MS: '1' },
  });
});
after(async () => {
  await edge?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const tenant of ['plain', 'packed']) {
  test(`${tenant} source: lines over 1 MiB come out whole, as the CLI writes them`, { timeout: 120_000 }, async () => {
    for (const request of [{ format: 'json' }, { format: 'csv', fields: [{ name: 'user_id' }, { name: 'user_metadata.notes', export_as: 'Notes' }] }]) {
      const token = await edge.token({ tenant });
      const { created, job } = await runJob(edge, token, request);
      assert.equal(job.status, 'completed', job.status_details);
      const rec = await edge.inspect(tenant, created.id);
      assert.ok(rec.stats.slices >= 2, `slices: ${rec.stats.slices}`);
      assert.equal(rec.stats.usersWritten, 602);
      const got = gunzipSync(Buffer.from(await (await fetch(job.location)).arrayBuffer()));
      const want = cliExport(file, request, { tenant });
      assert.equal(got.length, want.length);
      assert.ok(got.equals(want), 'the same bytes as the CLI');
    }
  });
}
