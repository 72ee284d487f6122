// "Fetch from Auth0" against a local stand-in for GET /api/v2/users: Auth0's paging shape
// {start,limit,length,users,total}, its 1000-result ceiling, the token used and never kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPage, configure, exportUsers, download, cli, PRESET } from './helpers.mjs';
import { sampleNdjson } from '../../www/sample.js';

const TOKEN = 'eyJ.test-token-7f3a9c';
const CAP_MESSAGE = 'You can only page through the first 1000 records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation.';

/** A stand-in tenant with `count` users; records every request it gets. */
async function standIn(count) {
  const lines = sampleNdjson(count).trimEnd().split('\n');
  const seen = [];
  const server = createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': req.headers.origin ?? '*',
      'access-control-allow-headers': 'authorization, accept',
      'access-control-allow-methods': 'GET',
    };
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end();
    const url = new URL(req.url, 'http://x');
    seen.push({ path: url.pathname, query: Object.fromEntries(url.searchParams), auth: req.headers.authorization });
    const send = (status, body) => res.writeHead(status, { ...cors, 'content-type': 'application/json' }).end(body);
    if (url.pathname !== '/api/v2/users') return send(404, '{"statusCode":404,"error":"Not Found","message":"Not Found"}');
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      return send(401, '{"statusCode":401,"error":"Unauthorized","message":"Invalid token","errorCode":"invalid_token"}');
    }
    const perPage = Number(url.searchParams.get('per_page') ?? 50);
    const page = Number(url.searchParams.get('page') ?? 0);
    const start = page * perPage;
    if (start + perPage > 1000) {
      return send(400, JSON.stringify({ statusCode: 400, error: 'Bad Request', message: CAP_MESSAGE, errorCode: 'invalid_paging' }));
    }
    const users = lines.slice(start, start + perPage);
    // Auth0's key order, with each user's text exactly as stored.
    send(200, `{"start":${start},"limit":${perPage},"length":${users.length},"users":[${users.join(',')}],"total":${lines.length}}`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, lines, close: () => new Promise((r) => server.close(r)) };
}

let p;
let tmp;
before(async () => {
  p = await openPage();
  tmp = mkdtempSync(join(tmpdir(), 'userexport-www-auth0-'));
});
after(async () => {
  await p?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function fetchFrom(auth0, token = TOKEN) {
  await p.reload();
  await p.page.getByLabel('Domain').fill(auth0.url);
  await p.page.getByLabel('Management API token').fill(token);
  await p.page.getByRole('button', { name: 'Fetch from Auth0' }).click();
  await p.page.locator('#source-status').filter({ hasText: /^(Fetched|Auth0 answered|Could not)/ }).waitFor();
  return p.page.locator('#source-status').textContent();
}

test('Fewer than 1000 users: every page fetched, and the export equals the CLI on the same users', async () => {
  const auth0 = await standIn(120);
  try {
    const status = await fetchFrom(auth0);
    assert.match(status, /^Fetched 120 users from 127\.0\.0\.1:\d+\.$/);
    assert.deepEqual(auth0.seen.map((r) => r.query), [0, 1, 2].map((page) => ({ per_page: '50', page: String(page), include_totals: 'true' })));
    assert.ok(auth0.seen.every((r) => r.auth === `Bearer ${TOKEN}`));
    assert.equal(await p.page.getByLabel('Management API token').inputValue(), '');

    await configure(p.page, { tenant: 'acme', format: 'json', defaults: true, fields: [{ name: 'app_metadata' }] });
    const job = await exportUsers(p.page);
    assert.equal(job.status, 'completed');
    const got = await download(p.page, job.row);
    const input = join(tmp, 'users.ndjson');
    writeFileSync(input, auth0.lines.join('\n') + '\n');
    assert.ok(got.bytes.equals(cli(input, { format: 'json', fields: [...PRESET, { name: 'app_metadata' }] })));

    // The token is nowhere in the origin's storage.
    const storage = await p.page.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      let text = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage });
      for await (const [, h] of root.entries()) if (h.kind === 'file') text += await (await h.getFile()).text();
      const dbs = (await indexedDB.databases()).map((d) => d.name);
      return { text, dbs };
    });
    assert.ok(!storage.text.includes('test-token'));
    assert.deepEqual(storage.dbs, []);
    assert.deepEqual(p.problems, []);
  } finally {
    await auth0.close();
  }
});

test('More than 1000 users: stops at Auth0\'s 1000-result ceiling and says so', async () => {
  const auth0 = await standIn(1234);
  try {
    const status = await fetchFrom(auth0);
    assert.match(status, /^Fetched 1000 of 1234 users from .*only the first 1000 users/);
    assert.equal(auth0.seen.length, 20);
    assert.ok(auth0.seen.every((r) => Number(r.query.page) < 20), 'no request past the ceiling');
    await configure(p.page, { tenant: 'acme', format: 'csv', defaults: true });
    const job = await exportUsers(p.page);
    assert.match(await job.row.locator('.users').textContent(), /^1,000 written$/);
  } finally {
    await auth0.close();
  }
});

test('A wrong token: Auth0\'s answer is shown and nothing is loaded', async () => {
  const auth0 = await standIn(10);
  try {
    const status = await fetchFrom(auth0, 'wrong');
    assert.equal(status, 'Auth0 answered 401 on page 0: Invalid token');
    assert.match(await p.page.locator('#source-status').getAttribute('class'), /error/);
    await p.page.getByRole('button', { name: 'Export Users' }).click();
    assert.match(await p.page.locator('#export-error').textContent(), /Choose users first/);
  } finally {
    await auth0.close();
  }
});

test('A plain-http domain other than this machine is refused before any request', async () => {
  await p.reload();
  await p.page.getByLabel('Domain').fill('http://acme.eu.auth0.com');
  await p.page.getByLabel('Management API token').fill(TOKEN);
  await p.page.getByRole('button', { name: 'Fetch from Auth0' }).click();
  await p.page.locator('#source-status').filter({ hasText: 'must use https' }).waitFor();
  assert.ok(!p.requests.some((u) => u.includes('auth0.com')));
});
