// Builds the npm package's pkg/: wasm-pack's web glue, the CJS glue, and one entry per runtime.
// Run by `npm run build`. Needs wasm-pack and wasm-bindgen on PATH (.ci/setup.sh installs them).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const pkg = join(root, 'pkg');
const env = { ...process.env, PATH: `${join(homedir(), '.cargo', 'bin')}:${process.env.PATH}` };
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });

rmSync(pkg, { recursive: true, force: true });
// --mode no-install: fail at once if wasm-bindgen is missing instead of a silent 2-minute cargo install.
run('wasm-pack', ['build', '--release', '--target', 'web', '--out-dir', 'pkg', '--out-name', 'userexport', '--mode', 'no-install']);
const wasm = join(root, 'target', 'wasm32-unknown-unknown', 'release', 'userexport.wasm');
const cjsDir = join(root, 'target', 'cjs-glue');
rmSync(cjsDir, { recursive: true, force: true });
run('wasm-bindgen', [wasm, '--target', 'nodejs', '--out-dir', cjsDir, '--out-name', 'userexport']);

// wasm-pack's own package.json, README copy and `*` .gitignore would shadow the root package
// (the .gitignore would even keep the wasm out of `npm pack`).
for (const f of ['.gitignore', 'package.json', 'README.md', 'LICENSE']) rmSync(join(pkg, f), { force: true });

const wasmPath = join(pkg, 'userexport_bg.wasm');
if (!readFileSync(join(cjsDir, 'userexport_bg.wasm')).equals(readFileSync(wasmPath))) {
  throw new Error('the nodejs and web builds produced different .wasm files');
}

// wasm-opt from npm's binaryen (a JS/wasm build: no GitHub download, and unlike Debian's
// binaryen 108 its output runs). Both glues only name the wasm's imports and exports, which
// wasm-opt keeps, so the optimised file serves every entry.
const wasmOpt = join(root, 'node_modules', '.bin', 'wasm-opt');
if (existsSync(wasmOpt)) {
  const features = ['bulk-memory', 'nontrapping-float-to-int', 'sign-ext', 'mutable-globals', 'reference-types', 'multivalue'];
  run(wasmOpt, [wasmPath, '-O3', ...features.map((f) => `--enable-${f}`), '-o', wasmPath]);
} else {
  console.error('wasm-opt not found (npm ci installs binaryen): pkg/ keeps the unoptimised wasm');
}

// wasm-bindgen cannot mark an unchecked-typed parameter optional; these may be left out.
const dtsPath = join(pkg, 'userexport.d.ts');
let dts = readFileSync(dtsPath, 'utf8');
for (const [from, to] of [
  ['constructor(request: ExportRequest | string, options: ExportOptions);', 'constructor(request?: ExportRequest | string, options?: ExportOptions);'],
  ['format: "json" | "csv", options: { gzip?: boolean }): string;', 'format: "json" | "csv", options?: { gzip?: boolean }): string;'],
]) {
  if (!dts.includes(from)) throw new Error(`userexport.d.ts no longer has ${from}: update scripts/build.mjs`);
  dts = dts.replace(from, to);
}
writeFileSync(dtsPath, dts);

// CommonJS: the nodejs glue, whose inline-JS snippet is an ES module that Node 20 cannot require().
const snippetDirs = readdirSync(join(pkg, 'snippets'));
let cjs = readFileSync(join(cjsDir, 'userexport.js'), 'utf8');
for (const dir of snippetDirs) {
  for (const file of readdirSync(join(pkg, 'snippets', dir)).filter((f) => f.endsWith('.js'))) {
    const src = readFileSync(join(pkg, 'snippets', dir, file), 'utf8');
    const names = [...src.matchAll(/^export function (\w+)/gm)].map((m) => m[1]);
    const body = src.replace(/^export function /gm, 'function ');
    const out = `'use strict';\n${body}\nmodule.exports = { ${names.join(', ')} };\n`;
    writeFileSync(join(pkg, 'snippets', dir, file.replace(/\.js$/, '.cjs')), out);
    // Only the require() paths: the same string is also the wasm's import-module name.
    cjs = cjs.replaceAll(`require("./snippets/${dir}/${file}")`, `require("./snippets/${dir}/${file.replace(/\.js$/, '.cjs')}")`);
  }
}
// The harness for CommonJS: js/harness.js has no imports and one export, so dropping the
// `export` keyword and assigning module.exports makes it a CJS module with the same code.
const harnessSrc = readFileSync(join(root, 'js', 'harness.js'), 'utf8');
if ((harnessSrc.match(/^export /gm) ?? []).length !== 1 || /^import /m.test(harnessSrc)) {
  throw new Error('js/harness.js must keep exactly one export (makeHarness) and no imports: update scripts/build.mjs');
}
writeFileSync(
  join(pkg, 'harness.cjs'),
  `'use strict';\n${harnessSrc.replace(/^export function makeHarness/m, 'function makeHarness')}\nmodule.exports = { makeHarness };\n`,
);
cjs += `\n// The streaming harness, as in the ESM entries (added by scripts/build.mjs).\nObject.assign(module.exports, require('./harness.cjs').makeHarness(module.exports.Exporter));\n`;
writeFileSync(join(pkg, 'userexport.cjs'), cjs);

const harnessNames = 'exportStream, createExportTransform, exportToBlob, downloadExport';
writeFileSync(join(pkg, 'node.js'), `// Node ESM entry of userexport (generated by scripts/build.mjs): wasm loaded synchronously.
import { readFileSync } from 'node:fs';
import { initSync, Exporter } from './userexport.js';
import { makeHarness } from '../js/harness.js';
initSync({ module: readFileSync(new URL('./userexport_bg.wasm', import.meta.url)) });
export * from './userexport.js';
/** Already initialised in Node; kept so code written for browsers (\`await init()\`) runs unchanged. */
export default async function init() {}
export const { ${harnessNames} } = makeHarness(Exporter);
`);
writeFileSync(join(pkg, 'workerd.js'), `// Cloudflare Workers entry of userexport (generated by scripts/build.mjs): a .wasm import is a compiled Module there.
import wasmModule from './userexport_bg.wasm';
import { initSync, Exporter } from './userexport.js';
import { makeHarness } from '../js/harness.js';
initSync({ module: wasmModule });
export * from './userexport.js';
export default async function init() {}
export const { ${harnessNames} } = makeHarness(Exporter);
`);
writeFileSync(join(pkg, 'browser.js'), `// Browser and bundler entry of userexport (generated by scripts/build.mjs): \`await init()\` fetches the wasm.
import init, { Exporter } from './userexport.js';
import { makeHarness } from '../js/harness.js';
export * from './userexport.js';
export default init;
export const { ${harnessNames} } = makeHarness(Exporter, () => init());
`);
writeFileSync(join(pkg, 'index.d.ts'), `// Types of every userexport entry (generated by scripts/build.mjs).
export * from './userexport.js';
export { default } from './userexport.js';
export { ${harnessNames} } from '../js/harness.js';
export type { ExportStreamOptions, ExportSource, ExportSummary } from '../js/harness.js';
`);
writeFileSync(join(pkg, 'userexport.d.cts'), `// Types of the CommonJS entry (generated by scripts/build.mjs).
export * from './userexport.js';
export { ${harnessNames} } from '../js/harness.js';
export type { ExportStreamOptions, ExportSource, ExportSummary } from '../js/harness.js';
`);

const raw = statSync(wasmPath).size;
const gz = gzipSync(readFileSync(wasmPath), { level: 9 }).length;
console.error(`built pkg/: userexport_bg.wasm ${raw} bytes, ${gz} gzipped`);
