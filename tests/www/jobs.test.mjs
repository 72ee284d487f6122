// Jobs as Auth0 keeps them, in real Chromium: the job object's shape, jobs and files surviving a
// reload, and (with Playwright's clock) the 60-second link, its renewal, and expiry after 24 h.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPage, configure, exportUsers, download, fixtures, readJson } from './helpers.mjs';

const dir = join(fixtures, 'csv-sample');
const input = join(dir, 'input.ndjson');
const request = readJson(join(dir, 'request.json'));

async function completedJob(page) {
  await page.getByLabel('Users file').setInputFiles(input);
  await configure(page, { tenant: 'acme', format: 'csv', fields: request.fields.slice(0, 3), connection: 'github' });
  return exportUsers(page);
}

async function jobInfo(page, row) {
  await row.getByRole('button', { name: 'More info' }).click();
  const info = JSON.parse(await page.getByRole('dialog').locator('pre').textContent());
  await page.getByRole('button', { name: 'Close' }).click();
  return info;
}

const fetchText = (page, url) => page.evaluate((u) => fetch(u).then((r) => r.text(), (e) => `failed: ${e.message}`), url);
const stored = (page, id) =>
  page.evaluate(async (id) => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('exports', { create: true });
    return dir.getFileHandle(id).then(() => true, () => false);
  }, id);

test('The job is shaped as Auth0 shapes an export job', async () => {
  const p = await openPage();
  try {
    const job = await completedJob(p.page);
    assert.match(job.id, /^job_[A-Za-z0-9]{16}$/);
    const info = await jobInfo(p.page, job.row);
    assert.deepEqual(Object.keys(info), ['type', 'status', 'format', 'fields', 'location', 'connection', 'created_at', 'id', 'percentage_done']);
    assert.equal(info.type, 'users_export');
    assert.equal(info.status, 'completed');
    assert.equal(info.format, 'csv');
    assert.deepEqual(info.fields, request.fields.slice(0, 3));
    assert.equal(info.connection, 'github');
    assert.match(info.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(info.id, job.id);
    assert.equal(info.percentage_done, 100);
    // The location is the file itself.
    const got = await download(p.page, job.row);
    assert.equal(await fetchText(p.page, info.location), got.bytes.toString());
    // A second job goes on top: newest first. "All connections" is no filter: no `connection`.
    await p.page.getByLabel('Connection').fill('All connections');
    const second = await exportUsers(p.page);
    const all = await jobInfo(p.page, second.row);
    assert.equal(all.connection, undefined);
    assert.match(await second.row.locator('.users').textContent(), /^200 written$/);
    const ids = await p.page.locator('#jobs tbody code').allTextContents();
    assert.deepEqual(ids, [second.id, job.id]);
    assert.deepEqual(p.problems, []);
  } finally {
    await p.close();
  }
});

test('Reload keeps the jobs and their files', async () => {
  const p = await openPage();
  try {
    const done = await completedJob(p.page);
    const before = await download(p.page, done.row);
    await p.page.getByLabel('Export Format').selectOption({ label: 'CSV' });
    await p.page.getByLabel('User Attribute').fill('app_metadata');
    await p.page.getByRole('button', { name: 'Add Field' }).click();
    await p.page.getByLabel('Export Format').selectOption({ label: 'JSON' });
    await p.page.getByLabel('Skip bad records').setChecked(false);
    await p.reload();
    const ids = await p.page.locator('#jobs tbody code').allTextContents();
    assert.deepEqual(ids, [done.id]);
    const row = p.page.locator('#jobs tbody tr').first();
    assert.equal(await row.locator('.badge').textContent(), 'completed');
    // Blob links die with the page: the link is renewed (as Check Status would) on download.
    assert.match(await row.locator('.details').textContent(), /Link expired/);
    const after = await download(p.page, row);
    assert.equal(after.name, 'acme.csv');
    assert.ok(after.bytes.equals(before.bytes));
    assert.deepEqual(p.problems, []);
  } finally {
    await p.close();
  }
});

test('The link lives 60 s and renews; after 24 h the job is expired and its data deleted', async () => {
  const p = await openPage({ clock: true });
  const { page } = p;
  try {
    const job = await completedJob(page);
    const first = await jobInfo(page, job.row);
    const bytes = await fetchText(page, first.location);
    assert.ok(bytes.startsWith('Id,Email,'));
    assert.match(await job.row.locator('.details').textContent(), /Link valid (59|60) s/);

    await page.clock.fastForward(30_000);
    assert.ok((await jobInfo(page, job.row)).location, 'still valid after 30 s');
    await page.clock.fastForward(31_000);
    await job.row.locator('.details').filter({ hasText: 'Link expired' }).waitFor();
    assert.equal((await jobInfo(page, job.row)).location, undefined);
    assert.match(await fetchText(page, first.location), /^failed/);

    await job.row.getByRole('button', { name: 'Check Status' }).click();
    await page.locator('#jobs-status').filter({ hasText: 'link renewed' }).waitFor();
    const renewed = await jobInfo(page, job.row);
    assert.ok(renewed.location && renewed.location !== first.location);
    assert.equal(await fetchText(page, renewed.location), bytes);

    // Renewable for 24 hours: just before, Download export still works.
    await page.clock.fastForward('23:58:00');
    const late = await download(page, job.row);
    assert.equal(late.bytes.toString(), bytes);
    assert.equal(await stored(page, job.id), true);

    await page.clock.fastForward('00:02:01');
    await job.row.locator('.badge').filter({ hasText: 'expired' }).waitFor();
    const expired = await jobInfo(page, job.row);
    assert.equal(expired.status, 'expired');
    assert.equal(expired.location, undefined);
    assert.equal(await stored(page, job.id), false);
    assert.equal(await job.row.getByRole('button', { name: 'Download export' }).isDisabled(), true);
    await job.row.getByRole('button', { name: 'Check Status' }).click();
    await page.locator('#jobs-status').filter({ hasText: `Job ${job.id}: expired` }).waitFor();
    // jobs.json keeps the expired job's row but no user data.
    const saved = await page.evaluate(async () => (await (await (await navigator.storage.getDirectory()).getFileHandle('jobs.json')).getFile()).text());
    assert.ok(!saved.includes('auth0|') && !saved.includes('@example.com'));
    // A day later even that row is gone.
    await page.clock.fastForward('24:00:00');
    await page.locator('#jobs-empty').waitFor();
    assert.equal(await page.locator('#jobs tbody tr').count(), 0);
    // The one console error is this test's own fetch of the revoked link.
    assert.deepEqual(p.problems, ['console: Failed to load resource: net::ERR_FILE_NOT_FOUND']);
  } finally {
    await p.close();
  }
});
