// `node edge/bench/kill.mjs`: 300k users, slices of one second, workerd SIGKILLed at 6 random points; checks bytes and report against the CLI (edge/SCALE.md).
// GZIP=1: the source is a `.gz` object (with MAX_SHARDS=1, gunzipped as the slices read it: the reader reopened after each kill).
import { loadavg } from 'node:os';
import { killRun } from '../test/kill-run.mjs';

const users = Number(process.env.USERS ?? 300_000);
const kills = Number(process.env.KILLS ?? 6);
const sliceMs = Number(process.env.SLICE_MS ?? 1000);
const seed = Number(process.env.SEED ?? Date.now() % 100_000);
const gzip = process.env.GZIP === '1';
const maxShards = Number(process.env.MAX_SHARDS ?? 2);
console.log(`${users} users${gzip ? ' (gz source)' : ''}, ${maxShards} shard(s) at most, ${kills} kills, slices of ${sliceMs} ms, seed ${seed}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const r = await killRun({ users, kills, seed, sliceMs, gzip, maxShards, log: (m) => console.log(m) });
const same = r.got.length === r.want.bytes.length && r.sha(r.got) === r.sha(r.want.bytes);
const report = JSON.stringify(r.errors) === JSON.stringify(r.want.skipped);
console.log(
  `${r.killed} kills; ${(r.wallMs / 1000).toFixed(1)} s create-to-completed (restarts included); download ${r.gzBytes} bytes gz, ` +
    `${r.got.length} bytes CSV: ${same ? 'equal to' : 'DIFFERENT from'} the CLI's (sha256 ${r.sha(r.got).slice(0, 16)}…); ` +
    `lenient report ${r.errors.length} records: ${report ? 'equal to' : 'DIFFERENT from'} the CLI's; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
);
process.exit(same && report && r.killed === kills ? 0 : 1);
