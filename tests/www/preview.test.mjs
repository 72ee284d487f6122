// The page before and around an export, in real Chromium: the Preview equals the core's own
// output computed in Node for the same file and request (and follows field, format, filter and
// connection changes); "Discover fields" counts equal an independent count over the same file;
// a dropped file lands in the native input; a new job is scrolled into view and announced;
// "Cancel export" leaves no file in origin-private storage; the private-window note.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Papa from 'papaparse';
import { chromium } from 'playwright-core';
import { Exporter } from 'userexport';
import { openPage, configure, fixtures, readJson, root } from './helpers.mjs';
import { startServer } from '../../www/serve.mjs';

const escaping = join(fixtures, 'csv-escaping', 'input.ndjson');
const sample = join(root, 'samples', 'users.ndjson');

/** The first five users' export, by the core in Node: the oracle of the page's preview. */
function nodePreview(path, request, options = {}) {
  const ex = new Exporter({ ...request, limit: Math.min(5, request.limit ?? 5) }, options);
  ex.push(readFileSync(path));
  ex.finish();
  const parts = [];
  for (let c = ex.pull(); c; c = ex.pull()) parts.push(Buffer.from(c));
  ex.free();
  return Buffer.concat(parts).toString('utf8');
}

async function previewShown(page, expected) {
  await page.locator('#preview-raw').filter({ hasText: expected.slice(0, 40) }).waitFor();
  // The debounce may still hold a newer preview: wait until the text is the expected one.
  await page.waitForFunction((want) => document.getElementById('preview-raw').textContent === want, expected, { timeout: 10_000 });
}

const cells = (page) => page.locator('#preview-table tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));

test('Preview: the first five rows exactly as the export writes them, following every change', async () => {
  const p = await openPage();
  try {
    const { page } = p;
    const request = readJson(join(fixtures, 'csv-escaping', 'request.json'));
    await configure(page, { tenant: 'acme', format: 'csv', fields: request.fields.slice(0, 6) });
    await page.getByLabel('Users file').setInputFiles(escaping);
    const csv = { format: 'csv', fields: request.fields.slice(0, 6) };
    let want = nodePreview(escaping, csv);
    await previewShown(page, want);
    // The cells as a spreadsheet shows them: a real CSV parser's reading of the same bytes.
    const parsed = Papa.parse(want.replace(/\n$/, ''), { header: false }).data;
    assert.ok(parsed.length >= 2);
    assert.deepEqual(await cells(page), parsed);
    assert.match(await page.locator('#preview-status').textContent(), /exactly as written/);

    // A field added: the preview follows.
    await page.getByLabel('User Attribute').fill(request.fields[6].name);
    await page.getByRole('button', { name: 'Add Field' }).click();
    want = nodePreview(escaping, { format: 'csv', fields: request.fields.slice(0, 7) });
    await previewShown(page, want);
    assert.deepEqual(await cells(page), Papa.parse(want.replace(/\n$/, '')).data);

    // JSON: the NDJSON lines, no table.
    await page.getByLabel('Export Format').selectOption({ label: 'JSON' });
    want = nodePreview(escaping, { format: 'json', fields: request.fields.slice(0, 7) });
    await previewShown(page, want);
    assert.equal(await page.locator('#preview-table').isHidden(), true);

    // The sample users with a filter and a connection: the core's own choice of users.
    await page.getByRole('button', { name: 'Use sample users' }).click();
    await page.getByLabel('Filter users').fill('app_metadata.plan:pro');
    await page.getByLabel('Connection').fill('github');
    const opts = { query: 'app_metadata.plan:pro', connection: 'github' };
    const sampleBytes = readFileSync(sample);
    const fields = request.fields.slice(0, 7);
    const ex = new Exporter({ format: 'json', fields, limit: 5 }, opts);
    ex.push(sampleBytes);
    ex.finish();
    let text = '';
    for (let c = ex.pull(); c; c = ex.pull()) text += Buffer.from(c).toString('utf8');
    ex.free();
    assert.equal(text.split('\n').filter(Boolean).length, 5);
    await previewShown(page, text);
    // A bad record in strict mode: the preview says the export would fail, and where.
    await page.getByLabel('Filter users').fill('');
    await page.getByLabel('Connection').fill('');
    await page.getByLabel('Users file').setInputFiles({ name: 'bad.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from('{"user_id":"a"}\nnot json\n') });
    await page.locator('#preview-status').filter({ hasText: 'The export would fail (line 2)' }).waitFor();
    assert.deepEqual(p.problems, []);
  } finally {
    await p.close();
  }
});

/** An independent count of the documented discovery rules, over parsed users. */
function independentCount(text) {
  const counts = new Map();
  const visit = (v, path) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, child] of Object.entries(v)) if (k && !/[.[\]]/.test(k)) visit(child, path ? `${path}.${k}` : k);
    } else if (Array.isArray(v)) v.slice(0, 3).forEach((child, i) => visit(child, `${path}[${i}]`));
    if (!path) return;
    const filled = !(v === null || v === '' || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0));
    const c = counts.get(path) ?? { present: 0, filled: 0 };
    c.present++;
    if (filled) c.filled++;
    counts.set(path, c);
  };
  const lines = text.split('\n').filter(Boolean);
  for (const line of lines) visit(JSON.parse(line), '');
  return { counts, users: lines.length };
}

