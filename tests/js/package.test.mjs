// Packaging: the `npm pack` tarball installed into throwaway consumers works in Node ESM, Node
// CJS, as a CLI through its bin, in workerd (miniflare) and in Chromium (playwright-core).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync, symlinkSync, copyFileSync, createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, extname, normalize } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name, file) => readFileSync(join(ROOT, 'tests/fixtures', name, file));
const SAMPLE_REQ = fixture('csv-sample', 'request.json').toString();
const SAMPLE_OUT = fixture('csv-sample', 'expected.csv');
let work;
let consumer;
let installed;
let tarFiles;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'userexport-pack-'));
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }));
  tarFiles = packed.files.map((f) => f.path);
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), '{"name":"consumer","private":true,"version":"1.0.0"}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(work, packed.filename)], { cwd: consumer, stdio: 'ignore' });
  installed = join(consumer, 'node_modules', 'userexport');
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds the wasm, every entry, the harness and the bin, and nothing else', () => {
  for (const f of ['pkg/userexport_bg.wasm', 'pkg/userexport.js', 'pkg/userexport.cjs', 'pkg/userexport-node.cjs', 'pkg/node.js', 'pkg/workerd.js', 'pkg/browser.js', 'pkg/inline.js', 'pkg/userexport_bg.wasm.base64.js', 'pkg/index.d.ts', 'pkg/node.d.ts', 'pkg/core.d.ts', 'pkg/userexport.d.cts', 'js/harness.js', 'js/harness.d.ts', 'bin/userexport.mjs', 'package.json']) {
    assert.ok(tarFiles.includes(f), `${f} missing from the tarball`);
  }
  assert.ok(tarFiles.some((f) => /^pkg\/snippets\/.+\/js\/door\.cjs$/.test(f)));
  assert.ok(!tarFiles.some((f) => f.startsWith('src/') || f.startsWith('tests/') || f.startsWith('target/')));
  assert.ok(statSync(join(installed, 'pkg/userexport_bg.wasm')).size > 50_000);
});

test('Node ESM consumer: import from "userexport"', () => {
  writeFileSync(join(consumer, 'esm.mjs'), `
import { Exporter, exportStream, fileName } from 'userexport';
import { readFileSync } from 'node:fs';
const input = readFileSync(process.argv[2]);
const out = Buffer.from(await new Response(exportStream(input, process.argv[3], { tenant: 'acme' })).arrayBuffer());
process.stdout.write(JSON.stringify({ out: out.toString('base64'), name: fileName('acme', 'csv'), cls: typeof Exporter }));
`);
  const r = JSON.parse(execFileSync(process.execPath, ['esm.mjs', join(ROOT, 'tests/fixtures/csv-sample/input.ndjson'), SAMPLE_REQ], { cwd: consumer }));
  assert.ok(Buffer.from(r.out, 'base64').equals(SAMPLE_OUT));
  assert.equal(r.name, 'acme.csv');
  assert.equal(r.cls, 'function');
});

test('Node ESM consumer of userexport/inline: the same bytes with no .wasm file read', () => {
  writeFileSync(join(consumer, 'inline.mjs'), `
import init, { exportStream } from 'userexport/inline';
import { readFileSync } from 'node:fs';
await init();
const out = Buffer.from(await new Response(exportStream(readFileSync(process.argv[2]), process.argv[3], { tenant: 'acme' })).arrayBuffer());
process.stdout.write(out.toString('base64'));
`);
  // The .wasm file is moved away: this entry must not need it.
  const wasm = join(installed, 'pkg/userexport_bg.wasm');
  const aside = `${wasm}.aside`;
  renameSync(wasm, aside);
  try {
    const out = execFileSync(process.execPath, ['inline.mjs', join(ROOT, 'tests/fixtures/csv-sample/input.ndjson'), SAMPLE_REQ], { cwd: consumer, encoding: 'utf8' });
    assert.ok(Buffer.from(out, 'base64').equals(SAMPLE_OUT));
  } finally {
    renameSync(aside, wasm);
  }
});

test('Node CJS consumer: require("userexport")', () => {
  writeFileSync(join(consumer, 'cjs.cjs'), `
const { Exporter, fileName, exportStream } = require('userexport');
const ex = new Exporter(process.argv[3], { tenant: 'acme' });
ex.pushNdjson(require('node:fs').readFileSync(process.argv[2]));
ex.finish();
const chunks = [];
for (let c = ex.pull(); c; c = ex.pull()) chunks.push(c);
let code;
try { new Exporter({ format: 'xml' }); } catch (e) { code = e.code + ' ' + e.statusCode; }
const bad = new Exporter({});
bad.pushUsers([{ user_id: NaN }]);
try { bad.pull(); } catch (e) { code += ' ' + e.code + ' ' + e.index; }
(async () => {
  // The streaming harness through require(), gzip input included.
  const gz = require('node:zlib').gzipSync(require('node:fs').readFileSync(process.argv[2]));
  const streamed = [];
  for await (const c of exportStream(gz, process.argv[3], { tenant: 'acme' })) streamed.push(c);
  process.stdout.write(JSON.stringify({ out: Buffer.concat(chunks).toString('base64'), streamed: Buffer.concat(streamed).toString('base64'), name: ex.fileName(true), code, done: ex.done }));
})();
`);
  const r = JSON.parse(execFileSync(process.execPath, ['cjs.cjs', join(ROOT, 'tests/fixtures/csv-sample/input.ndjson'), SAMPLE_REQ], { cwd: consumer }));
  assert.ok(Buffer.from(r.out, 'base64').equals(SAMPLE_OUT));
  assert.ok(Buffer.from(r.streamed, 'base64').equals(SAMPLE_OUT));
  assert.equal(r.name, 'acme.csv.gz');
  assert.equal(r.code, 'invalid_request 400 unsupported_value 0');
  assert.equal(r.done, true);
});

