// `node bench/runtimes.mjs`: issue 16's table in ONE run — the native core, the npm package in Node
// (file → CSV and → NDJSON), the CLI on one thread and on every core, the page's export worker in
// Chromium, the edge's export in workerd (miniflare) and the plain-JS loop — on one seeded input,
// with the same output sha256 checked, the ratios printed beside the rows.
//
// Flags: --size 1m (default; also 100k, 2k: the data sets the native bench writes under
// target/bench-data/), --runs N (default 3; peers that are compared run alternately, run by run,
// so a loaded machine slows both alike), --skip a,b (rows: native, node, cli, chromium, workerd),
// --smoke (2k users, one run: the CI check that every row still runs).
// The page's code below runs in Chromium (page.evaluate).
/* global document, location, Worker */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = process.env.CARGO_TARGET_DIR ? `${process.env.CARGO_TARGET_DIR}/bench-data` : `${root}target/bench-data`;
const argv = process.argv.slice(2);
const flag = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const smoke = argv.includes('--smoke');
const size = smoke ? '2k' : flag('--size', '1m');
const runs = smoke ? 1 : Number(flag('--runs', '3'));
const skip = new Set(flag('--skip', '').split(',').filter(Boolean));
const threads = os.availableParallelism();
const file = `${dataDir}/users-${size}.ndjson`;
const JOB = JSON.parse(readFileSync(`${here}job.json`, 'utf8'));
const CSV_JOB = { format: 'csv', ...JOB };
const log = (s) => process.stderr.write(`${s}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** The sha256 of what a stream of gzip bytes gunzips to. */
const gunzippedSha256 = async (gz) => {
  const h = createHash('sha256');
  for await (const c of gz.pipe(createGunzip())) h.update(c);
  return h.digest('hex');
};
const sha256File = async (path) => {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c);
  return h.digest('hex');
};
const loads = [];
const noteLoad = () => loads.push(os.loadavg()[0]);

// 1. The native core: also writes the data set when it is missing.
if (!skip.has('native') || !existsSync(file)) {
  log(`native: cargo bench --bench throughput -- --sizes ${size} --runs ${runs}`);
  const r = spawnSync('cargo', ['bench', '--bench', 'throughput', '--', '--sizes', size, '--runs', String(runs)], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error('the native bench failed');
}
noteLoad();
const inputBytes = statSync(file).size;
const rows = [];
// Each row is also saved as it is measured, so a failure late in a long run keeps the rest.
const saved = `${dataDir}/runtimes-${size}.json`;
const push = rows.push.bind(rows);
rows.push = (...r) => {
  const n = push(...r);
  writeFileSync(saved, JSON.stringify(rows, null, 2));
  return n;
};
if (!skip.has('native')) {
  const native = JSON.parse(readFileSync(`${dataDir}/native-results.json`, 'utf8')).filter((r) => r.size === size && r.engine === 'core');
  for (const r of native) {
    rows.push({ row: 'native core (Rust)', out: r.format, wall: r.median_wall_seconds, cpu: r.median_cpu_seconds, sha256: r.sha256 });
  }
}

// 2. Node: the npm package streaming a file, and the plain-JS loop (bench/worker.mjs, a fresh
// process per run), alternately.
function workerRun(peer, format) {
  const r = spawnSync(process.execPath, [`${here}worker.mjs`, peer, format, file], { cwd: here, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${peer} ${format}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}
if (!skip.has('node')) {
  const peers = [
    ['userexport-stream', 'csv', 'Node: npm package, file → CSV'],
    ['userexport-stream', 'ndjson', 'Node: npm package, file → NDJSON'],
    ['plain-js', 'csv', 'Node: plain-JS loop, file → CSV'],
  ];
  const got = peers.map(() => []);
  for (let i = 0; i < runs; i++) {
    peers.forEach(([peer, format], k) => {
      log(`node ${peer} ${format} (run ${i + 1})`);
      got[k].push(workerRun(peer, format));
    });
    noteLoad();
  }
  peers.forEach(([, format, row], k) => {
    const g = got[k];
    rows.push({ row, out: format, wall: median(g.map((r) => r.wallSeconds)), cpu: median(g.map((r) => r.cpuSeconds)), rssMiB: Math.max(...g.map((r) => r.maxRssKiB)) / 1024, sha256: g[0].sha256 });
  });
}

// 3. The CLI: one thread against every core, alternately, on the same file; wall time and the
// process's peak RSS (bench/cli-rss.mjs runs the CLI in-process and reports it).
function cliRun(args) {
  const out = join(tmp, `out-${process.hrtime.bigint()}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [`${here}cli-rss.mjs`, ...args, '--out', out, '--quiet'], { encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`CLI ${args.join(' ')}: ${r.stderr}`);
  const [, rss, cpu] = /maxRSS (\d+) cpu ([\d.]+)/.exec(r.stderr);
  return { wall, cpu: Number(cpu), rssMiB: Number(rss) / 1024, out };
}
const tmp = mkdtempSync(join(os.tmpdir(), 'userexport-bench-'));
const requestFile = join(tmp, 'request.json');
writeFileSync(requestFile, JSON.stringify(CSV_JOB));
let gzFile;
try {
  if (!skip.has('cli')) {
    const variants = [
      ['1', 'CLI, file → CSV, 1 thread'],
      [String(threads), `CLI, file → CSV, ${threads} threads`],
    ];
    const got = variants.map(() => []);
    for (let i = 0; i < runs; i++) {
      variants.forEach(([n], k) => {
        log(`CLI --threads ${n} (run ${i + 1})`);
        const r = cliRun([file, '--request-file', requestFile, '--threads', n]);
        got[k].push({ ...r });
      });
      noteLoad();
    }
    for (const [k, [, row]] of variants.entries()) {
      const g = got[k];
      const sha256 = await sha256File(g[0].out);
      for (const r of g) rmSync(r.out);
      rows.push({ row, out: 'csv', wall: median(g.map((r) => r.wall)), cpu: median(g.map((r) => r.cpu)), rssMiB: Math.max(...g.map((r) => r.rssMiB)), sha256 });
    }
  }

  // 4. The page's export worker in Chromium (www/export-worker.js, driven by postMessage as the
  // page drives it, the file picked as a user picks it), and 5. the edge in workerd: gzip out, as
  // the edge always writes, from a plain and from a gzip source; the CLI's run of that same job
  // (one thread) is the Node row of each.
  if (!skip.has('chromium')) {
    for (const r of await chromiumRows()) rows.push(r);
  }
  if (!skip.has('workerd')) {
    gzFile = `${file}.gz`;
    if (!existsSync(gzFile)) {
      log(`gzip ${file}`);
      await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), createGzip({ level: 1 }), createWriteStream(gzFile));
    }
    for (const r of await workerdRows()) rows.push(r);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

