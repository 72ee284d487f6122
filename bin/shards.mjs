// The CLI's threads: an NDJSON file cut into shards at line boundaries, exported on a pool of
// worker_threads Workers (bin/shard-worker.mjs) with the core's shard options, the results handed
// back in input order so the CLI writes one thread's bytes (COMPATIBILITY.md, "Threads").
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';

/** Below this many bytes a file is exported on one thread unless --threads asks for more:
 *  starting a Worker and its wasm costs tens of milliseconds, a few MB of export at most. */
export const SHARD_MIN_BYTES = 16 << 20;

/**
 * Where the shards start: after each cut, just past the first `\n` at or after the byte before it
 * (so a cut just after a `\n` stays where it is), never inside a line. Cuts that land in the same
 * line collapse; a shard is never empty.
 * @param {string} path
 * @param {number} size   the file's size
 * @param {number[]} cuts byte offsets, any order
 * @returns {Promise<{ start: number, end: number }[]>}
 */
export async function shardRanges(path, size, cuts) {
  const fh = await open(path, 'r');
  const starts = new Set([0]);
  try {
    const buf = Buffer.alloc(64 << 10);
    for (const cut of cuts) {
      if (!(cut > 0 && cut < size)) continue;
      let at = cut - 1;
      let start = size;
      while (at < size) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, at);
        const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
        if (nl >= 0) {
          start = at + nl + 1;
          break;
        }
        at += bytesRead;
      }
      if (start < size) starts.add(start);
    }
  } finally {
    await fh.close();
  }
  const sorted = [...starts].sort((x, y) => x - y);
  return sorted.map((start, k) => ({ start, end: sorted[k + 1] ?? size }));
}

/** Even cuts for `n` shards of a `size`-byte file. */
export const evenCuts = (size, n) => Array.from({ length: n - 1 }, (_, k) => Math.floor((size * (k + 1)) / n));

/**
 * @typedef {object} ShardResult
 * @property {number} k           the shard's place in the input
 * @property {{ start: number, end: number }} range
 * @property {Uint8Array[]} parts its output bytes, in order
 * @property {(part: Uint8Array) => void} release hands a part's buffer back to the threads once
 *                                 written (the part is unusable after)
 * @property {Record<string, number>} stats  the core's counts for the shard (lines: its own lines)
 * @property {object[]} errors    lenient: the records it skipped, with the stream's line numbers
 * @property {object} [failed]    strict: the error that stopped it, with the stream's line number
 * @property {number} consumed    bytes of the shard read up to the end of its last record
 * @property {boolean} limitReached the request's limit is reached with this shard
 * @property {{ crc32: number, bytes: number }} [segment] with gzip: the CRC-32 and length of its plain bytes
 */

/** A large file's shards are about this size: many more shards than threads, so the threads end
 *  together and each shard's output is small enough to wait in memory for its turn to be written
 *  (no part files, no copy of them). */
export const SHARD_BYTES = 4 << 20;
/** Shards started ahead of the one being written, per thread: what may wait in memory is at most
 *  this many shards' output per thread, whatever the file's size. */
export const SHARDS_AHEAD_PER_THREAD = 2;

/** How many shards a `size`-byte file is cut into for `threads` threads. */
export const shardCount = (size, threads) => Math.max(threads, Math.ceil(size / SHARD_BYTES));

/**
 * `threads` Workers (bin/shard-worker.mjs) that take shard jobs in the order they are queued,
 * each Worker one at a time; `run(job, { first })` queues one (first: ahead of the others) and
 * resolves with its result and its output buffers. A Worker that dies fails the job it held;
 * `close` stops them all.
 * @param {number} threads
 */
