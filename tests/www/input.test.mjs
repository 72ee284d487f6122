// The page's "Input format" (Auto, NDJSON, JSON) in real Chromium: the core tells NDJSON from JSON
// text, so a file whose first line is bad is NDJSON (strict names line 1, lenient skips it), a
// bad JSON text fails naming line and column, and the download is the core's File (name, type).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openPage, configure, exportUsers, download, cli, fixtures } from './helpers.mjs';

let p;
let tmp;
before(async () => {
  p = await openPage();
  tmp = mkdtempSync(join(tmpdir(), 'userexport-www-input-'));
});
after(async () => {
  await p?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const users = Array.from({ length: 30 }, (_, i) => ({ user_id: `auth0|${i + 1}`, email: `u${i + 1}@example.com` }));
const fields = [{ name: 'user_id' }, { name: 'email' }];

async function run(input, config) {
  await p.reload();
  await p.page.getByLabel('Users file').setInputFiles(input);
  await configure(p.page, config);
  return exportUsers(p.page);
}

async function moreInfo(row) {
  await row.getByRole('button', { name: 'More info' }).click();
  const dialog = p.page.getByRole('dialog');
  const rows = await dialog.locator('table.skipped tbody tr').allTextContents();
  const readAs = await dialog.locator('dt', { hasText: 'Read as' }).locator('xpath=following-sibling::dd[1]').textContent();
  await p.page.getByRole('button', { name: 'Close' }).click();
  return { rows, readAs };
}

test('Auto: 30 users whose first line is truncated are NDJSON: strict fails naming line 1, Skip bad records writes 29', async () => {
  const file = join(tmp, 'first-bad.ndjson');
  writeFileSync(file, ['{"user_id":"x",', ...users.slice(1).map((u) => JSON.stringify(u))].join('\n') + '\n');
  const strict = await run(file, { format: 'csv', fields });
  assert.equal(strict.status, 'failed');
  assert.match(await strict.row.locator('.details').textContent(), /^line 1: /);
  assert.equal(await strict.row.getByRole('button', { name: 'Download export' }).isDisabled(), true);

  const lenient = await run(file, { format: 'csv', fields, lenient: true });
  assert.equal(lenient.status, 'completed');
  assert.match(await lenient.row.locator('.users').textContent(), /^29 written, 1 skipped/);
  const got = await download(p.page, lenient.row);
  assert.ok(got.bytes.equals(cli(file, { format: 'csv', fields }, { lenient: true })));
  assert.equal(got.bytes.toString().trim().split('\n').length, 30, 'a header and 29 rows');
  const info = await moreInfo(lenient.row);
  assert.equal(info.rows.length, 1);
  assert.match(info.rows[0], /^line 1/);
  assert.match(info.readAs, /^NDJSON/);
  assert.deepEqual(p.problems, []);
});

test('Auto: a first line [1,2] makes the file a JSON text, which fails naming line and column (lenient too)', async () => {
  const file = join(tmp, 'array-then-lines.ndjson');
  writeFileSync(file, ['[1,2]', ...users.map((u) => JSON.stringify(u))].join('\n') + '\n');
  for (const lenient of [false, true]) {
    const job = await run(file, { format: 'csv', fields, lenient });
    assert.equal(job.status, 'failed', `lenient ${lenient}: a misread file is never a completed export`);
    assert.match(await job.row.locator('.details').textContent(), /^line 2, column 1: the input is not one valid JSON text/);
  }
});

test('A pretty-printed JSON array: Auto and JSON read it whole; NDJSON fails at line 1', async () => {
  const dir = join(fixtures, 'ndjson-defaults-auth0-profiles');
  const lines = readFileSync(join(dir, 'input.ndjson'), 'utf8').split('\n').filter((l) => l.trim());
  const array = join(tmp, 'pretty.json');
  writeFileSync(array, JSON.stringify(lines.map((l) => JSON.parse(l)), null, 2) + '\n');
  const expected = readFileSync(join(dir, 'expected.json'));
  for (const input of ['Auto', 'JSON']) {
    const job = await run(array, { format: 'json', input });
    assert.equal(job.status, 'completed', `${input}: ${await job.row.textContent()}`);
    const got = await download(p.page, job.row);
    assert.ok(got.bytes.equals(expected), `${input}: differs from expected.json`);
    assert.equal((await moreInfo(job.row)).readAs, 'JSON text');
  }
  const ndjson = await run(array, { format: 'json', input: 'NDJSON' });
  assert.equal(ndjson.status, 'failed');
  assert.match(await ndjson.row.locator('.details').textContent(), /^line 1: /);
  assert.deepEqual(p.problems, []);
});

test('The download is the core\'s File: named after the tenant, with the export\'s MIME type', async () => {
  const dir = join(fixtures, 'csv-sample');
  const input = join(dir, 'input.ndjson');
  const plainCsv = readFileSync(join(dir, 'expected.csv'));
  for (const [config, name, type] of [
    [{ tenant: 'acme', format: 'csv', fields: JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8')).fields }, 'acme.csv', 'text/csv;charset=utf-8'],
    [{ tenant: 'dev-eu_2', format: 'json' }, 'dev-eu_2.json', 'application/x-ndjson'],
    [{ tenant: 'acme', format: 'csv', fields: JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8')).fields, gzip: true }, 'acme.csv.gz', 'application/gzip'],
  ]) {
    const job = await run(input, config);
    assert.equal(job.status, 'completed');
    const got = await download(p.page, job.row);
    assert.equal(got.name, name);
    assert.equal(got.type, type);
    if (config.gzip) assert.ok(gunzipSync(got.bytes).equals(plainCsv));
  }
  assert.deepEqual(p.problems, []);
});
