// The export itself, off the page's thread: reads the users file with File.stream(), pushes it
// through the wasm Exporter and writes the output in chunks to origin-private storage (OPFS), so
// memory stays flat whatever the file's size. Talks to the page by postMessage only.
// A large NDJSON file is cut at line boundaries and its shards exported at once, one Web Worker
// each (this same script, started with a `shard` message), the parts joined in order: the same
// bytes as one worker; gzipped, one gzip member that gunzips to them (COMPATIBILITY.md, "Threads").
// A `digest` message hashes a completed job's stored file for its manifest, when the page's
// Manifest action first asks: the export itself never hashes (sha256 in wasm runs at ~165 MB/s,
// about a quarter of a 1M-user export's time on its critical path).
import init, { Exporter, ImportZip, Sha256, crc32Combine, detectInput, gzipHeader, gzipMemberEnd, isGzip, manifestOf } from '../pkg/userexport.js';
import { exportsDir } from './jobs.js';

const PROGRESS_MS = 100; // the page promises an update at least every 250 ms: leave room for slow chunks
const FORMS = { auto: 'Auto', ndjson: 'NDJSON', json: 'JSON text' };
const OUT_BYTES = 1 << 16; // one pullInto buffer, reused for the whole export
// One input buffer, refilled by a BYOB reader: a fresh Uint8Array per File.stream() chunk is
// garbage V8 collects late (a dedicated worker's JS heap barely grows, so GC seldom runs), and
// at 1.2 GB it piled up to 100+ MiB of dead ArrayBuffers.
const READ_BYTES = 256 << 10;
// Below this a file is exported by one worker (unless the message names cut points): starting
// a worker and its wasm costs tens of milliseconds, a few MB of export at most.
// At or above it the default is a worker per core (at most 4), kept on after measuring 1M users
// (1.2 GB) paired on a 2-core VM that other jobs kept busy (load 4-8): to CSV, two workers ran at
// 0.94-1.05x of one, as two bare export loops did against one (0.93x): no idle core to win, and
// the split's own cost (a worker's start, the parts' copy: ~0.2 s of 6-9 s) is small; to CSV +
// gzip, where each byte costs more, two workers 1.50x (9.3 s against 14.0 s). Where a core is
// idle the shards run side by side (timestamps in both workers), and the bare loops' two workers
// ran 100k users 1.9x faster. Little to lose, much to win.
const SHARD_MIN_BYTES = 16 << 20;
// What the manifest's hashing reads at once from the stored file.
const HASH_READ_BYTES = 1 << 20;

const ready = init();
// Blob streams being read through a BYOB reader, held from here because Chromium does not keep
// such a stream alive while a read is pending: a full GC collected it and the export awaiting
// it, and the job hung at the first forced GC (tests/www/memory.test.mjs forces some).
const reading = new Set();

