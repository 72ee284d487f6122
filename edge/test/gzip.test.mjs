// A sliced, sharded download is one gzip member (the slices' deflate segments joined): Node's zlib, Python's gzip and zlib, and Chromium's DecompressionStream read the CLI's bytes from it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { SAMPLE_CONNECTIONS, startEdge } from '../lib/edge.mjs';
import { cliExport, fakeUsers, runJob } from './helpers.mjs';

let edge;
let dir;
let file;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edge-gzip-'));
  file = join(dir, 'users.ndjson');
  writeFileSync(file, fakeUsers(20_000));
  edge = await startEdge({
    persistDir: join(dir, 'state'),
    tenants: { multi: { config: { users: 'u.ndjson', connections: SAMPLE_CONNECTIONS, max_shards: 2 }, seed: { 'u.ndjson': { file } } } },
    vars: { SLICE_MS: '100', SHARD_BYTES: '65536', TASK_POLL_MS: '300' },
  });
});
after(async () => {
  await edge?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the download of a sliced, sharded export is one gzip member of the CLI output in Node, Python and Chromium', { timeout: 180_000 }, async () => {
  const request = { format: 'csv' };
  const token = await edge.token({ tenant: 'multi' });
  const { created, job } = await runJob(edge, token, request);
  assert.equal(job.status, 'completed', job.status_details);
  const rec = await edge.inspect('multi', created.id);
  assert.ok(rec.stats.parts >= 4, `several slices (${rec.stats.parts} over ${rec.stats.shards} shards)`);
  const res = await fetch(job.location);
  assert.equal(res.headers.get('content-type'), 'application/gzip');
  const gz = Buffer.from(await res.arrayBuffer());
  assert.equal(Number(res.headers.get('content-length')), gz.length);
  const want = cliExport(file, request, { tenant: 'multi' });

  assert.ok(gunzipSync(gz).equals(want), 'Node zlib');

  const gzFile = join(dir, 'multi.csv.gz');
  writeFileSync(gzFile, gz);
  const py = spawnSync('python3', ['-c', 'import gzip,sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())', gzFile], { maxBuffer: 1 << 28 });
  assert.equal(py.status, 0, String(py.stderr));
  assert.ok(py.stdout.equals(want), "Python's gzip module");
  // zlib's gzip decoder stops at the end of the first member: it reaches the end of the file.
  const one = spawnSync('python3', ['-c', 'import zlib,sys; d=zlib.decompressobj(31); out=d.decompress(open(sys.argv[1],"rb").read()); assert d.eof and d.unused_data==b"", "not one member"; sys.stdout.buffer.write(out)', gzFile], { maxBuffer: 1 << 28 });
  assert.equal(one.status, 0, String(one.stderr));
  assert.ok(one.stdout.equals(want), "Python's zlib: one member holds it all");

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const b64 = await page.evaluate(async (data) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const ds = new DecompressionStream('gzip');
      const writer = ds.writable.getWriter();
      writer.write(bytes);
      writer.close();
      let s = '';
      const reader = ds.readable.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        for (let i = 0; i < r.value.length; i += 0x8000) s += String.fromCharCode(...r.value.subarray(i, i + 0x8000));
      }
      return btoa(s);
    }, gz.toString('base64'));
    // DecompressionStream rejects anything after the first member ("Junk found after end of compressed data").
    assert.ok(Buffer.from(b64, 'base64').equals(want), "Chromium's DecompressionStream");
  } finally {
    await browser.close();
  }
});
