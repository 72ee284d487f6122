// Limits through the wasm door: a 16 MB metadata string, a line that never ends, and a million
// users streamed with the process's memory sampled as they go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Papa from 'papaparse';
import { Exporter, exportStream } from 'userexport';

const MiB = 1024 * 1024;

/** Finishes `ex` and pulls every remaining chunk. */
function finishAll(ex) {
  ex.finish();
  const out = [];
  while (!ex.done) {
    const c = ex.pull();
    if (c) out.push(c);
  }
  return Buffer.concat(out);
}

test('a 16 MB string in user_metadata comes out whole, in CSV and NDJSON', () => {
  const big = 'a"b,\n'.repeat((16 * MiB) / 5);
  for (const format of ['csv', 'json']) {
    const ex = new Exporter({ format, fields: [{ name: 'user_id' }, { name: 'user_metadata.note' }] }, { chunkSize: 65536 });
    ex.pushUsers([{ user_id: 'big', user_metadata: { note: big } }]);
    ex.finish();
    const chunks = [];
    while (!ex.done) {
      const c = ex.pull();
      if (c) {
        assert.ok(c.length <= 65536);
        chunks.push(c);
      }
    }
    ex.free();
    const text = Buffer.concat(chunks).toString('utf8');
    if (format === 'csv') {
      const { data, errors } = Papa.parse(text.slice(0, -1), { newline: '\n', delimiter: ',' });
      assert.deepEqual(errors, []);
      assert.equal(data[1][1], `'${big}`);
    } else {
      assert.equal(JSON.parse(text).user_metadata ?? JSON.parse(text)['user_metadata.note'], big);
    }
  }
});

test('a line that never ends is stopped by the record cap while it streams in', () => {
  const ex = new Exporter({ fields: [{ name: 'user_id' }] }, { maxRecordBytes: MiB });
  const before = process.memoryUsage().rss;
  ex.pushNdjson('{"user_id":"ok"}\n{"user_id":"');
  assert.ok(ex.pull());
  const piece = new Uint8Array(MiB / 4).fill(0x78);
  let error;
  for (let i = 0; i < 400 && !error; i++) {
    try {
      ex.pushNdjson(piece);
      ex.pull();
    } catch (e) {
      error = e;
    }
  }
  assert.equal(error?.code, 'record_too_large');
  assert.equal(error.line, 2);
  assert.ok(process.memoryUsage().rss - before < 64 * MiB, 'the over-long line is not kept');
  ex.free();
  // Lenient: reported once, dropped as it streams (100 MiB of it), the next line is read.
  const lenient = new Exporter({ fields: [{ name: 'user_id' }] }, { maxRecordBytes: MiB, lenient: true });
  lenient.pushNdjson('{"user_id":"');
  for (let i = 0; i < 400; i++) {
    lenient.pushNdjson(piece);
    assert.equal(lenient.pull(), undefined);
  }
  lenient.pushNdjson('"}\n{"user_id":"next"}\n');
  assert.equal(finishAll(lenient).toString(), '{"user_id":"next"}\n');
  assert.deepEqual(lenient.errors.map((e) => [e.code, e.line]), [['record_too_large', 1]]);
  lenient.free();
});

test('a million users through exportStream: memory sampled along the way stays flat', async () => {
  const users = 1_000_000;
  const perChunk = 200;
  async function* ndjson() {
    for (let i = 0; i < users; i += perChunk) {
      let s = '';
      for (let j = i; j < i + perChunk; j++) {
        s += `{"user_id":"auth0|${j}","email":"u${j}@example.com","name":"User \\"${j}\\", =1+1","identities":[{"connection":"db"}],"logins_count":${j},"created_at":"2024-01-02T03:04:05.678Z"}\n`;
      }
      yield s;
    }
  }
  const request = { format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }, { name: 'name' }, { name: 'identities[0].connection' }, { name: 'logins_count' }, { name: 'created_at' }] };
  const reader = exportStream(ndjson(), request, { tenant: 'acme' }).getReader();
  let bytes = 0;
  let rows = 0;
  const samples = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    bytes += r.value.length;
    for (const b of r.value) if (b === 10) rows++;
    if (samples.length < Math.floor(rows / 100_000)) samples.push(process.memoryUsage().rss);
  }
  assert.equal(rows, users + 1);
  assert.ok(bytes > 80 * MiB, `${bytes} bytes`);
  // From the 100k-th user on, the process grows by less than 48 MiB (garbage collection jitter),
  // whatever the number of users.
  const growth = Math.max(...samples) - samples[0];
  console.log(`RSS every 100k users (MiB): ${samples.map((s) => (s / MiB).toFixed(0)).join(", ")}`);
  assert.ok(growth < 48 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB: ${samples.map((s) => (s / MiB).toFixed(0)).join(', ')}`);
});

test('100 000 opening arrays end in a depth error inside wasm, never a stack overflow', () => {
  // On wasm32 an overflow could corrupt memory instead of trapping: the walk must not recurse.
  for (const text of ['['.repeat(100_000), `{"user_id":"x","v":${'['.repeat(100_000)}}`, `{"v":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`]) {
    const ex = new Exporter({ fields: [{ name: 'user_id' }] }, { lenient: true });
    ex.pushNdjson(`{"user_id":"before"}\n${text}\n{"user_id":"after"}\n`);
    assert.equal(finishAll(ex).toString(), '{"user_id":"before"}\n{"user_id":"after"}\n');
    assert.deepEqual(ex.errors.map((e) => [e.code, e.line]), [['too_deep', 2]]);
    ex.free();
  }
});
