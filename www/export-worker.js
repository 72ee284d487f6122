// The export itself, off the page's thread: reads the users file with File.stream(), pushes it
// through the wasm Exporter and writes the output in chunks to origin-private storage (OPFS), so
// memory stays flat whatever the file's size. Talks to the page by postMessage only.
import init, { Exporter, ImportZip, isGzip } from '../pkg/userexport.js';
import { exportsDir } from './jobs.js';

const PROGRESS_MS = 100; // the page promises an update at least every 250 ms: leave room for slow chunks
const FORMS = { auto: 'Auto', ndjson: 'NDJSON', json: 'JSON text' };
const OUT_BYTES = 1 << 16; // one pullInto buffer, reused for the whole export
// One input buffer, refilled by a BYOB reader: a fresh Uint8Array per File.stream() chunk is
// garbage V8 collects late (a dedicated worker's JS heap barely grows, so GC seldom runs), and
// at 1.2 GB it piled up to 100+ MiB of dead ArrayBuffers.
const READ_BYTES = 256 << 10;

const ready = init();
// Blob streams being read through a BYOB reader, held from here because Chromium does not keep
// such a stream alive while a read is pending: a full GC collected it and the export awaiting
// it, and the job hung at the first forced GC (tests/www/memory.test.mjs forces some).
const reading = new Set();

self.onmessage = async ({ data }) => {
  const { id, source, request, options } = data;
  let handle = null;
  const dir = await exportsDir();
  try {
    await ready;
    handle = await (await dir.getFileHandle(id, { create: true })).createSyncAccessHandle();
    handle.truncate(0);
    const result = await runExport({ source, request, options, handle, onProgress: (p) => post(id, 'progress', p) });
    handle.flush();
    handle.close();
    handle = null;
    post(id, 'done', result);
  } catch (e) {
    handle?.close();
    // Strict mode: no partial file is ever offered.
    await dir.removeEntry(id).catch(() => {});
    const error = { message: String(e?.message ?? e) };
    for (const k of ['code', 'line', 'index', 'userId', 'page']) if (e?.[k] !== undefined) error[k] = e[k];
    post(id, 'failed', { error });
  }
};

function post(id, type, payload) {
  self.postMessage({ id, type, ...payload });
}


