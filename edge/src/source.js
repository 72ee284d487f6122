// Reading the users source from R2: range reads of a plain object, gunzipping reads of a gzip one (inside the wasm core), and the error that names a bad source.
import { Gunzip } from 'userexport';

/** Bytes of the source asked for per R2 range read. */
const READ_BYTES = 16 * 1024 * 1024;
/** Bytes of a plain source per chunk a range reader gives (the slice pushes PUSH_BYTES at a time). */
const SOURCE_CHUNK_BYTES = 256 * 1024;
/** Compressed bytes of a gzip source per push into the core's Gunzip: one chunk of the range reader. */
const GZ_PUSH_BYTES = 64 * 1024;
/**
 * Most plain bytes one pull of the Gunzip gives (out of one buffer in wasm memory, allocated with
 * the Gunzip before any slice's Exporter): a slice's batch in one pull. The wasm heap stays flat
 * over slices and exports (test/large.test.mjs: 3.3-3.8 MiB with 256 KiB pulls, 3.6-4.1 with 32).
 */
const GZ_PLAIN_BYTES = 256 * 1024;

/** A corrupt or truncated gzip source fails the job (the core's `invalid_gzip`, with its code) naming the source. */
function gzipSourceError(key, e) {
  if (e?.code === 'invalid_gzip' && !e.message.startsWith('The users source')) e.message = `The users source "${key}" is not a valid gzip file: ${e.message}`;
  return e;
}

/**
 * A reader of the gunzipped bytes of `compressed` (a range reader of GZ_PUSH_BYTES chunks),
 * gunzipped inside the wasm core (its Gunzip: CRC-32 and length of every member checked): a chunk
 * is pushed only when the plain bytes already pushed are all read, so nothing is gunzipped ahead
 * of the slice, and plain bytes come out of one reused buffer. It
 * replaced workerd's DecompressionStream, whose 4 KiB chunks and promise round trips cost as much
 * as the export itself and whose garbage grew workerd's RSS (SCALE.md, "Memory per shard").
 */
function gunzipReader(compressed, key) {
  let gunzip = new Gunzip({ chunkSize: GZ_PLAIN_BYTES });
  const free = () => {
    gunzip?.free();
    gunzip = null;
  };
  /** The next chunk of compressed bytes (empty at the end), and whether the source ended. */
  const gather = async () => {
    const r = await compressed.read();
    return r.done ? { bytes: new Uint8Array(0), ended: true } : { bytes: r.value, ended: false };
  };
  // One gather ahead: R2's reads go on while the slice gunzips and exports what came before.
  let ahead = null;
  return {
    async read() {
      try {
        for (;;) {
          if (!gunzip) return { done: true, value: undefined };
          const plain = gunzip.pull();
          if (plain) return { done: false, value: plain };
          if (gunzip.done) {
            free();
            return { done: true, value: undefined };
          }
          const { bytes, ended } = await (ahead ?? gather());
          ahead = ended ? null : gather();
          // A cancel meanwhile makes the read ahead fail; nobody waits for it then.
          ahead?.catch(() => {});
          if (!gunzip) return { done: true, value: undefined }; // cancelled while reading
          if (bytes.byteLength > 0) gunzip.push(bytes);
          if (ended) gunzip.finish();
        }
      } catch (e) {
        free();
        throw gzipSourceError(key, e);
      }
    },
    async cancel(reason) {
      free();
      await compressed.cancel(reason).catch(() => {});
    },
  };
}

/**
 * The bytes of `key` from `start` to `end` as a reader of chunks of `chunkBytes` (fewer at the
 * end of a range), read READ_BYTES at a time: a slice uses a few tens of MiB, and one GET of the
 * whole rest of a large source costs in proportion to its length (measured locally: a 126 MB
 * range read at ~100 KB/s, 16 MiB ranges at full speed). Each chunk fills a fresh buffer through
 * a BYOB reader: R2 bodies give 4 KiB chunks, and a read and a promise per 4 KiB cost more than
 * the gunzip of them (a CPU profile of the edge's export: bench/profile.mjs).
 */
export function rangeReader(bucket, key, start, end, chunkBytes = SOURCE_CHUNK_BYTES) {
  let at = start;
  let inner = null;
  return {
    async read() {
      for (;;) {
        if (!inner) {
          if (at >= end) return { done: true, value: undefined };
          const length = Math.min(READ_BYTES, end - at);
          const obj = await bucket.get(key, { range: { offset: at, length } });
          if (!obj) throw new Error(`The users source "${key}" is missing from the USERS bucket.`);
          at += length;
          inner = obj.body.getReader({ mode: 'byob' });
        }
        const view = new Uint8Array(chunkBytes);
        // workerd's readAtLeast fills the view unless the range ends first.
        const r = await inner.readAtLeast(chunkBytes, view);
        if (r.value?.byteLength) return { done: false, value: r.value };
        if (r.done) inner = null;
      }
    },
    async cancel(reason) {
      await inner?.cancel(reason);
      inner = null;
      at = end;
    },
  };
}

/** The plain bytes of the gzip object `key` of `size` bytes, read as they are gunzipped. */
export function gunzipRange(bucket, key, size) {
  return gunzipReader(rangeReader(bucket, key, 0, size, GZ_PUSH_BYTES), key);
}

/**
 * A reader as a ReadableStream that gives the event loop a turn every MiB: locally R2 reads
 * settle without real I/O, and a gunzip of a large object would otherwise run as one chain of
 * microtasks that starves every other request of the isolate (workerd then drops their connections).
 */
export function readable(reader) {
  let since = 0;
  return new ReadableStream(
    {
      async pull(controller) {
        const r = await reader.read();
        if (r.done) return controller.close();
        controller.enqueue(r.value);
        since += r.value.byteLength;
        if (since >= 1024 * 1024) {
          since = 0;
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