test('the CLI through the package bin', () => {
  const bin = join(consumer, 'node_modules', '.bin', 'userexport');
  const r = spawnSync(bin, [join(ROOT, 'tests/fixtures/csv-sample/input.ndjson'), '--request', SAMPLE_REQ, '--tenant', 'acme', '--gzip', '--quiet'], { cwd: consumer });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.ok(gunzipSync(readFileSync(join(consumer, 'acme.csv.gz'))).equals(SAMPLE_OUT));
  const bad = spawnSync(bin, ['--format', 'xml'], { cwd: consumer, input: '' });
  assert.equal(bad.status, 2);
});

test('a Worker in workerd (miniflare) streams an export Response, byte for byte', async () => {
  const pkgJson = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  assert.equal(pkgJson.exports['.'].workerd.default, './pkg/workerd.js', 'bundlers for Workers resolve this file');
  writeFileSync(join(consumer, 'worker.js'), `
import { exportStream, exportToBlob, fileName } from './node_modules/userexport/pkg/workerd.js';
export default {
  async fetch(req) {
    const url = new URL(req.url);
    const gzip = url.searchParams.has('gzip');
    if (url.searchParams.has('objects')) {
      // JS objects through pushUsers (Workers forbid new Function: the interpreted picker), and
      // the download as a File built by web-sys from the pulled chunks.
      const users = (await req.text()).split('\\n').filter(Boolean).map((l) => JSON.parse(l));
      const { file } = await exportToBlob(users, url.searchParams.get('request'), { tenant: 'acme', gzip });
      return new Response(file, { headers: { 'content-type': file.type, 'x-file-name': file.name, 'x-is-file': String(file instanceof File) } });
    }
    try {
      const body = exportStream(req.body, url.searchParams.get('request'), { tenant: 'acme', gzip });
      const name = fileName('acme', 'csv', { gzip });
      return new Response(body, { headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="' + name + '"' } });
    } catch (e) {
      return new Response(e.code + ': ' + e.message, { status: 400 });
    }
  },
};
`);
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(consumer, 'worker.js'),
    modulesRoot: consumer,
    modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-01-01',
    host: '127.0.0.1',
    port: 0,
    cf: false,
  });
  try {
    const url = await mf.ready;
    const input = fixture('csv-sample', 'input.ndjson');
    for (const gzip of [false, true]) {
      const res = await fetch(new URL(`/?request=${encodeURIComponent(SAMPLE_REQ)}${gzip ? '&gzip' : ''}`, url), { method: 'POST', body: input });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-disposition'), `attachment; filename="acme.csv${gzip ? '.gz' : ''}"`);
      const chunks = [];
      for await (const c of res.body) chunks.push(c);
      const body = Buffer.concat(chunks);
      assert.ok((gzip ? gunzipSync(body) : body).equals(SAMPLE_OUT), `worker output differs (gzip ${gzip})`);
      const viaObjects = await fetch(new URL(`/?objects&request=${encodeURIComponent(SAMPLE_REQ)}${gzip ? '&gzip' : ''}`, url), { method: 'POST', body: input });
      assert.equal(viaObjects.headers.get('x-file-name'), `acme.csv${gzip ? '.gz' : ''}`);
      assert.equal(viaObjects.headers.get('x-is-file'), 'true');
      assert.equal(viaObjects.headers.get('content-type'), gzip ? 'application/gzip' : 'text/csv;charset=utf-8');
      const file = Buffer.from(await viaObjects.arrayBuffer());
      assert.ok((gzip ? gunzipSync(file) : file).equals(SAMPLE_OUT), `pushUsers + File in workerd differs (gzip ${gzip})`);
    }
  } finally {
    await mf.dispose();
  }
});

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.ndjson': 'application/x-ndjson' };

test('Chromium loads the browser build and downloads acme.csv', async () => {
  // Serve the installed package's pkg/ and js/ beside the demo page, as a site would.
  const site = join(work, 'site');
  mkdirSync(join(site, 'www'), { recursive: true });
  symlinkSync(join(installed, 'pkg'), join(site, 'pkg'));
  symlinkSync(join(installed, 'js'), join(site, 'js'));
  copyFileSync(join(ROOT, 'www/demo.html'), join(site, 'www/demo.html'));
  const server = createServer((req, res) => {
    const path = normalize(join(site, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!path.startsWith(site)) return res.writeHead(403).end();
    try {
      statSync(path);
    } catch {
      return res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const profile = mkdtempSync(join(tmpdir(), 'userexport-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/www/demo.html`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
    const [d1] = await Promise.all([page.waitForEvent('download'), page.click('#go')]);
    assert.equal(d1.suggestedFilename(), 'acme.csv');
    assert.equal(readFileSync(await d1.path(), 'utf8'), 'email,name\n"\'ada@example.com","\'Ada Lovelace"\n"\'=cmd@example.com","\'Smith, ""Jr."""\n');
    // A real file through the page: the fixture's NDJSON, the fixture's request.
    await page.setInputFiles('#file', join(ROOT, 'tests/fixtures/csv-sample/input.ndjson'));
    await page.fill('#request', SAMPLE_REQ.replace(/\s+/g, ' '));
    await page.fill('#tenant', 'dev-2');
    const [d2] = await Promise.all([page.waitForEvent('download'), page.click('#go')]);
    assert.equal(d2.suggestedFilename(), 'dev-2.csv');
    assert.ok(readFileSync(await d2.path()).equals(SAMPLE_OUT));
    await page.fill('#tenant', 'Bad/Name');
    await page.click('#go');
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('invalid_tenant'));
    assert.deepEqual(pageErrors, []);
  } finally {
    await ctx.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
