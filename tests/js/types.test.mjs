// The published TypeScript types, from the packed tarball: tsc (strict, skipLibCheck false) accepts the
// consumers in tests/types/ and rejects each marked misuse, under moduleResolution bundler, node16 and
// nodenext, for ESM and CommonJS files, with the libs each kind of project has.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const SOURCES = join(ROOT, 'tests/types');
let work;
let consumer;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'userexport-types-'));
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }));
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  // An ESM project: .ts files are ES modules under node16/nodenext, .cts files CommonJS.
  writeFileSync(join(consumer, 'package.json'), '{"name":"consumer","private":true,"version":"1.0.0","type":"module"}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(work, packed.filename)], { cwd: consumer, stdio: 'ignore' });
  for (const f of readdirSync(SOURCES).filter((f) => /\.c?ts$/.test(f))) copyFileSync(join(SOURCES, f), join(consumer, f));
});

after(() => rmSync(work, { recursive: true, force: true }));

/** Runs tsc over `files` with these module settings; returns its output (empty when it passed). */
function tsc(name, compilerOptions, files) {
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'es2022',
      skipLibCheck: false,
      // Node's types come from this repository's own pinned @types/node.
      typeRoots: [join(ROOT, 'node_modules/@types')],
      ...compilerOptions,
    },
    files,
  };
  writeFileSync(join(consumer, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
  const r = spawnSync(process.execPath, [TSC, '-p', `tsconfig.${name}.json`], { cwd: consumer, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

// A browser app (DOM lib, no Node types) and a Node project (Node's types, no DOM lib). Neither lib list
// has esnext.disposable, which the generated declarations need for Symbol.dispose.
const BROWSER = { lib: ['es2022', 'dom', 'dom.iterable'], types: [] };
const NODE = { lib: ['es2022'], types: ['node'] };

for (const [name, options, files] of [
  ['bundler, browser app', { module: 'esnext', moduleResolution: 'bundler', ...BROWSER }, ['consumer.ts', 'inline-consumer.ts']],
  ['bundler, no DOM lib: userexport/inline', { module: 'esnext', moduleResolution: 'bundler', ...NODE }, ['inline-consumer.ts']],
  ['node16, Node project: ESM, CommonJS, inline', { module: 'node16', moduleResolution: 'node16', ...NODE }, ['consumer.ts', 'cjs-consumer.cts', 'inline-consumer.ts']],
  ['nodenext, Node project: ESM, CommonJS, inline', { module: 'nodenext', moduleResolution: 'nodenext', ...NODE }, ['consumer.ts', 'cjs-consumer.cts', 'inline-consumer.ts']],
  ['nodenext with the DOM lib too', { module: 'nodenext', moduleResolution: 'nodenext', lib: BROWSER.lib, types: ['node'] }, ['consumer.ts', 'cjs-consumer.cts']],
]) {
  test(`tsc --strict, skipLibCheck false, ${name}`, () => {
    const r = tsc(name.replace(/\W+/g, '-'), options, files);
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out, '');
  });
}

test('a misuse the consumers do not mark is reported (the check is live)', () => {
  writeFileSync(join(consumer, 'wrong.cts'), "import userexport = require('userexport');\nuserexport.fileName('acme', 'xml');\n");
  writeFileSync(join(consumer, 'wrong.ts'), "import { Exporter } from 'userexport';\nnew Exporter().pull(42);\n");
  const r = tsc('wrong', { module: 'nodenext', moduleResolution: 'nodenext', ...NODE }, ['wrong.cts', 'wrong.ts']);
  assert.notEqual(r.status, 0);
  assert.match(r.out, /wrong\.cts\(2,\d+\): error TS2345/);
  assert.match(r.out, /wrong\.ts\(2,\d+\): error TS2554/);
});