test('Discover fields: every path of the sample users, counted as an independent count counts them; a click adds it', async () => {
  const p = await openPage();
  try {
    const { page } = p;
    await configure(page, { tenant: 'acme', format: 'csv', defaults: false });
    await page.getByRole('button', { name: 'Use sample users' }).click();
    await page.getByRole('button', { name: 'Discover fields' }).click();
    await page.locator('#discover-status').filter({ hasText: 'paths in all 1,000 users' }).waitFor();
    const rows = await page.locator('#paths tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    const { counts, users } = independentCount(readFileSync(sample, 'utf8'));
    assert.equal(users, 1000);
    assert.deepEqual(rows.map((r) => r[0]).sort(), [...counts.keys()].sort());
    for (const [path, filled] of rows) {
      const c = counts.get(path);
      assert.equal(filled, `${c.filled.toLocaleString('en')} (${Math.round((c.filled / users) * 100)} %)`, path);
    }
    assert.ok(counts.has('app_metadata.plan') && counts.has('identities[0].connection'));

    // A click adds the path as a field, and the preview gets its column.
    await page.getByRole('button', { name: 'Add field identities[0].connection' }).click();
    await page.locator('#fields li').filter({ hasText: 'identities[0].connection' }).waitFor();
    await page.locator('#discover-status').filter({ hasText: 'Added field identities[0].connection.' }).waitFor();
    const want = nodePreview(sample, { format: 'csv', fields: [{ name: 'identities[0].connection' }] });
    await previewShown(page, want);
    assert.ok(want.startsWith('identities[0].connection\n'));
    assert.deepEqual(p.problems, []);
  } finally {
    await p.close();
  }
});

test('A dropped file lands in the native input; a new job is scrolled into view and announced', async () => {
  const p = await openPage({ viewport: { width: 1000, height: 500 } });
  try {
    const { page } = p;
    const text = readFileSync(escaping, 'utf8');
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'dropped_users.ndjson'));
      const drop = document.getElementById('drop');
      drop.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
      drop.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      drop.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, text);
    await page.locator('#source-status').filter({ hasText: 'dropped_users.ndjson' }).waitFor();
    assert.equal(await page.evaluate(() => document.getElementById('file').files[0]?.name), 'dropped_users.ndjson');
    await configure(page, { tenant: 'acme', format: 'json' });
    await previewShown(page, nodePreview(escaping, { format: 'json' }));

    await page.getByRole('button', { name: 'Export Users' }).click();
    const row = page.locator('#jobs tbody tr').first();
    await row.waitFor();
    const id = await row.locator('code').textContent();
    await page.locator('#jobs-status').filter({ hasText: `Job ${id} created: exporting dropped_users.ndjson` }).waitFor();
    assert.equal(await page.locator('#jobs-status').getAttribute('aria-live'), 'polite');
    // Scrolled into view (smoothly, so it may take a moment on a loaded machine).
    const inView = () => row.evaluate((el) => {
      const r = el.getBoundingClientRect();
      // Layout has fractional pixels: the row scrolled to the bottom edge may end 0.1 px past it.
      return r.top >= 0 && r.bottom <= window.innerHeight + 1;
    });
    const deadline = Date.now() + 5000;
    while (!(await inView()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(await inView(), `the row is in view (${JSON.stringify(await row.boundingBox())})`);
    await row.locator('.badge').filter({ hasText: 'completed' }).waitFor();
    // The file name in the row breaks after its dots and underscores.
    assert.equal(await row.locator('.meta wbr').count(), 1);
    // Its actions sit in one row.
    const tops = await row.locator('.actions button:visible').evaluateAll((bs) => bs.map((b) => Math.round(b.getBoundingClientRect().top)));
    assert.equal(new Set(tops).size, 1, `actions on one line: ${tops}`);
    assert.deepEqual(p.problems, []);
  } finally {
    await p.close();
  }
});

