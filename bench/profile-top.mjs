// Self time per function of a V8 `.cpuprofile` (node --cpu-prof), top N: the wasm rows of bench/README.md's profile table.
// Usage: node profile-top.mjs FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

const [file, n = '30'] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((node) => [node.id, node]));
// Each sample names the node that was on top of the stack; the time deltas say for how long.
const self = new Map();
let total = 0;
prof.samples.forEach((id, i) => {
  const dt = prof.timeDeltas[i] ?? 0;
  const f = byId.get(id).callFrame;
  const name = f.functionName || `(anonymous ${f.url.split('/').pop()}:${f.lineNumber})`;
  self.set(name, (self.get(name) ?? 0) + dt);
  total += dt;
});
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(n))) {
  console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
}
