// For re-import's cost beside a plain export, in the wasm build under Node: the same users (the
// page's generator, www/sample.js, a quarter of them database users) exported as NDJSON (default
// fields) and as import files, then the same users all made database users (every one encoded into
// a file). Runs alternate so both sides see the same machine load; prints median MB/s of input,
// the ratio and the load average. The import side takes the list of users left out as it grows,
// as the CLI does. Run: node bench/import.mjs [USERS] [ROUNDS]
import { loadavg } from 'node:os';
import { Exporter } from '../pkg/node.js';
import { sampleNdjson } from '../www/sample.js';

const users = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 7);
const CHUNK = 1 << 20;
const mixed = Buffer.from(sampleNdjson(users));
const database = Buffer.from(
  sampleNdjson(users)
    .replace(/"user_id":"[a-z0-9-]+\|/g, '"user_id":"auth0|')
    .replace(/"provider":"[^"]+"/g, '"provider":"auth0"')
    .replace(/"connection":"[^"]+"/g, '"connection":"Username-Password-Authentication"'),
);

function run(input, forImport) {
  const ex = new Exporter({}, forImport ? { forImport: true } : {});
  const t0 = performance.now();
  let out = 0;
  let list = 0;
  const pull = forImport ? () => ex.pullImport()?.bytes : () => ex.pull();
  const drain = () => {
    for (let c = pull(); c; c = pull()) out += c.length;
    if (forImport) list += ex.takeUnimportableJson(false).length;
  };
  for (let i = 0; i < input.length; i += CHUNK) {
    ex.pushNdjson(input.subarray(i, i + CHUNK));
    drain();
  }
  ex.finish();
  drain();
  if (forImport) list += ex.takeUnimportableJson(true).length;
  const ms = performance.now() - t0;
  const result = { mbps: input.length / 1e6 / (ms / 1000), out, list, written: ex.stats.usersWritten, files: forImport ? ex.importFiles.length : 1, left: forImport ? ex.unimportableCount : 0 };
  ex.free();
  return result;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${users} users, ${rounds} paired rounds, load average before ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const [label, input] of [['sample (25 % database users)', mixed], ['all database users', database]]) {
  run(input, false);
  run(input, true);
  const plain = [];
  const imported = [];
  let last;
  for (let r = 0; r < rounds; r++) {
    plain.push(run(input, false).mbps);
    last = run(input, true);
    imported.push(last.mbps);
  }
  const [p, i] = [median(plain), median(imported)];
  console.log(`${label}, ${(input.length / 1e6).toFixed(1)} MB: NDJSON export ${p.toFixed(1)} MB/s, for import ${i.toFixed(1)} MB/s (${(i / p).toFixed(2)}x); ${last.written} users in ${last.files} files, ${last.left} left out (list ${(last.list / 1e6).toFixed(1)} MB)`);
}
console.log(`load average after ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