/** The page in a new browser context: Chromium's off-the-record profile, where storage lives in memory. */
async function openIncognito() {
  const { server, url } = await startServer();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor();
  return {
    page,
    async close() {
      await browser.close().catch(() => {});
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
    },
  };
}

test('Private window: the note before a large export; Cancel export leaves no partial file', async () => {
  const p = await openIncognito();
  try {
    const { page } = p;
    const estimate = await page.evaluate(() => navigator.storage.estimate());
    console.log(`# off-the-record context: quota ${estimate.quota} B, usage ${estimate.usage} B`);
    await configure(page, { tenant: 'acme', format: 'csv', defaults: true, gzip: true });
    // 150 MB of users (the sample repeated): a large export.
    const size = await page.evaluate(async () => {
      const { sampleNdjson } = await import('./sample.js');
      const text = sampleNdjson(1000);
      const file = new File(Array(Math.ceil(150e6 / text.length)).fill(text), 'big.ndjson');
      const dt = new DataTransfer();
      dt.items.add(file);
      document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      return file.size;
    });
    assert.ok(size > 100e6);
    const note = page.locator('#private-warning');
    await note.filter({ hasText: 'private' }).waitFor();
    assert.match(await note.textContent(), /normal window/);

    await page.getByRole('button', { name: 'Export Users' }).click();
    const row = page.locator('#jobs tbody tr').first();
    await row.locator('.badge').filter({ hasText: 'processing' }).waitFor();
    const id = await row.locator('code').textContent();
    const stored = () =>
      page.evaluate(async () => {
        const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('exports', { create: true });
        const names = [];
        for await (const name of dir.keys()) names.push(name);
        return names;
      });
    assert.deepEqual(await stored(), [id], 'the partial file is being written');
    await row.getByRole('button', { name: 'Cancel export' }).click();
    await page.locator('#jobs-status').filter({ hasText: `Job ${id} cancelled: no file was kept.` }).waitFor();
    assert.equal(await row.locator('.badge').textContent(), 'cancelled');
    assert.deepEqual(await stored(), []);
    assert.equal(await row.getByRole('button', { name: 'Cancel export' }).isHidden(), true);
    assert.equal(await row.getByRole('button', { name: 'Download export' }).isDisabled(), true);
    // Still cancelled, and still no file, a while later (no late message from the worker revives it).
    await page.waitForTimeout(1500);
    assert.equal(await row.locator('.badge').textContent(), 'cancelled');
    assert.deepEqual(await stored(), []);
  } finally {
    await p.close();
  }
});

test('Normal window with a small file: no private-window note', async () => {
  const p = await openPage();
  try {
    await p.page.getByRole('button', { name: 'Use sample users' }).click();
    await p.page.locator('#preview-status').filter({ hasText: 'exactly as written' }).waitFor();
    assert.equal(await p.page.locator('#private-warning').isHidden(), true);
  } finally {
    await p.close();
  }
});
