// `npm run bench`: the whole issue-6 benchmark in one run — native core, then every Node peer in fresh processes — as a markdown table.
//
// Flags: --sizes 100k,1m (default), --runs N (timed runs per peer and size, default 3; the
// medians are reported), --peers a,b (only these Node peers), --skip-native (reuse the last
// native results), --smoke (2k users, one run: keeps the benchmark from rotting in CI).
// The data sets are generated (seeded) by the native bench under target/bench-data/.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = process.env.CARGO_TARGET_DIR ? `${process.env.CARGO_TARGET_DIR}/bench-data` : `${root}target/bench-data`;

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const smoke = argv.includes('--smoke');
const sizes = smoke ? ['2k'] : flag('--sizes', '100k,1m').split(',');
const runs = smoke ? 1 : Number(flag('--runs', '3'));
const only = flag('--peers', undefined)?.split(','); // run just these Node peers
const skipNative = argv.includes('--skip-native'); // reuse target/bench-data/native-results.json

const CSV_PEERS = [
  'plain-js',
  'userexport-stream',
  'userexport-memory',
  '@json2csv/plainjs',
  '@json2csv/node',
  'papaparse',
  'csv-stringify/sync',
  'csv-stringify/stream',
];
const NDJSON_PEERS = ['plain-js', 'userexport-stream', 'userexport-memory'];
const OBJECT_PEERS = ['plain-js-objects', 'userexport-pushUsers'];

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return r;
}

