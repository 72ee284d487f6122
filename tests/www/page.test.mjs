// The page as a person meets it: labelled controls reachable by keyboard, 320 px wide, a strict
// Content-Security-Policy with no outside request, drag and drop, a big export that runs in a
// Worker with live progress while the page stays responsive, and the README's screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPage, configure, exportUsers, download, cli, root, PRESET } from './helpers.mjs';
import { CSP } from '../../www/serve.mjs';

let tmp;
let big;
let bigSize = 0;
// Screenshots go to docs/screenshots with UPDATE_SCREENSHOTS=1 (then commit them), else to a temp folder.
let shots;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'userexport-www-page-'));
  shots = process.env.UPDATE_SCREENSHOTS ? join(root, 'docs', 'screenshots') : join(tmp, 'shots');
  mkdirSync(shots, { recursive: true });
  // ~150 MB of NDJSON: long enough to watch a job run.
  const sample = readFileSync(join(root, 'samples', 'users.ndjson'));
  big = join(tmp, 'big.ndjson');
  const fd = openSync(big, 'w');
  while (bigSize < 150e6) bigSize += writeSync(fd, sample);
  closeSync(fd);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const CONTROLS = [
  ['Users file', 'textbox'], ['Use sample users', 'button'], ['Domain', 'textbox'], ['Management API token', 'textbox'],
  ['Fetch from Auth0', 'button'], ['Input format', 'combobox'], ['Tenant', 'textbox'], ['Connection', 'combobox'], ['Export Format', 'combobox'],
  ['Include default fields', 'checkbox'], ['User Attribute', 'textbox'], ['Field Name', 'textbox'], ['Add Field', 'button'],
  ['Export as Sample', 'checkbox'], ['Gzip', 'checkbox'], ['Skip bad records', 'checkbox'], ['Export Users', 'button'],
];

/** Accessible names of everything Tab reaches, in order. */
async function tabOrder(page, stops = 60) {
  await page.locator('body').focus();
  const names = [];
  for (let i = 0; i < stops; i++) {
    await page.keyboard.press('Tab');
    names.push(
      await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return '';
        const label = el.labels?.[0]?.textContent.trim();
        return el.getAttribute('aria-label') ?? label ?? el.textContent.trim();
      }),
    );
  }
  return names;
}

test('Every control has its label, and Tab reaches it; an export runs from the keyboard alone', async () => {
  const p = await openPage();
  try {
    const { page } = p;
    for (const [name] of CONTROLS) assert.equal(await page.getByLabel(name, { exact: true }).or(page.getByRole('button', { name, exact: true })).count(), 1, name);
    assert.equal(await page.getByRole('button', { name: 'Export Users' }).count(), 1);
    const order = await tabOrder(page);
    for (const [name] of CONTROLS) assert.ok(order.includes(name), `Tab never reaches "${name}": ${order.join(' | ')}`);

    // Keyboard only: sample users, then Export Users.
    await page.getByRole('button', { name: 'Use sample users' }).focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('Export as Sample').focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Export Users' }).focus();
    await page.keyboard.press('Enter');
    const row = page.locator('#jobs tbody tr').first();
    await row.locator('.badge').filter({ hasText: 'completed' }).waitFor();
    const after = await tabOrder(page, 80);
    for (const name of ['Check Status', 'Download export', 'More info']) assert.ok(after.includes(name), name);
    await row.getByRole('button', { name: 'More info' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.getByRole('dialog').isVisible(), true);
    await page.keyboard.press('Escape');
    assert.deepEqual(p.problems, []);
  } finally {
    await p.close();
  }
});

test('Readable at 320 px: nothing wider than the screen, idle, with a job, and in More info', async () => {
  const p = await openPage({ viewport: { width: 320, height: 640 } });
  try {
    const { page } = p;
    const width = () => page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok((await width()) <= 320, `idle: ${await width()} px`);
    await page.getByRole('button', { name: 'Use sample users' }).click();
    await configure(page, { tenant: 'a-rather-long-tenant-name-for-a-small-screen', format: 'csv', defaults: true, fields: [{ name: 'user_metadata.a_very_long_attribute_name_indeed', export_as: 'Long' }] });
    await exportUsers(page);
    assert.ok((await width()) <= 320, `with a job: ${await width()} px`);
    await page.screenshot({ path: join(shots, 'narrow.png'), fullPage: true });
    await page.locator('#jobs tbody tr').first().getByRole('button', { name: 'More info' }).click();
    assert.ok((await width()) <= 320, `More info: ${await width()} px`);
    const box = await page.getByRole('dialog').boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 320);
  } finally {
    await p.close();
  }
});

