// The page's "Manifest" action in real Chromium: it saves <tenant>.manifest.json whose sha256s
// are node:crypto's of the downloaded export (plain and gzip), which is the CLI's --manifest for
// the same export (but for its times) and which the CLI's `verify` accepts. The export itself
// hashes nothing: the job's digests appear only once the action has hashed the stored file, in a
// worker of its own, which stops when the job expires meanwhile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openPage, configure, exportUsers, download, fixtures, readJson, root } from './helpers.mjs';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const version = readJson(join(root, 'package.json')).version;
let tmp;
let big;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'userexport-www-manifest-'));
  big = join(tmp, 'users.ndjson');
  writeFileSync(big, bigInput());
});
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/**
 * ~18 MB of NDJSON (over the page's 16 MiB threshold, so a plain export runs on several workers):
 * the sample's users made unique, every 997th line a bad record of one of three kinds.
 */
function bigInput() {
  const users = readFileSync(join(root, 'samples', 'users.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  const bad = [(i) => `{"user_id":"bad${i}",}`, (i) => `{"user_id":"d${i}","user_id":"x"}`, (i) => `["not a user ${i}"]`];
  const lines = [];
  for (let i = 0; i < 26_000; i++) {
    if (i % 997 === 996) lines.push(bad[i % 3](i));
    else lines.push(JSON.stringify({ ...users[i % users.length], user_id: `auth0|${i.toString(16).padStart(24, '0')}`, email: `u${i}@example.com` }));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The CLI's manifest of the same export, with `--threads` as given, its file cut where the page
 * cuts it (one shard per worker, even cuts; the CLI's own shards are smaller), so a gzip export's
 * segments, and so its `.gz` bytes, are the page's.
 */
function cliManifest(input, request, { gzip, lenient, threads = 1 }) {
  const dir = mkdtempSync(join(tmp, 'cli-'));
  const out = join(dir, `acme.csv${gzip ? '.gz' : ''}`);
  const args = [join(root, 'bin', 'userexport.mjs'), input, '--request', JSON.stringify(request), '--tenant', 'acme', '--out', out, '--manifest', '--quiet', '--threads', String(threads)];
  if (gzip) args.push('--gzip');
  if (lenient) args.push('--lenient');
  const size = statSync(input).size;
  const cuts = Array.from({ length: threads - 1 }, (_, k) => Math.floor((size * (k + 1)) / threads));
  execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, USEREXPORT_SHARD_CUTS: cuts.join(',') } });
  const m = readJson(join(dir, 'acme.manifest.json'));
  rmSync(dir, { recursive: true, force: true });
  return m;
}

/** The job's record as the page stored it in jobs.json. */
const storedJob = (page, id) =>
  page.evaluate(async (id) => {
    const text = await (await (await (await navigator.storage.getDirectory()).getFileHandle('jobs.json')).getFile()).text();
    return JSON.parse(text).find((j) => j.id === id);
  }, id);

/** Counts the starts of the export worker (the export's, its shards', the Manifest action's). */
function countWorkers(page) {
  const seen = { started: 0, live: new Set() };
  page.on('worker', (w) => {
    if (!w.url().endsWith('/export-worker.js')) return;
    seen.started++;
    seen.live.add(w);
    w.on('close', () => seen.live.delete(w));
  });
  return seen;
}

/** Records every aria-busy the row's Manifest button takes (set and cleared within one click). */
const watchBusy = (page, id) =>
  page.evaluate((id) => {
    const button = [...document.querySelectorAll(`tr[data-job="${id}"] .actions button`)].find((b) => b.textContent.startsWith('Manifest'));
    window.busySeen = [];
    new MutationObserver(() => window.busySeen.push(`${button.getAttribute('aria-busy')} ${button.textContent}`)).observe(button, { attributes: true, childList: true, characterData: true, subtree: true });
  }, id);

/** Clicks Manifest and returns the saved manifest (its file kept in the temp folder for verify). */
async function saveManifest(page, row) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), row.getByRole('button', { name: 'Manifest' }).click()]);
  assert.equal(dl.suggestedFilename(), 'acme.manifest.json');
  const path = join(tmp, 'acme.manifest.json');
  writeFileSync(path, readFileSync(await dl.path()));
  return { path, text: readFileSync(path, 'utf8'), m: readJson(path) };
}

/** The manifest without its times (which no two runs share). */
const timeless = ({ startedAt: _s, endedAt: _e, ...m }) => m;

/**
 * Exports `input` on the page, checks that the job's record has no digest, saves its manifest
 * (once hashing, once from the record) and checks it against the download, the CLI and verify.
 */
