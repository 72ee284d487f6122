// `node edge/bench/scale.mjs`: 1M users exported by the Worker in workerd with K = 1, 2, 4 shards (paired, alternating rounds), plus a gz source in one shard and staged in four; the numbers behind edge/SCALE.md.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip, createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { SAMPLE_CONNECTIONS, rssBytes, startEdge, workerdPids } from '../lib/edge.mjs';
import { fakeUsers, runJob } from '../test/helpers.mjs';

const USERS = Number(process.env.USERS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const KS = (process.env.KS ?? '1,2,4').split(',').map(Number);
const SLICE_MS = process.env.SLICE_MS ?? '10000';
const DIR = process.env.BENCH_DIR ?? join(tmpdir(), 'userexport-edge-bench');
const MiB = 1024 * 1024;
const request = { format: 'csv' };

/** The users file, made once per count in BENCH_DIR (kept for later runs), 100k users at a time. */
async function usersFile() {
  mkdirSync(DIR, { recursive: true });
  const file = join(DIR, `users-${USERS}.ndjson`);
  if (existsSync(file)) return file;
  const out = createWriteStream(file);
  const batch = 100_000;
  for (let i = 0; i < USERS; i += batch) {
    const chunk = fakeUsers(Math.min(batch, USERS - i), { start: i });
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
  return file;
}

/** workerd's CPU seconds (user + system) from /proc. */
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const file = await usersFile();
const size = statSync(file).size;
const gzFile = `${file}.gz`;
if (!existsSync(gzFile)) await pipeline(createReadStream(file), createGzip({ level: 6 }), createWriteStream(gzFile));
const state = join(DIR, 'state');
rmSync(state, { recursive: true, force: true });
const tenants = {};
for (const k of KS) tenants[`k${k}`] = { config: { users: 'u.ndjson', connections: SAMPLE_CONNECTIONS, max_shards: k }, seed: { 'u.ndjson': { file } } };
// A gz source in one shard (gunzipped as the slices read it) and in four (staged as plain NDJSON first).
tenants.gz = { config: { users: 'u.ndjson.gz', connections: SAMPLE_CONNECTIONS, max_shards: 1 }, seed: { 'u.ndjson.gz': { file: gzFile } } };
tenants.gz4 = { config: { users: 'u.ndjson.gz', connections: SAMPLE_CONNECTIONS, max_shards: 4 }, seed: { 'u.ndjson.gz': { file: gzFile } } };
console.log(`${USERS} users, ${(size / MiB).toFixed(1)} MiB NDJSON (${(statSync(gzFile).size / MiB).toFixed(1)} MiB gz); slices of ${SLICE_MS} ms; K = ${KS.join(', ')}; ${ROUNDS} rounds; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const edge = await startEdge({ tenants, persistDir: state, vars: { SLICE_MS, SHARD_BYTES: process.env.SHARD_BYTES ?? String(64 * MiB), TASK_POLL_MS: '1000' } });
const [pid] = workerdPids();
const rows = {};
let reference = null;
try {
  const order = [];
  for (let r = 0; r < ROUNDS; r++) order.push(...(r % 2 ? [...KS].reverse() : KS).map((k) => `k${k}`));
  order.push(...(process.env.GZ ?? 'gz,gz4').split(',').filter(Boolean));
  for (const tenant of order) {
    const token = await edge.token({ tenant });
    const rss0 = rssBytes(pid);
    let peak = rss0;
    const timer = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 50);
    const cpu0 = cpuSeconds(pid);
    const load = loadavg()[0];
    const t0 = performance.now();
    const { created, job } = await runJob(edge, token, request, () => {}, { timeoutMs: 3_600_000, everyMs: 1000 }).catch((e) => ({ job: { status: 'failed', status_details: e.message } }));
    const wall = (performance.now() - t0) / 1000;
    clearInterval(timer);
    const cpu = cpuSeconds(pid) - cpu0;
    if (job.status !== 'completed') throw new Error(`${tenant}: ${job.status_details}`);
    const rec = await edge.inspect(tenant, created.id);
    // The download, gunzipped, hashed as it streams: every run must give the same bytes.
    const hash = createHash('sha256');
    const plain = Readable.fromWeb((await fetch(job.location)).body).pipe(createGunzip());
    for await (const c of plain) hash.update(c);
    const sha = hash.digest('hex');
    reference ??= sha;
    if (sha !== reference) throw new Error(`${tenant}: the bytes differ between runs`);
    const row = {
      wall,
      usersPerS: rec.stats.usersWritten / wall,
      cpu,
      rssRise: (peak - rss0) / MiB,
      slices: rec.stats.slices,
      shards: rec.stats.shards,
      gzMiB: rec.stats.gzipBytes / MiB,
      inDo: rec.stats.durationMs / 1000,
      stage: rec.stats.stageMs / 1000,
      sliceSum: rec.stats.sliceMs / 1000,
      wasmMiB: rec.stats.wasmPeakBytes / MiB,
      load,
    };
    (rows[tenant] ??= []).push(row);
    console.log(
      `${tenant}: ${wall.toFixed(1)} s wall, ${Math.round(row.usersPerS)} users/s, workerd CPU ${cpu.toFixed(1)} s, ` +
        `RSS rise ${row.rssRise.toFixed(0)} MiB (peak ${(peak / MiB).toFixed(0)}), ${row.slices} slices over ${row.shards} shards, ` +
        `${row.gzMiB.toFixed(1)} MiB gz; in the DO ${row.inDo.toFixed(1)} s (staging ${row.stage.toFixed(1)} s, slices summed ${row.sliceSum.toFixed(1)} s), ` +
        `wasm memory ${row.wasmMiB.toFixed(1)} MiB for ${row.shards} shard(s); load ${load.toFixed(2)}`,
    );
  }
} finally {
  await edge.dispose();
  rmSync(state, { recursive: true, force: true });
}
console.log('\nmedians:');
const base = median(rows.k1?.map((r) => r.wall) ?? [NaN]);
for (const [tenant, rs] of Object.entries(rows)) {
  const m = (f) => median(rs.map(f));
  console.log(
    `${tenant}: wall ${m((r) => r.wall).toFixed(1)} s (${(base / m((r) => r.wall)).toFixed(2)}x k1), ${Math.round(m((r) => r.usersPerS))} users/s, ` +
      `CPU ${m((r) => r.cpu).toFixed(1)} s, RSS rise ${m((r) => r.rssRise).toFixed(0)} MiB (${(m((r) => r.rssRise) / rs[0].shards).toFixed(0)} per shard), ` +
      `wasm ${m((r) => r.wasmMiB).toFixed(1)} MiB (${(m((r) => r.wasmMiB) / rs[0].shards).toFixed(1)} per shard), load ${m((r) => r.load).toFixed(2)}`,
  );
}
writeFileSync(join(DIR, 'last.json'), JSON.stringify(rows, null, 1));
