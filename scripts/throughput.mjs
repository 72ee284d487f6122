// A first throughput figure from Node: ~50 MB of the sample NDJSON → CSV (and NDJSON) through
// the package's Node entry, plus pushUsers against a plain JS JSON.stringify loop.
// Run after `npm run build`: node scripts/throughput.mjs [MB]
import { readFileSync } from 'node:fs';
import { Exporter } from 'userexport';

const mb = Number(process.argv[2] ?? 50);
const sample = readFileSync(new URL('../samples/users.ndjson', import.meta.url));
const copies = Math.ceil((mb * 1e6) / sample.length);
const input = Buffer.concat(Array(copies).fill(sample));
const request = JSON.parse(readFileSync(new URL('../samples/request.json', import.meta.url), 'utf8'));
const CHUNK = 1 << 20;

function ndjson(req) {
  const t0 = process.hrtime.bigint();
  const ex = new Exporter(req);
  let out = 0;
  for (let i = 0; i < input.length; i += CHUNK) {
    ex.pushNdjson(input.subarray(i, i + CHUNK));
    for (let c = ex.pull(); c; c = ex.pull()) out += c.length;
  }
  ex.finish();
  for (let c = ex.pull(); c; c = ex.pull()) out += c.length;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  ex.free();
  return { secs, out };
}

for (const [label, req] of [['NDJSON → CSV (9 fields)', request], ['NDJSON → NDJSON (default fields)', {}]]) {
  ndjson(req); // warm-up
  const { secs, out } = ndjson(req);
  console.log(`${label}: ${(input.length / 1e6).toFixed(1)} MB in ${secs.toFixed(2)} s = ${(input.length / 1e6 / secs).toFixed(0)} MB/s (${(out / 1e6).toFixed(1)} MB out)`);
}

const users = sample.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
const rounds = 20;
function time(fn) {
  fn();
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
const plain = time(() => {
  let n = 0;
  for (let r = 0; r < rounds; r++) for (const u of users) n += JSON.stringify(u).length;
  return n;
});
const viaWasm = (batch) => time(() => {
  const ex = new Exporter(request);
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < users.length; i += batch) {
      ex.pushUsers(batch === 1 ? users[i] : users.slice(i, i + batch), i);
      for (let c = ex.pull(); c; c = ex.pull()) n += c.length;
    }
  }
  ex.free();
  return n;
});
const count = rounds * users.length;
console.log(`plain JS loop (JSON.stringify each user): ${(count / plain / 1e3).toFixed(0)} k users/s`);
console.log(`pushUsers one by one + pull (CSV): ${(count / viaWasm(1) / 1e3).toFixed(0)} k users/s`);
console.log(`pushUsers batches of 512 + pull (CSV): ${(count / viaWasm(512) / 1e3).toFixed(0)} k users/s`);
