// `node edge/bench/profile.mjs [users.ndjson(.gz)] [--csv]`: a V8 CPU profile of the edge's export in workerd (one shard, gzip out, as bench/runtimes.mjs times it), self time summed per function and per script.
// Writes the profile to target/edge.cpuprofile (Chrome DevTools opens it) and prints the top rows.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { WebSocket } from 'ws';
import { freePort, startEdge } from '../lib/edge.mjs';
import { fakeUsers, runJob } from '../test/helpers.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const source = args.find((a) => !a.startsWith('--'));
const request = args.includes('--csv') ? { format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }, { name: 'name' }, { name: 'created_at' }] } : { format: 'json' };

/** One DevTools session: `send(method, params)` resolves with the result. */
async function devtools(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const target = targets.find((t) => t.title?.includes('userexport-edge')) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let id = 0;
  const waiting = new Map();
  ws.on('message', (m) => {
    const msg = JSON.parse(String(m));
    if (msg.id && waiting.has(msg.id)) {
      waiting.get(msg.id)(msg);
      waiting.delete(msg.id);
    }
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const n = ++id;
        waiting.set(n, (msg) => (msg.error ? reject(new Error(`${method}: ${msg.error.message}`)) : resolve(msg.result)));
        ws.send(JSON.stringify({ id: n, method, params }));
      }),
    close: () => ws.close(),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'edge-profile-'));
const inspectorPort = await freePort();
const seed = source ? { file: source } : gzipSync(fakeUsers(50_000, { seed: 7 }));
const key = source?.endsWith('.gz') === false ? 'users.ndjson' : 'users.ndjson.gz';
const edge = await startEdge({
  persistDir: join(dir, 'state'),
  inspectorPort,
  tenants: { bench: { config: { users: key, connections: {}, max_shards: 1 }, seed: { [key]: seed } } },
});
try {
  const dt = await devtools(inspectorPort);
  await dt.send('Profiler.enable');
  await dt.send('Profiler.setSamplingInterval', { interval: 200 });
  await dt.send('Profiler.start');
  const token = await edge.token({ tenant: 'bench' });
  const { job, created } = await runJob(edge, token, request, () => {}, { timeoutMs: 30 * 60_000, everyMs: 250 });
  const { profile } = await dt.send('Profiler.stop');
  dt.close();
  if (job.status !== 'completed') throw new Error(`edge job: ${job.status_details}`);
  const { stats } = await edge.inspect('bench', created.id);
  writeFileSync(join(root, 'target', 'edge.cpuprofile'), JSON.stringify(profile));

  // Self time per node: the samples' time deltas, attributed to the sampled node.
  const self = new Map();
  profile.samples.forEach((node, i) => self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFn = new Map();
  const byScript = new Map();
  let total = 0;
  for (const n of profile.nodes) {
    const us = self.get(n.id) ?? 0;
    total += us;
    const f = n.callFrame;
    const script = f.url ? f.url.split('/').pop() : f.functionName.startsWith('(') ? f.functionName : '(native)';
    const name = `${f.functionName || '(anonymous)'} ${script}${f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ''}`;
    byFn.set(name, (byFn.get(name) ?? 0) + us);
    byScript.set(script, (byScript.get(script) ?? 0) + us);
  }
  const rows = (m, k) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, us]) => `${(us / 1e6).toFixed(2).padStart(7)} s ${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}`)
      .join('\n');
  console.log(`${(stats.durationMs / 1000).toFixed(2)} s in the Durable Object; ${(total / 1e6).toFixed(2)} s sampled in the isolate`);
  console.log(`\nBy script:\n${rows(byScript, 10)}\n\nBy function (self time):\n${rows(byFn, 30)}`);
} finally {
  await edge.dispose();
  rmSync(dir, { recursive: true, force: true });
}
