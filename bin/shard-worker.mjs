// The shards of a threaded CLI export, on a worker_threads Worker of bin/shards.mjs's pool, one
// at a time: a byte range of an NDJSON file (cut at line boundaries) through the core, its part
// of the output handed to the main thread in 1 MiB buffers (transferred, not copied), which
// writes the parts in input order and hands each buffer back once written.
import { open } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { Exporter, gzipHeader } from 'userexport';

/**
 * @typedef {object} ShardJob
 * @property {number} id         the job's number in the pool: its output messages carry it
 * @property {string} path       the input file
 * @property {number} start      first byte of the shard (just after a `\n`, or 0)
 * @property {number} end        one past its last byte (just after a `\n`, or the file's end)
 * @property {object} request    Auth0's request body (with the limit this shard may write)
 * @property {object} options    the Exporter's options (firstLine, writeHeader set per shard)
 * @property {boolean} [head]     write gzip's header first (the first shard of a --gzip export)
 */

/** Output goes to the main thread in buffers of this size (the last one of a shard shorter):
 *  one message per MiB, and the core's bytes copied once, straight into the buffer. */
const BATCH = 1 << 20;
/** Buffers the main thread has written and handed back: a few circulate instead of a new MiB
 *  per MiB of output left for the collector (that kept the process ~50 MiB larger at 1M users). */
const free = [];
const batch = () => free.pop() ?? new Uint8Array(BATCH);
/** The input is read into this one buffer (the core copies what it is pushed): a stream's new
 *  MiB per read would wait for the collector, tens of MiB per thread. */
const input = new Uint8Array(1 << 20);

/** @param {ShardJob} job */
async function run(job) {
  const ex = new Exporter(job.request, job.options);
  let buf = batch();
  let at = 0;
  const send = () => {
    if (at === 0) return;
    parentPort.postMessage({ id: job.id, bytes: buf.subarray(0, at) }, [buf.buffer]);
    buf = batch();
    at = 0;
  };
  const drain = () => {
    for (let n; (n = ex.pullInto(buf.subarray(at))) > 0; ) {
      at += n;
      if (at === BATCH) send();
    }
  };
  /** @type {{ failed?: object }} */
  const outcome = {};
  try {
    // The shards' gzip segments are one member: its header opens the first part.
    if (job.head) {
      const h = gzipHeader();
      buf.set(h);
      at = h.length;
    }
    // The same 1 MiB reads as the one-thread CLI: the core sees the same kind of chunks.
    const fh = await open(job.path, 'r');
    try {
      for (let at = job.start; at < job.end && !ex.limitReached; ) {
        const { bytesRead } = await fh.read(input, 0, Math.min(input.length, job.end - at), at);
        if (bytesRead === 0) throw new Error(`${job.path} ended at byte ${at}, before the ${job.end} it had when it was cut`);
        ex.push(input.subarray(0, bytesRead));
        drain();
        at += bytesRead;
      }
    } finally {
      await fh.close();
    }
    ex.finish();
    while (!ex.done) drain();
    send();
  } catch (e) {
    if (!e.code) throw e;
    outcome.failed = { ...e, message: e.message };
  }
  const result = {
    ...outcome,
    stats: ex.stats,
    // Copied out of wasm once, at the end: only lenient exports have any.
    errors: ex.stats.usersSkipped ? ex.errors : [],
    consumed: ex.consumedBytes,
    limitReached: ex.limitReached,
    // With gzip: the CRC-32 and length of this part's plain bytes, for the member's trailer.
    segment: ex.gzipSegment,
  };
  ex.free();
  free.push(buf);
  return result;
}

parentPort.on('message', async (m) => {
  if (m.recycled) free.push(new Uint8Array(m.recycled));
  else parentPort.postMessage({ id: m.id, result: await run(m) });
});
