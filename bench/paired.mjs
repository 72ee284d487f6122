// Paired runs on a shared machine: the native core and one or more builds of the npm package, alternating round by round, medians and ratios.
//
// `node paired.mjs [--size 100k] [--rounds 5] [--formats csv,ndjson] [--peer userexport-stream]
//  [--pkgs A/node.js,B/node.js]`: each round runs the native core (`cargo bench … --profile`,
// CPU time of the bench thread) and then every package (bench/worker.mjs, one fresh process
// each), so a change in the machine's load hits every row of a round alike. Without --pkgs the
// package is ../pkg/node.js. Prints one markdown row per row kind, with the load average.

import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const size = flag('--size', '100k');
const rounds = Number(flag('--rounds', '5'));
const formats = flag('--formats', 'csv,ndjson').split(',');
const peer = flag('--peer', 'userexport-stream');
const pkgs = flag('--pkgs', `${root}pkg/node.js`).split(',');
const dataDir = process.env.CARGO_TARGET_DIR ? `${process.env.CARGO_TARGET_DIR}/bench-data` : `${root}target/bench-data`;
const file = `${dataDir}/users-${size}.ndjson`;

// The bench executable, built once (cargo's own checks would otherwise run inside every round).
const built = execFileSync('cargo', ['bench', '--bench', 'throughput', '--no-run', '--message-format=json'], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 64 << 20,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const nativeExe = built
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l))
  .find((m) => m.reason === 'compiler-artifact' && m.target?.name === 'throughput' && m.executable).executable;

const samples = new Map(); // `${format} ${row}` -> MB/s (CPU) per round
const note = (key, v) => samples.set(key, [...(samples.get(key) ?? []), v]);
const loads = [];
for (let r = 0; r < rounds; r++) {
  for (const format of formats) {
    loads.push(os.loadavg()[0]);
    const native = execFileSync(nativeExe, ['--profile', '--sizes', size, '--only', format === 'ndjson' ? 'json' : format, '--runs', '1'], {
      cwd: root,
      encoding: 'utf8',
    });
    note(`${format} native`, Number(/([\d.]+) MB\/s/.exec(native)[1]));
    for (const pkg of pkgs) {
      const w = spawnSync(process.execPath, [`${here}worker.mjs`, peer, format, file], {
        cwd: here,
        encoding: 'utf8',
        env: { ...process.env, USEREXPORT_PKG: pkg },
      });
      if (w.status !== 0) throw new Error(`${pkg}: ${w.stderr}`);
      const res = JSON.parse(w.stdout.trim().split('\n').pop());
      note(`${format} ${pkg}`, res.inputBytes / 1e6 / res.cpuSeconds);
      note(`${format} ${pkg} wall`, res.inputBytes / 1e6 / res.wallSeconds);
    }
    console.error(`round ${r + 1}/${rounds} ${format} done (load ${os.loadavg()[0].toFixed(1)})`);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
console.log(`${size}, ${rounds} rounds, peer ${peer}, load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
console.log('| out | row | MB/s in (CPU), median | MB/s (wall) | % of native (median of per-round ratios) |');
console.log('|---|---|---:|---:|---:|');
for (const format of formats) {
  const nat = samples.get(`${format} native`);
  console.log(`| ${format} | native core | ${median(nat).toFixed(1)} | — | 100 |`);
  for (const pkg of pkgs) {
    const xs = samples.get(`${format} ${pkg}`);
    const ratio = median(xs.map((x, i) => x / nat[i]));
    const name = pkg.replace(root, '');
    console.log(`| ${format} | ${name} | ${median(xs).toFixed(1)} | ${median(samples.get(`${format} ${pkg} wall`)).toFixed(1)} | ${(100 * ratio).toFixed(0)} |`);
  }
}
