// The export page's logic: the form builds Auth0's export request, checks it with the wasm
// Exporter before anything runs, starts one Web Worker per job and shows the jobs table.
import init, { dashboardPreset, describeExport } from '../pkg/userexport.js';
import { sampleNdjson } from './sample.js';
import { fetchUsers } from './auth0.js';
import * as store from './jobs.js';
import { filterBox } from './filter.js';
import { previewPanel, breakable } from './preview.js';
import { storageMode, LARGE_BYTES } from './private.js';

const $ = (id) => document.getElementById(id);

const state = { source: null, fields: [], jobs: [] };
const JOBS_LOCK = 'userexport-jobs';
const workers = new Map();
// The Manifest action's hashing workers, by job id (one at most per job).
const digests = new Map();
const rows = new Map();

await init();
// The Dashboard's "Include default fields" preset, with its column names, as the core knows it.
const PRESET = dashboardPreset();

// A bad query blocks "Export Users"; its message stays beside the box.
const filter = filterBox({ input: $('filter'), error: $('filter-error'), status: $('filter-status') }, (ok) => {
  $('export').disabled = !ok;
});

// The first five users as the export writes them, and "Discover fields".
const preview = previewPanel(
  {
    status: $('preview-status'),
    table: $('preview-table'),
    raw: $('preview-raw'),
    discover: $('discover'),
    discoverStatus: $('discover-status'),
    paths: $('paths').tBodies[0],
    pathsBox: $('paths-box'),
  },
  snapshot,
  (name) => {
    if (!state.fields.some((f) => f.name === name && !f.export_as)) state.fields.push({ name });
    renderFields();
    check();
    preview.update();
    $('discover-status').textContent = `Added field ${name}.`;
  },
);
// How this browser keeps the page's files: in a private window, in memory (see private.js).
const storage = storageMode();

// ---- Users source ----------------------------------------------------------------------------

function setSource(source, message) {
  state.source = source;
  filter.setSource(source.payload);
  preview.reset();
  preview.update();
  warnPrivate();
  $('source-status').textContent = message;
  $('source-status').classList.remove('error');
  $('export-error').hidden = true;
}

function sourceError(message) {
  $('source-status').textContent = message;
  $('source-status').classList.add('error');
}

const size = (n) => (n < 1e3 ? `${n} B` : n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : n < 1e9 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e9).toFixed(2)} GB`);

function connectionsFrom(text) {
  const names = new Set([...text.matchAll(/"connection":"([^"\\]{1,128})"/g)].map((m) => m[1]));
  const choices = ['All connections', ...[...names].sort()];
  $('connections').replaceChildren(...choices.map((n) => Object.assign(document.createElement('option'), { value: n })));
}

async function useFile(file) {
  if (!file) return;
  setSource({ label: `${file.name} (${size(file.size)})`, payload: { kind: 'blob', blob: file } }, `Users file: ${file.name}, ${size(file.size)}.`);
  // Suggest connection names from the file's first megabyte (not from gzip: that needs inflating).
  connectionsFrom(await file.slice(0, 1 << 20).text());
}

$('file').addEventListener('change', () => useFile($('file').files[0]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer.files[0];
  if (!file) return;
  // The native input shows the dropped file too (keyboard and screen-reader users see it there).
  try {
    $('file').files = e.dataTransfer.files;
  } catch {
    // An input that will not take the list still leaves the source set below.
  }
  useFile(file);
});
// A file dropped beside the zone would make the browser leave the page to open it.
for (const type of ['dragover', 'drop']) {
  document.addEventListener(type, (e) => {
    if (drop.contains(e.target)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'none';
  });
}

$('sample').addEventListener('click', () => {
  const text = sampleNdjson(1000);
  const blob = new File([text], 'sample-users.ndjson', { type: 'application/x-ndjson' });
  setSource({ label: 'sample users (1000 generated)', payload: { kind: 'blob', blob } }, 'Sample: 1000 generated users (no real people).');
  connectionsFrom(text);
});

$('fetch').addEventListener('click', async () => {
  const button = $('fetch');
  button.disabled = true;
  $('source-status').classList.remove('error');
  try {
    const got = await fetchUsers($('domain').value, $('token').value, ({ fetched, total }) => {
      $('source-status').textContent = `Fetching from Auth0: ${fetched} of ${total} users…`;
    });
    const domain = new URL(`https://${$('domain').value.trim().replace(/^[a-z]+:\/\//i, '')}`).host;
    let message = `Fetched ${got.fetched} users from ${domain}.`;
    if (got.capped) {
      message = `Fetched ${got.fetched} of ${got.total} users from ${domain}: Auth0 lets GET /api/v2/users list only the first 1000 users. ` +
        "For all of them, run Auth0's own export job (Dashboard: User Management → Users → Export, or POST /api/v2/jobs/users-exports) and open its .gz file here.";
    }
    setSource({ label: `${got.fetched} users fetched from ${domain}`, payload: { kind: 'pages', pages: got.pages, total: got.fetched } }, message);
    connectionsFrom(got.pages.join(''));
  } catch (e) {
    sourceError(e.message);
  } finally {
    // The token was needed for these requests only.
    $('token').value = '';
    button.disabled = false;
  }
});

