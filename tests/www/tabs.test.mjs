// Two tabs of the page in one browser: the first owns the jobs and their files, the second waits
// (it would otherwise overwrite the first's job list and delete its files as orphans).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, configure, exportUsers, download } from './helpers.mjs';

let p;
after(async () => p?.close());

test('a second tab waits, the first keeps working, and the second takes over when the first closes', async () => {
  p = await openPage();
  const second = await p.context.newPage();
  await second.goto(p.url);
  await second.locator('body[data-ready="other-tab"]').waitFor();
  const alert = second.getByRole('alert').filter({ hasText: 'already open in another tab' });
  assert.equal(await alert.isVisible(), true);
  assert.equal(await second.evaluate(() => document.querySelector('main').inert), true, 'the second tab cannot be used');

  // The owner exports as ever, and its job and file survive the second tab's presence.
  await p.page.getByRole('button', { name: 'Use sample users' }).click();
  await configure(p.page, { tenant: 'acme', format: 'csv', defaults: true, sample: true });
  const job = await exportUsers(p.page);
  assert.equal(job.status, 'completed');

  // Closing the owner hands the jobs over: the second tab starts over and shows the same job.
  await p.page.close();
  await second.locator('body[data-ready="true"]').waitFor({ timeout: 15_000 });
  assert.equal(await second.getByRole('alert').filter({ hasText: 'already open in another tab' }).isVisible(), false);
  const row = second.locator('#jobs tbody tr').filter({ hasText: job.id });
  assert.equal(await row.locator('.badge').textContent(), 'completed');
  assert.equal(await second.evaluate(() => document.querySelector('main').inert), false);
  assert.equal((await download(second, row)).name, 'acme.csv');
});
