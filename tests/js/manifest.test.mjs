// The export manifest through the package's Node entry: Exporter.manifest()'s sha256s equal
// node:crypto's of the pulled bytes at every pull size and input split, plain and gzip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Exporter } from 'userexport';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const input = readFileSync(new URL('../fixtures/csv-sample/input.ndjson', import.meta.url));
const request = JSON.parse(readFileSync(new URL('../fixtures/csv-sample/request.json', import.meta.url), 'utf8'));
const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** Pushes `input` in pieces of `split` bytes and pulls into a `size`-byte target after each. */
function run(options, split, size) {
  const ex = new Exporter(request, options);
  const target = new Uint8Array(size);
  const parts = [];
  const drain = () => {
    for (let n = ex.pullInto(target); n; n = ex.pullInto(target)) parts.push(Buffer.from(target.subarray(0, n)));
  };
  for (let i = 0; i < input.length; i += split) {
    ex.pushNdjson(input.subarray(i, i + split));
    drain();
  }
  ex.finish();
  drain();
  assert.equal(ex.done, true);
  return { ex, out: Buffer.concat(parts) };
}

test('manifest(): sha256 and bytes of the plain and gzip output at every pull size 1..64 and several splits', () => {
  const plain = run({}, input.length, 1 << 16).out;
  for (const gzip of [false, true]) {
    for (const split of [1, 29, 97, input.length]) {
      for (let size = 1; size <= 64; size++) {
        // Byte-by-byte input is slow through the door: a few pull sizes cover it.
        if (split === 1 && ![1, 13, 64].includes(size)) continue;
        const { ex, out } = run({ gzip, lenient: true }, split, size);
        const m = ex.manifest();
        const at = `gzip=${gzip} split=${split} size=${size}`;
        assert.deepEqual(m.plain, { sha256: sha256(plain), bytes: plain.length }, at);
        if (gzip) {
          assert.deepEqual(gunzipSync(out), plain, at);
          assert.deepEqual(m.gzip, { sha256: sha256(out), bytes: out.length }, at);
        } else {
          assert.deepEqual(out, plain, at);
          assert.equal(m.gzip, null, at);
        }
        ex.free();
      }
    }
  }
});

test('manifest(): request, options, counts with reasons, version and times', () => {
  const before = new Date().toISOString();
  const ex = new Exporter(
    { format: 'json', fields: [{ name: 'user_id' }, { name: 'email', export_as: 'mail' }] },
    { tenant: 'acme', lenient: true, gzip: true, connection: 'db', query: '_exists_:email' },
  );
  assert.throws(() => ex.manifest(), (e) => e.code === 'invalid_state' && /done/.test(e.message));
  ex.pushNdjson([
    '{"user_id":"1","email":"a@example.com","identities":[{"connection":"db"}]}',
    '{"user_id":"2","identities":[{"connection":"db"}]}',
    '{"user_id":"3","email":"c@example.com","identities":[{"connection":"other"}]}',
    '{bad',
    '{"user_id":"5","email":"e@example.com","identities":[{"connection":"db"}],"email":"x"}',
    '{"user_id":"6","email":"f@example.com","identities":[{"connection":"db"}]}',
  ].join('\n'));
  ex.finish();
  const parts = [];
  for (let c = ex.pull(); c; c = ex.pull()) parts.push(c);
  assert.equal(ex.done, true);
  const gz = Buffer.concat(parts);
  const plain = gunzipSync(gz);
  const m = ex.manifest();
  const after = new Date().toISOString();
  assert.ok(before <= m.startedAt && m.startedAt <= m.endedAt && m.endedAt <= after, `${before} ${m.startedAt} ${m.endedAt} ${after}`);
  assert.match(m.startedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(m, {
    tool: 'userexport',
    version,
    file: 'acme.json.gz',
    request: { format: 'json', fields: [{ name: 'user_id' }, { name: 'email', export_as: 'mail' }] },
    options: { query: '_exists_:email', connection: 'db', lenient: true, gzip: true },
    counts: { read: 6, matched: 2, written: 2, filtered: 2, skipped: 2, skippedReasons: { invalid_json: 1, duplicate_key: 1 } },
    input: { bytes: ex.stats.bytesIn, lines: 6 },
    plain: { sha256: sha256(plain), bytes: plain.length },
    gzip: { sha256: sha256(gz), bytes: gz.length },
    startedAt: m.startedAt,
    endedAt: m.endedAt,
  });
  assert.equal(plain.toString(), '{"user_id":"1","mail":"a@example.com"}\n{"user_id":"6","mail":"f@example.com"}\n');
  // The same object again: the end time is the first `done`, not the call's.
  assert.deepEqual(ex.manifest(), m);
});
