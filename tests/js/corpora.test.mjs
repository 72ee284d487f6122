// The external corpora through the JS-object path (pushUsers), read back by papaparse and JSON.parse:
// the reference value is what JSON.parse made of the corpus text; the encoder may change nothing more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Papa from 'papaparse';
import { Exporter } from 'userexport';

const corpora = fileURLToPath(new URL('../../../shared/corpora/', import.meta.url));
const present = existsSync(corpora);
// A developer without the corpora gets skips; CI (CI=true) must have them, so there it is a failure.
const ci = process.env.CI === 'true';
if (!present && !ci) console.log(`SKIPPED: corpora not found at ${corpora}`);

test('the corpora are present (required under CI=true)', { skip: !present && !ci }, () => {
  assert.ok(present, `corpora not found at ${corpora}: CI runs with them beside the checkout`);
});
const read = (p) => readFileSync(corpora + p);

/** Exports `users` (objects) strictly; returns the output text. */
function exportUsers(request, users) {
  const ex = new Exporter(request);
  const chunks = [];
  ex.pushUsers(users);
  ex.finish();
  while (!ex.done) {
    const c = ex.pull();
    if (c) chunks.push(c);
  }
  ex.free();
  return Buffer.concat(chunks).toString('utf8');
}

/** papaparse, told the line end, with every row checked to have the header's width. */
function csvRows(text) {
  const { data, errors } = Papa.parse(text.slice(0, -1), { newline: '\n', delimiter: ',', header: false });
  assert.deepEqual(errors, []);
  for (const row of data) assert.equal(row.length, data[0].length, 'constant column count');
  return data;
}

/** The CSV text form of a value: `'` + the string, the number's JSON text bare, `'` + compact JSON. */
const cell = (v) => (v === null ? '' : typeof v === 'string' ? `'${v}` : typeof v === 'object' ? `'${JSON.stringify(v)}` : JSON.stringify(v));

const FIELDS = { fields: [{ name: 'user_id' }, { name: 'v' }] };

test('JSONTestSuite y_ files as field values: NDJSON re-parses to JSON.parse\'s value, CSV reads back as its text form', { skip: !present }, () => {
  const dir = 'jsontestsuite/test_parsing/';
  const files = readdirSync(corpora + dir).filter((f) => f.startsWith('y_'));
  assert.ok(files.length >= 95);
  for (const f of files) {
    const value = JSON.parse(read(dir + f).toString('utf8'));
    const user = { user_id: `jsts|${f}`, v: value };
    const line = exportUsers({ format: 'json', ...FIELDS }, [user]);
    assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), f);
    assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(user)), f); // -0 is 0, as JSON.stringify writes it
    assert.equal(line, `${JSON.stringify(user)}\n`, `${f}: the bytes JSON.stringify writes`);
    const rows = csvRows(exportUsers({ format: 'csv', ...FIELDS }, [user]));
    assert.deepEqual(rows[1], [`'jsts|${f}`, cell(value)], f);
  }
});

test('JSONTestSuite i_ files that JSON.parse turns into lone surrogates are errors, never U+FFFD', { skip: !present }, () => {
  const dir = 'jsontestsuite/test_parsing/';
  let lone = 0;
  for (const f of readdirSync(corpora + dir).filter((f) => f.startsWith('i_'))) {
    let value;
    try {
      value = JSON.parse(read(dir + f).toString('utf8'));
    } catch {
      continue; // JS itself refuses it: nothing reaches the encoder
    }
    const strings = JSON.stringify(value);
    const hasLone = /\\ud[89a-f][0-9a-f]{2}/i.test(strings);
    const ex = new Exporter({ format: 'json', ...FIELDS });
    ex.pushUsers([{ user_id: 'a', v: value }]);
    ex.finish();
    let error;
    try {
      while (!ex.done) ex.pull();
    } catch (e) {
      error = e;
    }
    ex.free();
    if (hasLone) {
      lone++;
      assert.equal(error?.code, 'lone_surrogate', f);
      assert.equal(error.index, 0, f);
    } else if (error) {
      // ±Infinity from a huge number, or nesting past the depth limit.
      assert.ok(['unsupported_value', 'too_deep'].includes(error.code), `${f}: ${error.message}`);
    }
  }
  assert.ok(lone >= 5, `lone-surrogate files seen: ${lone}`);
});

