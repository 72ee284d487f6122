// The export pump: the source's users (NDJSON or JSON text, told apart by the core) -> the package's
// wasm Exporter (which gzips) -> R2, one chunk at a time.
import { Exporter } from 'userexport';
import { ndjsonReader } from './gunzip.js';
import { writeR2 } from './r2-writer.js';

const PUSH_BYTES = 256 * 1024;

/**
 * Runs one export. The encoder holds one record and one output chunk, the compressor its window,
 * the R2 writer one part. Returns the Exporter's stats and errors and the gzip size written.
 */
export async function exportToR2(source, rec, lenient, bucket, partBytes, onProgress) {
  const ex = new Exporter(rec.request, { tenant: rec.tenant, connection: rec.connection, lenient, gzip: true });
  const gzipped = new TransformStream();
  const writer = gzipped.writable.getWriter();
  const upload = writeR2(bucket, `${rec.id}/${rec.file}`, gzipped.readable, partBytes, { contentType: 'application/gzip' });
  const drain = async () => {
    for (let c = ex.pull(); c !== undefined; c = ex.pull()) {
      await writer.ready;
      await writer.write(c);
    }
  };
  // DecompressionStream hands out 4 KiB pieces; the encoder gets them in PUSH_BYTES batches so
  // the wasm calls and gzip writes per user stay few.
  const batch = new Uint8Array(PUSH_BYTES);
  let fill = 0;
  let pushed = 0;
  const push = async (bytes) => {
    // The core tells NDJSON from JSON text (COMPATIBILITY.md, "Telling NDJSON from JSON text").
    ex.push(bytes);
    pushed += bytes.byteLength;
    await drain();
    await onProgress(pushed);
  };
  const pump = async () => {
    const reader = await ndjsonReader(source);
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        const chunk = r.value;
        if (fill + chunk.byteLength > PUSH_BYTES && fill > 0) {
          await push(batch.subarray(0, fill));
          fill = 0;
          // When the streams settle without real I/O (R2 in workerd locally, cached reads) the
          // export would run as one chain of microtasks and starve every poll of this object;
          // a timer turn per batch lets them in.
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        if (chunk.byteLength >= PUSH_BYTES) await push(chunk);
        else {
          batch.set(chunk, fill);
          fill += chunk.byteLength;
        }
        // Past the limit nothing more is written, so the rest of the source is never read.
        if (ex.limitReached) break;
      }
      if (fill > 0 && !ex.limitReached) await push(batch.subarray(0, fill));
      ex.finish();
      await drain();
      await writer.close();
    } catch (e) {
      await writer.abort(e).catch(() => {});
      throw e;
    } finally {
      await reader.cancel().catch(() => {});
    }
    return { stats: ex.stats, errors: ex.errors };
  };
  try {
    const [summary, gzipBytes] = await Promise.all([pump(), upload]);
    return { ...summary, gzipBytes };
  } finally {
    ex.free();
  }
}
