// For re-import (the forImport option): the golden cases of tests/import/cases.json through the
// wasm build (NDJSON split at every byte, JSON text, JS objects), the 500,000-byte limit, the
// harness's exportForImport and the CLI's --for-import; ajv checks every file produced against
// the project's reading of Auth0's import schema (tests/import/auth0-import.schema.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { Exporter, describeExport, exportFile, exportForImport } from 'userexport';

const BIN = fileURLToPath(new URL('../../bin/userexport.mjs', import.meta.url));
const cli = (args, cwd, input) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, input, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
};

const cases = JSON.parse(readFileSync(new URL('../import/cases.json', import.meta.url), 'utf8'));
const schema = JSON.parse(readFileSync(new URL('../import/auth0-import.schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);
const MAX = 500_000;
const decoder = new TextDecoder('utf-8', { fatal: true });
let filesChecked = 0;

/** Every import file a test makes passes here: at most 500,000 bytes, a JSON array the schema takes. */
function checkFile(bytes, name) {
  assert.ok(bytes.length <= MAX, `${name} is ${bytes.length} bytes`);
  const users = JSON.parse(decoder.decode(bytes));
  assert.ok(validate(users), `${name}: ${ajv.errorsText(validate.errors)}`);
  filesChecked++;
  return users;
}

const optionsOf = (c) => ({ forImport: true, tenant: 'acme', ...(c.options ?? {}) });
const requestOf = (c) => c.request ?? {};

/** Runs `push` then pulls with pullImport, checking that chunks never cross a file. */
function run(c, push, chunkSize) {
  const ex = new Exporter(requestOf(c), { ...optionsOf(c), ...(chunkSize ? { chunkSize } : {}) });
  const files = [];
  let open = null;
  const drain = () => {
    for (let k = ex.pullImport(); k; k = ex.pullImport()) {
      if (!open) {
        assert.equal(k.file, files.length + 1);
        assert.equal(k.fileName, `acme.import.${String(k.file).padStart(3, '0')}.json`);
        open = [];
      } else {
        assert.equal(k.file, files.length + 1, 'the open file goes on');
      }
      open.push(Buffer.from(k.bytes));
      if (k.endsFile) {
        files.push(Buffer.concat(open));
        open = null;
      }
    }
  };
  push(ex, drain);
  ex.finish();
  drain();
  assert.equal(ex.done, true);
  assert.equal(open, null, 'the last file ended');
  assert.deepEqual(ex.importFiles.map((f) => f.bytes), files.map((f) => f.length));
  const left = ex.unimportable;
  ex.free();
  for (const [i, f] of files.entries()) checkFile(f, `${c.name} file ${i + 1}`);
  return { files: files.map((f) => f.toString('utf8')), left };
}

const lineCases = (left) => left.map((u) => ({ line: u.line, user_id: u.userId, reason: u.reason }));
const expectedLeft = (c) => c.unimportable.map((u) => ({ line: u.line, user_id: u.user_id, reason: u.reason }));

test('golden cases: NDJSON split at every byte gives the expected files and list', () => {
  for (const c of cases) {
    const input = Buffer.from(c.input);
    for (let i = 0; i <= input.length; i++) {
      const { files, left } = run(c, (ex, drain) => {
        ex.pushNdjson(input.subarray(0, i));
        drain();
        ex.pushNdjson(input.subarray(i));
        drain();
      }, 1 + (i % 97));
      assert.deepEqual(files, c.files, `${c.name}, split at ${i}`);
      assert.deepEqual(lineCases(left), expectedLeft(c), `${c.name}, split at ${i}`);
    }
  }
});

test('golden cases: JS objects and a JSON text give the same files, users located by index', () => {
  for (const c of cases) {
    const lines = c.input.split('\n').filter(Boolean);
    const byIndex = c.unimportable.map((u) => ({ index: u.line - 1, user_id: u.user_id, reason: u.reason }));
    const indexed = (left) => left.map((u) => ({ index: u.index, user_id: u.userId, reason: u.reason }));
    const objects = run(c, (ex) => ex.pushUsers(lines.map((l) => JSON.parse(l))));
    assert.deepEqual(objects.files, c.files, c.name);
    assert.deepEqual(indexed(objects.left), byIndex, c.name);
    const text = run(c, (ex) => ex.pushJson(`[${lines.join(',\n')}]`));
    assert.deepEqual(text.files, c.files, c.name);
    assert.deepEqual(indexed(text.left), byIndex, c.name);
  }
});

/** An NDJSON line of a database user whose import object is exactly `len` bytes. */
function userOf(len, id) {
  const object = (local) => `{"user_id":"${id}","email":"${local}@example.com"}`;
  const local = 'a'.repeat(len - object('').length);
  assert.equal(object(local).length, len);
  return `{"user_id":"auth0|${id}","email":"${local}@example.com","identities":[{"connection":"db","provider":"auth0"}]}\n`;
}
const one = (input) => run({ name: 'size' }, (ex, drain) => {
  ex.pushNdjson(input);
  drain();
});

test('the 500,000-byte limit to the byte: a file exactly at it, a user one byte over is listed', () => {
  const exact = one(userOf(MAX - 5, 'u1'));
  assert.equal(exact.files.length, 1);
  assert.equal(Buffer.byteLength(exact.files[0]), MAX);
  const over = one(userOf(MAX - 4, 'u2'));
  assert.deepEqual(over.files, []);
  assert.deepEqual(lineCases(over.left), [{ line: 1, user_id: 'auth0|u2', reason: 'too_large' }]);
  // Two users: exactly 500,000 bytes together share a file; one byte more and the second moves on.
  const second = MAX - 2 - 300_000 - 2 - 3;
  const shared = one(userOf(300_000, 'a') + userOf(second, 'b'));
  assert.deepEqual(shared.files.map((f) => Buffer.byteLength(f)), [MAX]);
  const split = one(userOf(300_000, 'a') + userOf(second + 1, 'b'));
  assert.deepEqual(split.files.map((f) => Buffer.byteLength(f)), [300_000 + 5, second + 1 + 5]);
});

test('many users fill numbered files in input order, each valid and within the limit', () => {
  let input = '';
  for (let i = 0; i < 12_000; i++) input += userOf(100, String(i).padStart(6, '0'));
  const { files, left } = one(input);
  assert.deepEqual(left, []);
  const users = files.map((f) => JSON.parse(f));
  assert.deepEqual(users.map((u) => u.length), [4901, 4901, 2198]);
  assert.deepEqual(users.flat().map((u) => u.user_id), Array.from({ length: 12_000 }, (_, i) => String(i).padStart(6, '0')));
});

test('the schema is not vacuous: ajv refuses what Auth0 refuses', () => {
  const ok = { user_id: '1', email: 'a@example.com' };
  assert.equal(validate([ok]), true);
  for (const bad of [
    [],
    [{ user_id: '1' }],
    [{ ...ok, created_at: '2024-01-01T00:00:00.000Z' }],
    [{ ...ok, email: 'not-an-email' }],
    [{ ...ok, email_verified: 'true' }],
    [{ ...ok, app_metadata: { user_id: 'x' } }],
    [{ ...ok, user_metadata: [] }],
    ok,
  ]) {
    assert.equal(validate(bad), false, JSON.stringify(bad));
  }
});

test('options an import cannot take are refused when the Exporter is made', () => {
  const refused = (request, options, word) =>
    assert.throws(() => new Exporter(request, { forImport: true, ...options }), (e) => e.code === 'invalid_request' && e.message.includes(word));
  refused({ fields: [{ name: 'email' }] }, {}, 'fields');
  refused({ format: 'csv' }, {}, 'csv');
  refused({}, { gzip: true }, 'gzip');
  refused({}, { manifest: true }, 'manifest');
  assert.throws(() => new Exporter({}, { forimport: true }), (e) => e.code === 'invalid_argument' && e.message.includes('"forImport"'));
  assert.throws(() => new Exporter({}, {}).pullImport(), (e) => e.code === 'invalid_state');
});

test('an import Exporter describes, names and makes its one zip as describeExport and exportFile do', async () => {
  const request = { format: 'json' };
  const options = { forImport: true, tenant: 'acme' };
  const ex = new Exporter(request, options);
  const want = describeExport(request, options);
  assert.deepEqual(want, { format: 'json', fileName: 'acme.import.zip', mimeType: 'application/zip', columns: want.columns, gzip: false });
  assert.equal(want.columns[0], 'user_id');
  assert.deepEqual(ex.describe(), want);
  assert.equal(ex.fileName(), 'acme.import.zip');
  const bytes = new Uint8Array([0x50, 0x4b, 5, 6]);
  for (const file of [ex.toFile([bytes]), exportFile([bytes], request, options)]) {
    assert.equal(file.name, 'acme.import.zip');
    assert.equal(file.type, 'application/zip');
    assert.deepEqual(new Uint8Array(await file.arrayBuffer()), bytes);
  }
  ex.free();
});

test('exportForImport: Files named after the tenant, and the list of users left out', async () => {
  const c = cases[1];
  const result = await exportForImport(c.input, {}, { tenant: 'acme' });
  assert.deepEqual(result.files.map((f) => f.name), ['acme.import.001.json']);
  assert.equal(result.files[0].type, 'application/json');
  assert.deepEqual(checkFile(Buffer.from(await result.files[0].arrayBuffer()), 'harness'), JSON.parse(c.files[0]));
  assert.equal(result.unimportableFile.name, 'acme.import.unimportable.json');
  const listed = JSON.parse(await result.unimportableFile.text());
  assert.deepEqual(listed.map((u) => [u.line, u.user_id, u.reason]), c.unimportable.map((u) => [u.line, u.user_id, u.reason]));
  assert.ok(listed.every((u) => typeof u.message === 'string' && u.message.length > 0));
  assert.equal(result.stats.usersWritten, 1);
  // Users as JS objects, through the same call.
  const objects = await exportForImport(c.input.split('\n').filter(Boolean).map((l) => JSON.parse(l)), {}, { tenant: 'acme' });
  assert.equal(await objects.files[0].text(), c.files[0]);
});

test('CLI --for-import: numbered files and the list in a folder, refusals, nothing left on failure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'userexport-import-'));
  try {
    let input = cases[1].input;
    for (let i = 0; i < 6000; i++) input += userOf(100, `c${i}`);
    writeFileSync(join(dir, 'users.ndjson'), input);
    const r = cli(['users.ndjson', '--for-import', '--tenant', 'acme', '--out', 'out'], dir);
    assert.equal(r.code, 0, r.stderr);
    const names = readdirSync(join(dir, 'out')).sort();
    assert.deepEqual(names, ['acme.import.001.json', 'acme.import.002.json', 'acme.import.unimportable.json']);
    const users = names.slice(0, 2).flatMap((n) => checkFile(readFileSync(join(dir, 'out', n)), n));
    assert.equal(users.length, 6001);
    assert.deepEqual(users[0], JSON.parse(cases[1].files[0])[0]);
    const listed = JSON.parse(readFileSync(join(dir, 'out', names[2]), 'utf8'));
    assert.deepEqual(listed.map((u) => u.line), [1, 3, 4]);
    assert.match(r.stderr, /wrote 6001 users to 2 import files in out/);
    assert.match(r.stderr, /3 users cannot be imported/);

    // A second run into the same folder would mix two sets: refused, nothing touched.
    const again = cli(['users.ndjson', '--for-import', '--tenant', 'acme', '--out', 'out'], dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already holds import files/);

    for (const [args, word] of [
      [['--gzip'], 'gzip'],
      [['--format', 'csv'], 'csv'],
      [['--field', 'email'], 'fields'],
      [['--manifest'], 'manifest'],
      [['--out', '-'], 'folder'],
    ]) {
      const bad = cli(['users.ndjson', '--for-import', '--tenant', 'x', ...args], dir);
      assert.equal(bad.code, 2, `${args}: ${bad.stderr}`);
      assert.ok(bad.stderr.includes(word), `${args}: ${bad.stderr}`);
      assert.equal(existsSync(join(dir, 'x.import.001.json')), false);
    }

    // A bad record fails a strict export: no import file and no list are left behind.
    writeFileSync(join(dir, 'bad.ndjson'), `${input}{bad\n`);
    const failed = cli(['bad.ndjson', '--for-import', '--tenant', 'bad', '--out', 'failed'], dir);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /line 6005/);
    assert.deepEqual(readdirSync(join(dir, 'failed')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every file made above was checked by ajv', () => {
  assert.ok(filesChecked > 1000, `${filesChecked} files`);
});