test('BLNS and CSV-injection payloads as every string, nested value, metadata key and user_id', { skip: !present }, () => {
  const strings = [...JSON.parse(read('blns/blns.json')), ...JSON.parse(read('csv-injection/all_payloads.json'))];
  const users = strings.map((s, i) => ({
    user_id: s,
    name: s,
    email: `${i}@example.com`,
    identities: [{ connection: s }],
    user_metadata: { note: s, [s]: i },
  }));
  const request = {
    format: 'csv',
    fields: [{ name: 'user_id' }, { name: 'name' }, { name: 'identities[0].connection', export_as: 'Connection' }, { name: 'user_metadata.note' }],
  };
  const rows = csvRows(exportUsers(request, users));
  assert.equal(rows.length, users.length + 1);
  rows.slice(1).forEach((row, i) => assert.deepEqual(row, Array(4).fill(`'${strings[i]}`), JSON.stringify(strings[i])));
  for (const row of rows) for (const c of row) assert.ok(!/^[=+\-@\t\r\n\0]/.test(c), `cell ${JSON.stringify(c)} could run as a formula`);
  // Each string as a metadata key selected by path and as a column name.
  for (const [i, s] of strings.entries()) {
    if (s === '' || s.includes('.') || s.includes('[') || [...s].length > 95) continue; // not a path segment
    const column = `k ${s}`; // starts with "k": escaped only for what it holds
    const req = { format: 'csv', fields: [{ name: `user_metadata.${s}`, export_as: column }] };
    const header = /[,"\r\n]/.test(column) ? `'${column}` : column;
    assert.deepEqual(csvRows(exportUsers(req, [users[i]])), [[header], [String(i)]], JSON.stringify(s));
  }
  // NDJSON keeps every string exactly.
  const nd = exportUsers({ format: 'json', fields: [{ name: 'user_id' }, { name: 'user_metadata' }] }, users);
  nd.split('\n').slice(0, -1).forEach((line, i) => assert.deepEqual(JSON.parse(line), { user_id: strings[i], user_metadata: users[i].user_metadata }));
});

test('csv-spectrum rows turned into users come back byte for byte, empty string distinct from missing', { skip: !present }, () => {
  const dir = 'csv-spectrum/json/';
  for (const f of readdirSync(corpora + dir)) {
    const rows = JSON.parse(read(dir + f));
    if (!Array.isArray(rows)) continue; // location_coordinates.json is an object upstream
    const columns = Object.keys(rows[0]);
    const users = rows.map((r, n) => ({ user_id: `spectrum|${f}|${n}`, ...r }));
    const request = { format: 'csv', fields: [{ name: 'user_id' }, { name: 'missing' }, ...columns.map((c) => ({ name: c.replace(/\./g, '_') || 'x' }))] };
    if (columns.some((c) => c === '' || /[.[\]]/.test(c))) continue;
    const out = csvRows(exportUsers(request, users));
    out.slice(1).forEach((row, n) => {
      assert.equal(row[1], '', 'a missing field is an empty cell');
      columns.forEach((c, k) => assert.equal(row[k + 2], `'${rows[n][c]}`, `${f} row ${n} ${c}`));
    });
  }
});

test('Auth0 sample profiles: all accepted as objects, types and |, %2F, $, + untouched', { skip: !present }, () => {
  const users = read('auth0-profiles/all-profiles.ndjson').toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(users.length, 19);
  const keys = [...new Set(users.flatMap((u) => Object.keys(u)))];
  const out = exportUsers({ format: 'json', fields: keys.map((name) => ({ name })) }, users);
  const lines = out.split('\n').slice(0, -1);
  assert.equal(lines.length, 19);
  lines.forEach((line, i) => assert.deepEqual(JSON.parse(line), users[i]));
  assert.equal(out, users.map((u) => `${JSON.stringify(Object.fromEntries(keys.filter((k) => k in u).map((k) => [k, u[k]])))}\n`).join(''));
});
