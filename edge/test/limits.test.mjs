// Auth0's job limits under a moved clock: the 8-hour timeout and the per-tenant cap on running jobs (queued beyond it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SAMPLE_CONNECTIONS, sampleTenant, startEdge } from '../lib/edge.mjs';
import { api, fakeUsers, runJob, until } from './helpers.mjs';

let edge;
let dir;
const HOUR = 3600_000;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edge-limits-'));
  const cap = sampleTenant('cap');
  cap.config.max_concurrent_jobs = 1;
  edge = await startEdge({
    persistDir: join(dir, 'state'),
    tenants: {
      cap,
      slow: { config: { users: 'u.gz', connections: SAMPLE_CONNECTIONS, max_concurrent_jobs: 1 }, seed: { 'u.gz': gzipSync(fakeUsers(40_000)) } },
    },
    vars: { SLICE_MS: '100', TASK_POLL_MS: '200' },
  });
});
after(async () => {
  await edge?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('max_concurrent_jobs 1: jobs beyond the cap wait `pending` and run one after another', { timeout: 120_000 }, async () => {
  const token = await edge.token({ tenant: 'cap' });
  const polls = [];
  const jobs = await Promise.all([0, 1, 2].map(() => runJob(edge, token, { format: 'json' }, (j) => polls.push(j))));
  for (const j of jobs) assert.equal(j.job.status, 'completed', j.job.status_details);
  const recs = (await Promise.all(jobs.map((j) => edge.inspect('cap', j.created.id)))).sort((a, b) => a.startedMs - b.startedMs);
  for (let i = 1; i < recs.length; i++) assert.ok(recs[i].startedMs >= recs[i - 1].endedMs, `job ${i} started after job ${i - 1} ended`);
  assert.ok(polls.some((p) => p.status === 'pending'), 'a poll saw a queued job');
});

test('a job not finished 8 hours after its creation fails with status_details, queued or running', { timeout: 120_000 }, async () => {
  const token = await edge.token({ tenant: 'slow' });
  const post = async () => (await api(edge, 'POST', '/api/v2/jobs/users-exports', { token, body: { format: 'csv' } })).json;
  const running = await post();
  const queued = await post();
  const get = async (id) => (await api(edge, 'GET', `/api/v2/jobs/${id}`, { token })).json;
  await until(async () => (await get(running.id)).status === 'processing');
  assert.equal((await get(queued.id)).status, 'pending', 'the cap is 1');
  // A minute short of 8 hours: still going.
  await edge.clock.advance(8 * HOUR - 60_000);
  await until(async () => (await get(running.id)).percentage_done > 0);
  assert.equal((await get(running.id)).status, 'processing');
  await edge.clock.advance(60_000);
  const failed = await until(async () => {
    const [a, b] = [await get(running.id), await get(queued.id)];
    return a.status === 'failed' && b.status === 'failed' ? [a, b] : null;
  });
  for (const j of failed) {
    assert.equal(j.status_details, 'The job timed out: an export job must finish within 8 hours of its creation.');
    assert.equal(j.location, undefined);
  }
  const errors = await api(edge, 'GET', `/api/v2/jobs/${running.id}/errors`, { token });
  assert.equal(errors.json.status_details, failed[0].status_details);
  // Its slices are gone and its tasks stopped: nothing more is written.
  const exports = await edge.mf.getR2Bucket('EXPORTS');
  assert.equal((await exports.list({ prefix: `${running.id}/` })).objects.length, 0);
});
