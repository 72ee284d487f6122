// The page's static server as `npm start` runs it: prints its URL, serves the page and the
// package files with the right types and the CSP, and nothing else of the repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root } from './helpers.mjs';
import { CSP } from '../../www/serve.mjs';

function serve(args, env = {}) {
  const child = spawn(process.execPath, [join(root, 'www', 'serve.mjs'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/www\/)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve.mjs exited with ${code}`)));
  });
  return { child, url };
}

test('node www/serve.mjs prints its URL and serves the page, the wasm and nothing else', async () => {
  const { child, url } = serve(['--port', '0']);
  try {
    const page = await url;
    const html = await fetch(page);
    assert.equal(html.status, 200);
    assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(html.headers.get('content-security-policy'), CSP);
    assert.match(await html.text(), /<h1>Export users<\/h1>/);
    const origin = new URL(page).origin;
    const wasm = await fetch(`${origin}/pkg/userexport_bg.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.deepEqual([...new Uint8Array(await wasm.arrayBuffer()).subarray(0, 4)], [0, 0x61, 0x73, 0x6d]);
    assert.equal((await fetch(`${origin}/js/harness.js`)).status, 200);
    const root = await fetch(`${origin}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/www/');
    for (const path of ['/Cargo.toml', '/www/../Cargo.toml', '/www/..%2fCargo.toml', '/src/lib.rs', '/tests/www/helpers.mjs', '/www/nope.js']) {
      const res = await fetch(`${origin}${path}`);
      assert.equal(res.status, 404, path);
      await res.arrayBuffer();
    }
    assert.equal((await fetch(page, { method: 'POST' })).status, 405);
  } finally {
    child.kill();
  }
});

test('PORT chooses the port; a bad --port is refused with usage', async () => {
  const probe = serve([]);
  const port = new URL(await probe.url).port;
  probe.child.kill();
  await new Promise((r) => probe.child.once('exit', r));
  const { child, url } = serve([], { PORT: port });
  try {
    assert.equal(new URL(await url).port, port);
  } finally {
    child.kill();
  }
  const bad = spawn(process.execPath, [join(root, 'www', 'serve.mjs'), '--port', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  bad.stderr.on('data', (d) => (err += d));
  const code = await new Promise((r) => bad.once('exit', r));
  assert.equal(code, 2);
  assert.match(err, /usage: node www\/serve\.mjs/);
});
