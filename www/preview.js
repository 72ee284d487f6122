// The page's "Preview" and "Discover fields": what the export will write for the first five
// users (its very bytes, from the wasm Exporter in preview-worker.js) shown as a spreadsheet
// shows the cells and as raw text, and the paths the first 10,000 users hold, each one click
// from being a field.

const DEBOUNCE_MS = 200;

/**
 * The rows of CSV text as the core writes it (RFC 4180: `,` between cells, `"` quotes with `""`
 * inside, LF or CRLF between rows): the cells a spreadsheet shows. For display only; the tests
 * check it against papaparse.
 */
export function csvRows(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else cell += c;
      i++;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      if (c === '\r') i++;
    } else cell += c;
    i++;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/**
 * Wires the preview and discovery. `els`: the preview's status, table and raw `<pre>`, the
 * discover button, its status and list. `snapshot()` returns the page's request, options and
 * source (or an `error` that stops the preview); `addField(name)` adds a discovered path.
 * Returns `{ update() }`: the page calls it whenever the source, the request or an option changes.
 */
export function previewPanel(els, snapshot, addField) {
  // One worker per kind: a preview started by typing does not cancel a running discovery.
  const workers = new Map();
  const pending = new Map();
  let seq = 0;
  let timer = 0;

  function call(message) {
    const { kind } = message;
    if (!workers.has(kind)) {
      const worker = new Worker(new URL('./preview-worker.js', import.meta.url), { type: 'module' });
      worker.onmessage = ({ data }) => {
        const p = pending.get(kind);
        if (p && p.seq === data.seq) {
          pending.delete(kind);
          p.resolve(data);
        }
      };
      worker.onerror = () => pending.get(kind)?.resolve({ error: { message: 'the preview worker stopped' } });
      workers.set(kind, worker);
    }
    const id = ++seq;
    // A newer request of the same kind supersedes this one: it resolves with null.
    pending.get(kind)?.resolve(null);
    return new Promise((resolve) => {
      pending.set(kind, { seq: id, resolve });
      workers.get(kind).postMessage({ ...message, seq: id });
    });
  }

  function say(el, text, error = false) {
    el.textContent = text;
    el.classList.toggle('error', error);
  }

  async function runPreview() {
    timer = 0;
    const snap = snapshot();
    // The last preview stays in view until the next one replaces it (no flicker as one types).
    if (!snap.source || snap.error) clear();
    if (!snap.source) return say(els.status, 'Choose users to see the first rows of the export.');
    if (snap.error) return say(els.status, `No preview: ${snap.error}`, true);
    const answer = await call({ kind: 'preview', source: snap.source, request: snap.request, options: snap.options });
    if (!answer) return;
    els.status.setAttribute('aria-busy', 'false');
    if (answer.error) {
      clear();
      const where = answer.error.line !== undefined ? ` (line ${answer.error.line})` : answer.error.index !== undefined ? ` (index ${answer.error.index})` : '';
      return say(els.status, `The export would fail${where}: ${answer.error.message}`, true);
    }
    show(answer);
  }

  function clear() {
    els.status.setAttribute('aria-busy', 'false');
    els.table.replaceChildren();
    els.table.hidden = true;
    els.raw.hidden = true;
  }

  function show({ text, format, rows, complete }) {
    els.table.replaceChildren();
    els.table.hidden = true;
    const n = rows === 1 ? '1 user' : `${rows} users`;
    const kind = format === 'csv' ? 'CSV: the cells as a spreadsheet shows them, then the raw text' : 'NDJSON: one line per user';
    const none = complete
      ? 'No user is exported: the connection or the filter leaves every user out.'
      : 'None of the users read so far is exported: the connection or the filter leaves them out.';
    say(els.status, rows ? `First ${n} of the export, exactly as written (${kind}).` : none);
    els.raw.textContent = text;
    els.raw.hidden = false;
    if (format !== 'csv') return;
    const [head, ...body] = csvRows(text);
    const thead = els.table.createTHead().insertRow();
    for (const h of head ?? []) thead.appendChild(Object.assign(document.createElement('th'), { scope: 'col', textContent: h }));
    const tbody = els.table.createTBody();
    for (const cells of body) {
      const tr = tbody.insertRow();
      for (const c of cells) tr.insertCell().textContent = c;
    }
    els.table.hidden = false;
  }

  async function runDiscover() {
    const snap = snapshot();
    if (!snap.source) return say(els.discoverStatus, 'Choose users first.', true);
    els.discover.disabled = true;
    els.discoverStatus.setAttribute('aria-busy', 'true');
    say(els.discoverStatus, 'Scanning the first 10,000 users…');
    els.paths.replaceChildren();
    const answer = await call({ kind: 'discover', source: snap.source, options: { input: snap.options.input } });
    els.discover.disabled = false;
    els.discoverStatus.setAttribute('aria-busy', 'false');
    if (!answer) return;
    if (answer.error) return say(els.discoverStatus, `Could not scan: ${answer.error.message}`, true);
    listPaths(answer.result);
  }

  function listPaths(r) {
    const users = r.users.toLocaleString('en');
    const skipped = r.usersSkipped ? `, ${r.usersSkipped.toLocaleString('en')} bad records skipped` : '';
    const more = r.truncated ? ' Only the first 1,000 paths are listed.' : '';
    const first = r.complete ? `all ${users} users` : `the first ${users} users`;
    say(els.discoverStatus, `${r.paths.length} paths in ${first}${skipped}.${more} Press a path to add it as a field.`);
    const rows = r.paths.map((p) => {
      const tr = document.createElement('tr');
      const add = Object.assign(document.createElement('button'), { type: 'button', className: 'path' });
      add.append(...breakable(p.path));
      add.setAttribute('aria-label', `Add field ${p.path}`);
      add.addEventListener('click', () => addField(p.path));
      tr.insertCell().append(add);
      const pct = r.users ? Math.round((p.filled / r.users) * 100) : 0;
      tr.insertCell().textContent = `${p.filled.toLocaleString('en')} (${pct} %)`;
      tr.insertCell().textContent = p.kinds.join(', ');
      const ex = tr.insertCell();
      ex.className = 'example';
      ex.textContent = p.example ?? '';
      return tr;
    });
    els.paths.replaceChildren(...rows);
    els.pathsBox.hidden = rows.length === 0;
  }

  els.discover.addEventListener('click', runDiscover);

  return {
    /** Schedules a new preview (debounced: typing a field name does not start one per key). */
    update() {
      clearTimeout(timer);
      els.status.setAttribute('aria-busy', 'true');
      timer = setTimeout(runPreview, DEBOUNCE_MS);
    },
    /** A new source: the old discovery no longer applies. */
    reset() {
      els.paths.replaceChildren();
      els.pathsBox.hidden = true;
      say(els.discoverStatus, '');
    },
  };
}

/** Text nodes with a line-break opportunity (`<wbr>`) after each `.`, `_`, `-`, `|` and `]`. */
export function breakable(text) {
  const parts = [];
  for (const piece of text.split(/(?<=[._\-|\]])/)) {
    if (parts.length) parts.push(document.createElement('wbr'));
    parts.push(document.createTextNode(piece));
  }
  return parts;
}
