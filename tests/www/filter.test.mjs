// The page's "Filter users" box in real Chromium: the live count of matches in the first 10,000
// users, the core's message for a bad query (which blocks the export), and a filtered export equal
// to the Node API's bytes for the same query. Expected counts come from the core through Node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createServer } from 'node:http';
import { Exporter } from 'userexport';
import { openPage, configure, exportUsers, download, root, PRESET } from './helpers.mjs';
import { sampleNdjson } from '../../www/sample.js';

const SAMPLE = readFileSync(join(root, 'samples', 'users.ndjson'));

/** The Node API's export of `input` (all of it pushed at once): its bytes and stats. */
function nodeExport(input, request, options) {
  const ex = new Exporter(request, options);
  const parts = [];
  const drain = () => {
    for (let c = ex.pull(); c; c = ex.pull()) parts.push(Buffer.from(c));
  };
  ex.pushNdjson(input);
  drain();
  ex.finish();
  drain();
  const out = { bytes: Buffer.concat(parts), stats: ex.stats };
  ex.free();
  return out;
}

/** How many users of `input` the query matches, counted by the core. */
const matches = (input, query) => nodeExport(input, { format: 'json', fields: [{ name: 'user_id' }] }, { query }).stats.usersMatched;

/** The core's message for a bad query. */
function queryError(query) {
  try {
    new Exporter({ format: 'json' }, { query }).free();
  } catch (e) {
    assert.equal(e.code, 'invalid_query');
    return e.message;
  }
  assert.fail(`${query} parsed`);
}

// 12,000 generated users (the sample's first 1,000, then more): a file past the preview's reach.
const BIG = sampleNdjson(12_000);
const FIRST = Buffer.from(BIG.split('\n').slice(0, 10_000).join('\n') + '\n');

