// Bad requests and bad input on the export page: request errors beside the fields before any
// job exists; a bad line fails the job naming the line; lenient mode lists skipped lines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPage, configure, exportUsers, download, cli } from './helpers.mjs';

let p;
let tmp;
let bad;
before(async () => {
  p = await openPage();
  tmp = mkdtempSync(join(tmpdir(), 'userexport-www-bad-'));
  bad = join(tmp, 'users.ndjson');
  writeFileSync(bad, '{"user_id":"auth0|1","email":"a@example.com"}\n\n{"user_id":"auth0|2","email":\n{"user_id":"auth0|3","email":"c@example.com"}\n[1,2]\n{"user_id":"auth0|4"}\n');
});
after(async () => {
  await p?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const jobRows = () => p.page.locator('#jobs tbody tr').count();

test('Request errors show beside the fields and no job starts', async () => {
  const { page } = p;
  await p.reload();
  await page.getByRole('button', { name: 'Use sample users' }).click();
  const cases = [
    { fields: Array.from({ length: 31 }, (_, i) => ({ name: `user_metadata.f${i}` })), want: /at most 30 fields/ },
    { fields: [{ name: 'user_metadata' }], want: /cannot be exported as a whole in CSV/ },
    { fields: [{ name: 'identities[x].connection' }], want: /not a valid path/ },
  ];
  for (const c of cases) {
    await p.reload();
    await page.getByRole('button', { name: 'Use sample users' }).click();
    await configure(page, { format: 'csv', fields: c.fields });
    const before = await jobRows();
    await page.getByRole('button', { name: 'Export Users' }).click();
    const error = page.locator('#fields-error');
    assert.match(await error.textContent(), c.want);
    assert.equal(await error.isVisible(), true);
    assert.equal(await page.getByLabel('User Attribute').getAttribute('aria-invalid'), 'true');
    // It sits in the Export fields section, next to the chosen fields.
    assert.equal(await page.locator('section', { has: page.getByRole('heading', { name: 'Export fields' }) }).locator('#fields-error').count(), 1);
    assert.equal(await jobRows(), before);
  }
  // Fixing the request (JSON allows whole objects) clears the error.
  await page.getByLabel('Export Format').selectOption({ label: 'JSON' });
  await page.getByRole('button', { name: 'Remove identities[x].connection' }).click();
  assert.equal(await page.locator('#fields-error').isVisible(), false);
  // A tenant that could not name a file is reported beside Tenant.
  await page.getByLabel('Tenant').fill('../etc');
  await page.getByRole('button', { name: 'Export Users' }).click();
  assert.match(await page.locator('#tenant-error').textContent(), /not a valid tenant name/);
  assert.deepEqual(p.problems, []);
});

test('No users chosen: Export Users says so and starts nothing', async () => {
  await p.reload();
  const before = await jobRows();
  await p.page.getByRole('button', { name: 'Export Users' }).click();
  assert.match(await p.page.locator('#export-error').textContent(), /Choose users first/);
  assert.equal(await jobRows(), before);
});

test('A bad line fails the job, which names the line; no file is offered', async () => {
  await p.reload();
  await p.page.getByLabel('Users file').setInputFiles(bad);
  await configure(p.page, { format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }] });
  const job = await exportUsers(p.page);
  assert.equal(job.status, 'failed');
  assert.match(await job.row.locator('.details').textContent(), /^line 3: /);
  assert.equal(await job.row.getByRole('button', { name: 'Download export' }).isDisabled(), true);
  await job.row.getByRole('button', { name: 'More info' }).click();
  const info = JSON.parse(await p.page.getByRole('dialog').locator('pre').textContent());
  assert.equal(info.status, 'failed');
  assert.match(info.status_details, /^line 3: /);
  assert.equal(info.location, undefined);
  await p.page.getByRole('button', { name: 'Close' }).click();
  // The partial output was deleted from storage.
  const left = await p.page.evaluate(async (id) => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('exports', { create: true });
    return dir.getFileHandle(id).then(() => true, () => false);
  }, job.id);
  assert.equal(left, false);
});

test('Skip bad records: the job completes and More info lists every skipped line', async () => {
  await p.reload();
  await p.page.getByLabel('Users file').setInputFiles(bad);
  const fields = [{ name: 'user_id' }, { name: 'email' }];
  await configure(p.page, { format: 'csv', fields, lenient: true });
  const job = await exportUsers(p.page);
  assert.equal(job.status, 'completed');
  assert.match(await job.row.locator('.users').textContent(), /3 written, 2 skipped/);
  const got = await download(p.page, job.row);
  assert.ok(got.bytes.equals(cli(bad, { format: 'csv', fields }, { lenient: true })));
  await job.row.getByRole('button', { name: 'More info' }).click();
  const dialog = p.page.getByRole('dialog');
  const skipped = await dialog.locator('table.skipped tbody tr').allTextContents();
  assert.equal(skipped.length, 2);
  assert.match(skipped[0], /^line 3/);
  assert.match(skipped[1], /^line 5.*not an array|^line 5.*JSON object/);
  await p.page.keyboard.press('Escape');
  assert.equal(await dialog.isVisible(), false);
  assert.deepEqual(p.problems, []);
});