async function runExport({ source, request, options, handle, onProgress }) {
  // Gzip happens inside wasm: with CompressionStream, its output chunks were left to V8's rare
  // GCs in a worker whose JS heap barely grows (65 MiB of them at a million users).
  // A file's bytes go to the core in the form the page's "Input format" names (input: 'auto'
  // lets the core tell NDJSON from JSON text); Management API pages are JSON texts each.
  const { input: form = 'auto', ...rest } = options;
  // manifest: every job offers its manifest, so the core hashes the bytes as they are pulled
  // (an import's zip of several files has none).
  const opts = rest.forImport ? rest : { ...rest, manifest: true };
  const ex = new Exporter(request, source.kind === 'pages' ? opts : { ...opts, input: form });
  const started = performance.now();
  let lastReport = 0;
  let written = 0;
  let bytesRead = 0;
  let input = 'NDJSON';
  let src = null;
  const total = source.kind === 'pages' ? source.total : source.blob.size;
  const report = (force) => {
    const now = performance.now();
    if (!force && now - lastReport < PROGRESS_MS) return;
    lastReport = now;
    const done = source.kind === 'pages' ? ex.stats.usersRead : bytesRead;
    onProgress({ done, total, stats: ex.stats, elapsedMs: now - started, input });
  };

  // Output side: the exporter's bytes (gzipped by it when asked) copied into one reused buffer
  // and appended to the OPFS file: no array per chunk, so nothing waits for a GC.
  const out = new Uint8Array(OUT_BYTES);
  let drain = async () => {
    for (let n = ex.pullInto(out); n; n = ex.pullInto(out)) written += handle.write(out.subarray(0, n), { at: written });
    report(false);
  };
  // For re-import: each import file (at most 500,000 bytes) gathered whole, then stored in the
  // job's one file as an entry of a store-only zip, so the job keeps one download.
  const zip = opts.forImport ? new ImportZip() : null;
  // The list of users left out leaves wasm memory as it grows (the wasm heap never shrinks).
  const listParts = [];
  if (zip) {
    let parts = [];
    drain = async () => {
      for (let c = ex.pullImport(); c; c = ex.pullImport()) {
        parts.push(c.bytes);
        if (!c.endsFile) continue;
        const file = new Uint8Array(await new Blob(parts).arrayBuffer());
        parts = [];
        written += handle.write(zip.add(c.fileName, file), { at: written });
      }
      listParts.push(ex.takeUnimportableJson(false));
      report(false);
    };
  }

  try {
    if (source.kind === 'pages') {
      // Management API pages fetched by the page: each is one JSON text.
      input = 'Management API pages';
      for (const [page, text] of source.pages.entries()) {
        try {
          ex.pushJson(text);
        } catch (e) {
          e.page = page;
          e.message = `page ${page}: ${e.message}`;
          throw e;
        }
        await drain();
        if (ex.limitReached) break;
      }
    } else {
      src = await openInput(source.blob, (n) => (bytesRead += n));
      const { read, gzipped } = src;
      const how = gzipped ? ' (gzip)' : '';
      input = `${FORMS[form]}${how}`;
      while (!ex.limitReached) {
        // push copies the bytes into wasm memory, so the buffer can be refilled next.
        const chunk = await read();
        if (!chunk) break;
        ex.push(chunk);
        await drain();
      }
    }
    ex.finish();
    // Only NDJSON is counted in lines: what the core made of an "Auto" file, for More info.
    if (source.kind !== 'pages' && form === 'auto') {
      input = input.replace('Auto', ex.stats.lines > 0 || ex.stats.bytesIn === 0 ? 'NDJSON' : 'JSON text');
    }
    while (!ex.done) await drain();
    let imported = {};
    if (zip) {
      listParts.push(ex.takeUnimportableJson(true));
      const list = new Uint8Array(await new Blob(listParts).arrayBuffer());
      // The core names the list (its File holds nothing now: every entry was taken above).
      written += handle.write(zip.add(ex.unimportableFile().name, list), { at: written });
      written += handle.write(zip.finish(), { at: written });
      imported = { importFiles: ex.importFiles.length, unimportable: ex.unimportableCount };
    }
    report(true);
    // The wasm heap never shrinks: its size now is the most it needed (flat memory, visible).
    const wasmMemory = (await ready).memory.buffer.byteLength;
    // The manifest: the core hashed the file's bytes (plain and gzip) as they were pulled.
    const manifest = zip ? undefined : ex.manifest();
    return { stats: ex.stats, errors: ex.errors, bytes: written, input, fileName: ex.describe().fileName, wasmMemory, manifest, ...imported };
  } finally {
    // Stops reading a file left unread (a limit reached, a bad record).
    await src?.cancel();
    zip?.free();
    ex.free();
  }
}

/**
 * The file's bytes, gunzipped when it starts with gzip's magic: `read()` resolves to the next
 * chunk, or null at the end. A chunk is only valid until the next `read()` (the plain file is
 * read into one reused buffer). `count` sees the raw bytes read.
 */
async function openInput(blob, count) {
  const gzipped = isGzip(new Uint8Array(await blob.slice(0, 2).arrayBuffer()));
  if (!gzipped) {
    const stream = blob.stream();
    const byob = byobReader(stream);
    if (byob) {
      let buffer = new ArrayBuffer(READ_BYTES);
      let ended = false;
      reading.add(stream);
      return {
        gzipped,
        async read() {
          if (ended) return null;
          const { value, done } = await byob.read(new Uint8Array(buffer));
          // The read transferred the buffer: it comes back in `value` (empty at the end).
          buffer = value?.buffer;
          if (done) {
            ended = true;
            reading.delete(stream);
            return null;
          }
          count(value.length);
          return value;
        },
        cancel() {
          if (ended) return Promise.resolve();
          ended = true;
          reading.delete(stream);
          return byob.cancel().catch(() => {});
        },
      };
    }
  }
  const counted = blob.stream().pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        count(chunk.length);
        controller.enqueue(chunk);
      },
    }),
  );
  const reader = (gzipped ? counted.pipeThrough(new DecompressionStream('gzip')) : counted).getReader();
  return {
    gzipped,
    async read() {
      const { value, done } = await reader.read();
      return done ? null : value;
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

/** A BYOB reader when the browser's Blob.stream() is a byte stream (the File API says it is). */
function byobReader(stream) {
  try {
    return stream.getReader({ mode: 'byob' });
  } catch {
    return null;
  }
}
