// Off the page's thread, the two looks at a users file before it is exported: the Preview (an
// Exporter with the page's very request and options, limited to five users, so its bytes are
// the export's first bytes) and "Discover fields" (the core's Discoverer over the first 10,000
// users). A newer request makes a running one give up.
import init, { Discoverer, Exporter } from '../pkg/userexport.js';
import { answerLatest, bytesOf } from './look-ahead.js';

/** Users the preview shows. */
export const PREVIEW_ROWS = 5;
/** Users "Discover fields" reads at most. */
export const DISCOVER_USERS = 10_000;
// A JSON text (array, page) is only read once whole: past this it is not previewed.
const MAX_BYTES = 64 << 20;

answerLatest(
  init(),
  (data, superseded) => (data.kind === 'discover' ? discover(data, superseded) : preview(data, superseded)),
  (data) => ({ kind: data.kind }),
);

/** The first bytes of the export: `{ text, format, rows, complete }`, or null when superseded. */
async function preview({ source, request, options }, superseded) {
  const limit = Math.min(PREVIEW_ROWS, request.limit ?? PREVIEW_ROWS);
  const { input = 'auto', ...rest } = options;
  // Gzip is how the file is stored, not what it holds: the preview shows the plain bytes.
  const opts = { ...rest, gzip: false };
  const ex = new Exporter({ ...request, limit }, source.kind === 'pages' ? opts : { ...opts, input });
  const chunks = [];
  const out = new Uint8Array(1 << 16);
  const drain = () => {
    for (let n = ex.pullInto(out); n; n = ex.pullInto(out)) chunks.push(out.slice(0, n));
  };
  try {
    const stopped = await feed(superseded, source, {
      push: (bytes) => ex.push(bytes),
      pushJson: (text) => ex.pushJson(text),
      drain,
      enough: () => ex.limitReached,
      finish: () => ex.finish(),
    });
    if (stopped === null) return null;
    if (stopped === 'too-large' && ex.stats.usersRead === 0) return { error: { message: `the first ${MAX_BYTES >> 20} MB hold no whole user: the preview reads NDJSON, or a JSON file up to that size` } };
    while (!ex.done) {
      const before = chunks.length;
      drain();
      if (chunks.length === before) break;
    }
    const text = new TextDecoder().decode(concat(chunks));
    return { text, format: ex.format, rows: ex.stats.usersWritten, complete: stopped === 'end', stats: ex.stats };
  } finally {
    ex.free();
  }
}

/** The Discoverer's result over the first users: `{ result, errors }`, or null when superseded. */
async function discover({ source, options }, superseded) {
  const d = new Discoverer({ maxUsers: DISCOVER_USERS, input: source.kind === 'pages' ? 'auto' : options.input ?? 'auto' });
  try {
    const stopped = await feed(superseded, source, {
      push: (bytes) => d.push(bytes),
      pushJson: (text) => d.pushJson(text),
      drain() {},
      enough: () => d.full,
      finish: () => d.finish(),
    });
    if (stopped === null) return null;
    if (stopped === 'too-large' && d.result().usersRead === 0) return { error: { message: `the first ${MAX_BYTES >> 20} MB hold no whole user: discovery reads NDJSON, or a JSON file up to that size` } };
    return { result: d.result(), errors: d.errors.slice(0, 20) };
  } finally {
    d.free();
  }
}

/**
 * Pushes the source into `sink` until it has `enough()` or the source ends (then `finish()`).
 * Resolves to 'enough', 'end', 'too-large', or null when a newer request came in.
 */
async function feed(superseded, source, sink) {
  if (source.kind === 'pages') {
    for (const text of source.pages) {
      sink.pushJson(text);
      sink.drain();
      if (sink.enough()) return 'enough';
    }
    sink.finish();
    sink.drain();
    return 'end';
  }
  const reader = await bytesOf(source.blob);
  let bytes = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (superseded()) return null;
      if (done) {
        sink.finish();
        sink.drain();
        return 'end';
      }
      bytes += value.length;
      sink.push(value);
      sink.drain();
      if (sink.enough()) return 'enough';
      if (bytes > MAX_BYTES) return 'too-large';
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function concat(chunks) {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}