async function chromiumRows() {
  const { openPage } = await import('../tests/www/helpers.mjs');
  const { chromiumRss } = await import('../tests/www/worker-heap.mjs');
  const p = await openPage();
  const out = [];
  try {
    const { page } = p;
    // The export page's folder, but not the app (which sweeps export files it did not start).
    await page.goto(new URL('demo.html', p.url).href);
    await page.locator('#file').setInputFiles(file);
    // One worker against the page's own choice (a worker per core on a large file), alternately.
    const variants = [
      [1, "Chromium: the page's export worker, file → CSV, 1 worker"],
      [undefined, "Chromium: the page's export, file → CSV, its choice of workers"],
    ];
    const got = variants.map(() => ({ walls: [], peak: 0, idle: 0, result: null }));
    for (let i = 0; i < runs; i++) {
      for (const [k, [workers]] of variants.entries()) {
        const g = got[k];
        log(`chromium: the page's export, ${workers ?? 'default'} worker(s) (run ${i + 1})`);
        g.idle = chromiumRss(p.profile).total / 2 ** 20;
        let peak = 0;
        const sampler = setInterval(() => {
          peak = Math.max(peak, chromiumRss(p.profile).total);
        }, 100);
        // Timed: the export, to the worker's last message (the page's does no hashing).
        const t0 = performance.now();
        const done = await page.evaluate(
          async ({ request, workers }) => {
            const blob = /** @type {HTMLInputElement} */ (document.querySelector('input[type=file]')).files[0];
            const worker = new Worker(new URL('export-worker.js', location.href), { type: 'module' });
            const id = `bench-${Date.now()}`;
            const done = await new Promise((resolve) => {
              worker.onmessage = ({ data }) => data.type !== 'progress' && resolve(data);
              worker.postMessage({ id, source: { kind: 'file', blob }, request, options: { tenant: 'bench', input: 'ndjson' }, threads: workers });
            });
            worker.terminate();
            return { id, type: done.type, error: done.error, written: done.stats?.usersWritten, workers: done.workers ?? 1 };
          },
          { request: CSV_JOB, workers },
        );
        g.walls.push((performance.now() - t0) / 1000);
        clearInterval(sampler);
        // Not timed: the sha256 of the stored file, as the page's Manifest action takes it (the
        // core's Sha256 in a worker), for the same-bytes check; then the file is deleted.
        g.result = await page.evaluate(async (done) => {
          if (done.type !== 'done') return done;
          const worker = new Worker(new URL('export-worker.js', location.href), { type: 'module' });
          const digest = await new Promise((resolve) => {
            worker.onmessage = ({ data }) => resolve(data);
            worker.postMessage({ digest: { id: done.id, gzip: false } });
          });
          worker.terminate();
          const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('exports');
          await dir.removeEntry(done.id).catch(() => {});
          return digest.type === 'digest' ? { ...done, sha256: digest.plain.sha256 } : { ...done, type: 'failed', error: digest.error };
        }, done);
        g.peak = Math.max(g.peak, peak / 2 ** 20);
        if (g.result.type !== 'done') throw new Error(`the page's worker: ${JSON.stringify(g.result.error)}`);
      }
      noteLoad();
    }
    for (const [k, [, row]] of variants.entries()) {
      const g = got[k];
      out.push({ row: `${row} (ran on ${g.result.workers}; the sha256 taken after, untimed)`, out: 'csv', wall: median(g.walls), rssMiB: g.peak, rssNote: `all Chromium processes; idle ${g.idle.toFixed(0)}`, sha256: g.result.sha256 });
    }
  } finally {
    await p.close();
  }
  return out;
}