// ---- Request and its checks ------------------------------------------------------------------

function request() {
  const fields = [...($('defaults').checked ? PRESET : []), ...state.fields];
  const r = { format: $('format').value };
  if ($('sample-only').checked) r.limit = 10;
  if (fields.length) r.fields = fields;
  return r;
}

function options() {
  const connection = $('connection').value.trim();
  const all = connection === '' || connection === 'All connections'; // Auth0 connection names have no spaces
  const o = { tenant: $('tenant').value.trim(), connection: all ? undefined : connection, lenient: $('lenient').checked, gzip: $('gzip').checked };
  if ($('for-import').checked) o.forImport = true;
  return o;
}

/** What the preview and discovery read: the source, the request and options as a job would get them. */
function snapshot() {
  // The tenant only names the file: a bad one stops the export, not the preview.
  const { tenant: _tenant, ...opts } = options();
  const snap = { source: state.source?.payload, request: request(), options: { ...opts, query: filter.query(), input: $('input-format').value } };
  if (!filter.valid()) snap.error = 'the filter is not a valid query.';
  else {
    try {
      describeExport(snap.request, opts);
    } catch (e) {
      snap.error = e.message;
    }
  }
  return snap;
}

// "For re-import": Auth0's import files hold fixed properties as JSON, uncompressed, so the
// format, gzip and default-fields controls are set to what an import takes and locked.
$('for-import').addEventListener('change', () => {
  const on = $('for-import').checked;
  if (on) {
    $('format').value = 'json';
    $('gzip').checked = false;
    $('defaults').checked = false;
  }
  for (const id of ['format', 'gzip', 'defaults']) $(id).disabled = on;
  renderFields();
  check();
});

function showError(id, input, message) {
  const el = $(id);
  el.textContent = message ?? '';
  el.hidden = !message;
  input?.setAttribute('aria-invalid', message ? 'true' : 'false');
}

/** Asks the core whether the request is valid (as the Exporter will check it); puts its message beside the culprit. */
function check() {
  showError('tenant-error', $('tenant'));
  showError('fields-error', $('attribute'));
  try {
    $('file-name').textContent = describeExport(request(), options()).fileName;
    return true;
  } catch (e) {
    if (e.code === 'invalid_tenant') showError('tenant-error', $('tenant'), e.message);
    else showError('fields-error', $('attribute'), e.message);
    return false;
  }
}

function renderFields() {
  $('fields').replaceChildren(
    ...state.fields.map((f, i) => {
      const li = document.createElement('li');
      const text = document.createElement('span');
      text.textContent = f.export_as ? `${f.name} → ${f.export_as}` : f.name;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = 'Remove';
      remove.setAttribute('aria-label', `Remove ${f.name}`);
      remove.addEventListener('click', () => {
        state.fields.splice(i, 1);
        renderFields();
        check();
        preview.update();
        $('attribute').focus();
      });
      li.append(text, remove);
      return li;
    }),
  );
  $('fields-empty').hidden = state.fields.length > 0;
  $('fields-empty').textContent = $('defaults').checked
    ? 'Only the default fields above.'
    : "None: the export has Auth0's default fields (user_id, email, email_verified, username, phone_number, …).";
}

