// The CLI on threads (--threads, bin/shards.mjs): for random streams, random cut points and random
// option combinations, exactly the bytes, stderr, exit code and manifest of `--threads 1`; a gzip
// export is one gzip member of a segment per shard and gunzips to the one-thread bytes; what stays on one thread does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { shardCount } from '../../bin/shards.mjs';

const BIN = fileURLToPath(new URL('../../bin/userexport.mjs', import.meta.url));

/** splitmix64 on BigInt: seeded, so a failure names the seed that reproduces it. */
function rng(seed) {
  let s = BigInt(seed);
  const M = (1n << 64n) - 1n;
  const next = () => {
    s = (s + 0x9e3779b97f4a7c15n) & M;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    return z ^ (z >> 31n);
  };
  return { below: (n) => Number(next() % BigInt(n)), pick: (xs) => xs[Number(next() % BigInt(xs.length))] };
}

/** A stream with every kind of line: users (some the query or the connection leaves out), blank and
 * CRLF lines, bad records, a BOM at the start, escapes, non-ASCII, and maybe no final newline. */
function stream(r, n) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    const conn = r.pick(['db', 'db', 'db', 'google-oauth2']);
    const user = () => JSON.stringify({
      user_id: `auth0|u${i}`,
      email: `u${i}@${r.pick(['example.com', 'acme.org'])}`,
      name: r.pick([`User ${i}`, `=cmd|' /C calc'!A0 ${i}`, `Zoë "Q" ${i}`, 'line\nbreak, comma', '']),
      logins_count: r.below(30),
      identities: [{ connection: conn }],
      user_metadata: r.below(3) ? { plan: r.pick(['free', 'pro']), n: i } : undefined,
      created_at: `2024-0${1 + r.below(9)}-1${r.below(10)}T00:00:00.000Z`,
    });
    switch (r.below(14)) {
      case 0: lines.push(''); break;
      case 1: lines.push('  \r'); break;
      case 2: lines.push(`{"user_id":"bad${i}",}`); break;
      case 3: lines.push('[1]'); break;
      case 4: lines.push(`{"user_id":"dup${i}","user_id":"again"}\r`); break;
      case 5: lines.push(`${user()}\r`); break;
      default: lines.push(user());
    }
  }
  const text = lines.join('\n') + (r.below(2) ? '\n' : '');
  return Buffer.from(`${r.below(2) ? '\uFEFF' : ''}${text}`);
}

