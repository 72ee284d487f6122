// In one process, warm: plain-js-objects against pushUsers over the same parsed users, in turns.
//
// `node bench/objects.mjs [csv|ndjson] [rounds] [size]` (defaults csv, 7, 100k; for 1m give Node
// the room: `node --max-old-space-size=8000 bench/objects.mjs csv 3 1m`). The users are
// parsed once; each round times one whole export per peer (CPU time of the process), the peers
// alternating so a shared machine's load falls on both alike; the medians and their ratio are
// printed. The output bytes are checked once (sha256) before timing. `npm run bench` prices a
// single pass in a fresh process instead, warm-up included; this prices the steady state.
// Extra package builds to compare: USEREXPORT_PKGS=/path/a/node.js,/path/b/node.js.

import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadavg } from 'node:os';
import { CSV_HEADER, csvRow, ndjsonLine } from './plain.mjs';

const [format = 'csv', rounds = '7', size = '100k'] = process.argv.slice(2);
const JOB = JSON.parse(readFileSync(new URL('./job.json', import.meta.url), 'utf8'));
const data = new URL(`../target/bench-data/users-${size}.ndjson`, import.meta.url);
// Line by line: the 1M file is longer than a JS string may be.
const users = [];
for await (const line of createInterface({ input: createReadStream(data), crlfDelay: Infinity })) if (line) users.push(JSON.parse(line));
const pkgs = process.env.USEREXPORT_PKGS?.split(',').map((p) => new URL(`file://${p}`)) ?? [new URL('../pkg/node.js', import.meta.url)];

let hash = null;
const sink = (d) => {
  const b = typeof d === 'string' ? Buffer.from(d, 'utf8') : d;
  hash?.update(b);
};
function plain() {
  const build = format === 'csv' ? csvRow : ndjsonLine;
  let buf = format === 'csv' ? CSV_HEADER : '';
  for (const u of users) {
    buf += build(u);
    if (buf.length >= 65536) {
      sink(buf);
      buf = '';
    }
  }
  sink(buf);
}
function pushUsers(Exporter) {
  const ex = new Exporter({ ...JOB, format: format === 'csv' ? 'csv' : 'json' }, {});
  for (let i = 0; i < users.length; i += 512) {
    ex.pushUsers(users.slice(i, i + 512), i);
    for (let c = ex.pull(); c; c = ex.pull()) sink(c);
  }
  ex.finish();
  for (let c = ex.pull(); c; c = ex.pull()) sink(c);
  ex.free();
}

const peers = [{ name: 'plain-js-objects', run: plain }];
for (const url of pkgs) {
  const { Exporter } = await import(url);
  peers.push({ name: pkgs.length > 1 ? `pushUsers ${url.pathname}` : 'userexport-pushUsers', run: () => pushUsers(Exporter) });
}
const shas = peers.map((p) => {
  hash = createHash('sha256');
  p.run();
  return hash.digest('hex');
});
hash = null;
if (new Set(shas).size !== 1) throw new Error(`different bytes: ${peers.map((p, i) => `${p.name} ${shas[i]}`).join(', ')}`);
const times = peers.map(() => []);
for (let r = 0; r < Number(rounds); r++) {
  peers.forEach((p, i) => {
    const c0 = process.cpuUsage();
    p.run();
    const c = process.cpuUsage(c0);
    times[i].push((c.user + c.system) / 1000);
  });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
console.log(`${size} users, ${format}, ${rounds} rounds in turns, same bytes (sha256 ${shas[0].slice(0, 12)}…), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (let i = 0; i < peers.length; i++) {
  const m = median(times[i]);
  console.log(`${peers[i].name}: median ${m.toFixed(0)} ms CPU, × plain-JS ${(median(times[0]) / m).toFixed(2)}  [${times[i].map((t) => t.toFixed(0)).join(' ')}]`);
}
