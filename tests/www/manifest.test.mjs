// The page's "Manifest" action in real Chromium: it saves <tenant>.manifest.json whose sha256s
// are node:crypto's of the downloaded export (plain and gzip), and the CLI's `verify` accepts it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openPage, configure, exportUsers, download, fixtures, readJson, root } from './helpers.mjs';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
let p;
let tmp;
before(async () => {
  p = await openPage();
  tmp = mkdtempSync(join(tmpdir(), 'userexport-www-manifest-'));
});
after(async () => {
  await p?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('Manifest: the page saves <tenant>.manifest.json matching the download, which verify accepts', async () => {
  const dir = join(fixtures, 'csv-sample');
  const request = readJson(join(dir, 'request.json'));
  const version = readJson(join(root, 'package.json')).version;
  for (const gzip of [false, true]) {
    await p.reload();
    await p.page.getByLabel('Users file').setInputFiles(join(dir, 'input.ndjson'));
    await configure(p.page, { tenant: 'acme', format: 'csv', fields: request.fields, gzip });
    const job = await exportUsers(p.page);
    assert.equal(job.status, 'completed');
    const got = await download(p.page, job.row);
    const [dl] = await Promise.all([p.page.waitForEvent('download'), job.row.getByRole('button', { name: 'Manifest' }).click()]);
    assert.equal(dl.suggestedFilename(), 'acme.manifest.json');
    const manifestPath = join(tmp, 'acme.manifest.json');
    writeFileSync(manifestPath, readFileSync(await dl.path()));
    const m = readJson(manifestPath);
    const plain = gzip ? gunzipSync(got.bytes) : got.bytes;
    assert.ok(plain.equals(readFileSync(join(dir, 'expected.csv'))));
    assert.equal(m.file, got.name);
    assert.equal(m.version, version);
    assert.deepEqual(m.request, { format: 'csv', fields: request.fields });
    assert.deepEqual(m.options, { query: null, connection: null, lenient: false, gzip });
    assert.deepEqual(m.plain, { sha256: sha256(plain), bytes: plain.length });
    assert.deepEqual(m.gzip, gzip ? { sha256: sha256(got.bytes), bytes: got.bytes.length } : null);
    assert.equal(m.counts.written, m.counts.read);
    assert.ok(m.startedAt <= m.endedAt);
    assert.match(await p.page.locator('#jobs-status').textContent(), new RegExp(`manifest acme\\.manifest\\.json saved \\(sha256 ${sha256(got.bytes)}\\)`));
    const file = join(tmp, got.name);
    writeFileSync(file, got.bytes);
    const out = execFileSync(process.execPath, [join(root, 'bin', 'userexport.mjs'), 'verify', file, manifestPath]).toString();
    assert.match(out, / OK /);
  }
  assert.deepEqual(p.problems, []);
});
