// The streaming harness (exportStream, createExportTransform, exportToBlob): sources, gzip both
// ways, backpressure, and freeing the wasm exporter on cancel and on error. CSV read by papaparse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import Papa from 'papaparse';
import { Exporter, initSync, exportStream, createExportTransform, exportToBlob } from 'userexport';

const fixture = (name, file) => readFileSync(new URL(`../fixtures/${name}/${file}`, import.meta.url));
const SAMPLE_IN = fixture('csv-sample', 'input.ndjson');
const SAMPLE_REQ = JSON.parse(fixture('csv-sample', 'request.json'));
const SAMPLE_OUT = fixture('csv-sample', 'expected.csv');

const bytesOf = async (stream) => Buffer.from(await new Response(stream).arrayBuffer());
function* pieces(buf, size) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}
const streamOf = (buf, size) => ReadableStream.from(pieces(buf, size));

// Count frees so tests can tell the exporter was released.
let frees = 0;
const realFree = Exporter.prototype.free;
Exporter.prototype.free = function () {
  frees++;
  return realFree.call(this);
};

test('exportStream from a ReadableStream, an async iterable, a Blob, a string and bytes', async () => {
  assert.deepEqual(await bytesOf(exportStream(streamOf(SAMPLE_IN, 1000), SAMPLE_REQ)), SAMPLE_OUT);
  const asyncIter = (async function* () { yield* pieces(SAMPLE_IN, 7); })();
  assert.deepEqual(await bytesOf(exportStream(asyncIter, SAMPLE_REQ)), SAMPLE_OUT);
  assert.deepEqual(await bytesOf(exportStream(new Blob([SAMPLE_IN]), SAMPLE_REQ)), SAMPLE_OUT);
  assert.deepEqual(await bytesOf(exportStream(SAMPLE_IN.toString('utf8'), SAMPLE_REQ)), SAMPLE_OUT);
  assert.deepEqual(await bytesOf(exportStream(new Uint8Array(SAMPLE_IN), SAMPLE_REQ)), SAMPLE_OUT);
});

test('exportStream from an array of user objects equals the NDJSON export', async () => {
  const users = SAMPLE_IN.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(await bytesOf(exportStream(users, SAMPLE_REQ)), SAMPLE_OUT);
  const gen = (function* () { yield* users; })();
  assert.deepEqual(await bytesOf(exportStream(gen, SAMPLE_REQ)), SAMPLE_OUT);
});

test('papaparse reads the CSV back: every string cell is a quote-prefixed original', async () => {
  const users = SAMPLE_IN.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  const csv = (await bytesOf(exportStream(users, SAMPLE_REQ))).toString('utf8');
  const parsed = Papa.parse(csv, { header: false, skipEmptyLines: false });
  assert.deepEqual(parsed.errors, []);
  const rows = parsed.data;
  assert.equal(rows.at(-1).length, 1, 'the last line ends with \\n');
  rows.pop();
  assert.deepEqual(rows[0], SAMPLE_REQ.fields.map((f) => f.export_as ?? f.name));
  assert.equal(rows.length, users.length + 1);
  users.forEach((u, i) => {
    const row = rows[i + 1];
    assert.equal(row[0], `'${u.user_id}`);
    assert.equal(row[3], `'${u.name}`);
    assert.equal(row[5], u.app_metadata.plan === null ? '' : `'${u.app_metadata.plan}`);
    assert.equal(row[6], String(u.logins_count));
    assert.equal(row[7], u.created_at, 'top-level dates are written bare');
  });
});

test('gzip output gunzips to the plain export; gzip input is detected by its magic bytes', async () => {
  const gz = await bytesOf(exportStream(streamOf(SAMPLE_IN, 4096), SAMPLE_REQ, { gzip: true }));
  assert.deepEqual(gz.subarray(0, 2), Buffer.from([0x1f, 0x8b]));
  assert.deepEqual(gunzipSync(gz), SAMPLE_OUT);
  // gzip input split so that even the two magic bytes arrive apart
  assert.deepEqual(await bytesOf(exportStream(streamOf(gzipSync(SAMPLE_IN), 1), SAMPLE_REQ)), SAMPLE_OUT);
  assert.deepEqual(await bytesOf(exportStream(new Blob([gzipSync(SAMPLE_IN)]), SAMPLE_REQ)), SAMPLE_OUT);
});

