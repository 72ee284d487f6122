// The README's JavaScript blocks, run as they stand against the package, on the README's own users.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Exporter } from 'userexport';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${ROOT}README.md`, 'utf8');
const blocks = (info) => [...readme.matchAll(new RegExp('```' + info + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
const [requestText] = blocks('json request');
const [ndjson] = blocks('ndjson input');
const [csvOutput] = blocks('csv output');
const js = blocks('js');

/** What the Exporter writes for `request` on the README's users, as NDJSON bytes or (`objects`)
 *  parsed, where numbers are what JSON.stringify writes (12.0 becomes 12). */
function expected(request, objects = false) {
  const ex = new Exporter(request, {});
  if (objects) ex.pushUsers(ndjson.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  else ex.pushNdjson(ndjson);
  ex.finish();
  const parts = [];
  for (let c = ex.pull(); c; c = ex.pull()) parts.push(c);
  return Buffer.concat(parts);
}

/** Runs `code` as an ES module inside the package (so `import 'userexport'` resolves to it). */
async function runModule(name, code) {
  const dir = `${ROOT}target/readme-js`;
  mkdirSync(dir, { recursive: true });
  const path = `${dir}/${name}.mjs`;
  writeFileSync(path, code);
  return import(`${path}?${Date.now()}`);
}

test('the README has the JavaScript blocks this test runs', () => {
  assert.equal(js.length, 2);
  assert.match(js[0], /exportStream\(/);
  assert.match(js[1], /new Exporter\(/);
});

test('README: exportStream and exportToBlob', async () => {
  const m = await runModule(
    'stream-and-blob',
    `const file = new Blob([${JSON.stringify(ndjson)}]);
const users = ${JSON.stringify(ndjson)}.split('\\n').filter(Boolean).map((l) => JSON.parse(l));
${js[0]}
const streamed = [];
for await (const c of out) streamed.push(c);
export const result = { streamed: Buffer.concat(streamed), blob: Buffer.from(await blob.arrayBuffer()), name };
`,
  );
  assert.deepEqual(gunzipSync(m.result.streamed), expected({ format: 'csv', fields: [{ name: 'email' }] }));
  assert.deepEqual(gunzipSync(m.result.blob), expected({ format: 'csv' }, true));
  assert.equal(m.result.name, 'acme.csv.gz');
});

test('README: the low-level Exporter loop writes the README output', async () => {
  const m = await runModule(
    'exporter',
    `import { Exporter } from 'userexport';
const request = ${requestText.trim()};
const [tenant, connection, lenient, chunkSize, maxRecordBytes] = ['acme', undefined, false, 7, 1024];
const chunk = new TextEncoder().encode(${JSON.stringify(ndjson)});
const parts = [];
const write = (c) => parts.push(Buffer.from(c));
${js[1]}
export const result = Buffer.concat(parts).toString('utf8');
`,
  );
  assert.equal(m.result, csvOutput);
});