function cli(args, { cwd, env } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** Where the shards must start, computed here apart from the CLI: past the first `\n` at or after
 * the byte before each cut. */
function starts(bytes, cuts) {
  const s = new Set([0]);
  for (const c of cuts) {
    if (!(c > 0 && c < bytes.length)) continue;
    const nl = bytes.indexOf(0x0a, c - 1);
    if (nl >= 0 && nl + 1 < bytes.length) s.add(nl + 1);
  }
  return s.size;
}

const SYNC_FLUSH = Buffer.from([0, 0, 0xff, 0xff]);

/** How many segments a .gz joins: each shard's deflate ends in a sync flush (an empty stored
 *  block, 00 00 ff ff on a byte boundary); one thread's has none. */
function segments(gz) {
  let n = 0;
  for (let at = gz.indexOf(SYNC_FLUSH); at >= 0; at = gz.indexOf(SYNC_FLUSH, at + 4)) n++;
  return n;
}

/** How many gzip members a .gz holds (a threaded one too is one). */
function members(gz) {
  let n = 0;
  for (let at = 0; at < gz.length; n++) {
    assert.equal(gz[at + 3], 0, 'a plain gzip header (no optional fields)');
    const { engine } = /** @type {any} */ (inflateRawSync(gz.subarray(at + 10), { info: true }));
    at += 10 + engine.bytesWritten + 8;
  }
  return n;
}

const OPTIONS = {
  format: [['--format', 'csv'], ['--format', 'json'], ['--format', 'csv', '--field', 'email', '--field', 'name=Name', '--field', 'user_metadata.plan']],
  lenient: [[], ['--lenient']],
  limit: [[], ['--limit', '1'], ['--limit', 'SMALL'], ['--limit', 'MID'], ['--limit', '100000']],
  connection: [[], ['--connection', 'db']],
  query: [[], ['--query', 'logins_count:[5 TO *] OR email.domain:"acme.org"']],
  gzip: [[], ['--gzip']],
  out: ['file', 'stdout'],
  manifest: [[], ['--manifest']],
};

/** Runs the one-thread and the threaded export of `input` with `args`, and compares everything. */
function compare(label, input, args, out, cuts, threads) {
  const dirs = [mkdtempSync(join(tmpdir(), 'userexport-t1-')), mkdtempSync(join(tmpdir(), 'userexport-tn-'))];
  const runs = dirs.map((cwd, i) => {
    writeFileSync(join(cwd, 'users.ndjson'), input);
    const outArgs = out === 'stdout' ? ['--out', '-', '--tenant', 'acme'] : ['--tenant', 'acme'];
    const env = i === 1 && cuts ? { USEREXPORT_SHARD_CUTS: cuts.join(',') } : {};
    return cli(['users.ndjson', ...args, ...outArgs, '--threads', i === 0 ? '1' : String(threads)], { cwd, env });
  });
  const [one, many] = runs;
  assert.equal(many.code, one.code, `${label}: exit code (${many.stderr})`);
  const gzip = args.includes('--gzip');
  const files = dirs.map((d) => readdirSync(d).sort());
  assert.deepEqual(files[1], files[0], `${label}: the same files, no temp file left`);
  if (one.code === 0) {
    assert.equal(many.stderr, one.stderr, `${label}: stderr (lenient lines, summary)`);
    const bytes = runs.map((r, i) => {
      if (out === 'stdout') return r.stdout;
      const f = files[i].find((n) => n.startsWith('acme.') && !n.endsWith('manifest.json'));
      return readFileSync(join(dirs[i], f));
    });
    const plain = gzip ? bytes.map((b) => gunzipSync(b)) : bytes;
    assert.ok(plain[1].equals(plain[0]), `${label}: the same bytes as one thread`);
    if (gzip) assert.equal(members(bytes[1]), 1, `${label}: one gzip member`);
    if (gzip && !args.includes('--limit')) assert.equal(segments(bytes[1]), starts(input, cuts), `${label}: a segment per shard`);
    // With a limit, the shards past the one that reaches it write nothing.
    if (gzip) assert.ok(segments(bytes[1]) <= starts(input, cuts), `${label}: at most a segment per shard`);
    if (args.includes('--manifest')) {
      const [m1, mn] = dirs.map((d) => JSON.parse(readFileSync(join(d, 'acme.manifest.json'), 'utf8')));
      const sha = (b) => ({ sha256: createHash('sha256').update(b).digest('hex'), bytes: b.length });
      assert.deepEqual(mn.plain, sha(plain[1]), `${label}: the manifest's plain digest is the bytes'`);
      if (gzip) assert.deepEqual(mn.gzip, sha(bytes[1]), `${label}: the manifest's gzip digest is the file's`);
      for (const m of [m1, mn]) {
        delete m.startedAt;
        delete m.endedAt;
        if (gzip) delete m.gzip;
      }
      assert.deepEqual(mn, m1, `${label}: the same manifest`);
      assert.deepEqual(Object.keys(mn), Object.keys(m1), `${label}: in the same key order`);
    }
  } else {
    // Strict: the first bad line of the stream, as one thread names it; nothing left behind.
    assert.equal(many.stderr, one.stderr, `${label}: the same error`);
  }
  for (const d of dirs) rmSync(d, { recursive: true });
  return many;
}

test('threaded exports equal --threads 1 for random streams, cut points and option combinations', () => {
  for (let seed = 1; seed <= 28; seed++) {
    const r = rng(seed);
    const input = stream(r, 40 + r.below(160));
    const args = [];
    for (const [name, values] of Object.entries(OPTIONS)) {
      if (name === 'out') continue;
      // Every value of every option comes up in the first seeds, then at random.
      const v = seed <= values.length ? values[seed - 1] : r.pick(values);
      args.push(...v.map((x) => (x === 'SMALL' ? String(1 + r.below(8)) : x === 'MID' ? String(10 + r.below(60)) : x)));
    }
    if (!args.includes('--lenient') && r.below(2)) {
      // Strict runs mostly fail at the first bad line; half of them get a stream with none.
      const good = input.toString('utf8').split('\n').filter((l) => !/bad|\[1\]|dup|^\s*\r?$/.test(l));
      compareClean(seed, r, Buffer.from(`${good.join('\n')}\n`), args);
      continue;
    }
    // Every third seed cuts more shards than the threads may run ahead of the one being written.
    const k = seed % 3 === 0 ? 8 + r.below(8) : 1 + r.below(5);
    const cuts = Array.from({ length: k }, () => r.below(input.length + 1));
    const out = seed <= 2 ? OPTIONS.out[seed - 1] : r.pick(OPTIONS.out);
    // As many threads as shards, or fewer: then threads take the next shard as they come free.
    const threads = 2 + r.below(Math.min(k, 4));
    compare(`seed ${seed} [${args.join(' ')}] ${out} cuts ${cuts} threads ${threads}`, input, args, out, cuts, threads);
  }
});

function compareClean(seed, r, input, args) {
  const cuts = Array.from({ length: 1 + r.below(4) }, () => r.below(input.length + 1));
  const threads = 2 + r.below(cuts.length);
  compare(`seed ${seed} clean [${args.join(' ')}] cuts ${cuts} threads ${threads}`, input, args, 'file', cuts, threads);
}

test('stdin, gzipped input, a JSON text and several INPUTs stay on one thread, with the same bytes', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'userexport-t1-'));
  const input = stream(rng(99), 300);
  writeFileSync(join(cwd, 'users.ndjson'), input);
  writeFileSync(join(cwd, 'users.ndjson.gz'), gzipSync(input));
  const users = input.toString('utf8').split('\n').filter((l) => l.startsWith('{"user_id":"auth0|'));
  writeFileSync(join(cwd, 'users.json'), `[${users.map((l) => l.replace(/\r$/, '')).join(',\n')}]`);
  const env = { USEREXPORT_SHARD_CUTS: String(input.length >> 1) };
  const base = ['--lenient', '--gzip', '--out', '-', '--quiet'];
  const one = cli(['users.ndjson', ...base, '--threads', '1'], { cwd }).stdout;
  for (const [args, opts] of [
    [['users.ndjson.gz'], {}],
    [['-'], { input }],
    [[], { input }],
  ]) {
    const r = spawnSync(process.execPath, [BIN, ...args, ...base, '--threads', '4'], { cwd, env: { ...process.env, ...env }, ...opts });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(segments(r.stdout), 0, `${args.join(' ') || 'no INPUT'}: one thread, no segments`);
    assert.ok(gunzipSync(r.stdout).equals(gunzipSync(one)), `${args.join(' ') || 'no INPUT'}: the same bytes`);
  }
  const json = cli(['users.json', ...base, '--threads', '4'], { cwd, env });
  assert.equal(json.code, 0, json.stderr);
  assert.equal(segments(json.stdout), 0, 'a JSON text: one thread');
  assert.equal(gunzipSync(json.stdout).toString().split('\n').length - 1, users.length);
  const two = cli(['users.ndjson', 'users.ndjson', ...base, '--threads', '4'], { cwd, env });
  assert.equal(two.code, 0, two.stderr);
  assert.equal(segments(two.stdout), 0, 'several INPUTs: one thread');
  const sharded = cli(['users.ndjson', ...base, '--threads', '4'], { cwd, env });
  assert.equal(segments(sharded.stdout), 2, 'the same file alone is cut where USEREXPORT_SHARD_CUTS says');
  assert.equal(members(sharded.stdout), 1, 'its segments are one gzip member');
  assert.ok(gunzipSync(sharded.stdout).equals(gunzipSync(one)));
  rmSync(cwd, { recursive: true });
});