test('createExportTransform: NDJSON bytes in, export bytes out, plain and gzip', async () => {
  assert.deepEqual(await bytesOf(streamOf(SAMPLE_IN, 333).pipeThrough(createExportTransform(SAMPLE_REQ))), SAMPLE_OUT);
  const gz = await bytesOf(streamOf(SAMPLE_IN, 333).pipeThrough(createExportTransform(SAMPLE_REQ, { gzip: true })));
  assert.deepEqual(gunzipSync(gz), SAMPLE_OUT);
  const bad = streamOf(Buffer.from('{"user_id":"a"}\nnope\n'), 4).pipeThrough(createExportTransform(SAMPLE_REQ));
  const before = frees;
  await assert.rejects(bytesOf(bad), (e) => e.code === 'invalid_json' && e.line === 2);
  assert.equal(frees, before + 1, 'an error frees the exporter');
});

test('exportToBlob names the file after the tenant and reports lenient errors', async () => {
  const r = await exportToBlob(streamOf(SAMPLE_IN, 999), SAMPLE_REQ, { tenant: 'acme' });
  assert.equal(r.fileName, 'acme.csv');
  assert.equal(r.blob.type, 'text/csv;charset=utf-8');
  assert.deepEqual(Buffer.from(await r.blob.arrayBuffer()), SAMPLE_OUT);
  assert.equal(r.stats.usersWritten, 200);
  const g = await exportToBlob('{"user_id":"a"}\n{\n', {}, { tenant: 'dev-1', gzip: true, lenient: true });
  assert.equal(g.fileName, 'dev-1.json.gz');
  assert.equal(gunzipSync(Buffer.from(await g.blob.arrayBuffer())).toString(), '{"user_id":"a"}\n');
  assert.deepEqual(g.errors.map((e) => [e.code, e.line]), [['invalid_json', 2]]);
  await assert.rejects(exportToBlob('', {}, { tenant: 'NO' }), (e) => e.code === 'invalid_tenant');
});

test('strict errors error the stream and free the exporter; bad requests error it too', async () => {
  const before = frees;
  await assert.rejects(bytesOf(exportStream('{"user_id":"a"}\n{"user_id":"b",}\n', {})), (e) => e.code === 'invalid_json' && e.line === 2);
  assert.equal(frees, before + 1);
  await assert.rejects(bytesOf(exportStream('', { format: 'xml' })), (e) => e.code === 'invalid_request' && e.statusCode === 400);
  await assert.rejects(bytesOf(exportStream([{ user_id: NaN }], {})), (e) => e.code === 'unsupported_value' && e.index === 0);
});

