// workerd SIGKILLed at random points of an export and restarted on the same storage: the download and the lenient report equal the CLI's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { killRun } from './kill-run.mjs';

// CI runs 60k users and 3 kills (30k finished between two restarts on a quiet machine before
// the third kill); edge/bench/kill.mjs runs 300k users and 6 kills (edge/SCALE.md).
const USERS = Number(process.env.EDGE_KILL_USERS ?? 60_000);
const KILLS = Number(process.env.EDGE_KILL_COUNT ?? 3);
// Slices of a quarter second in CI (30k users make few one-second slices), one second in the bench.
const SLICE_MS = Number(process.env.EDGE_KILL_SLICE_MS ?? 250);
const SEED = Number(process.env.EDGE_KILL_SEED ?? Date.now() % 100_000);

test(`${USERS} users, workerd SIGKILLed ${KILLS} times (seed ${SEED}): the download and the report equal the CLI's`, { timeout: 900_000 }, async (t) => {
  const r = await killRun({ users: USERS, kills: KILLS, seed: SEED, sliceMs: SLICE_MS, log: (m) => t.diagnostic(m) });
  t.diagnostic(`${r.killed} kills, ${(r.wallMs / 1000).toFixed(1)} s create-to-completed`);
  assert.equal(r.got.length, r.want.bytes.length);
  assert.equal(r.sha(r.got), r.sha(r.want.bytes), 'the gunzipped download is the CLI output, byte for byte');
  assert.ok(r.want.skipped.length > 0, 'the input has bad records');
  assert.deepEqual(r.errors, r.want.skipped, 'the lenient report is the CLI report');
  assert.equal(r.killed, KILLS, 'every kill landed while the job ran');
});

// A gzip source in one shard is read through one gunzipping stream kept open between slices:
// after each kill the restarted object gunzips it again from the start and drops what was done.
const GZ_USERS = Number(process.env.EDGE_KILL_GZ_USERS ?? 100_000);
test(`${GZ_USERS} users from a .gz source in one shard, workerd SIGKILLed ${KILLS} times (seed ${SEED}): the download and the report equal the CLI's`, { timeout: 900_000 }, async (t) => {
  const r = await killRun({ users: GZ_USERS, kills: KILLS, seed: SEED, sliceMs: SLICE_MS, gzip: true, maxShards: 1, log: (m) => t.diagnostic(m) });
  t.diagnostic(`${r.killed} kills, ${(r.wallMs / 1000).toFixed(1)} s create-to-completed`);
  assert.equal(r.sha(r.got), r.sha(r.want.bytes), 'the gunzipped download is the CLI output, byte for byte');
  assert.ok(r.want.skipped.length > 0, 'the input has bad records');
  assert.deepEqual(r.errors, r.want.skipped, 'the lenient report is the CLI report');
  assert.equal(r.killed, KILLS, 'every kill landed while the job ran');
});
