// The export page's output in real Chromium: every download's name, and its bytes equal to the
// shared fixtures' expected files and to the CLI's output for the same input and request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { openPage, configure, exportUsers, download, cli, fixtures, readJson, root, PRESET } from './helpers.mjs';

let p;
let tmp;
before(async () => {
  p = await openPage();
  tmp = mkdtempSync(join(tmpdir(), 'userexport-www-in-'));
});
after(async () => {
  await p?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function run(input, config) {
  await p.reload(); // a clean form: fields added by an earlier test are gone (the jobs stay)
  await p.page.getByLabel('Users file').setInputFiles(input);
  await configure(p.page, config);
  const job = await exportUsers(p.page);
  assert.equal(job.status, 'completed', await job.row.textContent());
  return { ...job, ...(await download(p.page, job.row)) };
}

test('CSV: a fixture exported through the page equals the expected bytes and the CLI', async () => {
  for (const name of ['csv-escaping', 'csv-sample']) {
    const dir = join(fixtures, name);
    const request = readJson(join(dir, 'request.json'));
    const got = await run(join(dir, 'input.ndjson'), { tenant: 'acme', format: 'csv', fields: request.fields });
    assert.equal(got.name, 'acme.csv');
    const expected = readFileSync(join(dir, 'expected.csv'));
    assert.ok(got.bytes.equals(expected), `${name}: page output differs from expected.csv`);
    assert.ok(got.bytes.equals(cli(join(dir, 'input.ndjson'), request)), `${name}: page output differs from the CLI`);
  }
  assert.deepEqual(p.problems, []);
});

test('JSON: a request without fields gives Auth0 default fields, equal to the fixture and the CLI', async () => {
  const dir = join(fixtures, 'ndjson-defaults-auth0-profiles');
  const got = await run(join(dir, 'input.ndjson'), { tenant: 'dev-eu_2', format: 'json' });
  assert.equal(got.name, 'dev-eu_2.json');
  assert.ok(got.bytes.equals(readFileSync(join(dir, 'expected.json'))));
  assert.ok(got.bytes.equals(cli(join(dir, 'input.ndjson'), { format: 'json' }, { tenant: 'dev-eu_2' })));
});

test('Gzip: the .gz download gunzips to the plain export; a .gz input is read like the plain file', async () => {
  const dir = join(fixtures, 'csv-sample');
  const request = readJson(join(dir, 'request.json'));
  const plain = readFileSync(join(dir, 'expected.csv'));
  const got = await run(join(dir, 'input.ndjson'), { tenant: 'acme', format: 'csv', fields: request.fields, gzip: true });
  assert.equal(got.name, 'acme.csv.gz');
  assert.equal(got.bytes[0], 0x1f);
  assert.ok(gunzipSync(got.bytes).equals(plain));
  // Auth0's own download is a tenant.json.gz: the page sniffs gzip's magic bytes, not the name.
  const gz = join(tmp, 'tenant-export.bin');
  writeFileSync(gz, gzipSync(readFileSync(join(dir, 'input.ndjson'))));
  const fromGz = await run(gz, { tenant: 'acme', format: 'csv', fields: request.fields });
  assert.ok(fromGz.bytes.equals(plain));
  await fromGz.row.getByRole('button', { name: 'More info' }).click();
  await assert.doesNotReject(p.page.getByRole('dialog').getByText('NDJSON (gzip)').waitFor());
  await p.page.getByRole('button', { name: 'Close' }).click();
});

test('A JSON array and a Management API page are read as one JSON text each', async () => {
  const dir = join(fixtures, 'ndjson-defaults-auth0-profiles');
  const lines = readFileSync(join(dir, 'input.ndjson'), 'utf8').split('\n').filter((l) => l.trim());
  const expected = readFileSync(join(dir, 'expected.json'));
  const array = join(tmp, 'users.json');
  writeFileSync(array, `[\n  ${lines.join(',\n  ')}\n]\n`);
  assert.ok((await run(array, { tenant: 'acme', format: 'json' })).bytes.equals(expected));
  const page = join(tmp, 'page.json');
  writeFileSync(page, `{"start":0,"limit":50,"length":${lines.length},"users":[${lines.join(',')}],"total":${lines.length}}`);
  assert.ok((await run(page, { tenant: 'acme', format: 'json' })).bytes.equals(expected));
});

test('Connection filter: only users whose first identity is in the connection, as the CLI', async () => {
  const dir = join(fixtures, 'ndjson-limit-connection');
  const { limit, ...request } = readJson(join(dir, 'request.json'));
  assert.equal(limit, 25); // the page has no limit field; "Export as Sample" is its only limit
  const { connection } = readJson(join(dir, 'options.json'));
  const got = await run(join(dir, 'input.ndjson'), { tenant: 'acme', format: 'json', fields: request.fields, connection });
  const want = cli(join(dir, 'input.ndjson'), request, { connection });
  assert.ok(got.bytes.equals(want));
  const users = got.bytes.toString().trimEnd().split('\n').map((l) => JSON.parse(l));
  const all = readFileSync(join(dir, 'input.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(users.length, all.filter((u) => u.identities?.[0]?.connection === connection).length);
  assert.ok(users.length > 0 && users.length < all.length);
  assert.ok(users.every((u) => u.identities[0].connection === connection));
});

test('Sample users, Export as Sample: 10 rows, the first 10 of the CLI export of samples/users.ndjson', async () => {
  await p.reload();
  await p.page.getByRole('button', { name: 'Use sample users' }).click();
  await configure(p.page, { tenant: 'acme', format: 'csv', defaults: true, sample: true });
  const job = await exportUsers(p.page);
  const got = await download(p.page, job.row);
  const rows = got.bytes.toString().trimEnd().split('\n');
  assert.equal(rows.length, 11); // the header and 10 users (no sample value holds a newline in these columns)
  const request = { format: 'csv', limit: 10, fields: PRESET };
  assert.ok(got.bytes.equals(cli(join(root, 'samples', 'users.ndjson'), request)));
  await job.row.getByRole('button', { name: 'More info' }).click();
  const info = await p.page.getByRole('dialog').locator('pre').textContent();
  assert.equal(JSON.parse(info).limit, 10);
  await p.page.getByRole('button', { name: 'Close' }).click();
});

test('Include default fields: the Dashboard preset, plus added fields after it', async () => {
  const dir = join(fixtures, 'csv-sample');
  const extra = [{ name: 'app_metadata.plan', export_as: 'Plan' }, { name: 'logins_count' }];
  const got = await run(join(dir, 'input.ndjson'), { tenant: 'acme', format: 'csv', defaults: true, fields: extra });
  const header = got.bytes.toString().split('\n')[0];
  assert.equal(header, 'Id,Given Name,Family Name,Nickname,Name,Email,Email Verified,Picture,Connection,Created At,Updated At,Plan,logins_count');
  assert.ok(got.bytes.equals(cli(join(dir, 'input.ndjson'), { format: 'csv', fields: [...PRESET, ...extra] })));
  // Removing a chosen field takes it out of the request.
  await p.page.getByRole('button', { name: 'Remove logins_count' }).click();
  const job = await exportUsers(p.page);
  const again = await download(p.page, job.row);
  assert.ok(again.bytes.equals(cli(join(dir, 'input.ndjson'), { format: 'csv', fields: [...PRESET, extra[0]] })));
  assert.deepEqual(p.problems, []);
});
