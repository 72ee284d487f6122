// Measures the export page on a million users (~1.2 GB of NDJSON, generated in the temp folder,
// never committed): wall time in Chromium, the peak memory (RSS) of its Chromium by process type,
// and the export worker's own heap (V8 heap and ArrayBuffer backing stores, read over CDP).
// Not part of `npm test`. Run: node tests/www/bench-1m.mjs [csv|json] [--gzip] [--users N] [--collect]
//   [--max-worker-mib M]: exit 1 if the worker's peak heap + backing stores exceed M MiB
//   [--max-rss-growth-mib M]: exit 1 if the renderer's peak RSS grows more than M MiB over idle
// (a smaller N shows that memory does not grow with the file).
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPage, configure, root } from './helpers.mjs';
import { watchWorkerHeap, chromiumRss as rssOf } from './worker-heap.mjs';

const arg = (name) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : undefined;
};
const USERS = arg('--users') ?? 1_000_000;
const MAX_WORKER_MIB = arg('--max-worker-mib');
const MAX_RSS_GROWTH_MIB = arg('--max-rss-growth-mib');
const file = join(tmpdir(), `userexport-${USERS}-users.ndjson`);
const format = process.argv[2] === 'json' ? 'json' : 'csv';
const gzip = process.argv.includes('--gzip');

async function generate() {
  // The sample's users, each made unique and padded with a bio so the file is ~1.2 GB, as a
  // million real Auth0 profiles with some metadata are.
  const lines = readFileSync(join(root, 'samples', 'users.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  const pad = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(9);
  const out = createWriteStream(file);
  for (let i = 0; i < USERS; i++) {
    const u = { ...lines[i % lines.length] };
    u.user_id = `${u.user_id.split('|')[0]}|${i.toString(16).padStart(24, '0')}`;
    u.email = `user.${i}@example.com`;
    u.user_metadata = { ...u.user_metadata, about: pad.slice(0, 440 + (i % 100)) };
    if (!out.write(JSON.stringify(u) + '\n')) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
}

if (!existsSync(file) || statSync(file).size < USERS * 1000) {
  console.log(`generating ${file} …`);
  await generate();
}
const size = statSync(file).size;
console.log(`input: ${USERS} users, ${(size / 1e9).toFixed(2)} GB; output ${format}${gzip ? ' (gzip)' : ''}`);

const p = await openPage();
let failures = 0;
try {
  const { page, context } = p;
  // Only this Chromium: other jobs on the machine may run their own.
  const chromiumRss = () => {
    const r = rssOf(p.profile);
    for (const [t, v] of Object.entries(r.anonByType)) r.byType[`${t} (anon)`] = v;
    return r;
  };
  // --collect: force a GC in the worker each second to see what it retains (perturbs the peaks).
  const heap = await watchWorkerHeap(context, page, { collectEveryMs: process.argv.includes('--collect') ? 1000 : 0 });
  await page.getByLabel('Users file').setInputFiles(file);
  await configure(page, { tenant: 'bench', format, defaults: true, gzip });
  const idle = chromiumRss();
  let peak = idle;
  const sampler = setInterval(() => {
    const now = chromiumRss();
    const byType = { ...peak.byType };
    for (const [t, v] of Object.entries(now.byType)) byType[t] = Math.max(byType[t] ?? 0, v);
    peak = { total: Math.max(peak.total, now.total), largest: Math.max(peak.largest, now.largest), byType };
  }, 100);
  const t0 = performance.now();
  await page.getByRole('button', { name: 'Export Users' }).click();
  const row = page.locator('#jobs tbody tr').first();
  await row.locator('.badge').filter({ hasText: /completed|failed/ }).waitFor({ timeout: 30 * 60_000 });
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const worker = heap.stop();
  const status = await row.locator('.badge').textContent();
  const users = await row.locator('.users').textContent();
  await row.getByRole('button', { name: 'More info' }).click();
  const facts = await page.locator('dialog dl').innerText();
  const mib = (n) => n / 2 ** 20;
  const mb = (n) => `${mib(n).toFixed(0)} MiB`;
  console.log(`status: ${status}, ${users}`);
  console.log(facts.replace(/\n/g, ' | '));
  console.log(`time: ${seconds.toFixed(1)} s (${(size / 1e6 / seconds).toFixed(0)} MB/s)`);
  console.log(`chromium RSS, all processes: idle ${mb(idle.total)}, peak ${mb(peak.total)}; largest single process: idle ${mb(idle.largest)}, peak ${mb(peak.largest)}`);
  for (const t of Object.keys(peak.byType)) console.log(`  ${t}: idle ${mb(idle.byType[t] ?? 0)}, peak ${mb(peak.byType[t])} (+${mb(peak.byType[t] - (idle.byType[t] ?? 0))})`);
  console.log(
    `export worker (${worker.samples} samples): peak V8 heap used ${mb(worker.used)}, heap reserved ${mb(worker.total)}, ` +
      `ArrayBuffer backing stores ${mb(worker.backing)}, heap + backing stores ${mb(worker.sum)}; ` +
      `page's main thread heap + backing stores ${mb(worker.page)}`,
  );
  if (worker.collections) console.log(`export worker after ${worker.collections} forced GCs: live heap + backing stores ${mb(worker.live)} at most`);
  if (status !== 'completed') failures++;
  if (MAX_WORKER_MIB !== undefined && mib(worker.sum) > MAX_WORKER_MIB) {
    console.log(`FAIL: worker heap + backing stores ${mb(worker.sum)} > ${MAX_WORKER_MIB} MiB`);
    failures++;
  }
  const growth = peak.byType.renderer - (idle.byType.renderer ?? 0);
  if (MAX_RSS_GROWTH_MIB !== undefined && mib(growth) > MAX_RSS_GROWTH_MIB) {
    console.log(`FAIL: renderer RSS grew ${mb(growth)} > ${MAX_RSS_GROWTH_MIB} MiB`);
    failures++;
  }
} finally {
  await p.close();
}
process.exit(failures ? 1 : 0);