async function exportAndCheck(p, { input, request, gzip, lenient, expectWorkers }) {
  const { page } = p;
  await p.reload();
  const workers = countWorkers(page);
  await page.getByLabel('Users file').setInputFiles(input);
  await configure(page, { tenant: 'acme', format: 'csv', fields: request.fields, gzip, lenient });
  const job = await exportUsers(page);
  assert.equal(job.status, 'completed');
  // The export kept the manifest's fields, but no digest: nothing was hashed.
  const record = await storedJob(page, job.id);
  assert.equal(record.workers, expectWorkers, 'the export ran on the workers expected');
  assert.equal(workers.started, expectWorkers, 'a worker per shard, and no other');
  const kept = record.manifest;
  assert.deepEqual([kept.plain, kept.gzip], [null, null]);
  assert.equal(kept.file, `acme.csv${gzip ? '.gz' : ''}`);

  const got = await download(page, job.row);
  await watchBusy(page, job.id);
  const first = await saveManifest(page, job.row);
  // One more worker hashed the file; the button said so meanwhile, and is back to itself.
  assert.equal(workers.started, expectWorkers + 1, 'the digest came from a worker');
  const busy = await page.evaluate(() => window.busySeen);
  assert.ok(busy.includes('true Manifest (computing sha256…)'), `busy while hashing: ${busy}`);
  assert.equal(busy.at(-1), 'false Manifest');
  const { m } = first;
  const plain = gzip ? gunzipSync(got.bytes) : got.bytes;
  assert.equal(m.file, got.name);
  assert.equal(m.version, version);
  assert.deepEqual(m.options, { query: null, connection: null, lenient: !!lenient, gzip: !!gzip });
  assert.deepEqual(m.plain, { sha256: sha256(plain), bytes: plain.length });
  assert.deepEqual(m.gzip, gzip ? { sha256: sha256(got.bytes), bytes: got.bytes.length } : null);
  assert.ok(m.startedAt <= m.endedAt);
  assert.match(await page.locator('#jobs-status').textContent(), new RegExp(`manifest acme\\.manifest\\.json saved \\(sha256 ${sha256(got.bytes)}\\)`));
  // The CLI's --manifest for the same export, key for key; the .gz bytes too, from as many
  // threads (the same cut points, each shard a segment of one gzip member, as the page's workers).
  const cli = cliManifest(input, request, { gzip, lenient, threads: expectWorkers });
  assert.deepEqual(timeless(m), timeless(cli));
  assert.deepEqual(Object.keys(m), Object.keys(cli));
  const file = join(tmp, got.name);
  writeFileSync(file, got.bytes);
  const out = execFileSync(process.execPath, [join(root, 'bin', 'userexport.mjs'), 'verify', file, first.path]).toString();
  assert.match(out, / OK /);
  // The job keeps the digests: a second click saves the same file without hashing again.
  assert.deepEqual((await storedJob(page, job.id)).manifest, m);
  const second = await saveManifest(page, job.row);
  assert.equal(second.text, first.text);
  assert.equal(workers.started, expectWorkers + 1, 'no second hash');
  assert.equal(workers.live.size, 0, 'no export worker left running');
  return { m, plain };
}

test('Manifest: the page saves <tenant>.manifest.json matching the download and the CLI, which verify accepts', async () => {
  const p = await openPage();
  try {
    const dir = join(fixtures, 'csv-sample');
    const request = readJson(join(dir, 'request.json'));
    for (const gzip of [false, true]) {
      const { m, plain } = await exportAndCheck(p, { input: join(dir, 'input.ndjson'), request, gzip, expectWorkers: 1 });
      assert.ok(plain.equals(readFileSync(join(dir, 'expected.csv'))));
      assert.deepEqual(m.request, { format: 'csv', fields: request.fields });
      assert.equal(m.counts.written, m.counts.read);
    }
    assert.deepEqual(p.problems, []);
  } finally {
    await p.close();
  }
});

test('Manifest of a file exported on several workers, plain and gzip: the CLI\'s', async () => {
  const p = await openPage();
  try {
    const cores = await p.page.evaluate(() => Math.min(navigator.hardwareConcurrency || 1, 4));
    const request = { format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }, { name: 'name', export_as: 'Name' }, { name: 'logins_count' }] };
    // One worker per core (the first shard in the export's own worker), plain and gzip.
    const many = await exportAndCheck(p, { input: big, request, lenient: true, expectWorkers: cores });
    assert.ok(cores > 1, 'this machine has several cores');
    assert.deepEqual(many.m.counts.skippedReasons, cliManifest(big, request, { lenient: true, threads: 2 }).counts.skippedReasons);
    assert.equal(Object.keys(many.m.counts.skippedReasons).length, 3);
    await exportAndCheck(p, { input: big, request, lenient: true, gzip: true, expectWorkers: cores });
    assert.deepEqual(p.problems, []);
  } finally {
    await p.close();
  }
});

test('A job that expires while its manifest is hashed stops the hashing worker', async () => {
  const p = await openPage({ clock: true });
  const { page } = p;
  try {
    const workers = countWorkers(page);
    await page.getByLabel('Users file').setInputFiles(big);
    // JSON with every field, gzipped: the largest output of this input to hash and gunzip.
    await configure(page, { tenant: 'acme', format: 'json', gzip: true, lenient: true });
    const job = await exportUsers(page);
    assert.equal(job.status, 'completed');
    // To 3 s before the job's 24 hours are up (the clock runs on meanwhile).
    const created = Date.parse((await storedJob(page, job.id)).created_at);
    const now = await page.evaluate(() => Date.now());
    await page.clock.fastForward(24 * 3600_000 - (now - created) - 3000);
    const started = page.waitForEvent('worker');
    await job.row.getByRole('button', { name: 'Manifest' }).click();
    const hasher = await started;
    const closed = new Promise((r) => hasher.on('close', r));
    assert.equal(await job.row.getByRole('button', { name: 'Manifest' }).getAttribute('aria-busy'), 'true');
    // A tick past the 24 hours expires the job (its file deleted) and stops the hash.
    await page.clock.fastForward(5000);
    await job.row.locator('.badge').filter({ hasText: 'expired' }).waitFor();
    await closed;
    assert.equal(workers.live.size, 0, 'no export worker left running');
    assert.equal(await job.row.getByRole('button', { name: 'Manifest' }).getAttribute('aria-busy'), 'false');
    assert.ok(!/saved/.test(await page.locator('#jobs-status').textContent()), 'no manifest saved');
    assert.equal((await storedJob(page, job.id)).manifest.plain, null);
    assert.deepEqual(p.problems, []);
  } finally {
    await p.close();
  }
});