function addField() {
  const name = $('attribute').value.trim();
  const exportAs = $('column').value.trim();
  if (!name) {
    showError('fields-error', $('attribute'), 'Enter a user attribute, for example user_metadata.plan.');
    $('attribute').focus();
    return;
  }
  state.fields.push(exportAs ? { name, export_as: exportAs } : { name });
  $('attribute').value = '';
  $('column').value = '';
  renderFields();
  check();
  preview.update();
  $('attribute').focus();
}

$('add-field').addEventListener('click', addField);
for (const id of ['attribute', 'column']) {
  $(id).addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      addField();
    }
  });
}
for (const id of ['tenant', 'format', 'defaults', 'sample-only', 'gzip', 'connection']) {
  $(id).addEventListener(id === 'tenant' || id === 'connection' ? 'input' : 'change', () => {
    renderFields();
    check();
    if (id !== 'tenant' && id !== 'gzip') preview.update();
  });
}
for (const id of ['input-format', 'lenient']) $(id).addEventListener('change', () => preview.update());
$('filter').addEventListener('input', () => preview.update());

/** Before a large export in a window that keeps storage in memory, says so (see private.js). */
async function warnPrivate() {
  const el = $('private-warning');
  const bytes = state.source?.payload.kind === 'blob' ? state.source.payload.blob.size : 0;
  const mode = await storage;
  const mb = (bytes / 1e6).toFixed(0);
  if (bytes < LARGE_BYTES || mode === 'normal') {
    el.hidden = true;
    return;
  }
  el.textContent = mode === 'private'
    ? `This looks like a private window: the browser keeps this page's files in memory, so exporting this ${mb} MB file will grow the tab by hundreds of MiB (a 1M-user export grew it by 409 MiB) and the file is gone when the window closes. Open this page in a normal window for a large export.`
    : `A ${mb} MB file: if this is a private (incognito) window, the browser keeps the export in memory (a 1M-user export grew the tab by 409 MiB) and deletes it when the window closes. For a large export, use a normal window. (This browser does not let a page tell which kind of window it is in.)`;
  el.hidden = false;
}

// ---- Jobs ------------------------------------------------------------------------------------

$('export-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('export-error').hidden = true;
  filter.flush();
  if (!filter.valid()) {
    $('filter').focus();
    return;
  }
  if (!check()) {
    ($('tenant-error').hidden ? $('attribute') : $('tenant')).focus();
    return;
  }
  if (!state.source) {
    showError('export-error', null, 'Choose users first: a Users file, the sample users, or Fetch from Auth0.');
    $('file').focus();
    return;
  }
  const req = request();
  const opts = options();
  const input = $('input-format').value;
  const rec = {
    id: store.newJobId(),
    status: 'pending',
    format: req.format,
    limit: req.limit,
    fields: req.fields,
    connection: opts.connection,
    created_at: new Date().toISOString(),
    // What names and types the download: the core's description of this very request.
    request: req,
    options: opts,
    fileName: describeExport(req, opts).fileName,
    source: state.source.label,
    lenient: opts.lenient,
  };
  // The filter box's query (checked there) goes to the worker's Exporter with the other options.
  opts.query = rec.query = filter.query();
  state.jobs.unshift(rec);
  await store.saveJobs(state.jobs);
  render();
  rows.get(rec.id).scrollIntoView({ block: 'nearest' });
  announce(`Job ${rec.id} created: exporting ${rec.source} to ${rec.fileName}.`);

  const worker = new Worker(new URL('./export-worker.js', import.meta.url), { type: 'module' });
  workers.set(rec.id, worker);
  worker.onmessage = ({ data }) => onWorkerMessage(rec, data);
  worker.onerror = (ev) => finish(rec, { type: 'failed', error: { message: ev.message || 'The export worker stopped.' } });
  worker.postMessage({ id: rec.id, source: state.source.payload, request: req, options: { ...opts, input } });
});

