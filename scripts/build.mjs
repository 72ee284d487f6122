// Builds the npm package's pkg/: wasm-pack's web glue, the CJS glue, and the entries of js/entries/.
// Run by `npm run build`. Needs wasm-pack and wasm-bindgen on PATH (.ci/setup.sh installs them).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
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
// (A patch of generated text: it goes once src/wasm.rs declares these signatures itself.)
function optionalParams(dts, what) {
  for (const [from, to] of [
    ['constructor(request: ExportRequest | string, options: ExportOptions);', 'constructor(request?: ExportRequest | string, options?: ExportOptions);'],
    ['format: "json" | "csv", options: { gzip?: boolean }): string;', 'format: "json" | "csv", options?: { gzip?: boolean }): string;'],
  ]) {
    if (!dts.includes(from)) throw new Error(`${what}'s .d.ts no longer has ${from}: update scripts/build.mjs`);
    dts = dts.replace(from, to);
  }
  return dts;
}
const dtsPath = join(pkg, 'userexport.d.ts');
writeFileSync(dtsPath, optionalParams(readFileSync(dtsPath, 'utf8'), 'the web glue'));

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
writeFileSync(join(pkg, 'userexport-node.cjs'), cjs);
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

// The entry points are committed files (js/entries/), copied as they are so a reader can open them.
const entries = join(root, 'js', 'entries');
for (const f of readdirSync(entries)) copyFileSync(join(entries, f), join(pkg, f));

// userexport/inline: the optimised wasm as base64 text in a JS module, so no bundler needs a loader.
writeFileSync(
  join(pkg, 'userexport_bg.wasm.base64.js'),
  `// userexport_bg.wasm as base64 (generated by scripts/build.mjs for pkg/inline.js).\nexport default '${readFileSync(wasmPath).toString('base64')}';\n`,
);
writeFileSync(join(pkg, 'userexport_bg.wasm.base64.d.ts'), 'declare const wasmBase64: string;\nexport default wasmBase64;\n');

// Types of the entries that load the wasm themselves (Node ESM and CJS, workerd, inline): the nodejs
// glue's declarations, which have no init() and so name no DOM-only type (RequestInfo, BufferSource),
// plus the harness's, in one standalone file each. A .d.cts that imported the ESM .d.ts files would
// make TypeScript (node16/nodenext) reject `require('userexport')` (TS1479/TS1541).
const harnessDts = readFileSync(join(root, 'js', 'harness.d.ts'), 'utf8');
const harnessImport = /^import type \{[^}]*\} from '\.\.\/pkg\/userexport\.js';\n/m;
if (!harnessImport.test(harnessDts)) {
  throw new Error("js/harness.d.ts must import its wasm types in one `import type … from '../pkg/userexport.js'` line: update scripts/build.mjs");
}
const standalone = (what) =>
  [
    `// Types of ${what} (generated by scripts/build.mjs from wasm-bindgen's nodejs glue and js/harness.d.ts).`,
    '// Symbol.dispose is typed in the esnext.disposable lib, which a consumer\'s `lib` may leave out.',
    '/// <reference lib="esnext.disposable" />',
    optionalParams(readFileSync(join(cjsDir, 'userexport.d.ts'), 'utf8'), 'the nodejs glue'),
    harnessDts.replace(harnessImport, ''),
  ].join('\n');
writeFileSync(join(pkg, 'userexport.d.cts'), standalone('the CommonJS entry of userexport'));
writeFileSync(join(pkg, 'core.d.ts'), standalone('the self-initialising ESM entries of userexport, re-exported by pkg/node.d.ts'));

const raw = statSync(wasmPath).size;
const gz = gzipSync(readFileSync(wasmPath), { level: 9 }).length;
console.error(`built pkg/: userexport_bg.wasm ${raw} bytes, ${gz} gzipped`);