// 1. The native core and the serde_json baseline (this also generates the data files).
if (!skipNative) {
console.error(`native: cargo bench --bench throughput -- --sizes ${sizes.join(',')} --runs ${runs}`);
const native = sh('cargo', ['bench', '--bench', 'throughput', '--', '--sizes', sizes.join(','), '--runs', String(runs)], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (native.status !== 0) throw new Error('the native bench failed');
process.stderr.write(native.stdout);
}
const nativeRows = JSON.parse(readFileSync(`${dataDir}/native-results.json`, 'utf8'));

// 2. Every Node peer, each run in a fresh process.
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/** One run of a peer in a fresh process: its result line, or why it has none. */
function runOnce(peer, format, file) {
  const r = sh(process.execPath, [`${here}worker.mjs`, peer, format, file], { cwd: here, timeout: 900_000 });
  if (r.status !== 0) {
    const err = (r.stderr || '').trim().split('\n');
    const why = err.find((l) => /heap out of memory/i.test(l)) ?? err.filter((l) => /Error/.test(l)).pop();
    return { peer, format, failed: why || `exit ${r.status ?? r.signal}` };
  }
  const res = JSON.parse(r.stdout.trim().split('\n').pop());
  if (!res.pending) console.error(`  ${peer} ${format}: ${(res.inputBytes / 1e6 / res.cpuSeconds).toFixed(1)} MB/s (cpu)`);
  return res;
}

function runPeer(peer, format, file) {
  const results = [];
  for (let i = 0; i < runs; i++) {
    const res = runOnce(peer, format, file);
    if (res.failed || res.pending) return res;
    results.push(res);
  }
  return summary(results);
}

/**
 * Peers compared with each other (the object peers), run in turns — a, b, a, b… — so that a
 * shared machine's load falls on both alike; each peer's runs are then summarised alone.
 */
function runPaired(peers, format, file) {
  const results = peers.map(() => []);
  const stopped = peers.map(() => undefined);
  for (let i = 0; i < runs; i++) {
    peers.forEach((peer, p) => {
      if (stopped[p]) return;
      const res = runOnce(peer, format, file);
      if (res.failed || res.pending) stopped[p] = res;
      else results[p].push(res);
    });
  }
  return peers.map((_, p) => stopped[p] ?? summary(results[p]));
}

function summary(results) {
  const shas = new Set(results.map((r) => r.sha256));
  return {
    ...results[0],
    cpuSeconds: median(results.map((r) => r.cpuSeconds)),
    wallSeconds: median(results.map((r) => r.wallSeconds)),
    maxRssKiB: Math.max(...results.map((r) => r.maxRssKiB)),
    sha256: shas.size === 1 ? results[0].sha256 : `differs between runs: ${[...shas].join(' ')}`,
  };
}

const rows = [];
for (const size of sizes) {
  const file = `${dataDir}/users-${size}.ndjson`;
  if (!existsSync(file)) throw new Error(`missing ${file}`);
  for (const format of ['csv', 'ndjson']) {
    const core = nativeRows.find((r) => r.size === size && r.format === format && r.engine === 'core');
    const base = nativeRows.find((r) => r.size === size && r.format === format && r.engine !== 'core');
    const group = [];
    // Native rows are missing when the native bench last ran other sizes (--skip-native).
    for (const r of [core, base].filter(Boolean)) {
      group.push({
        peer: r.engine === 'core' ? 'userexport native (Rust)' : 'serde_json::Value baseline (Rust)',
        format,
        users: r.users,
        inputBytes: r.input_bytes,
        cpuSeconds: r.median_cpu_seconds,
        wallSeconds: r.median_wall_seconds,
        sha256: r.sha256,
      });
    }
    for (const peer of (format === 'csv' ? CSV_PEERS : NDJSON_PEERS).filter((p) => !only || only.includes(p))) {
      console.error(`${size} ${format}: ${peer}`);
      group.push(runPeer(peer, format, file));
    }
    const objectPeers = OBJECT_PEERS.filter((p) => !only || only.includes(p));
    if (objectPeers.length) console.error(`${size} ${format}: ${objectPeers.join(' / ')}, in turns`);
    for (const r of runPaired(objectPeers, format, file)) group.push({ ...r, fromObjects: true });
    const plain = group.find((r) => r.peer === 'plain-js');
    const plainObjects = group.find((r) => r.peer === 'plain-js-objects');
    for (const r of group) {
      const ref = r.fromObjects ? plainObjects : plain;
      r.size = size;
      r.ratio = r.cpuSeconds && ref?.cpuSeconds ? ref.cpuSeconds / r.cpuSeconds : undefined;
      r.ofNative = r.cpuSeconds && core ? core.median_cpu_seconds / r.cpuSeconds : undefined;
      // Without the native row, the bytes are compared with the first row that has a hash.
      const reference = core?.sha256 ?? group.find((g) => g.sha256)?.sha256;
      r.sameBytes = r.sha256 ? r.sha256 === reference : undefined;
    }
    rows.push(...group);
  }
}

// 3. The table.
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const fmt = (x, d = 1) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d));
const lines = [
  `Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; ${runs} run(s) per row, medians.`,
  '',
  '| users | out | peer | MB/s in (CPU) | MB/s in (wall) | users/s (CPU) | × plain-JS | % of native | peak RSS MB | same bytes | output sha256 |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|---|---|',
];
for (const r of rows) {
  if (r.failed || r.pending) {
    lines.push(`| ${r.size} | ${r.format} | ${r.peer} | ${r.failed ? `**failed**: ${r.failed}` : `*pending*: ${r.pending}`} | | | | | | | |`);
    continue;
  }
  const mb = r.inputBytes / 1e6;
  lines.push(
    `| ${r.size} | ${r.format} | ${r.peer}${r.fromObjects ? ' (from objects)' : ''} | ${fmt(mb / r.cpuSeconds)} | ${fmt(mb / r.wallSeconds)} | ${fmt(
      r.users / r.cpuSeconds,
      0,
    )} | ${fmt(r.ratio, 2)} | ${fmt(r.ofNative * 100, 0)} | ${r.maxRssKiB ? fmt(r.maxRssKiB / 1024, 0) : '—'} | ${r.sameBytes ? 'yes' : '**NO**'} | \`${r.sha256.slice(0, 12)}…\` |`,
  );
}
const table = lines.join('\n');
console.log(table);
if (!smoke) {
  writeFileSync(`${dataDir}/node-results.md`, table + '\n');
  writeFileSync(`${dataDir}/node-results.json`, JSON.stringify(rows, null, 2));
  console.error(`\nwritten: ${dataDir}/node-results.md`);
}
const wrong = rows.filter((r) => r.sameBytes === false);
if (wrong.length) {
  console.error(`different bytes: ${wrong.map((r) => `${r.size} ${r.format} ${r.peer}`).join(', ')}`);
  process.exit(1);
}