function onWorkerMessage(rec, msg) {
  if (rec.status === 'cancelled') return;
  if (msg.type !== 'progress') return finish(rec, msg);
  const first = rec.status === 'pending';
  rec.status = 'processing';
  rec.percentage_done = msg.total ? Math.min(99, Math.floor((msg.done / msg.total) * 100)) : 0;
  if (msg.done > 0) rec.time_left_seconds = Math.ceil(((msg.elapsedMs / msg.done) * (msg.total - msg.done)) / 1000);
  rec.stats = msg.stats;
  rec.input = msg.input;
  if (first) store.saveJobs(state.jobs);
  render();
}

async function finish(rec, msg) {
  if (rec.status === 'cancelled') return;
  // Ended now, but kept in `workers` until the job's new status is set: until then the orphan
  // sweep must not take its file for a dead job's.
  workers.get(rec.id)?.terminate();
  const next = { ...rec };
  delete next.percentage_done;
  delete next.time_left_seconds;
  if (msg.type === 'done') {
    next.status = 'completed';
    // `manifest` has no digests yet (the Manifest action adds them); `workers`: how many exported it.
    Object.assign(next, { stats: msg.stats, bytes: msg.bytes, input: msg.input, wasmMemory: msg.wasmMemory, manifest: msg.manifest, workers: msg.workers ?? 1, completed_at: new Date().toISOString() });
    if (msg.importFiles !== undefined) Object.assign(next, { importFiles: msg.importFiles, unimportable: msg.unimportable });
    if (next.lenient) next.skipped = msg.errors;
  } else {
    next.status = 'failed';
    next.status_details = msg.error.message;
    next.error = msg.error;
  }
  // Saved before the row can show it (the clock's tick renders too): a page closed the moment a
  // job reads "completed" or "failed" keeps it so (tests/www/tabs.test.mjs closes it right then).
  await store.saveJobs(state.jobs.map((j) => (j === rec ? next : j)));
  if (rec.status === 'cancelled') return;
  delete rec.percentage_done;
  delete rec.time_left_seconds;
  Object.assign(rec, next);
  workers.delete(rec.id);
  if (rec.status === 'completed') {
    await store.renewLink(rec, Date.now());
    announce(`Job ${rec.id} completed: ${msg.stats.usersWritten.toLocaleString('en')} users in ${rec.fileName}.`);
  } else announce(`Job ${rec.id} failed: ${msg.error.message}`);
  render();
  // Again, from the live list: another job's save may have gone out in between.
  await store.saveJobs(state.jobs);
}

function announce(text) {
  $('jobs-status').textContent = text;
}

/** Stops a running job: its worker ends, its partial file is deleted, the job reads "cancelled". */
async function cancel(rec) {
  if (rec.status !== 'pending' && rec.status !== 'processing') return announce(`Job ${rec.id} is ${rec.status}: there is nothing to cancel.`);
  workers.get(rec.id)?.terminate();
  workers.delete(rec.id);
  rec.status = 'cancelled';
  rec.status_details = 'Cancelled: no file was kept.';
  delete rec.percentage_done;
  delete rec.time_left_seconds;
  render();
  // The ended worker may hold its file open a moment longer: retry until it is gone.
  await store.deleteExportFile(rec.id, { wait: true });
  await store.saveJobs(state.jobs);
  render();
  announce(`Job ${rec.id} cancelled: no file was kept.`);
}

async function checkStatus(rec) {
  await tick();
  if (rec.status === 'completed') await store.renewLink(rec, Date.now());
  const pct = rec.status === 'processing' ? ` (${rec.percentage_done ?? 0} %)` : '';
  const link = rec.status === 'completed' ? ', download link renewed for 60 seconds' : '';
  announce(`Job ${rec.id}: ${rec.status}${pct}${link}.`);
  render();
}

