// Shared set-up for the export page's browser tests: the page's own server, Debian's Chromium
// driven by playwright-core with a fresh profile, and the CLI as the oracle for output bytes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { dashboardPreset } from 'userexport';
import { startServer } from '../../www/serve.mjs';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const fixtures = join(root, 'tests', 'fixtures');

/** Starts the server and a browser on the page; `close()` stops both and deletes the profile. */
export async function openPage({ viewport = { width: 1100, height: 900 }, clock = false } = {}) {
  const { server, url } = await startServer();
  const profile = mkdtempSync(join(tmpdir(), 'userexport-www-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      acceptDownloads: true,
      viewport,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (e) {
    server.close();
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  if (clock) await page.clock.install();
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor();
  return {
    page,
    context,
    url,
    profile,
    problems,
    requests,
    async reload() {
      await page.reload();
      await page.locator('body[data-ready="true"]').waitFor();
    },
    /** Stops the page's server (the browser stays): for the offline test. */
    async stopServer() {
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
    },
    async close() {
      await context.close().catch(() => {});
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Fills the form: `fields` typed one by one through "User Attribute" / "Field Name" / "Add Field". */
export async function configure(page, { tenant = 'acme', format = 'json', defaults = false, fields = [], connection, sample, gzip, lenient, input = 'Auto' } = {}) {
  await page.getByLabel('Input format', { exact: true }).selectOption({ label: input });
  await page.getByLabel('Tenant').fill(tenant);
  await page.getByLabel('Export Format').selectOption({ label: format === 'csv' ? 'CSV' : 'JSON' });
  await page.getByLabel('Include default fields').setChecked(defaults);
  for (const f of fields) {
    await page.getByLabel('User Attribute').fill(f.name);
    await page.getByLabel('Field Name').fill(f.export_as ?? '');
    await page.getByRole('button', { name: 'Add Field' }).click();
  }
  if (connection !== undefined) await page.getByLabel('Connection').fill(connection);
  await page.getByLabel('Export as Sample').setChecked(!!sample);
  await page.getByLabel('Gzip').setChecked(!!gzip);
  await page.getByLabel('Skip bad records').setChecked(!!lenient);
}

/** Clicks "Export Users" and waits for the new job (the table's first row) to finish. */
export async function exportUsers(page, { timeout = 60_000 } = {}) {
  const before = await page.locator('#jobs tbody tr').count();
  await page.getByRole('button', { name: 'Export Users' }).click();
  await page.locator('#jobs tbody tr').nth(before).waitFor();
  const row = page.locator('#jobs tbody tr').first();
  await row.locator('.badge').filter({ hasText: /^(completed|failed)$/ }).waitFor({ timeout });
  return { row, id: await row.locator('code').textContent(), status: await row.locator('.badge').textContent() };
}

/** Clicks the row's "Download export"; returns the suggested name, the bytes and the blob's MIME type. */
export async function download(page, row) {
  const [dl] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Download export' }).click()]);
  const path = await dl.path();
  // The link is a blob: URL of the File the page made: fetching it answers with that File's type.
  const type = await page.evaluate((url) => fetch(url).then((r) => r.headers.get('content-type')).catch(() => null), dl.url());
  return { name: dl.suggestedFilename(), bytes: readFileSync(path), type };
}

/** The CLI's output for the same input and request: the oracle the page must match byte for byte. */
export function cli(input, request, { tenant = 'acme', connection, lenient } = {}) {
  const args = [join(root, 'bin', 'userexport.mjs'), input, '--request', JSON.stringify(request), '--tenant', tenant, '--out', '-', '--quiet'];
  if (connection) args.push('--connection', connection);
  if (lenient) args.push('--lenient');
  return execFileSync(process.execPath, args, { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The Dashboard's "Include default fields" preset, as the core gives it to every host. */
export const PRESET = dashboardPreset();

export const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
