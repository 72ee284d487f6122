// One slice of an export task: NDJSON from a checkpoint's offset (an R2 range, or a gzip source gunzipped as read) -> the wasm Exporter -> one deflate segment in R2.
import { Exporter, initSync } from 'userexport';
import wasmModule from 'userexport/userexport_bg.wasm';
import { gunzipRange, rangeReader } from './source.js';
import { writeR2 } from './r2-writer.js';

/** The package's wasm memory (initSync returns the instance already made). */
const wasmMemory = () => initSync({ module: wasmModule }).memory;

/** Bytes pushed between drains of the output, checks of the clock and turns of the event loop. */
const PUSH_BYTES = 256 * 1024;
/** A line longer than this is pushed before its end (the core skips or fails it); the slice then runs on to a line end. */
const HOLD_BYTES = 1024 * 1024;

/**
 * A task is a byte range `[start, end)` of a plain NDJSON object starting at a line boundary,
 * or (`gzip: true`, `end: null`, `plainBytes` the size its trailer states) the whole of a gzip
 * object read as it is gunzipped, exported with `firstLine` (its first line's number), `limit` and `writeHeader`.
 * Its checkpoint `cp` says how far it got: `offset` (a line boundary of the plain bytes),
 * counts, and the slice objects written.
 */
export function freshCheckpoint(task) {
  return { offset: task.start, lines: 0, read: 0, written: 0, filtered: 0, skipped: 0, matched: 0, slices: [], errors: 0, done: false, seq: 0 };
}

/**
 * Runs one slice of `task` from `cp`: at most about `sliceMs` of work, ended at a line boundary,
 * its output written whole as `<prefix>/<seq>.gz` (a deflate segment, with the CRC-32 and
 * length of its plain bytes in the checkpoint) and its lenient
 * errors as `<prefix>/<seq>.errors.json`. Returns the next checkpoint; writes nothing else, so a
 * crash before the caller stores it only repeats this slice.
 */