test('by default a file of 16 MiB or more is cut for every core, a smaller one is not; --threads needs a whole number ≥ 1', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'userexport-t1-'));
  const r = rng(7);
  const parts = [];
  let size = 0;
  while (size < (16 << 20) + 1000) {
    const b = stream(r, 2000);
    parts.push(b.subarray(b[0] === 0xef ? 3 : 0), Buffer.from('\n'));
    size += b.length + 1;
  }
  const bigBytes = Buffer.concat(parts);
  writeFileSync(join(cwd, 'big.ndjson'), bigBytes);
  writeFileSync(join(cwd, 'small.ndjson'), parts[0]);
  const args = ['--lenient', '--gzip', '--field', 'user_id', '--out', '-', '--quiet'];
  const cores = availableParallelism();
  const big = cli(['big.ndjson', ...args], { cwd });
  assert.equal(big.code, 0, big.stderr);
  assert.equal(segments(big.stdout), cores > 1 ? shardCount(bigBytes.length, cores) : 0, 'a shard per 4 MiB begun');
  assert.equal(members(big.stdout), 1);
  const one = cli(['big.ndjson', ...args, '--threads', '1'], { cwd });
  assert.ok(gunzipSync(big.stdout).equals(gunzipSync(one.stdout)));
  assert.equal(segments(one.stdout), 0);
  assert.equal(segments(cli(['small.ndjson', ...args], { cwd }).stdout), 0, 'a small file: one thread');
  // A larger file gets more shards than threads: one per 4 MiB begun.
  assert.deepEqual([1, 4, 5, 16, 1024].map((mib) => shardCount(mib << 20, 2)), [2, 2, 2, 4, 256]);
  assert.equal(shardCount(1 << 20, 3), 3);
  for (const bad of ['0', 'two', '-1', '1.5']) {
    const u = cli(['small.ndjson', `--threads=${bad}`], { cwd });
    assert.equal(u.code, 2, bad);
    assert.match(u.stderr, /--threads needs a whole number of at least 1/);
  }
  rmSync(cwd, { recursive: true });
});

test('Sha256 (for a host joining parts) equals node:crypto for bytes given in random pieces', async () => {
  const { Sha256 } = await import('userexport');
  const r = rng(5);
  for (const size of [0, 1, 63, 64, 65, 1000, 100_000]) {
    const bytes = Buffer.from(Array.from({ length: size }, () => r.below(256)));
    const h = new Sha256();
    for (let at = 0; at < size; ) {
      const n = 1 + r.below(5000);
      h.update(bytes.subarray(at, at + n));
      at += n;
    }
    assert.equal(h.hex(), createHash('sha256').update(bytes).digest('hex'), `${size} bytes`);
    assert.equal(h.bytes, size);
    h.free();
  }
});