test('Content-Security-Policy: sent and enforced; a whole export makes no request off the page', async () => {
  const p = await openPage();
  try {
    const { page } = p;
    const res = await page.request.get(p.url);
    assert.equal(res.headers()['content-security-policy'], CSP);
    const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.equal(meta, CSP.replace("; frame-ancestors 'none'", '')); // frame-ancestors only works as a header
    // An injected inline script does not run.
    const ran = await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.injected = true';
      const blocked = new Promise((r) => document.addEventListener('securitypolicyviolation', (e) => r(e.violatedDirective), { once: true }));
      document.body.append(s);
      return { injected: window.injected === true, violated: await blocked };
    });
    assert.deepEqual(ran, { injected: false, violated: 'script-src-elem' });
    await page.getByRole('button', { name: 'Use sample users' }).click();
    await configure(page, { format: 'csv', defaults: true, gzip: true });
    const job = await exportUsers(page);
    await download(page, job.row);
    const origin = new URL(p.url).origin;
    const outside = p.requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'));
    assert.deepEqual(outside, []);
  } finally {
    await p.close();
  }
});

test('Works offline: after one visit the page opens and exports with its server stopped', async () => {
  const p = await openPage();
  try {
    const { page } = p;
    await page.locator('body[data-offline="ready"]').waitFor();
    await p.stopServer();
    await assert.rejects(fetch(p.url), 'the server is really down');
    await p.reload();
    await page.getByRole('button', { name: 'Use sample users' }).click();
    await configure(page, { tenant: 'acme', format: 'csv', defaults: true, sample: true });
    const job = await exportUsers(page);
    assert.equal(job.status, 'completed');
    const got = await download(page, job.row);
    assert.ok(got.bytes.equals(cli(join(root, 'samples', 'users.ndjson'), { format: 'csv', limit: 10, fields: PRESET })));
    // The preview's worker (and the frame it imports) came from the cache too.
    await page.getByLabel('Users file').setInputFiles(join(root, 'samples', 'users.ndjson'));
    await page.locator('#preview-status').filter({ hasText: 'exactly as written' }).waitFor();
  } finally {
    await p.close();
  }
});

test('Drag and drop a file onto the page', async () => {
  const p = await openPage();
  try {
    const { page } = p;
    const text = readFileSync(join(root, 'tests', 'fixtures', 'csv-escaping', 'input.ndjson'), 'utf8');
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'dropped.ndjson'));
      const drop = document.getElementById('drop');
      drop.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      drop.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, text);
    await page.locator('#source-status').filter({ hasText: 'dropped.ndjson' }).waitFor();
    await configure(page, { format: 'json' });
    const job = await exportUsers(page);
    const got = await download(page, job.row);
    assert.ok(got.bytes.equals(cli(join(root, 'tests', 'fixtures', 'csv-escaping', 'input.ndjson'), { format: 'json' })));
  } finally {
    await p.close();
  }
});

