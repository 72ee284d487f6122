// One slice of an export task: plain NDJSON from a checkpoint's offset -> the wasm Exporter -> one deflate segment in R2.
import { Exporter } from 'userexport';
import { writeR2 } from './r2-writer.js';

const PUSH_BYTES = 256 * 1024;
/** Bytes of the source asked for per R2 range read. */
const READ_BYTES = 16 * 1024 * 1024;
/** A line longer than this is pushed before its end (the core skips or fails it); the slice then runs on to a line end. */
const HOLD_BYTES = 1024 * 1024;

/**
 * A task is a byte range `[start, end)` of a plain NDJSON object starting at a line boundary,
 * exported with `firstLine` (its first line's number), `limit` and `writeHeader`. Its checkpoint
 * `cp` says how far it got: `offset` (a line boundary), counts, and the slice objects written.
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
export async function runSlice(env, task, cp, sliceMs) {
  let t0 = Date.now();
  const remaining = task.limit === undefined ? undefined : task.limit - cp.written;
  const request = { ...task.request };
  delete request.limit;
  if (remaining !== undefined) request.limit = remaining;
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
  const drain = async () => {
    for (let c = ex.pull(); c !== undefined; c = ex.pull()) {
      await writer.ready;
      await writer.write(c);
    }
  };
  const work = async () => {
    const length = task.end - cp.offset;
    let held = new Uint8Array(0);
    if (length > 0) {
      const reader = rangeReader(env.USERS, task.source, cp.offset, task.end);
      try {
        for (let first = true; ; first = false) {
          const r = await reader.read();
          // The budget is for work: the wait for the first byte (R2's latency) does not count.
          if (first) t0 = Date.now();
          if (r.done) {
            atEnd = true;
            break;
          }
          held = concat(held, r.value);
          if (held.byteLength < PUSH_BYTES) continue;
          // Only whole lines go in, so the slice may end after any push.
          const cut = held.lastIndexOf(10) + 1;
          const take = cut > 0 ? cut : held.byteLength > HOLD_BYTES ? held.byteLength : 0;
          if (take === 0) continue;
          ex.pushNdjson(held.subarray(0, take));
          const midLine = cut === 0;
          pushed += take;
          held = held.slice(take);
          await drain();
          if (ex.limitReached) {
            atEnd = true;
            break;
          }
          if (!midLine && Date.now() - t0 >= sliceMs) break;
          // Let polls of this object in between batches (local R2 reads may not yield).
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      } finally {
        await reader.cancel().catch(() => {});
      }
    } else atEnd = true;
    if (atEnd && held.byteLength > 0 && !ex.limitReached) {
      ex.pushNdjson(held);
      pushed += held.byteLength;
    }
    ex.finish();
    await drain();
    await writer.close();
  };
  let stats;
  let errors;
  let segment;
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
  } finally {
    ex.free();
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
    done: atEnd || cp.offset + pushed >= task.end,
    seq: cp.seq + 1,
  };
  if (errors.length) await env.EXPORTS.put(`${task.prefix}/${String(cp.seq).padStart(6, '0')}.errors.json`, JSON.stringify(errors));
  return next;
}

/**
 * The bytes of `key` from `start` to `end`, read READ_BYTES at a time: a slice uses a few tens
 * of MiB, and one GET of the whole rest of a large source costs in proportion to its length
 * (measured locally: a 126 MB range read at ~100 KB/s, 16 MiB ranges at full speed).
 */
function rangeReader(bucket, key, start, end) {
  let at = start;
  let inner = null;
  return new ReadableStream(
    {
      async pull(controller) {
        for (;;) {
          if (!inner) {
            if (at >= end) return controller.close();
            const length = Math.min(READ_BYTES, end - at);
            const obj = await bucket.get(key, { range: { offset: at, length } });
            if (!obj) throw new Error(`The users source "${key}" is missing from the USERS bucket.`);
            at += length;
            inner = obj.body.getReader();
          }
          const r = await inner.read();
          if (!r.done) return controller.enqueue(r.value);
          inner = null;
        }
      },
      cancel: (reason) => inner?.cancel(reason),
    },
    { highWaterMark: 0 },
  ).getReader();
}

function concat(a, b) {
  if (a.byteLength === 0) return b;
  const c = new Uint8Array(a.byteLength + b.byteLength);
  c.set(a, 0);
  c.set(b, a.byteLength);
  return c;
}