export async function runSlice(env, task, cp, sliceMs, live = {}) {
  let t0 = Date.now();
  const remaining = task.limit === undefined ? undefined : task.limit - cp.written;
  const request = { ...task.request };
  delete request.limit;
  if (remaining !== undefined) request.limit = remaining;
  const src = task.gzip ? await gzipSource(env, task, cp, live) : { reader: rangeReader(env.USERS, task.source, cp.offset, task.end), held: [], heldBytes: 0 };
  const ex = new Exporter(request, {
    tenant: task.tenant,
    connection: task.connection,
    lenient: task.lenient,
    gzip: true,
    // A segment of the one gzip member the download is (joined with the core's gzipHeader and gzipMemberEnd), not a member of its own.
    gzipSegment: true,
    input: 'ndjson',
    firstLine: task.firstLine + cp.lines,
    writeHeader: task.writeHeader && cp.seq === 0,
  });
  const key = `${task.prefix}/${String(cp.seq).padStart(6, '0')}.gz`;
  const gz = new TransformStream();
  const writer = gz.writable.getWriter();
  const upload = writeR2(env.EXPORTS, key, gz.readable, task.partBytes, { contentType: 'application/gzip' });
  let pushed = 0;
  let atEnd = false;
  let wasmBytes = cp.wasmBytes ?? 0;
  // Bytes read past the last line end: the start of a line, pushed with the chunk that ends it.
  let { held, heldBytes } = src;
  const drain = async () => {
    for (let c = ex.pull(); c !== undefined; c = ex.pull()) {
      await writer.ready;
      await writer.write(c);
    }
  };
  // Pushes the held chunks up to byte `cut` of chunk `k` (each as it is: the core joins a line
  // split across pushes, so each byte is copied once, into wasm memory); what follows waits.
  const pushUpTo = (k, cut) => {
    for (let i = 0; i < k && !ex.limitReached; i++) ex.pushNdjson(held[i]);
    if (!ex.limitReached) ex.pushNdjson(held[k].subarray(0, cut));
    const rest = [held[k].subarray(cut), ...held.slice(k + 1)].filter((c) => c.byteLength > 0);
    const restBytes = rest.reduce((n, c) => n + c.byteLength, 0);
    pushed += heldBytes - restBytes;
    held = rest;
    heldBytes = restBytes;
  };
  const pushHeld = () => pushUpTo(held.length - 1, held[held.length - 1].byteLength);
  const work = async () => {
    if (!task.gzip && task.end - cp.offset <= 0) atEnd = true;
    else {
      for (let first = true; ; first = false) {
        const r = await src.reader.read();
        // The budget is for work: the wait for the first byte (R2's latency) does not count.
        if (first) t0 = Date.now();
        if (r.done) {
          atEnd = true;
          break;
        }
        // Chunks (256 KiB range reads or pulls of the Gunzip) are held until PUSH_BYTES have
        // come, then pushed up to the last line end, so the slice may end after any batch.
        held.push(r.value);
        heldBytes += r.value.byteLength;
        if (heldBytes < PUSH_BYTES) continue;
        let k = held.length;
        let cut = 0;
        while (k > 0 && cut === 0) cut = held[--k].lastIndexOf(10) + 1;
        const lineEnd = cut > 0;
        if (lineEnd) pushUpTo(k, cut);
        // A line longer than HOLD_BYTES goes in before its end (the core skips or fails it).
        else if (heldBytes > HOLD_BYTES) pushHeld();
        else continue;
        await drain();
        if (ex.limitReached) {
          atEnd = true;
          break;
        }
        if (lineEnd && Date.now() - t0 >= sliceMs) break;
        // Let polls of this object in between batches (local R2 reads and gunzip may not yield).
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    if (atEnd && heldBytes > 0 && !ex.limitReached) pushHeld();
    ex.finish();
    // The isolate's wasm linear memory: what the Exporters running in it hold at their largest.
    wasmBytes = Math.max(wasmBytes, wasmMemory().buffer.byteLength);
    await drain();
    await writer.close();
  };
  let stats;
  let errors;
  let segment;
  let keep = false;
  try {
    await Promise.all([
      work().catch(async (e) => {
        await writer.abort(e).catch(() => {});
        throw e;
      }),
      upload,
    ]);
    stats = ex.stats;
    errors = ex.errors;
    segment = ex.gzipSegment;
    // A gunzipping reader stays open in this object for the next slice (gzip cannot be entered
    // at an offset); the held start of a line goes with it.
    if (task.gzip && !atEnd) {
      live.stream = { prefix: task.prefix, offset: cp.offset + pushed, reader: src.reader, held, heldBytes };
      keep = true;
    }
  } finally {
    ex.free();
    if (!keep) await src.reader.cancel().catch(() => {});
  }
  const bytes = await upload;
  const next = {
    ...cp,
    offset: cp.offset + pushed,
    lines: cp.lines + (stats.lines - (task.firstLine + cp.lines - 1)),
    read: cp.read + stats.usersRead,
    written: cp.written + stats.usersWritten,
    filtered: cp.filtered + stats.usersFiltered,
    skipped: cp.skipped + stats.usersSkipped,
    matched: cp.matched + stats.usersMatched,
    slices: [...cp.slices, { bytes, errors: errors.length, crc32: segment.crc32, plain: segment.bytes }],
    errors: cp.errors + errors.length,
    wasmBytes,
    done: atEnd || (!task.gzip && cp.offset + pushed >= task.end),
    seq: cp.seq + 1,
  };
  if (errors.length) await env.EXPORTS.put(`${task.prefix}/${String(cp.seq).padStart(6, '0')}.errors.json`, JSON.stringify(errors));
  return next;
}

/**
 * The plain bytes of a gzip source from the checkpoint's offset: the reader the previous slice
 * of this task left open in this object when there is one at that offset, else (after a restart,
 * an eviction or a lost checkpoint) the object gunzipped from its start with the first `offset`
 * plain bytes read and dropped (no parsing: a restart costs a gunzip of what was done, once).
 */
async function gzipSource(env, task, cp, live) {
  const kept = live.stream;
  live.stream = null;
  if (kept?.prefix === task.prefix && kept.offset === cp.offset) return kept;
  if (kept) await kept.reader.cancel().catch(() => {});
  const head = await env.USERS.head(task.source);
  if (!head) throw new Error(`The users source "${task.source}" is missing from the USERS bucket.`);
  const reader = gunzipRange(env.USERS, task.source, head.size);
  let skip = cp.offset;
  let sinceYield = 0;
  const held = [];
  while (skip > 0) {
    const r = await reader.read();
    if (r.done) throw new Error(`The users source "${task.source}" ends before the checkpoint's offset ${cp.offset}.`);
    if (r.value.byteLength > skip) held.push(r.value.subarray(skip));
    skip -= Math.min(skip, r.value.byteLength);
    sinceYield += r.value.byteLength;
    // Other requests of this object get a turn (a long local gunzip never waits on I/O).
    if (sinceYield >= 8 * 1024 * 1024) {
      sinceYield = 0;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  return { prefix: task.prefix, offset: cp.offset, reader, held, heldBytes: held.reduce((n, h) => n + h.byteLength, 0) };
}
