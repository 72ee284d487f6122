// The README's "same import" through the bundlers a user reaches for, from the packed tarball: Vite
// (build and dev server) and webpack 5 run in Chromium, esbuild's browser bundle in Chromium and its
// Node bundles in Node (both through userexport/inline), wrangler's dry-run output in workerd
// (miniflare). Each exports the csv-sample fixture and must give its expected bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, createReadStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { chromium } from 'playwright-core';
import * as esbuild from 'esbuild';
import webpack from 'webpack';
import { build as viteBuild, createServer as viteServer } from 'vite';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = join(ROOT, 'tests/bundlers/app');
const WRANGLER = join(ROOT, 'tests/bundlers/node_modules/wrangler/bin/wrangler.js');
const fixture = (file) => readFileSync(join(ROOT, 'tests/fixtures/csv-sample', file));
const INPUT = fixture('input.ndjson');
const REQUEST = fixture('request.json').toString();
const EXPECTED = fixture('expected.csv');

let work;
let consumer;
let browser;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'userexport-bundlers-'));
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }));
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), '{"name":"consumer","private":true,"version":"1.0.0","type":"module"}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(work, packed.filename)], { cwd: consumer, stdio: 'ignore' });
  for (const f of readdirSync(APP)) copyFileSync(join(APP, f), join(consumer, f));
  const profile = mkdtempSync(join(work, 'chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

/** Serves `dir` on 127.0.0.1 as a static site; resolves to its origin and a stop function. */
async function serve(dir) {
  const server = createServer((req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!path.startsWith(dir)) return res.writeHead(403).end();
    try {
      if (!statSync(path).isFile()) return res.writeHead(404).end();
    } catch {
      return res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => {
    server.close(r);
    // Chromium keeps connections alive; close() alone would wait for them to time out.
    server.closeAllConnections();
  }) };
}

/** Opens `url` in Chromium, runs the app's export of the fixture, and checks the bytes and the console. */
async function exportInChromium(url) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('requestfailed', (r) => problems.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`${r.url()}: HTTP ${r.status()}`));
  try {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 20_000 });
    const bytes = await page.evaluate(([input, request]) => window.runExport(input, request), [INPUT.toString(), REQUEST]);
    assert.ok(Buffer.from(bytes).equals(EXPECTED), `export differs:\n${Buffer.from(bytes)}`);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
}

/** index.html with the app's script tag replaced. */
function page(dir, script) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), readFileSync(join(APP, 'index.html'), 'utf8').replace('<script type="module" src="./main.js"></script>', script));
}

test('Vite build: the bundle and its emitted wasm run in Chromium', async () => {
  const outDir = join(work, 'vite-dist');
  await viteBuild({ root: consumer, configFile: false, logLevel: 'error', build: { outDir, emptyOutDir: true } });
  assert.ok(readdirSync(join(outDir, 'assets')).some((f) => f.endsWith('.wasm')), 'Vite emits the wasm as an asset');
  const site = await serve(outDir);
  try {
    await exportInChromium(`${site.origin}/index.html`);
  } finally {
    await site.stop();
  }
});

test('Vite dev server: the unbundled app runs in Chromium', async () => {
  const server = await viteServer({ root: consumer, configFile: false, logLevel: 'error', server: { host: '127.0.0.1', port: 0, strictPort: false } });
  try {
    await server.listen();
    await exportInChromium(new URL('index.html', server.resolvedUrls.local[0]).href);
  } finally {
    await server.close();
  }
});

test('webpack 5: the production bundle and its emitted wasm run in Chromium', async () => {
  const outDir = join(work, 'webpack-dist');
  const stats = await new Promise((resolve, reject) =>
    webpack({ mode: 'production', context: consumer, entry: './main.js', output: { path: outDir, filename: 'main.bundle.js' } }, (err, s) => (err ? reject(err) : resolve(s))),
  );
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  assert.ok(readdirSync(outDir).some((f) => f.endsWith('.wasm')), 'webpack emits the wasm as an asset');
  page(outDir, '<script src="./main.bundle.js"></script>');
  const site = await serve(outDir);
  try {
    await exportInChromium(`${site.origin}/index.html`);
  } finally {
    await site.stop();
  }
});

test('esbuild, browser: userexport/inline needs no loader and runs in Chromium', async () => {
  const outDir = join(work, 'esbuild-browser');
  const result = await esbuild.build({ entryPoints: [join(consumer, 'main-inline.js')], bundle: true, format: 'esm', platform: 'browser', outfile: join(outDir, 'main.js'), logLevel: 'silent' });
  assert.deepEqual(result.errors, []);
  assert.deepEqual(readdirSync(outDir), ['main.js'], 'one file: nothing to copy beside it');
  page(outDir, '<script type="module" src="./main.js"></script>');
  const site = await serve(outDir);
  try {
    await exportInChromium(`${site.origin}/index.html`);
  } finally {
    await site.stop();
  }
});

for (const format of ['esm', 'cjs']) {
  test(`esbuild, Node (${format}): the bundle runs from a folder with no node_modules`, async () => {
    const outDir = join(work, `esbuild-node-${format}`);
    const outfile = join(outDir, format === 'esm' ? 'export.mjs' : 'export.cjs');
    const result = await esbuild.build({ entryPoints: [join(consumer, 'node-main.mjs')], bundle: true, format, platform: 'node', target: 'node20', outfile, logLevel: 'silent' });
    assert.deepEqual(result.errors, []);
    const r = spawnSync(process.execPath, [outfile, REQUEST], { cwd: outDir, input: INPUT });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.ok(r.stdout.equals(EXPECTED), `export differs:\n${r.stdout}`);
  });
}

test("wrangler deploy --dry-run: its bundle (the package's workerd entry) runs in workerd", async () => {
  const app = join(consumer, 'worker-app');
  mkdirSync(app);
  copyFileSync(join(consumer, 'worker.js'), join(app, 'worker.js'));
  writeFileSync(join(app, 'wrangler.toml'), 'name = "userexport-bundler-test"\nmain = "worker.js"\ncompatibility_date = "2025-01-01"\n');
  const outDir = join(work, 'wrangler-dist');
  const home = join(work, 'wrangler-home');
  const r = spawnSync(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--outdir', outDir], {
    cwd: app,
    encoding: 'utf8',
    // No metrics, no update check, and its config and logs in the test's folder, not the user's.
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', XDG_CONFIG_HOME: home, WRANGLER_LOG_PATH: home, CI: 'true' },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const wasm = readdirSync(outDir).filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one wasm module beside the bundle: ${readdirSync(outDir)}`);
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(outDir, 'worker.js'),
    modulesRoot: outDir,
    modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-01-01',
    host: '127.0.0.1',
    port: 0,
    cf: false,
  });
  try {
    const url = await mf.ready;
    const res = await fetch(new URL(`/?request=${encodeURIComponent(REQUEST)}`, url), { method: 'POST', body: INPUT });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="acme.csv"');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(EXPECTED));
  } finally {
    await mf.dispose();
  }
});