test('limit stops reading the source and cancels it', async () => {
  let cancelled = false;
  let produced = 0;
  const endless = new ReadableStream({
    pull(c) {
      produced++;
      c.enqueue(new TextEncoder().encode(`{"user_id":"u${produced}"}\n`));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const out = (await bytesOf(exportStream(endless, { limit: 3, fields: [{ name: 'user_id' }] }))).toString();
  assert.equal(out, '{"user_id":"u1"}\n{"user_id":"u2"}\n{"user_id":"u3"}\n');
  assert.equal(cancelled, true);
  assert.ok(produced <= 4, `read ${produced} chunks for 3 users`);
});

test('backpressure: a slow consumer is never ahead of by more than a chunk, and memory stays flat', async () => {
  const line = Buffer.from(`${SAMPLE_IN.toString('utf8').split('\n')[0]}\n`);
  const rowBytes = Buffer.byteLength(SAMPLE_OUT.toString('utf8').split('\n')[1]) + 1;
  let produced = 0;
  const source = new ReadableStream({
    pull(c) {
      produced++;
      c.enqueue(Buffer.concat(Array(100).fill(line))); // ~70 KB of NDJSON per pull
    },
  }, { highWaterMark: 0 });
  const stream = exportStream(source, SAMPLE_REQ, { chunkSize: 16384 });
  const reader = stream.getReader();
  const wasmMemory = () => initSync({ module: new Uint8Array() }).memory.buffer.byteLength;
  let got = 0;
  let memAfterWarmup = 0;
  for (let i = 0; i < 400; i++) {
    const { value } = await reader.read();
    got += value.length;
    // The consumer is slow: the source is read only as far as the output read so far needs.
    assert.ok(produced <= Math.ceil(got / (100 * rowBytes)) + 2, `read ${got} bytes, produced ${produced} chunks`);
    if (i === 50) memAfterWarmup = wasmMemory();
    if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(got > 2_000_000, `${got} bytes exported`);
  assert.equal(wasmMemory(), memAfterWarmup, 'wasm memory did not grow while streaming');
  const before = frees;
  await reader.cancel('enough');
  assert.equal(frees, before + 1, 'cancel frees the exporter');
});

test('input "json" and "auto": one JSON text in many chunks (split inside UTF-8 too) is one document', async () => {
  const users = SAMPLE_IN.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  const text = Buffer.from(JSON.stringify({ start: 0, limit: 50, length: users.length, users }));
  const ex = new Exporter(SAMPLE_REQ, {});
  ex.pushJson(text);
  ex.finish();
  const parts = [];
  for (let c = ex.pull(); c; c = ex.pull()) parts.push(c);
  const want = Buffer.concat(parts);
  for (const opts of [{ input: 'json' }, { input: 'auto' }, {}]) {
    for (const size of [1, 7, 4096, text.length]) {
      assert.deepEqual(await bytesOf(exportStream(streamOf(text, size), SAMPLE_REQ, opts)), want, `stream, ${size}-byte chunks, ${JSON.stringify(opts)}`);
      const t = createExportTransform(SAMPLE_REQ, opts);
      assert.deepEqual(await bytesOf(streamOf(text, size).pipeThrough(t)), want, `transform, ${size}-byte chunks`);
    }
  }
  const opts = {};
  // Strings and bytes mixed, as a source may hand them out.
  const cut = text.indexOf('[') + 1; // an ASCII prefix
  const mixed = [text.subarray(0, cut).toString('utf8'), text.subarray(cut)];
  assert.deepEqual(await bytesOf(exportStream(mixed, SAMPLE_REQ, opts)), want);
});

test('input detection never drops users: a bad FIRST line is still NDJSON, named line 1', async () => {
  const good = Array.from({ length: 30 }, (_, i) => JSON.stringify({ user_id: `u${i}` })).join('\n') + '\n';
  const req = { fields: [{ name: 'user_id' }] };
  for (const first of ['{"user_id":"x",', '{"user_id":"x"} trailing', '{']) {
    const input = Buffer.from(`${first}\n${good}`);
    for (const size of [1, 5, 64, input.length]) {
      await assert.rejects(bytesOf(exportStream(streamOf(input, size), req)), (e) => e.code === 'invalid_json' && e.line === 1, `${first} in ${size}-byte chunks`);
      let summary;
      const out = await bytesOf(exportStream(streamOf(input, size), req, { lenient: true, onEnd: (s) => (summary = s) }));
      assert.equal(out.toString(), good.replaceAll('\n', '\n').split('\n').filter(Boolean).map((l) => l + '\n').join(''));
      assert.equal(summary.stats.usersWritten, 30);
      assert.deepEqual(summary.errors.map((e) => e.line), [1]);
    }
  }
  // `[` first: a JSON text, which must then be one valid value: the export fails (strict and
  // lenient) naming line and column, never "completed" with users skipped.
  for (const lenient of [false, true]) {
    await assert.rejects(bytesOf(exportStream(`[1,2]\n${good}`, req, { lenient })), (e) => e.code === 'invalid_json' && /line 2/.test(e.message) && /column/.test(e.message));
  }
  // Named forms win over detection; a misspelt option is refused with the known ones.
  assert.equal((await bytesOf(exportStream('{"user_id":"a"}\n', req, { input: 'ndjson' }))).toString(), '{"user_id":"a"}\n');
  await assert.rejects(bytesOf(exportStream('{"user_id":"a"}\n{"user_id":"b"}\n', req, { input: 'json' })), (e) => e.code === 'invalid_json');
  await assert.rejects(bytesOf(exportStream('', req, { input: 'xml' })), (e) => e instanceof TypeError && e.code === 'invalid_argument' && /input/.test(e.message) && /ndjson/.test(e.message));
  await assert.rejects(bytesOf(exportStream('', req, { gzpi: true })), (e) => e instanceof TypeError && e.code === 'invalid_argument' && /gzpi/.test(e.message) && /gzip/.test(e.message));
});
