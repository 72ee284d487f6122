// The shards of a threaded CLI export, on a worker_threads Worker of bin/shards.mjs's pool, one
// at a time: a byte range of an NDJSON file (cut at line boundaries) through the core, its part
// of the output to a file.
import { createReadStream, createWriteStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { Exporter, gzipHeader } from 'userexport';

/**
 * @typedef {object} ShardJob
 * @property {string} path       the input file
 * @property {number} start      first byte of the shard (just after a `\n`, or 0)
 * @property {number} end        one past its last byte (just after a `\n`, or the file's end)
 * @property {string} partPath   where its output goes
 * @property {object} request    Auth0's request body (with the limit this shard may write)
 * @property {object} options    the Exporter's options (firstLine, writeHeader set per shard)
 * @property {boolean} [head]     write gzip's header first (the first shard of a --gzip export)
 */

/** @param {ShardJob} job */
async function run(job) {
  const ex = new Exporter(job.request, job.options);
  const sink = createWriteStream(job.partPath, { highWaterMark: 8 << 20 });
  const write = async (chunk) => {
    if (!sink.write(chunk)) await new Promise((r) => sink.once('drain', r));
  };
  const drain = async () => {
    for (let c = ex.pull(); c; c = ex.pull()) await write(c);
  };
  /** @type {{ failed?: object }} */
  const outcome = {};
  try {
    // The shards' gzip segments are one member: its header opens the first part.
    if (job.head) await write(gzipHeader());
    // The same 1 MiB reads as the one-thread CLI: the core sees the same kind of chunks.
    if (job.end > job.start) {
      for await (const c of createReadStream(job.path, { start: job.start, end: job.end - 1, highWaterMark: 1 << 20 })) {
        ex.push(c);
        await drain();
        if (ex.limitReached) break;
      }
    }
    ex.finish();
    while (!ex.done) await drain();
  } catch (e) {
    if (!e.code) throw e;
    outcome.failed = { ...e, message: e.message };
  }
  await new Promise((resolve, reject) => {
    sink.once('error', reject);
    sink.end(resolve);
  });
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
  return result;
}

parentPort.on('message', async (job) => parentPort.postMessage(await run(job)));