function workerPool(threads) {
  const queue = [];
  const idle = [];
  /** Each running Worker and the job it holds (null between jobs). */
  const held = new Map();
  let closed = false;
  let ids = 0;
  /** Which Worker filled each output buffer, to hand it back there. */
  const origin = new WeakMap();
  const next = (w) => {
    const job = queue.shift();
    if (job === undefined) {
      held.set(w, null);
      idle.push(w);
      return;
    }
    held.set(w, job);
    w.postMessage({ ...job.data, id: job.id });
  };
  for (let i = 0; i < threads; i++) {
    const w = new Worker(new URL('./shard-worker.mjs', import.meta.url));
    held.set(w, null);
    w.on('message', (m) => {
      const job = held.get(w);
      if (!job || m.id !== job.id) return;
      if (m.bytes) {
        job.parts.push(m.bytes);
        origin.set(m.bytes.buffer, w);
        return;
      }
      job.resolve({ ...m.result, parts: job.parts });
      next(w);
    });
    w.once('error', (e) => held.get(w)?.reject(e));
    w.once('exit', (code) => {
      held.get(w)?.reject(new Error(`a shard's thread stopped (exit code ${code}) before it reported`));
      held.delete(w);
    });
    idle.push(w);
  }
  return {
    run(data, { first = false } = {}) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(new Error('the threads are closed'));
        const job = { id: ids++, data, parts: [], resolve, reject };
        if (first) queue.unshift(job);
        else queue.push(job);
        const w = idle.pop();
        if (w) next(w);
      });
    },
    release(part) {
      const w = origin.get(part.buffer);
      if (!closed && w && held.has(w)) w.postMessage({ recycled: part.buffer }, [part.buffer]);
    },
    async close() {
      closed = true;
      queue.length = 0;
      await Promise.all([...held.keys()].map((w) => w.terminate()));
    },
  };
}

/**
 * Exports the ranges on `threads` Workers, in input order as Workers come free, and yields the
 * results in input order, each with its output. At most SHARDS_AHEAD_PER_THREAD shards per
 * thread are started past the one being yielded, so what waits in memory stays bounded. A shard
 * reports how many lines it read, so each is numbered from the lines of the ones before it; and
 * a limit stays exact: every shard may write the whole limit, and the one that would pass what
 * is left of it is run again with just that (a shard that writes fewer users than are left wrote
 * exactly what the one-thread export writes there). Workers still running when the caller stops
 * (a failure, the limit reached) are terminated.
 * @param {object} p
 * @param {string} p.path
 * @param {{ start: number, end: number }[]} p.ranges
 * @param {number} p.threads  Workers to run them on
 * @param {Record<string, any>} p.request  Auth0's request body (an object)
 * @param {Record<string, any>} p.options  the Exporter's options for the whole export
 * @returns {AsyncGenerator<ShardResult>}
 */
export async function* shardResults({ path, ranges, threads, request, options }) {
  const n = Math.max(1, Math.min(threads, ranges.length));
  const pool = workerPool(n);
  // The first shard starts the stream (line 1, BOM skipped, header); the others start past line
  // 1, with no header, and are renumbered below once the lines before them are known.
  const firstLine = (k) => (k === 0 ? 1 : 2);
  const job = (k, req) => ({
    path,
    ...ranges[k],
    request: req,
    options: { ...options, input: 'ndjson', firstLine: firstLine(k), writeHeader: k === 0, manifest: false, gzipSegment: Boolean(options.gzip) },
    head: k === 0 && Boolean(options.gzip),
  });
  const limit = typeof request.limit === 'number' ? request.limit : undefined;
  /** @type {Promise<any>[]} */
  const running = [];
  const startUpTo = (end) => {
    for (let j = running.length; j < Math.min(end, ranges.length); j++) {
      running.push(pool.run(job(j, request)));
      // Unobserved until its turn: a failure is reported in order, not as an unhandled rejection.
      running[j].catch(() => {});
    }
  };
  let written = 0;
  let linesBefore = 0;
  try {
    for (let k = 0; k < ranges.length; k++) {
      startUpTo(k + 1 + n * SHARDS_AHEAD_PER_THREAD);
      const left = limit === undefined ? undefined : limit - written;
      if (left === 0) return;
      let res = await running[k];
      running[k] = null;
      if (left !== undefined && left < limit && res.stats.usersWritten >= left) {
        for (const part of res.parts) pool.release(part);
        res = await pool.run(job(k, { ...request, limit: left }), { first: true });
      }
      const shift = linesBefore - (firstLine(k) - 1);
      const renumber = (e) => (e.line === undefined ? e : { ...e, line: e.line + shift });
      const lines = res.stats.lines - (firstLine(k) - 1);
      yield {
        k,
        range: ranges[k],
        parts: res.parts,
        release: pool.release,
        stats: { ...res.stats, lines },
        errors: res.errors.map(renumber),
        failed: res.failed && renumber(res.failed),
        consumed: res.consumed,
        limitReached: res.limitReached,
        segment: res.segment,
      };
      if (res.failed || res.limitReached) return;
      written += res.stats.usersWritten;
      linesBefore += lines;
    }
  } finally {
    await pool.close();
  }
}
