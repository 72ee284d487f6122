// Runs an export through `node edge/dev.mjs` while SIGKILLing workerd at random points and restarting it on the same storage (edge/test/kill.test.mjs, edge/bench/kill.mjs).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { EDGE, freePort } from '../lib/edge.mjs';
import { api, cliExportLenient, fakeUsers, jobErrors } from './helpers.mjs';
// Seeded: the kill points of a failing run can be replayed with EDGE_KILL_SEED.
import { mulberry32 as rng } from '../../tests/seeded.mjs';



/** Direct children of `pid` and their descendants named workerd (from /proc). */
function workerdUnder(pid) {
  const procs = [];
  for (const d of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(readFileSync(`/proc/${d}/stat`, 'utf8'));
      procs.push({ pid: Number(d), comm: m[1], ppid: Number(m[2]) });
    } catch {}
  }
  const mine = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) (mine.add(p.pid), (grew = true));
  }
  return procs.filter((p) => mine.has(p.pid) && p.comm === 'workerd').map((p) => p.pid);
}


/** `node edge/dev.mjs` on `port` with state in `persist`; resolves with the child and its READY line. */
function startDev({ users, persist, port, env }) {
  const child = spawn(process.execPath, [join(EDGE, 'dev.mjs'), '--users', users, '--persist', persist, '--port', String(port), '--tenant', 'big', '--lenient'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^READY (.*)$/m.exec(out);
      if (m) resolve({ child, ready: JSON.parse(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`dev.mjs exited ${code} before READY`)));
  });
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
}

/**
 * `gzip`: the source is a `.gz` object; with `maxShards` 1 it is gunzipped as the slices read it,
 * so every restart reopens it and drops what the checkpoint says was done.
 */
export async function killRun({ users, kills, seed, sliceMs, gzip = false, maxShards = 2, log = () => {} }) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-kill-'));
  const rand = rng(seed);
  let dev;
  try {
    const file = join(dir, 'users.ndjson');
    writeFileSync(file, fakeUsers(users, { badEvery: 997 }));
    const source = gzip ? `${file}.gz` : file;
    if (gzip) writeFileSync(source, gzipSync(readFileSync(file)));
    const persist = join(dir, 'state');
    const port = await freePort();
    // Short slices, two shards, and a tenant object that checks on its tasks twice a second.
    const env = { SLICE_MS: String(sliceMs), SHARD_BYTES: String(1 << 20), MAX_SHARDS: String(maxShards), TASK_POLL_MS: '500' };
    dev = await startDev({ users: source, persist, port, env });
    const request = { format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }, { name: 'name' }, { name: 'identities[0].connection', export_as: 'connection' }] };
    const t0 = performance.now();
    const created = await api({ url: dev.ready.url }, 'POST', '/api/v2/jobs/users-exports', { token: dev.ready.token, body: request });
    assert.equal(created.status, 200, created.text);
    const id = created.json.id;
    const seen = [];
    let killed = 0;
    let job;
    for (;;) {
      // Kill at a random point: a random 0.1 s to 0.1 s and a slice after the server is up
      // (inside a slice, a report, a restart's recovery), unless the job is done or every kill
      // was made; soon enough that a job of a few seconds of CPU still runs at every kill.
      const until = performance.now() + (killed < kills ? 100 + rand() * sliceMs : 3_600_000);
      for (;;) {
        const r = await api({ url: dev.ready.url }, 'GET', `/api/v2/jobs/${id}`, { token: dev.ready.token });
        job = r.json;
        seen.push(job.percentage_done);
        if (job.status === 'completed' || job.status === 'failed' || performance.now() > until) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (job.status === 'completed' || job.status === 'failed') break;
      const pids = workerdUnder(dev.child.pid);
      assert.equal(pids.length, 1, 'one workerd under dev.mjs');
      process.kill(pids[0], 'SIGKILL');
      process.kill(dev.child.pid, 'SIGKILL');
      await exited(dev.child);
      killed++;
      log(`kill ${killed} at ${((performance.now() - t0) / 1000).toFixed(1)} s, ${job.percentage_done}% done`);
      dev = await startDev({ users: source, persist, port, env });
    }
    const wallMs = performance.now() - t0;
    assert.equal(job.status, 'completed', job.status_details);
    const res = await fetch(job.location);
    assert.equal(res.status, 200);
    const gz = Buffer.from(await res.arrayBuffer());
    const got = gunzipSync(gz);
    const want = cliExportLenient(file, request, { tenant: 'big' });
    const errors = await jobErrors({ url: dev.ready.url }, dev.ready.token, id);
    // Percentages never went back across the kills.
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'percentage_done never goes back');
    return { killed, wallMs, got, want, errors, gzBytes: gz.length, sha: (b) => createHash('sha256').update(b).digest('hex') };
  } finally {
    if (dev) {
      dev.child.kill('SIGTERM');
      await exited(dev.child);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