let p;
let tmp;
let bigFile;
before(async () => {
  p = await openPage();
  tmp = mkdtempSync(join(tmpdir(), 'userexport-filter-'));
  bigFile = join(tmp, 'users.ndjson');
  writeFileSync(bigFile, BIG);
});
after(async () => {
  await p?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const box = () => p.page.getByRole('textbox', { name: 'Filter users', exact: true });
const count = () => p.page.locator('#filter-status');

/** Types the query as a person would and waits for the count the page settles on. */
async function typeQuery(query) {
  await box().fill('');
  await box().pressSequentially(query, { delay: 5 });
  return typeQueryResult();
}

/** The count the page settles on (the status is aria-busy while one is coming). */
async function typeQueryResult() {
  await p.page.locator('#filter-status[aria-busy="false"]').filter({ hasText: / users match/ }).waitFor();
  const text = await count().textContent();
  return { text, n: Number(text.match(/^([\d,]+) of the first 10,000 users match/)[1].replaceAll(',', '')) };
}

test('typing a query shows how many of the first 10,000 sample users the core matches', async () => {
  await p.reload();
  await p.page.getByRole('button', { name: 'Use sample users' }).click();
  const queries = ['app_metadata.plan:pro', 'logins_count:[100 TO 300} AND NOT blocked:true', 'identities.connection:github OR name:*grace*'];
  const seen = new Set();
  for (const query of queries) {
    const want = matches(SAMPLE, query);
    assert.ok(want > 0 && want < 1000, `${query}: ${want} is not a telling count`);
    const got = await typeQuery(query);
    assert.equal(got.n, want, `${query}: ${got.text}`);
    assert.match(got.text, /\(the source has 1,000 users\)/);
    assert.equal(await box().getAttribute('aria-invalid'), 'false');
    assert.ok(await p.page.getByRole('button', { name: 'Export Users' }).isEnabled());
    seen.add(want);
  }
  assert.equal(seen.size, queries.length);
  // Clearing the box says every user is exported.
  await box().fill('');
  await count().filter({ hasText: 'No filter: every user is exported.' }).waitFor();
  assert.deepEqual(p.problems, []);
});

test('only the first 10,000 users are counted, from a plain or a gzipped file', async () => {
  // The 10,001st user (index 10000) matches, so reading one user too many shows.
  const query = 'app_metadata.plan:enterprise OR email:*.10000@example.com';
  const want = matches(FIRST, query);
  const oneMore = Buffer.from(BIG.split('\n').slice(0, 10_001).join('\n') + '\n');
  assert.equal(matches(oneMore, query), want + 1);
  const gz = join(tmp, 'users.bin');
  writeFileSync(gz, gzipSync(BIG));
  for (const file of [bigFile, gz]) {
    await p.reload();
    await p.page.getByLabel('Users file').setInputFiles(file);
    const got = await typeQuery(query);
    assert.equal(got.n, want, `${file}: ${got.text}`);
    assert.doesNotMatch(got.text, /the source has/);
  }
});

test('a JSON array file is counted whole, by the same core', async () => {
  const lines = SAMPLE.toString().trimEnd().split('\n');
  const array = join(tmp, 'users.json');
  writeFileSync(array, `[\n  ${lines.join(',\n  ')}\n]\n`);
  const query = 'email_verified:false AND NOT app_metadata.plan:free';
  const want = matches(SAMPLE, query);
  assert.ok(want > 0 && want < 1000);
  await p.reload();
  await p.page.getByLabel('Users file').setInputFiles(array);
  const got = await typeQuery(query);
  assert.equal(got.n, want, got.text);
  assert.match(got.text, /\(the source has 1,000 users\)/);
});

test('users fetched from Auth0 (Management API pages) are counted by the same core', async () => {
  // A stand-in for GET /api/v2/users serving the sample's first 120 users, 50 a page.
  const lines = SAMPLE.toString().trimEnd().split('\n').slice(0, 120);
  const server = createServer((req, res) => {
    const cors = { 'access-control-allow-origin': req.headers.origin ?? '*', 'access-control-allow-headers': 'authorization, accept' };
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end();
    const page = Number(new URL(req.url, 'http://x').searchParams.get('page') ?? 0);
    const users = lines.slice(page * 50, page * 50 + 50);
    res.writeHead(200, { ...cors, 'content-type': 'application/json' });
    res.end(`{"start":${page * 50},"limit":50,"length":${users.length},"users":[${users.join(',')}],"total":${lines.length}}`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    await p.reload();
    await p.page.getByLabel('Domain').fill(`http://127.0.0.1:${server.address().port}`);
    await p.page.getByLabel('Management API token').fill('test-token');
    await p.page.getByRole('button', { name: 'Fetch from Auth0' }).click();
    await p.page.locator('#source-status').filter({ hasText: /^Fetched 120 users/ }).waitFor();
    const query = 'app_metadata.plan:pro OR blocked:true';
    const want = matches(Buffer.from(lines.join('\n') + '\n'), query);
    assert.ok(want > 0 && want < 120);
    const got = await typeQuery(query);
    assert.equal(got.n, want, got.text);
    assert.match(got.text, /\(the source has 120 users\)/);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('typing stays smooth: counts run in the worker, a stale count never shows', async (t) => {
  await p.reload();
  await p.page.getByLabel('Users file').setInputFiles(bigFile);
  await p.page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => window.longTasks.push(...list.getEntries())).observe({ type: 'longtask' });
  });
  // Reading the new file's first megabyte for connection names is the page's, not the filter's.
  await p.page.locator('#connections option[value="github"]').waitFor({ state: 'attached' });
  const typing = await p.page.evaluate(() => performance.now());
  // Slower than the pause that starts a count: every prefix is counted (or refused), and the
  // later ones overtake the earlier.
  const query = 'logins_count:[1 TO 99]';
  await box().pressSequentially(query, { delay: 300 });
  const got = await typeQueryResult();
  // One whole query at once: the 250 ms typing pause, then the count of 10,000 users.
  await box().fill('');
  await count().filter({ hasText: 'No filter' }).waitFor();
  const pasted = Date.now();
  await box().fill('app_metadata.plan:pro');
  await typeQueryResult();
  const settleMs = Date.now() - pasted;
  assert.equal(got.n, matches(FIRST, query), got.text);
  const longTasks = await p.page.evaluate((from) => window.longTasks.filter((e) => e.startTime >= from).map((e) => e.duration), typing);
  t.diagnostic(`query to count of 10,000 users: ${settleMs} ms (250 ms of it the typing pause); main-thread tasks over 50 ms while typing: ${longTasks.length} (longest ${Math.round(Math.max(0, ...longTasks))} ms)`);
  assert.ok(longTasks.every((d) => d < 200), `long tasks: ${longTasks}`);
  assert.deepEqual(p.problems, []);
});

test('a bad query shows the core message with its position and disables Export Users', async () => {
  await p.reload();
  await p.page.getByRole('button', { name: 'Use sample users' }).click();
  const query = 'logins_count:[1 10]';
  await box().pressSequentially(query);
  const message = queryError(query);
  const error = p.page.locator('#filter-error');
  await error.filter({ hasText: message }).waitFor();
  assert.match(message, /position \d+/);
  assert.equal(await error.textContent(), message);
  assert.equal(await box().getAttribute('aria-invalid'), 'true');
  assert.ok((await box().getAttribute('aria-describedby')).split(' ').includes('filter-error'));
  const exportButton = p.page.getByRole('button', { name: 'Export Users' });
  assert.ok(await exportButton.isDisabled());
  assert.equal(await p.page.locator('#jobs tbody tr').count(), 0);
  // Mending it by keyboard enables the export again.
  await box().press('End');
  for (let i = 0; i < ' 10]'.length; i++) await box().press('ArrowLeft');
  await box().pressSequentially(' TO');
  await count().filter({ hasText: / users match/ }).waitFor();
  assert.equal(await box().inputValue(), 'logins_count:[1 TO 10]');
  assert.ok(await error.isHidden());
  assert.equal(await box().getAttribute('aria-invalid'), 'false');
  assert.ok(await exportButton.isEnabled());
  assert.deepEqual(p.problems, []);
});

test('an export with a query downloads the Node API bytes; the job shows how many matched', async () => {
  const query = 'app_metadata.plan:pro OR logins_count:[400 TO *]';
  for (const format of ['csv', 'json']) {
    await p.reload();
    await p.page.getByRole('button', { name: 'Use sample users' }).click();
    await configure(p.page, { tenant: 'acme', format, defaults: true });
    await typeQuery(query);
    const job = await exportUsers(p.page);
    assert.equal(job.status, 'completed', await job.row.textContent());
    const got = await download(p.page, job.row);
    const want = nodeExport(SAMPLE, { format, fields: PRESET }, { tenant: 'acme', query });
    assert.ok(got.bytes.equals(want.bytes), `${format}: the page's export differs from the Node API's`);
    assert.ok(want.stats.usersMatched > 0 && want.stats.usersMatched < 1000);
    const users = await job.row.locator('.users').textContent();
    assert.equal(users, `${want.stats.usersWritten} written, ${want.stats.usersMatched} matched`);
    await job.row.getByRole('button', { name: 'More info' }).click();
    const dialog = p.page.getByRole('dialog');
    await dialog.getByText(query, { exact: true }).waitFor();
    assert.equal(await dialog.locator('dt', { hasText: /^Users matched$/ }).locator('+ dd').textContent(), String(want.stats.usersMatched));
    await p.page.getByRole('button', { name: 'Close' }).click();
  }
  assert.deepEqual(p.problems, []);
});
