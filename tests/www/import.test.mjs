// The page's "For re-import" in real Chromium: the job's one download is <tenant>.import.zip,
// which Python's zipfile reads; its entries are byte for byte the CLI's --for-import files for the
// same input, and ajv finds every import file valid against tests/import/auth0-import.schema.json.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { openPage, configure, exportUsers, download, readJson, root } from './helpers.mjs';

let p;
let tmp;
before(async () => {
  p = await openPage();
  tmp = mkdtempSync(join(tmpdir(), 'userexport-www-import-'));
});
after(async () => {
  await p?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('For re-import: the page saves <tenant>.import.zip holding the CLI\'s files, each valid', async () => {
  const cases = readJson(join(root, 'tests', 'import', 'cases.json'));
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  const validate = ajv.compile(readJson(join(root, 'tests', 'import', 'auth0-import.schema.json')));
  // Two files' worth of database users around the golden cases' social, enterprise and bad ones.
  let input = cases[1].input + cases[2].input;
  for (let i = 0; i < 7000; i++) {
    input += `{"user_id":"auth0|u${i}","email":"user${i}@example.com","email_verified":${i % 2 === 0},"name":"User ${i}","app_metadata":{"plan":"p${i % 3}"},"identities":[{"connection":"db","provider":"auth0"}]}\n`;
  }
  const users = join(tmp, 'users.ndjson');
  writeFileSync(users, input);

  await p.page.getByLabel('Users file').setInputFiles(users);
  await configure(p.page, { tenant: 'acme', format: 'csv', gzip: true });
  await p.page.getByLabel('For re-import').check();
  // An import is JSON and plain: the page sets and locks what an import cannot change.
  assert.equal(await p.page.getByLabel('Export Format').inputValue(), 'json');
  assert.equal(await p.page.getByLabel('Export Format').isDisabled(), true);
  assert.equal(await p.page.getByLabel('Gzip').isChecked(), false);
  assert.equal(await p.page.locator('#file-name').textContent(), 'acme.import.zip');
  const job = await exportUsers(p.page);
  assert.equal(job.status, 'completed');
  const got = await download(p.page, job.row);
  assert.equal(got.name, 'acme.import.zip');
  assert.equal(got.type, 'application/zip');

  const zipPath = join(tmp, got.name);
  writeFileSync(zipPath, got.bytes);
  const entries = JSON.parse(execFileSync('python3', [join(root, 'tests', 'oracle', 'read_zip.py'), zipPath]).toString());

  execFileSync(process.execPath, [join(root, 'bin', 'userexport.mjs'), users, '--for-import', '--tenant', 'acme', '--out', join(tmp, 'cli'), '--quiet']);
  const names = readdirSync(join(tmp, 'cli')).sort();
  assert.deepEqual(names, ['acme.import.001.json', 'acme.import.002.json', 'acme.import.unimportable.json']);
  assert.deepEqual(entries.map((e) => e.name), names);
  for (const e of entries) assert.equal(e.text, readFileSync(join(tmp, 'cli', e.name), 'utf8'), e.name);
  for (const e of entries.slice(0, 2)) {
    assert.ok(Buffer.byteLength(e.text) <= 500_000, `${e.name}: ${Buffer.byteLength(e.text)} bytes`);
    assert.ok(validate(JSON.parse(e.text)), `${e.name}: ${ajv.errorsText(validate.errors)}`);
  }
  const listed = JSON.parse(entries[2].text);
  assert.ok(listed.length >= 5);
  assert.ok(listed.every((u) => u.reason && u.message && u.line));
  assert.match(await p.page.locator('#jobs-status').textContent(), /completed: 7,002 users in acme\.import\.zip/);
  assert.equal(await job.row.getByRole('button', { name: 'Manifest' }).isDisabled(), true);
  assert.deepEqual(p.problems, []);
});