async function download(rec) {
  await tick();
  if (rec.status !== 'completed') return announce(`Job ${rec.id} is ${rec.status}: there is nothing to download.`);
  // As Auth0's extension does: a fresh link just before downloading if the old one lapsed.
  if (!rec.link || rec.link.expiresAt <= Date.now()) await store.renewLink(rec, Date.now());
  const a = document.createElement('a');
  a.href = rec.link.url;
  a.download = rec.link.name;
  document.body.append(a);
  a.click();
  a.remove();
  render();
}

/**
 * Saves the job's manifest as `<tenant>.manifest.json` (what the CLI's --manifest writes). The
 * export did not hash its bytes (that would slow every export for a file few ask for): the first
 * click hashes the stored file in a worker, the job keeps the digests, later clicks save at once.
 */
async function downloadManifest(rec) {
  if (rec.status !== 'completed' || !rec.manifest) return announce(`Job ${rec.id} has no manifest: only a completed export has one.`);
  if (!rec.manifest.plain) {
    if (digests.has(rec.id)) return announce(`Job ${rec.id}: the manifest's sha256 is still being computed.`);
    announce(`Job ${rec.id}: computing the sha256 of ${rec.fileName} for its manifest…`);
    let got;
    try {
      got = await digestOf(rec);
    } catch (e) {
      if (rec.status === 'completed') announce(`Job ${rec.id}: the manifest could not be made: ${e.message}`);
      return;
    } finally {
      render();
    }
    // Expired (its file deleted) while the hash ran: its worker was stopped, nothing to save.
    if (!got || rec.status !== 'completed' || !state.jobs.includes(rec)) return;
    rec.manifest = { ...rec.manifest, plain: got.plain, gzip: got.gzip };
    await store.saveJobs(state.jobs);
  }
  const name = `${rec.manifest.file.split('.')[0]}.manifest.json`;
  const url = URL.createObjectURL(new File([`${JSON.stringify(rec.manifest, null, 2)}\n`], name, { type: 'application/json' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  // Freed once the browser has had time to start the download (revoked at once, it may fail).
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
  announce(`Job ${rec.id}: manifest ${name} saved (sha256 ${(rec.manifest.gzip ?? rec.manifest.plain).sha256}).`);
}

/**
 * The digests of the job's stored file, from a worker of its own (hashing 300 MB takes seconds,
 * so never on the page's thread). Resolves to null when the worker is stopped (stopDigests).
 */
function digestOf(rec) {
  const worker = new Worker(new URL('./export-worker.js', import.meta.url), { type: 'module' });
  const running = new Promise((resolve, reject) => {
    const end = (then) => {
      worker.terminate();
      digests.delete(rec.id);
      then();
    };
    worker.onmessage = ({ data }) => end(() => (data.type === 'digest' ? resolve(data) : reject(new Error(data.error.message))));
    worker.onerror = (ev) => end(() => reject(new Error(ev.message || 'The worker stopped.')));
    digests.set(rec.id, { worker, stop: () => end(() => resolve(null)) });
  });
  worker.postMessage({ digest: { id: rec.id, gzip: rec.manifest.options.gzip } });
  render();
  return running;
}

/** Stops the hashing of a job that is no longer completed or no longer listed. */
function stopDigests() {
  for (const [id, d] of digests) {
    if (!state.jobs.some((j) => j.id === id && j.status === 'completed')) d.stop();
  }
}

function moreInfo(rec) {
  const body = $('info-body');
  body.replaceChildren();
  const add = (tag, text) => body.appendChild(Object.assign(document.createElement(tag), { textContent: text }));
  $('info-h').textContent = `Job ${rec.id}`;
  add('h3', 'Job');
  add('pre', JSON.stringify(store.jobObject(rec, Date.now()), null, 2)).tabIndex = 0;
  add('h3', 'Export');
  const s = rec.stats;
  const facts = [
    ['Source', rec.source],
    ['Read as', rec.input],
    ['File', rec.status === 'completed' ? `${rec.fileName} (${size(rec.bytes)})` : rec.fileName],
    ['Users read', s?.usersRead],
    ['Users written', s?.usersWritten],
    ['Query', rec.query],
    ['Users matched', rec.query ? s?.usersMatched : undefined],
    [rec.query ? 'Left out by the connection filter or the query' : 'Left out by the connection filter', s?.usersFiltered],
    ['Bad records skipped', s?.usersSkipped],
    ['Import files', rec.importFiles],
    ['Users that cannot be imported (listed in the zip)', rec.unimportable],
    ['Exporter memory (wasm heap)', rec.wasmMemory && size(rec.wasmMemory)],
  ].filter(([, v]) => v !== undefined && v !== '');
  const dl = body.appendChild(document.createElement('dl'));
  for (const [k, v] of facts) dl.append(Object.assign(document.createElement('dt'), { textContent: k }), Object.assign(document.createElement('dd'), { textContent: String(v) }));
  if (rec.status === 'failed') add('p', rec.status_details).className = 'error';
  if (rec.lenient && rec.skipped) {
    add('h3', `Skipped records (${rec.skipped.length})`);
    if (!rec.skipped.length) add('p', 'None: every record was read.');
    else {
      const table = body.appendChild(document.createElement('table'));
      table.className = 'skipped';
      const head = table.createTHead().insertRow();
      for (const h of ['Where', 'User id', 'Reason']) head.appendChild(Object.assign(document.createElement('th'), { textContent: h, scope: 'col' }));
      const tb = table.createTBody();
      for (const e of rec.skipped) {
        const row = tb.insertRow();
        const where = e.line !== undefined ? `line ${e.line}` : e.index !== undefined ? `index ${e.index}` : '';
        for (const v of [where, e.userId ?? '', e.message]) row.insertCell().textContent = v;
      }
    }
  }
  $('info').showModal();
}
$('info-close').addEventListener('click', () => $('info').close());

// ---- Jobs table ------------------------------------------------------------------------------

function row(rec) {
  if (rows.has(rec.id)) return rows.get(rec.id);
  const tr = document.createElement('tr');
  tr.dataset.job = rec.id;
  tr.innerHTML = `<td data-label="Job"><code></code><span class="meta"></span></td>
    <td data-label="Status"><span class="badge"></span><span class="details"></span></td>
    <td data-label="Progress"><progress max="100"></progress> <span class="pct"></span></td>
    <td data-label="Users" class="users"></td>
    <td data-label="Time left" class="left"></td>
    <td data-label="Actions" class="actions"><div></div></td>`;
  tr.querySelector('code').id = `${rec.id}-name`;
  tr.querySelector('progress').setAttribute('aria-label', `Progress of ${rec.id}`);
  for (const [label, action] of [['Check Status', checkStatus], ['Download export', download], ['More info', moreInfo], ['Manifest', downloadManifest], ['Cancel export', cancel]]) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.setAttribute('aria-describedby', `${rec.id}-name`);
    b.addEventListener('click', () => action(rec));
    tr.querySelector('.actions div').append(b);
  }
  rows.set(rec.id, tr);
  return tr;
}

function render() {
  const now = Date.now();
  const tbody = $('jobs').tBodies[0];
  $('jobs').hidden = state.jobs.length === 0;
  $('jobs-empty').hidden = state.jobs.length > 0;
  for (const [id, tr] of rows) {
    if (!state.jobs.some((r) => r.id === id)) {
      tr.remove();
      rows.delete(id);
    }
  }
  state.jobs.forEach((rec, i) => {
    const tr = row(rec);
    if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null);
    tr.className = rec.status;
    tr.querySelector('code').textContent = rec.id;
    const meta = `${new Date(rec.created_at).toLocaleString()} · ${rec.fileName}`;
    const metaEl = tr.querySelector('.meta');
    if (metaEl.textContent !== meta) metaEl.replaceChildren(`${new Date(rec.created_at).toLocaleString()} · `, ...breakable(rec.fileName));
    tr.querySelector('.badge').textContent = rec.status;
    let details = '';
    if (rec.status === 'failed' || rec.status === 'expired' || rec.status === 'cancelled') details = rec.status_details;
    else if (rec.status === 'completed') {
      details = rec.link && rec.link.expiresAt > now
        ? `Link valid ${Math.ceil((rec.link.expiresAt - now) / 1000)} s`
        : 'Link expired: Check Status renews it';
    }
    tr.querySelector('.details').textContent = details;
    const pct = rec.status === 'completed' ? 100 : rec.percentage_done ?? 0;
    const bar = tr.querySelector('progress');
    bar.value = pct;
    bar.hidden = rec.status === 'failed' || rec.status === 'expired' || rec.status === 'cancelled';
    tr.querySelector('.pct').textContent = bar.hidden ? '' : `${pct} %`;
    const s = rec.stats;
    tr.querySelector('.users').textContent = s
      ? `${s.usersWritten.toLocaleString('en')} written${rec.query ? `, ${s.usersMatched.toLocaleString('en')} matched` : ''}${s.usersSkipped ? `, ${s.usersSkipped} skipped` : ''}`
      : '—';
    tr.querySelector('.left').textContent = rec.status === 'processing' && rec.time_left_seconds !== undefined ? `${rec.time_left_seconds} s` : '—';
    const [, dl, , manifest, stop] = tr.querySelectorAll('.actions button');
    dl.disabled = rec.status !== 'completed';
    manifest.disabled = rec.status !== 'completed' || !rec.manifest;
    // While its sha256 is computed the button says so; the page goes on meanwhile.
    const hashing = digests.has(rec.id);
    manifest.setAttribute('aria-busy', String(hashing));
    const label = hashing ? 'Manifest (computing sha256…)' : 'Manifest';
    if (manifest.textContent !== label) manifest.textContent = label;
    // Only a running job can be cancelled; the others keep their actions in one row without it.
    stop.hidden = rec.status !== 'pending' && rec.status !== 'processing';
  });
}

async function tick() {
  if (await store.sweep(state.jobs, Date.now())) await store.saveJobs(state.jobs);
  stopDigests();
  render();
  await store.removeOrphans(state.jobs, workers);
}

// ---- Start -----------------------------------------------------------------------------------

/**
 * One tab owns the jobs list and the stored files: a second tab would overwrite the list with its
 * own and delete the other's files as orphans. The first tab holds a Web Lock for its lifetime;
 * resolves false (and the page waits) when another tab holds it.
 */
function ownTheJobs() {
  if (!navigator.locks) return Promise.resolve(true);
  return new Promise((resolve) => {
    navigator.locks.request(JOBS_LOCK, { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      return lock ? new Promise(() => {}) : undefined;
    });
  });
}

if (!(await ownTheJobs())) {
  $('other-tab').hidden = false;
  document.querySelector('main').inert = true;
  document.body.dataset.ready = 'other-tab';
  // When the other tab closes, this one starts over as the owner.
  navigator.locks.request(JOBS_LOCK, () => location.reload());
  await new Promise(() => {});
}

state.jobs = await store.loadJobs();
// A worker dies with its page: a job that was running when the page closed cannot finish.
const interrupted = state.jobs.filter((rec) => rec.status === 'pending' || rec.status === 'processing');
for (const rec of interrupted) {
  rec.status = 'failed';
  rec.status_details = 'The page was closed or reloaded while this export ran; start it again.';
  delete rec.percentage_done;
  delete rec.time_left_seconds;
}
if (interrupted.length) await store.saveJobs(state.jobs);
renderFields();
check();
preview.update();
await tick();
setInterval(tick, 1000);
document.body.dataset.ready = 'true';
keepForOffline();

/** Registers the service worker and hands it what this visit loaded, so the next can be offline. */
async function keepForOffline() {
  if (!('serviceWorker' in navigator)) return;
  await navigator.serviceWorker.register('sw.js');
  const sw = (await navigator.serviceWorker.ready).active;
  const urls = [location.href.split('#')[0], ...['export-worker.js', 'filter-worker.js', 'preview-worker.js', 'look-ahead.js'].map((f) => new URL(f, import.meta.url).href)];
  for (const e of performance.getEntriesByType('resource')) if (!urls.includes(e.name)) urls.push(e.name);
  navigator.serviceWorker.addEventListener('message', ({ data }) => {
    if (data?.type === 'cached') document.body.dataset.offline = 'ready';
  });
  sw.postMessage({ type: 'cache', urls });
}