async function workerdRows() {
  const { startEdge, workerdPids, rssBytes } = await import('../edge/lib/edge.mjs');
  const { runJob } = await import('../edge/test/helpers.mjs');
  const dir = mkdtempSync(join(os.tmpdir(), 'userexport-bench-edge-'));
  const out = [];
  let edge;
  // The same users as a plain NDJSON source and as a gzip one: the edge's output is gzip either
  // way, and a gzip source adds a gunzip, which the CLI runs on a thread of Node's beside the export.
  const sources = [
    { tenant: 'plain', key: 'users.ndjson', file, label: 'NDJSON → CSV gz' },
    { tenant: 'bench', key: 'users.ndjson.gz', file: gzFile, label: 'gz → CSV gz' },
  ];
  try {
    log('workerd: seeding R2');
    // One shard, as the CLI row runs one thread: a gz source is gunzipped as the slices read it
    // (edge/README.md, "How an export runs"). The files go in 8 MiB parts (`{ file }`), never
    // as one buffer through Miniflare's proxy.
    const tenants = {};
    for (const s of sources) tenants[s.tenant] = { config: { users: s.key, connections: {}, max_shards: 1 }, seed: { [s.key]: { file: s.file } } };
    edge = await startEdge({ persistDir: join(dir, 'state'), tenants });
    // workerd's resident memory and CPU seconds (user + system, /proc: the Worker's and local
    // R2's together), over whatever workerd processes run now (one that ends between listing and
    // reading counts nothing).
    const overWorkerd = (read) =>
      workerdPids().reduce((sum, pid) => {
        try {
          return sum + read(pid);
        } catch {
          return sum;
        }
      }, 0);
    const rss = () => overWorkerd(rssBytes);
    // utime and stime, in the kernel's 100 ticks a second.
    const cpu = () =>
      overWorkerd((pid) => {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(f[11]) + Number(f[12])) / 100;
      });
    const got = sources.map(() => ({ walls: [], inDo: [], cpus: [], peak: 0, shas: [], cli: [] }));
    for (let i = 0; i < runs; i++) {
      for (const [k, s] of sources.entries()) {
        const g = got[k];
        log(`workerd: the edge's export, ${s.label} (run ${i + 1})`);
        const before = rss();
        const cpu0 = cpu();
        let peak = 0;
        const sampler = setInterval(() => {
          peak = Math.max(peak, rss() - before);
        }, 50);
        const token = await edge.token({ tenant: s.tenant });
        const t0 = performance.now();
        // Sized for 1M users on a loaded machine (runJob's default gives up after 60 s); a poll
        // every 250 ms, as the edge's time is read from the Durable Object's own stats.
        const r = await runJob(edge, token, CSV_JOB, () => {}, { timeoutMs: 30 * 60_000, everyMs: 250 });
        g.walls.push((performance.now() - t0) / 1000);
        clearInterval(sampler);
        g.cpus.push(cpu() - cpu0);
        g.peak = Math.max(g.peak, peak);
        if (r.job.status !== 'completed') throw new Error(`edge job: ${r.job.status_details}`);
        // Hashed at once, streaming: the signed link lives 60 s, and 1M users gunzip to ~300 MB.
        g.shas.push(await gunzippedSha256(Readable.fromWeb((await fetch(r.job.location)).body)));
        const { stats } = await edge.inspect(s.tenant, r.created.id);
        g.inDo.push(stats.durationMs / 1000);
        log(`workerd: ${(stats.durationMs / 1000).toFixed(2)} s in the Durable Object (slices ${(stats.sliceMs / 1000).toFixed(2)} s in ${stats.slices}), ${g.walls.at(-1).toFixed(2)} s create-to-completed`);
        log(`CLI, the edge's job, ${s.label} (run ${i + 1})`);
        g.cli.push(cliRun([s.file, '--request-file', requestFile, '--gzip', '--threads', '1', '--tenant', s.tenant]));
      }
      noteLoad();
    }
    for (const [k, s] of sources.entries()) {
      const g = got[k];
      const sha256 = g.shas.every((x) => x === g.shas[0]) ? g.shas[0] : `runs differ: ${g.shas.join(' ')}`;
      const cliSha = await gunzippedSha256(createReadStream(g.cli[0].out));
      for (const r of g.cli) rmSync(r.out);
      out.push({ row: `workerd: the edge export from R2, ${s.label} (time in the Durable Object; CPU: workerd with local R2)`, out: 'csv.gz', wall: median(g.inDo), cpu: median(g.cpus), rssMiB: g.peak / 2 ** 20, rssNote: 'workerd RSS rise', sha256, createToCompleted: median(g.walls) });
      out.push({ row: `Node: the CLI on the edge's job, ${s.label}, 1 thread`, out: 'csv.gz', wall: median(g.cli.map((r) => r.wall)), cpu: median(g.cli.map((r) => r.cpu)), rssMiB: Math.max(...g.cli.map((r) => r.rssMiB)), sha256: cliSha });
    }
  } finally {
    await edge?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

// The table: MB/s of input by wall time (and by CPU where measured), ratios to the rows they answer.
const mb = inputBytes / 1e6;
const find = (re) => rows.find((r) => re.test(r.row));
const nativeCsv = rows.find((r) => r.row.startsWith('native') && r.out === 'csv');
const nativeNd = rows.find((r) => r.row.startsWith('native') && r.out === 'ndjson');
const nodeCsv = find(/npm package, file → CSV/);
const f = (x, d = 1) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d));
const lines = [
  `${size} users (${f(mb, 0)} MB of NDJSON), ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; ${runs} run(s) per row, medians; ` +
    `load average (1 min) over the run ${f(Math.min(...loads))}–${f(Math.max(...loads))}.`,
  '',
  '| row | out | wall s | MB/s (wall) | MB/s (CPU) | peak RSS MiB | output sha256 | same bytes |',
  '|---|---|---:|---:|---:|---:|---|---|',
];
// The native core's sha256s are the reference: this run's, else an earlier native run's on the
// same seeded file (with --skip native); without either, the Node rows', then the CLI's run of
// the edge's job. A row with no reference at all is not called different.
const earlier = existsSync(`${dataDir}/native-results.json`)
  ? JSON.parse(readFileSync(`${dataDir}/native-results.json`, 'utf8')).filter((r) => r.size === size && r.engine === 'core')
  : [];
