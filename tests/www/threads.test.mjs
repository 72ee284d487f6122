// The page's export on several Web Workers (www/export-worker.js): a file cut at random points
// gives, in Chromium, the bytes, skipped records, counts and manifest of one worker, and the CLI's
// bytes; a gzip export is one gzip member of the workers' segments. Neither hashes: the manifest's digests come from the
// stored file, asked for after (as the page's Manifest action asks).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openPage, cli } from './helpers.mjs';
import { xorshift32 } from '../seeded.mjs';

let p;
let tmp;
before(async () => {
  p = await openPage();
  tmp = mkdtempSync(join(tmpdir(), 'userexport-www-threads-'));
});
after(async () => {
  await p?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Seeded (xorshift32) users with every kind of line: blank, CRLF, bad, duplicate keys, filtered. */
function input(seed, n) {
  const next = xorshift32(seed);
  const below = (k) => next() % k;
  const lines = [];
  for (let i = 0; i < n; i++) {
    const user = JSON.stringify({
      user_id: `auth0|${i}`,
      email: `u${i}@${below(2) ? 'example.com' : 'acme.org'}`,
      name: ['Ann "Q" Lee', '=1+1', 'Zoë, Jr.', 'a\nb'][below(4)],
      logins_count: below(20),
      identities: [{ connection: below(4) ? 'db' : 'google-oauth2' }],
    });
    const kind = below(12);
    lines.push(kind === 0 ? '' : kind === 1 ? ' \r' : kind === 2 ? `{"user_id":"bad${i}",}` : kind === 3 ? `{"user_id":"d${i}","user_id":"x"}` : kind === 4 ? `${user}\r` : user);
  }
  return Buffer.from(`\uFEFF${lines.join('\n')}${below(2) ? '\n' : ''}`);
}

/**
 * One export through the page's worker, as the page starts it (plus `threads` / `cuts`), then the
 * digests of its stored file from another worker, as the page's Manifest action gets them.
 */
async function exportIn(page, { request, options, threads, cuts }) {
  return page.evaluate(
    async ({ request, options, threads, cuts }) => {
      const blob = document.querySelector('input[type=file]').files[0];
      const worker = new Worker(new URL('export-worker.js', location.href), { type: 'module' });
      const id = `threads-${Math.random().toString(36).slice(2)}`;
      const done = await new Promise((resolve) => {
        worker.onmessage = ({ data }) => data.type !== 'progress' && resolve(data);
        worker.postMessage({ id, source: { kind: 'file', blob }, request, options, threads, cuts });
      });
      worker.terminate();
      const root = await navigator.storage.getDirectory();
      const dir = await root.getDirectoryHandle('exports');
      let bytes = null;
      let digest = null;
      if (done.type === 'done') {
        bytes = Array.from(new Uint8Array(await (await (await dir.getFileHandle(id)).getFile()).arrayBuffer()));
        const hasher = new Worker(new URL('export-worker.js', location.href), { type: 'module' });
        digest = await new Promise((resolve) => {
          hasher.onmessage = ({ data }) => resolve(data);
          hasher.postMessage({ digest: { id, gzip: !!options.gzip } });
        });
        hasher.terminate();
      }
      await dir.removeEntry(id).catch(() => {});
      const parts = [];
      for await (const name of (await root.getDirectoryHandle('export-parts', { create: true })).keys()) parts.push(name);
      return { ...done, bytes, parts, digest };
    },
    { request, options, threads, cuts },
  );
}

function members(gz) {
  // Each member starts with the magic bytes and deflate method 8 after the previous one's end;
  // gunzipping each prefix tells where members end.
  let n = 0;
  for (let at = 0; at < gz.length; n++) {
    let end = at + 18;
    while (end <= gz.length) {
      try {
        gunzipSync(gz.subarray(at, end));
        break;
      } catch {
        end++;
      }
    }
    at = end;
  }
  return n;
}

const CASES = [
  { request: { format: 'csv', fields: [{ name: 'user_id' }, { name: 'name', export_as: 'Name' }, { name: 'logins_count' }] }, options: { tenant: 'acme', lenient: true } },
  { request: { format: 'json', limit: 23 }, options: { tenant: 'acme', lenient: true, connection: 'db' } },
  { request: { format: 'json' }, options: { tenant: 'acme', lenient: true, gzip: true } },
  { request: { format: 'csv', fields: [{ name: 'email' }] }, options: { tenant: 'acme', lenient: true, query: 'logins_count:[5 TO *]' } },
  { request: { format: 'csv' }, options: { tenant: 'acme' } }, // strict: fails at the first bad line
];

test('several workers give one worker\'s bytes, errors, counts and manifest, at random cut points', async () => {
  const { page } = p;
  // A page of the same folder that is not the app: the app sweeps export files it did not start.
  await page.goto(new URL('demo.html', p.url).href);
  for (let seed = 1; seed <= 10; seed++) {
    const bytes = input(seed, 150 + seed * 10);
    const file = join(tmp, `users-${seed}.ndjson`);
    writeFileSync(file, bytes);
    await page.locator('#file').setInputFiles(file);
    const c = CASES[seed % CASES.length];
    const cuts = [1, 2, 3].map((k) => Math.floor((bytes.length * k * (seed + 1)) / 4 / (seed + 2)));
    const one = await exportIn(page, { ...c, threads: 1 });
    const many = await exportIn(page, { ...c, cuts });
    const label = `seed ${seed} ${JSON.stringify(c)} cuts ${cuts}`;
    assert.equal(many.type, one.type, `${label}: ${JSON.stringify(many.error)}`);
    assert.deepEqual(many.parts, [], `${label}: no part file left`);
    if (one.type === 'failed') {
      assert.deepEqual(many.error, one.error, `${label}: the same error, at the stream's line`);
      continue;
    }
    const [a, b] = [Buffer.from(one.bytes), Buffer.from(many.bytes)];
    const plain = c.options.gzip ? [gunzipSync(a), gunzipSync(b)] : [a, b];
    assert.ok(plain[1].equals(plain[0]), `${label}: the same bytes`);
    const viaCli = cli(file, c.request, { tenant: 'acme', connection: c.options.connection, lenient: c.options.lenient, query: c.options.query });
    if (!c.options.query) assert.ok(plain[1].equals(viaCli), `${label}: the CLI's bytes`);
    // A gzip export on several workers is one gzip member (which browsers' DecompressionStream
    // needs) of their segments, which the browser gunzips to one worker's bytes.
    if (c.options.gzip) {
      assert.equal(members(b), 1, `${label}: one gzip member`);
      const viaBrowser = await page.evaluate(async (bytes) => {
        const s = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new DecompressionStream('gzip'));
        return Array.from(new Uint8Array(await new Response(s).arrayBuffer()));
      }, many.bytes);
      assert.ok(Buffer.from(viaBrowser).equals(plain[0]), `${label}: DecompressionStream reads it whole`);
    }
    assert.ok(many.workers > 1 && one.workers === undefined, `${label}: several workers against one`);
    assert.deepEqual(many.errors, one.errors, `${label}: the same skipped records and line numbers`);
    // With a limit, bytesIn counts what was read before it was reached, which depends on how the
    // file was read (one stream, or a slice per worker): every other count is the same.
    const counts = (s) => ({ ...s, bytesOut: 0, bytesIn: c.request.limit ? 0 : s.bytesIn });
    assert.deepEqual(counts(many.stats), counts(one.stats), `${label}: the same counts`);
    const sha = (x) => ({ sha256: createHash('sha256').update(x).digest('hex'), bytes: x.length });
    for (const r of [one, many]) {
      assert.deepEqual([r.manifest.plain, r.manifest.gzip], [null, null], `${label}: the export hashes nothing`);
      assert.equal(r.digest.type, 'digest', `${label}: ${JSON.stringify(r.digest.error)}`);
    }
    assert.deepEqual(many.digest.plain, sha(plain[1]), `${label}: the digest proves the joined bytes`);
    assert.deepEqual(many.digest.gzip, c.options.gzip ? sha(b) : null, `${label}: and the .gz file`);
    for (const m of [one.manifest, many.manifest]) {
      delete m.startedAt;
      delete m.endedAt;
      if (c.request.limit) delete m.input.bytes;
    }
    assert.deepEqual(many.manifest, one.manifest, `${label}: the same manifest`);
  }
  // demo.html's own inline scripts are refused by the server's CSP; this test runs none of them.
  assert.deepEqual(p.problems.filter((m) => !/Executing inline script violates/.test(m)), []);
});
