// The export manifest: Exporter.manifest()'s sha256s equal node:crypto's of the pulled bytes at
// every pull size and input split, plain and gzip; the CLI's --manifest and `verify`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Exporter, manifestOf } from 'userexport';

const BIN = fileURLToPath(new URL('../../bin/userexport.mjs', import.meta.url));
const cli = (args, cwd) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
};

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const input = readFileSync(new URL('../fixtures/csv-sample/input.ndjson', import.meta.url));
const request = JSON.parse(readFileSync(new URL('../fixtures/csv-sample/request.json', import.meta.url), 'utf8'));
const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** Pushes `input` in pieces of `split` bytes and pulls into a `size`-byte target after each. */
function run(options, split, size) {
  const ex = new Exporter(request, { ...options, manifest: true });
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
    { tenant: 'acme', lenient: true, gzip: true, connection: 'db', query: '_exists_:email', manifest: true },
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
  // Told by its counts and skipped codes, as a host that ran it in parts tells them: the same
  // manifest (keys in the same order), the digests left to the host.
  const request = { format: 'json', fields: [{ name: 'user_id' }, { name: 'email', export_as: 'mail' }] };
  const options = { tenant: 'acme', lenient: true, gzip: true, connection: 'db', query: '_exists_:email' };
  const summary = { stats: ex.stats, skipped: ex.errors.map((e) => e.code), startedAt: m.startedAt, endedAt: m.endedAt };
  const joined = manifestOf(request, options, summary);
  assert.equal(JSON.stringify(joined), JSON.stringify({ ...m, plain: null, gzip: null }));
  assert.throws(() => manifestOf(request, options, { ...summary, skipped: ['nope'] }), (e) => e instanceof TypeError && e.code === 'invalid_argument' && /"nope" is not an error code/.test(e.message));
  assert.throws(() => manifestOf(request, options, { ...summary, extra: 1 }), (e) => e instanceof TypeError && /summary: unknown option "extra"/.test(e.message));
  assert.throws(() => manifestOf(request, { ...options, tenant: '../x' }, summary), (e) => e.code === 'invalid_tenant');
});

