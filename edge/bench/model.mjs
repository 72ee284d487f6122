// `node edge/bench/model.mjs [CPU_S_PER_M]`: edge/SCALE.md's model for 1 M, 10 M and 100 M users from the 1 M-user measurements (operation counts and Cloudflare's prices).
const cpuPerM = Number(process.argv[2] ?? 27); // workerd CPU seconds per million users, one shard (scale.mjs, k1)
const plainPerM = 630e6; // bytes of NDJSON per million users (fakeUsers)
const gzOutPerM = 62.8 * 2 ** 20; // bytes of gzip CSV out per million users
const K = 4;
const SLICE_S = 10;
const READ = 16 * 2 ** 20;
const PART = 5 * 2 ** 20;
const POLL_S = 30;
const price = { doReq: 0.15e-6, doGbS: 12.5e-6, a: 4.5e-6, b: 0.36e-6 };
const rows = [];
for (const m of [1, 10, 100]) {
  const cpu = cpuPerM * m;
  const wall = cpu / K;
  const perShard = Math.ceil(wall / SLICE_S);
  const slices = K * perShard;
  const outPerSlice = (gzOutPerM * m) / slices;
  const plainPerSlice = (plainPerM * m) / slices;
  // A slice's output: one PUT, or create + parts + complete above one part.
  const aPerSlice = outPerSlice <= PART ? 1 : 2 + Math.ceil(outPerSlice / PART);
  const classA = slices * aPerSlice + 1; // + parts.json
  const stagingA = 2 + Math.ceil((plainPerM * m) / PART); // create + parts + complete
  // Range GETs per slice (+1 for the read that finds the end), split probes, the download's GET per slice, heads.
  const classB = slices * (Math.ceil(plainPerSlice / READ) + 1) + (K - 1) + slices + 3;
  const polls = Math.ceil(wall / POLL_S);
  const doReq = slices * 2 + polls * (1 + K) + 2 * K + 4;
  const gbS = cpu * 1.1 * 0.125;
  const costDo = doReq * price.doReq + gbS * price.doGbS;
  const costR2 = classA * price.a + classB * price.b;
  const costStage = stagingA * price.a;
  rows.push({ m, cpu, wall, slices, classA, stagingA, classB, doReq, gbS, costDo, costR2, costStage });
}
const n = (x) => Math.round(x).toLocaleString('en-US');
const usd = (x) => `$${x.toFixed(4)}`;
console.log(`CPU ${cpuPerM} s per million users, K = ${K}, slices of ${SLICE_S} s\n`);
console.log('| users | CPU (all shards) | wall at K = 4 | slices | R2 class A (+ staging a .gz) | R2 class B | DO requests | DO GB-s | cost: DO requests + duration | R2 ops (+ staging) | total with staging |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.m} M | ${n(r.cpu)} s | ${(r.wall / 60).toFixed(1)} min | ${n(r.slices)} | ${n(r.classA)} (+${n(r.stagingA)}) | ${n(r.classB)} | ${n(r.doReq)} | ${n(r.gbS)} | ` +
      `${usd(r.costDo)} | ${usd(r.costR2)} (+${usd(r.costStage)}) | ${usd(r.costDo + r.costR2 + r.costStage)} |`,
  );
}
