// The package's Gunzip class in Node: zlib's and GNU gzip's bytes gunzipped inside wasm, chunks
// split anywhere, several members, option checks, and corrupt or truncated input as invalid_gzip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gzipSync, gunzipSync } from 'node:zlib';
import { Exporter, Gunzip } from 'userexport';

const users = readFileSync(new URL('../gunzip/users.ndjson', import.meta.url));

/** Gunzips `parts` with pulls after each push, as a host streams it. */
function gunzip(parts, options) {
  const g = new Gunzip(options);
  const out = [];
  const drain = () => {
    for (let c = g.pull(); c; c = g.pull()) {
      assert.ok(c instanceof Uint8Array && c.byteLength > 0);
      if (options?.chunkSize) assert.ok(c.byteLength <= options.chunkSize);
      out.push(c);
    }
  };
  for (const p of parts) {
    g.push(p);
    drain();
    assert.equal(g.done, false);
  }
  g.finish();
  drain();
  assert.equal(g.done, true);
  assert.equal(g.plainBytes, Buffer.concat(out).byteLength);
  g.free();
  return Buffer.concat(out);
}

test('zlib output at every level round trips, with small and large pulls', () => {
  const big = Buffer.concat(Array.from({ length: 40 }, () => users));
  for (const level of [0, 1, 6, 9]) {
    const gz = gzipSync(big, { level });
    assert.ok(gunzip([gz]).equals(big), `level ${level}`);
    assert.ok(gunzip([gz], { chunkSize: 1000 }).equals(big), `level ${level}, 1000-byte pulls`);
  }
});

test('GNU gzip output, and concatenated members as cat gives them', () => {
  const cli = execFileSync('gzip', ['-c', '-n', '-6'], { input: users });
  assert.ok(gunzip([cli]).equals(users));
  const cat = Buffer.concat([gzipSync(users), gzipSync(Buffer.alloc(0)), cli]);
  assert.ok(gunzip([cat]).equals(Buffer.concat([users, users])));
  // The same bytes as zlib's own gunzip of the same stream.
  assert.ok(gunzip([cat]).equals(gunzipSync(cat)));
});

test('every split point of a small stream gives the same bytes', () => {
  const plain = Buffer.from('{"user_id":"auth0|1"}\n{"user_id":"auth0|2","email":"b@example.com"}\n');
  const gz = Buffer.concat([gzipSync(plain), gzipSync(plain, { level: 1 })]);
  const want = Buffer.concat([plain, plain]);
  for (let i = 0; i <= gz.byteLength; i++) {
    assert.ok(gunzip([gz.subarray(0, i), gz.subarray(i)], { chunkSize: 7 }).equals(want), `split at ${i}`);
  }
});

test('gunzipped bytes export to the same CSV as the plain ones', () => {
  const request = { format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }] };
  const exportOf = (chunks) => {
    const ex = new Exporter(request, { input: 'ndjson' });
    const out = [];
    for (const c of chunks) {
      ex.pushNdjson(c);
      for (let o = ex.pull(); o; o = ex.pull()) out.push(o);
    }
    ex.finish();
    for (let o = ex.pull(); o; o = ex.pull()) out.push(o);
    ex.free();
    return Buffer.concat(out);
  };
  const g = new Gunzip({ chunkSize: 4096 });
  g.push(gzipSync(users));
  g.finish();
  const plainChunks = [];
  for (let c = g.pull(); c; c = g.pull()) plainChunks.push(c);
  assert.ok(exportOf(plainChunks).equals(exportOf([users])));
});

test('corrupt, truncated and non-gzip input throw invalid_gzip with the offset', () => {
  const gz = gzipSync(users);
  const n = gz.byteLength;
  const bad = Buffer.from(gz);
  bad[n - 6] ^= 1;
  const throwsGzip = (parts, re) =>
    assert.throws(
      () => gunzip(parts),
      (e) => e instanceof Error && e.code === 'invalid_gzip' && re.test(e.message),
    );
  throwsGzip([bad], new RegExp(`CRC-32.*compressed byte ${n - 8}`));
  throwsGzip([gz.subarray(0, n - 3)], /truncated/);
  throwsGzip([gz.subarray(0, 5)], /header \(truncated\)/);
  throwsGzip([Buffer.concat([gz, Buffer.from('junk')])], new RegExp(`trailing garbage\\), at compressed byte ${n}$`));
  throwsGzip([users], /not a gzip member.*compressed byte 0/);
  throwsGzip([], /empty/);
});

test('options and misuse are argument and state errors', () => {
  assert.throws(() => new Gunzip({ chunksize: 5 }), (e) => e instanceof TypeError && e.code === 'invalid_argument' && /chunksize/.test(e.message));
  assert.throws(() => new Gunzip({ chunkSize: 0 }), (e) => e.code === 'invalid_argument');
  const g = new Gunzip();
  assert.throws(() => g.push('text'), (e) => e instanceof TypeError && e.code === 'invalid_argument');
  g.finish();
  assert.throws(() => g.push(new Uint8Array(1)), (e) => e.code === 'invalid_state');
  g.free();
});