test('CLI --manifest writes <tenant>.manifest.json beside the file; verify passes on it and fails on a one-byte change', () => {
  const inputPath = fileURLToPath(new URL('../fixtures/csv-sample/input.ndjson', import.meta.url));
  const requestPath = fileURLToPath(new URL('../fixtures/csv-sample/request.json', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'userexport-manifest-'));
  try {
    for (const gzip of [false, true]) {
      const out = join(dir, gzip ? 'out/acme.csv.gz' : 'out/acme.csv');
      mkdirSync(join(dir, 'out'), { recursive: true });
      const before = new Date().toISOString();
      const r = cli([inputPath, '--request-file', requestPath, '--tenant', 'acme', '--lenient', '--manifest', '--out', out, ...(gzip ? ['--gzip'] : [])], dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /wrote the manifest .*acme\.manifest\.json/);
      // Beside the file, not in the working folder; no temporary file left.
      assert.deepEqual(readdirSync(dir).sort(), ['out']);
      assert.deepEqual(readdirSync(join(dir, 'out')).filter((f) => f.startsWith('.')), []);
      const manifestPath = join(dir, 'out', 'acme.manifest.json');
      const text = readFileSync(manifestPath, 'utf8');
      assert.ok(text.endsWith('}\n'));
      const m = JSON.parse(text);
      const file = readFileSync(out);
      const plain = gzip ? gunzipSync(file) : file;
      assert.deepEqual(m.plain, { sha256: sha256(plain), bytes: plain.length });
      assert.deepEqual(m.gzip, gzip ? { sha256: sha256(file), bytes: file.length } : null);
      assert.equal(m.file, gzip ? 'acme.csv.gz' : 'acme.csv');
      assert.equal(m.version, version);
      assert.deepEqual(m.request, JSON.parse(readFileSync(requestPath, 'utf8')));
      assert.deepEqual(m.options, { query: null, connection: null, lenient: true, gzip });
      assert.ok(before <= m.startedAt && m.startedAt <= m.endedAt && m.endedAt <= new Date().toISOString());

      const ok = cli(['verify', out, manifestPath], dir);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, `${out}: OK (${gzip ? 'gzip' : 'plain'} sha256 ${sha256(file)}, ${file.length} bytes)\n`);

      // One byte changed (past gzip's magic bytes): same size, another sha256.
      const bad = join(dir, 'bad');
      const changed = Buffer.from(file);
      changed[file.length - 3] ^= 1;
      writeFileSync(bad, changed);
      const differs = cli(['verify', bad, manifestPath], dir);
      assert.equal(differs.code, 1);
      assert.equal(differs.stdout, '');
      const kind = gzip ? 'gzip' : 'plain';
      assert.equal(differs.stderr, `userexport verify: ${bad} does not match ${manifestPath}:\n  sha256: ${bad} has ${sha256(changed)}, the manifest's ${kind} sha256 is ${sha256(file)}\n`);
      // One byte more: the size and the sha256 both differ.
      writeFileSync(bad, Buffer.concat([file, Buffer.from('x')]));
      const longer = cli(['verify', bad, manifestPath], dir);
      assert.equal(longer.code, 1);
      assert.match(longer.stderr, new RegExp(`size: ${bad} has ${file.length + 1} bytes, the manifest's ${kind} size is ${file.length}\n  sha256: `));
      if (gzip) {
        // The gunzipped file checks against the plain digest of the same manifest.
        writeFileSync(bad, plain);
        assert.equal(cli(['verify', bad, manifestPath], dir).code, 0);
      } else {
        // A gzipped file against a plain export's manifest.
        writeFileSync(bad, Buffer.from([0x1f, 0x8b, 8, 0]));
        const g = cli(['verify', bad, manifestPath], dir);
        assert.equal(g.code, 1);
        assert.match(g.stderr, /is gzipped, but .* is of a plain export/);
      }
      rmSync(join(dir, 'out'), { recursive: true });
      rmSync(bad);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI --manifest with --out - writes the manifest in the working folder; verify misuse exits 2', () => {
  const inputPath = fileURLToPath(new URL('../fixtures/csv-sample/input.ndjson', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'userexport-manifest-'));
  try {
    const r = spawnSync(process.execPath, [BIN, inputPath, '--format', 'csv', '--field', 'user_id', '--lenient', '--manifest', '--out', '-', '--quiet'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(readdirSync(dir), ['export.manifest.json']);
    const m = JSON.parse(readFileSync(join(dir, 'export.manifest.json'), 'utf8'));
    assert.deepEqual(m.plain, { sha256: sha256(r.stdout), bytes: r.stdout.length });
    writeFileSync(join(dir, 'export.csv'), r.stdout);
    assert.equal(cli(['verify', 'export.csv', 'export.manifest.json'], dir).code, 0);

    writeFileSync(join(dir, 'not-a-manifest.json'), '{"tool":"other"}');
    writeFileSync(join(dir, 'broken.json'), '{');
    for (const [args, message] of [
      [[], /needs FILE and MANIFEST, got 0 arguments/],
      [['export.csv'], /needs FILE and MANIFEST, got 1 argument\n/],
      [['export.csv', 'export.manifest.json', 'x'], /got 3 arguments/],
      [['missing.csv', 'export.manifest.json'], /no such file: missing\.csv/],
      [['export.csv', 'missing.json'], /cannot read the manifest missing\.json/],
      [['export.csv', 'broken.json'], /cannot read the manifest broken\.json/],
      [['export.csv', 'not-a-manifest.json'], /not-a-manifest\.json is not a userexport manifest/],
    ]) {
      const v = cli(['verify', ...args], dir);
      assert.equal(v.code, 2, `${args}: ${v.stderr}`);
      assert.match(v.stderr, message);
      assert.match(v.stderr, /usage: userexport/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('manifest() needs { manifest: true }: without it nothing is hashed and it says so', () => {
  const ex = new Exporter(request, { tenant: 'acme' });
  ex.push(input);
  ex.finish();
  while (!ex.done) ex.pull();
  assert.throws(() => ex.manifest(), (e) => e.code === 'invalid_state' && /manifest: true/.test(e.message));
  ex.free();
});