const ref = {
  csv: nativeCsv?.sha256 ?? earlier.find((r) => r.format === 'csv')?.sha256 ?? nodeCsv?.sha256 ?? find(/CLI on the edge's job/)?.sha256,
  ndjson: nativeNd?.sha256 ?? earlier.find((r) => r.format === 'ndjson')?.sha256 ?? find(/npm package, file → NDJSON/)?.sha256,
};
const sameAsRef = (r) => {
  const want = r.out === 'csv.gz' ? ref.csv : ref[r.out];
  return want === undefined ? undefined : r.sha256 === want;
};
for (const r of rows) {
  const same = sameAsRef(r);
  const rss = r.rssMiB ? `${f(r.rssMiB, 0)}${r.rssNote ? ` (${r.rssNote})` : ''}` : '—';
  lines.push(`| ${r.row} | ${r.out} | ${f(r.wall, 2)} | ${f(mb / r.wall)} | ${r.cpu ? f(mb / r.cpu) : '—'} | ${rss} | \`${(r.sha256 ?? '').slice(0, 12)}…\` | ${same === undefined ? '— (no reference)' : same ? 'yes' : '**NO**'} |`);
}
const ratio = (a, b) => (a && b ? f(b.wall / a.wall, 2) : '—');
const cli1 = find(/CLI, file → CSV, 1 thread/);
const cliN = find(/CLI, file → CSV, \d+ threads/);
const chrome = find(/Chromium.*1 worker/);
const chromeN = find(/Chromium.*its choice/);
const edgeVs = (label) => [find(new RegExp(`^workerd.*${label}`)), find(new RegExp(`CLI on the edge's job, ${label}`))];
lines.push(
  '',
  `- Node npm package vs native, by wall time: CSV ${ratio(nodeCsv, nativeCsv)}×, NDJSON ${ratio(find(/npm package, file → NDJSON/), nativeNd)}× ` +
    `(by CPU: CSV ${nodeCsv?.cpu && nativeCsv?.cpu ? f(nativeCsv.cpu / nodeCsv.cpu, 2) : '—'}×).`,
  `- CLI on ${threads} threads vs 1 thread: speed-up ${ratio(cliN, cli1)}× (target ≥ 1.7×).`,
  `- Chromium, the page on its workers vs 1 worker: speed-up ${ratio(chromeN, chrome)}× (target ≥ 1.7×).`,
  `- Chromium's page worker vs the Node package (CSV, wall): ${ratio(chrome, nodeCsv)}× (within 20 %: 0.8–1.2).`,
  ...['NDJSON → CSV gz', 'gz → CSV gz'].map((label) => {
    const [edgeRow, edgeNode] = edgeVs(label);
    return (
      `- workerd's export vs the CLI on the same ${label} job (wall): ${ratio(edgeRow, edgeNode)}× (within 20 %: 0.8–1.2); ` +
      `by CPU ${edgeRow?.cpu && edgeNode?.cpu ? f(edgeNode.cpu / edgeRow.cpu, 2) : '—'}× (workerd's CPU counts local R2 too).`
    );
  }),
  `- plain-JS loop vs the Node package (CSV, wall): ${ratio(find(/plain-JS/), nodeCsv)}×.`,
);
const table = lines.join('\n');
console.log(table);
const wrong = rows.filter((r) => sameAsRef(r) === false);
if (wrong.length) {
  log(`different bytes: ${wrong.map((r) => r.row).join('; ')}`);
  process.exit(1);
}