self.onmessage = async ({ data }) => {
  if (data.digest) {
    try {
      self.postMessage({ type: 'digest', ...(await digestStored(data.digest)) });
    } catch (e) {
      self.postMessage({ type: 'failed', error: { message: String(e?.message ?? e) } });
    }
    return;
  }
  if (data.shard) {
    try {
      self.postMessage(await runShard(data.shard));
    } catch (e) {
      self.postMessage({ type: 'done', failed: { message: String(e?.message ?? e) } });
    }
    return;
  }
  // `threads` (default: a worker per core, at most 4) and `cuts` (byte offsets) are for tests and
  // the bench; the page sends neither.
  const { id, source, request, options, threads, cuts } = data;
  let handle = null;
  const dir = await exportsDir();
  try {
    await ready;
    handle = await (await dir.getFileHandle(id, { create: true })).createSyncAccessHandle();
    handle.truncate(0);
    const onProgress = (p) => post(id, 'progress', p);
    // The page's file comes as kind 'blob' (the tests' and bench's as 'file'): any but API pages.
    const plan = source.kind !== 'pages' && !options.forImport ? await shardPlan(source.blob, options.input ?? 'auto', threads, cuts) : null;
    const result = plan
      ? await runSharded({ id, blob: source.blob, ranges: plan, request, options, handle, onProgress })
      : await runExport({ source, request, options, handle, onProgress });
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


async function runExport({ source, request, options, handle, onProgress, at = 0, manifest = true }) {
  // Gzip happens inside wasm: with CompressionStream, its output chunks were left to V8's rare
  // GCs in a worker whose JS heap barely grows (65 MiB of them at a million users).
  // A file's bytes go to the core in the form the page's "Input format" names (input: 'auto'
  // lets the core tell NDJSON from JSON text); Management API pages are JSON texts each.
  const { input: form = 'auto', ...opts } = options;
  // Every export job offers its manifest (an import's zip of several files has none): the core's,
  // without the digests, which are taken from the stored file when asked for.
  // (`at`, `manifest: false`: the first shard of a file on several workers, after a gzip header.)
  const startedAt = new Date().toISOString();
  const ex = new Exporter(request, source.kind === 'pages' ? opts : { ...opts, input: form });
  const started = performance.now();
  let lastReport = 0;
  let written = at;
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
    const stats = ex.stats;
    const errors = ex.errors;
    const told = opts.forImport || !manifest ? undefined : manifestFor(request, opts, stats, errors, startedAt);
    return { stats, errors, bytes: written, input, fileName: ex.describe().fileName, wasmMemory, manifest: told, segment: ex.gzipSegment, ...imported };
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

/**
 * The shards of a file that is exported on several workers, or null for one: an NDJSON file (not
 * gzipped, not a JSON text) of at least SHARD_MIN_BYTES, or any file when `cuts` are given. Each
 * shard starts just past the first `\n` at or after the byte before a cut, so never inside a line.
 */
async function shardPlan(blob, form, threads, cuts) {
  const n = threads ?? Math.min(navigator.hardwareConcurrency || 1, 4);
  if (form === 'json' || (!cuts && (n < 2 || blob.size < SHARD_MIN_BYTES))) return null;
  const bytes = async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer());
  if (isGzip(await bytes(0, 2))) return null;
  if (form === 'auto') {
    // The core's rule, asked of a growing prefix (a first line over 64 MiB: one worker).
    for (let len = 64 << 10; ; len *= 2) {
      const complete = len >= blob.size;
      const told = detectInput(await bytes(0, len), complete);
      if (told === 'json' || (!told && (complete || len >= 64 << 20))) return null;
      if (told) break;
    }
  }
  const at = cuts ?? Array.from({ length: n - 1 }, (_, k) => Math.floor((blob.size * (k + 1)) / n));
  const starts = new Set([0]);
  for (const cut of at) {
    if (!(cut > 0 && cut < blob.size)) continue;
    for (let from = cut - 1; from < blob.size; from += 64 << 10) {
      const nl = (await bytes(from, from + (64 << 10))).indexOf(0x0a);
      if (nl >= 0) {
        if (from + nl + 1 < blob.size) starts.add(from + nl + 1);
        break;
      }
    }
  }
  const sorted = [...starts].sort((x, y) => x - y);
  return sorted.length > 1 ? sorted.map((start, k) => ({ start, end: sorted[k + 1] ?? blob.size })) : null;
}

/** Where shards write their parts: not the exports folder, whose orphans the page sweeps. */
const partsDir = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('export-parts', { create: true });

/**
 * One shard, in a worker of its own: its slice of the file through the core into an OPFS part
 * file. Progress goes up as bytes read; the result carries the counts, the skipped records and
 * (strict) the error that stopped it.
 */
async function runShard({ partId, blob, request, options }) {
  self.postMessage({ type: 'started' });
  const dir = await partsDir();
  const handle = await (await dir.getFileHandle(partId, { create: true })).createSyncAccessHandle();
  handle.truncate(0);
  await ready;
  const ex = new Exporter(request, options);
  const out = new Uint8Array(OUT_BYTES);
  let written = 0;
  let read = 0;
  let last = 0;
  const drain = () => {
    for (let n = ex.pullInto(out); n; n = ex.pullInto(out)) written += handle.write(out.subarray(0, n), { at: written });
    if (performance.now() - last > PROGRESS_MS) {
      last = performance.now();
      self.postMessage({ type: 'progress', read });
    }
  };
  const src = await openInput(blob, (n) => (read += n));
  let failed;
  try {
    while (!ex.limitReached) {
      const chunk = await src.read();
      if (!chunk) break;
      ex.push(chunk);
      drain();
    }
    ex.finish();
    while (!ex.done) drain();
  } catch (e) {
    if (!e?.code) throw e;
    failed = { ...e, message: e.message };
  } finally {
    await src.cancel();
    handle.flush();
    handle.close();
  }
  // segment: with gzip, the CRC-32 and length of this part's plain bytes, for the member's trailer.
  const result = { type: 'done', failed, stats: ex.stats, errors: ex.stats.usersSkipped ? ex.errors : [], limitReached: ex.limitReached, segment: ex.gzipSegment };
  ex.free();
  return result;
}

/**
 * A file on several workers: the first shard here, straight into the job's file; the others in
 * workers of their own, each into a part file that is appended in order once the ones before it
 * are in. Errors get the stream's line numbers from the lines of the shards before them; a limit
 * stays exact (every shard may write the whole limit, the one that would pass what is left runs
 * again with just that). Nothing is hashed here: the manifest's digests are taken from the joined
 * file when the job's Manifest action asks (digestStored).
 */
async function runSharded({ id, blob, ranges, request, options, handle, onProgress }) {
  await ready;
  const started = performance.now();
  const { input: _form, ...rest } = options;
  const startedAt = new Date().toISOString();
  // A gzip export is one gzip member of the shards' segments (as the CLI's threads write it, so
  // DecompressionStream reads it whole): gzip's header, each shard's deflate ending in a sync
  // flush, then the member's end with the CRC-32 of every part's plain bytes combined.
  const segments = options.gzip ? { gzipSegment: true } : {};
  const head = options.gzip ? gzipHeader() : null;
  const member = { crc32: 0, bytes: 0 };
  const addSegment = (seg) => {
    member.crc32 = crc32Combine(member.crc32, seg.crc32, seg.bytes);
    member.bytes += seg.bytes;
  };
  const limit = typeof request.limit === 'number' ? request.limit : undefined;
  const reads = ranges.map(() => 0);
  const workers = new Set();
  const parts = await partsDir();
  // Resolved as each shard's worker starts running its script (see below).
  const begun = [];
  const start = (k, req) =>
    new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { type: 'module' });
      workers.add(w);
      let began;
      begun.push(new Promise((r) => (began = r)));
      w.onmessage = ({ data }) => {
        if (data.type === 'started') return began();
        if (data.type === 'progress') {
          reads[k] = data.read;
          return;
        }
        workers.delete(w);
        w.terminate();
        resolve(data);
      };
      w.onerror = (e) => {
        began();
        workers.delete(w);
        w.terminate();
        reject(new Error(`shard ${k}: ${e.message}`));
      };
      const shardOptions = { ...rest, ...segments, input: 'ndjson', firstLine: 2, writeHeader: false };
      w.postMessage({ shard: { partId: `${id}.part${k}`, blob: blob.slice(ranges[k].start, ranges[k].end), request: req, options: shardOptions } });
    });
  const running = ranges.map((_, k) => (k === 0 ? null : start(k, request)));
  for (const p of running) p?.catch(() => {});
  try {
    // A worker started from a worker loads its script through this one, and Chromium let that wait
    // behind the first shard's export: on 100k users the second shard's script first ran when the
    // first shard was done (timestamps in both workers), so the two shards ran one after the
    // other. The first shard starts once the others run; meanwhile (a worker's start can take a
    // few hundred ms on a busy machine) the page hears that the job runs, every PROGRESS_MS.
    const waiting = () => onProgress({ done: 0, total: blob.size, stats: null, elapsedMs: performance.now() - started, input: 'NDJSON' });
    waiting();
    const ticker = setInterval(waiting, PROGRESS_MS);
    await Promise.all(begun).finally(() => clearInterval(ticker));
    // The first shard is an ordinary export of the file's start.
    if (head) handle.write(head, { at: 0 });
    const first = await runExport({
      source: { kind: 'file', blob: blob.slice(0, ranges[0].end) },
      request,
      options: { ...options, ...segments, input: 'ndjson' },
      handle,
      onProgress: (p) => onProgress({ ...p, done: p.done + reads.reduce((a, b) => a + b, 0), total: blob.size }),
      at: head?.length ?? 0,
      manifest: false,
    });
    if (head) addSegment(first.segment);
    const stats = { ...first.stats };
    const errors = [...first.errors];
    let written = first.bytes;
    let linesBefore = first.stats.lines;
    let reachedLimit = first.stats.usersWritten === limit;
    for (let k = 1; k < ranges.length && !reachedLimit; k++) {
      const left = limit === undefined ? undefined : limit - stats.usersWritten;
      if (left === 0) break;
      let res = await running[k];
      if (left !== undefined && res.stats.usersWritten >= left) res = await start(k, { ...request, limit: left });
      const shift = linesBefore - 1;
      const renumber = (e) => (e.line === undefined ? e : { ...e, line: e.line + shift, message: e.message.replace(/^line \d+/, `line ${e.line + shift}`) });
      if (res.failed) throw Object.assign(new Error(renumber(res.failed).message), renumber(res.failed));
      errors.push(...res.errors.map(renumber));
      for (const key of Object.keys(stats)) if (key !== 'lines') stats[key] += res.stats[key];
      linesBefore += res.stats.lines - 1;
      stats.lines = linesBefore;
      reachedLimit = !!res.limitReached;
      if (head) addSegment(res.segment);
      // Append the part, in slices.
      const partHandle = await (await parts.getFileHandle(`${id}.part${k}`)).createSyncAccessHandle();
      try {
        const size = partHandle.getSize();
        const buf = new Uint8Array(1 << 20);
        for (let at = 0; at < size; ) {
          const n = partHandle.read(buf, { at });
          const chunk = buf.subarray(0, n);
          written += handle.write(chunk, { at: written });
          at += n;
        }
      } finally {
        partHandle.close();
      }
    }
    if (head) written += handle.write(gzipMemberEnd(member.crc32, member.bytes), { at: written });
    onProgress({ done: blob.size, total: blob.size, stats, elapsedMs: performance.now() - started, input: first.input });
    const { segment: _segment, ...done } = first;
    return { ...done, stats, errors, bytes: written, manifest: manifestFor(request, rest, stats, errors, startedAt), workers: ranges.length };
  } finally {
    for (const w of workers) w.terminate();
    // A shard's worker just ended may hold its part open a moment longer: retry (up to 5 s).
    for (let k = 1; k < ranges.length; k++) {
      for (let tries = 0; tries < 100; tries++) {
        const gone = await parts.removeEntry(`${id}.part${k}`).then(
          () => true,
          (e) => e?.name === 'NotFoundError',
        );
        if (gone) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

/**
 * The job's manifest once its export is done: the core's for these counts and skipped records,
 * `plain` / `gzip` null until digestStored hashes the stored file.
 */
function manifestFor(request, options, stats, errors, startedAt) {
  return manifestOf(request, options, { stats, skipped: errors.map((e) => e.code), startedAt, endedAt: new Date().toISOString() });
}

/**
 * The manifest's digests of a completed job's stored file (`exports/<id>`): sha256 and size of
 * its bytes and, for a gzip export, of the `.gz` bytes and of what they gunzip to (through the
 * browser's DecompressionStream). Read from a File snapshot, so the download stays available.
 */
async function digestStored({ id, gzip }) {
  await ready;
  const file = await (await (await exportsDir()).getFileHandle(id)).getFile();
  const plain = new Sha256();
  const packed = gzip ? new Sha256() : null;
  const digest = (h) => ({ sha256: h.hex(), bytes: h.bytes });
  try {
    if (gzip) {
      const tap = new TransformStream({
        transform(chunk, controller) {
          packed.update(chunk);
          controller.enqueue(chunk);
        },
      });
      const reader = file.stream().pipeThrough(tap).pipeThrough(new DecompressionStream('gzip')).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) plain.update(r.value);
    } else {
      // One reused buffer (as the export reads its input): no garbage per chunk.
      const reader = file.stream().getReader({ mode: 'byob' });
      let buffer = new ArrayBuffer(HASH_READ_BYTES);
      for (;;) {
        const { value, done } = await reader.read(new Uint8Array(buffer));
        if (done) break;
        plain.update(value);
        buffer = value.buffer;
      }
    }
    return { plain: digest(plain), gzip: packed && digest(packed) };
  } finally {
    plain.free();
    packed?.free();
  }
}
