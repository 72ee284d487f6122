// The export worker's memory stays flat: a few hundred thousand users (~200 MB of NDJSON,
// generated in the temp folder) exported through the page while the worker's heap is read over
// CDP. Checks what the page's code holds (V8 heap + ArrayBuffer backing stores), not process RSS,
// which Chromium's caches make too noisy to bound; tests/www/bench-1m.mjs measures RSS at 1M.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPage, configure, exportUsers, root } from './helpers.mjs';
import { watchWorkerHeap } from './worker-heap.mjs';
import { Exporter } from '../../pkg/node.js';

const USERS = 300_000;
const MiB = 2 ** 20;
// Measured at 100k–1M users: peak 3–8 MiB, live after a GC ≤ 1 MiB. Reading the file into fresh
// arrays (File.stream()'s default reader) peaked at 110 MiB at 300k users, pull()'s fresh output
// arrays at 35 MiB.
const PEAK_BOUND = 16 * MiB;
// pull() returns a fresh array per 64 KiB of output, and V8 lets those pile up (62 MiB here):
// flat memory needs the wasm API's pullInto(buffer).
const needsPullInto = typeof Exporter.prototype.pullInto === 'function' ? false : 'the package has no Exporter.pullInto yet';
const LIVE_BOUND = 4 * MiB;

let p;
let tmp;
let file;
before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'userexport-www-mem-'));
  file = join(tmp, 'users.ndjson');
  // The sample's 1000 users over and over, each with its own user_id and email.
  const lines = readFileSync(join(root, 'samples', 'users.ndjson'), 'utf8').trimEnd().split('\n');
  const out = createWriteStream(file);
  for (let i = 0; i < USERS; i++) {
    const line = lines[i % lines.length]
      .replace(/"user_id":"([^|"]*)\|[^"]*"/, (_, provider) => `"user_id":"${provider}|${i.toString(16).padStart(24, '0')}"`)
      .replace(/"email":"[^"]*"/, `"email":"user.${i}@example.com"`);
    if (!out.write(line + '\n')) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
  p = await openPage();
});
after(async () => {
  await p?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function exportWatched(t, collectEveryMs) {
  await p.reload();
  await p.page.getByLabel('Users file').setInputFiles(file);
  await configure(p.page, { tenant: 'bench', format: 'json', defaults: true });
  const heap = await watchWorkerHeap(p.context, p.page, { everyMs: 25, collectEveryMs });
  let job;
  let peak;
  try {
    job = await exportUsers(p.page);
  } finally {
    peak = heap.stop();
  }
  const mib = (n) => (n / MiB).toFixed(1);
  t.diagnostic(`worker peak: heap ${mib(peak.total)} MiB + backing stores ${mib(peak.backing)} MiB = ${mib(peak.sum)} MiB; live after ${peak.collections} GCs ${mib(peak.live)} MiB`);
  assert.equal(job.status, 'completed', await job.row.textContent());
  assert.match(await job.row.locator('.users').textContent(), new RegExp(`^${USERS.toLocaleString('en')} written`));
  return peak;
}

test(`${USERS.toLocaleString('en')} users: the worker's heap + backing stores peak under ${PEAK_BOUND / MiB} MiB`, { skip: needsPullInto }, async (t) => {
  const peak = await exportWatched(t, 0);
  assert.ok(peak.samples >= 5, `only ${peak.samples} heap samples`);
  assert.ok(peak.sum <= PEAK_BOUND, `peak ${(peak.sum / MiB).toFixed(1)} MiB (heap ${(peak.total / MiB).toFixed(1)}, backing stores ${(peak.backing / MiB).toFixed(1)})`);
});

test('Garbage collections during the export: it completes, and the worker retains almost nothing', async (t) => {
  // A full GC used to collect the Blob stream being read (and the export awaiting it): the job hung.
  const peak = await exportWatched(t, 200);
  assert.ok(peak.collections >= 1, `only ${peak.collections} forced GCs`);
  assert.ok(peak.live <= LIVE_BOUND, `live after GC ${(peak.live / MiB).toFixed(1)} MiB`);
});