test('A 150 MB file: runs in a Worker, progress at least every 250 ms, the page stays responsive', async () => {
  const p = await openPage();
  try {
    const { page } = p;
    await page.getByLabel('Users file').setInputFiles(big);
    await configure(page, { tenant: 'acme', format: 'csv', defaults: true });
    // Watch the page: each progress update of the job row, and how late a 50 ms timer fires.
    await page.evaluate(() => {
      window.watch = { updates: [], lag: 0, done: false };
      // Until the job completes: afterwards only the link's countdown changes, once a second.
      new MutationObserver(() => {
        if (window.watch.done) return;
        window.watch.updates.push(performance.now());
        window.watch.done = document.querySelector('#jobs tbody tr .badge')?.textContent === 'completed';
      }).observe(document.querySelector('#jobs tbody'), { subtree: true, characterData: true, childList: true });
      let last = performance.now();
      setInterval(() => {
        const now = performance.now();
        window.watch.lag = Math.max(window.watch.lag, now - last - 50);
        last = now;
      }, 50);
    });
    await page.getByRole('button', { name: 'Export Users' }).click();
    const row = page.locator('#jobs tbody tr').first();
    await row.locator('.badge').filter({ hasText: 'processing' }).waitFor();
    assert.ok(page.workers().length >= 1, 'the export runs in a Web Worker');
    await row.locator('.badge').filter({ hasText: /completed|failed/ }).waitFor({ timeout: 120_000 });
    assert.equal(await row.locator('.badge').textContent(), 'completed');
    const { updates, lag } = await page.evaluate(() => window.watch);
    const gaps = updates.slice(1).map((t, i) => t - updates[i]).filter((g) => g > 5); // one update touches several nodes
    assert.ok(gaps.length >= 4, `only ${gaps.length} progress updates`);
    // The worker reports every 100 ms; on a machine shared with other busy processes a thread can
    // be descheduled now and then, so one gap in ten may run over (each still under a second).
    const late = gaps.filter((g) => g > 250);
    const shown = gaps.map(Math.round).join(', ');
    assert.ok(late.length <= gaps.length / 10 && Math.max(...gaps) < 1000, `progress gaps (ms): ${shown}`);
    // An export on the page's own thread would hold timers back for its whole run (seconds).
    assert.ok(lag < 1000, `the page's timers ran ${Math.round(lag)} ms late`);
    assert.match(await row.locator('.users').textContent(), /^215,000 written$/);
    assert.deepEqual(p.problems, []);
  } finally {
    await p.close();
  }
});

test('Screenshots: idle, running (with time left), done', async () => {
  const p = await openPage();
  try {
    const { page } = p;
    await page.screenshot({ path: join(shots, 'idle.png'), fullPage: true });
    await page.getByLabel('Users file').setInputFiles(big);
    await configure(page, { tenant: 'acme', format: 'csv', defaults: true });
    await page.getByRole('button', { name: 'Export Users' }).click();
    const row = page.locator('#jobs tbody tr').first();
    await page.waitForFunction(() => {
      const v = document.querySelector('#jobs tbody tr progress')?.value;
      return v >= 15 && v <= 60;
    });
    assert.match(await row.locator('.left').textContent(), /^\d+ s$/);
    await page.screenshot({ path: join(shots, 'running.png'), fullPage: true });
    await row.locator('.badge').filter({ hasText: /completed|failed/ }).waitFor({ timeout: 120_000 });
    await page.screenshot({ path: join(shots, 'done.png'), fullPage: true });
  } finally {
    await p.close();
  }
});

test('Reloading while a job runs: the job is marked failed with the reason, no partial file kept', async () => {
  const p = await openPage();
  try {
    const { page } = p;
    await page.getByLabel('Users file').setInputFiles(big);
    await configure(page, { format: 'json' });
    await page.getByRole('button', { name: 'Export Users' }).click();
    const row = page.locator('#jobs tbody tr').first();
    await row.locator('.badge').filter({ hasText: 'processing' }).waitFor();
    const id = await row.locator('code').textContent();
    await p.reload();
    const again = page.locator('#jobs tbody tr').first();
    assert.equal(await again.locator('code').textContent(), id);
    assert.equal(await again.locator('.badge').textContent(), 'failed');
    assert.match(await again.locator('.details').textContent(), /closed or reloaded/);
    // The dying worker may hold the partial file for a moment; the page deletes it once freed.
    await page.waitForFunction(async (id) => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('exports', { create: true });
      return dir.getFileHandle(id).then(() => false, () => true);
    }, id, { timeout: 10_000, polling: 200 });
  } finally {
    await p.close();
  }
});
