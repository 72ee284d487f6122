// The runtime-neutral streaming harness around the wasm Exporter (Web APIs only: streams,
// DecompressionStream, File), bound to each runtime's initialised glue by the pkg/ entries.

const USER_BATCH = 512;

const isBytes = (v) => v instanceof Uint8Array || v instanceof ArrayBuffer;

/** Turns a source into an async iterator of items (byte/string chunks or user objects). */
function iterate(source) {
  if (source == null) throw Object.assign(new TypeError('exportStream needs a source'), { code: 'invalid_argument' });
  if (typeof source.getReader === 'function') return readerIterator(source.getReader());
  if (typeof Blob !== 'undefined' && source instanceof Blob) return readerIterator(source.stream().getReader());
  if (typeof source === 'string' || isBytes(source)) return (async function* () { yield source; })();
  if (Array.isArray(source)) return batches(source);
  if (typeof source[Symbol.asyncIterator] === 'function') return source[Symbol.asyncIterator]();
  if (typeof source[Symbol.iterator] === 'function') return source[Symbol.iterator]();
  throw Object.assign(new TypeError('the source must be a ReadableStream, a Blob, an (async) iterable, bytes or a string'), {
    code: 'invalid_argument',
  });
}

// Arrays of users go to wasm in batches: one JSON.stringify per batch instead of per user.
function* batches(array) {
  for (let i = 0; i < array.length; i += USER_BATCH) {
    const batch = array.slice(i, i + USER_BATCH);
    yield isBytes(batch[0]) || typeof batch[0] === 'string' ? batch : { batch, first: i };
  }
}

function readerIterator(reader) {
  return {
    next: () => reader.read(),
    return: async (reason) => {
      await reader.cancel(reason).catch(() => {});
      return { done: true };
    },
  };
}

/** Byte sources that start with the gzip magic (the core's isGzip) are gunzipped on the fly. */
async function gunzipIfNeeded(iter, isGzip) {
  const head = [];
  let size = 0;
  for (;;) {
    if (size >= 2) break;
    const { value, done } = await iter.next();
    if (done) break;
    if (!isBytes(value)) {
      head.push(value);
      return replay(head, iter);
    }
    const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : value;
    head.push(bytes);
    size += bytes.length;
  }
  const first = new Uint8Array(Math.min(size, 2));
  let n = 0;
  for (const b of head) for (let i = 0; i < b.length && n < first.length; i++) first[n++] = b[i];
  const replayed = replay(head, iter);
  if (!isGzip(first)) return replayed;
  const compressed = new ReadableStream(
    {
      async pull(controller) {
        const { value, done } = await replayed.next();
        if (done) controller.close();
        else controller.enqueue(value instanceof ArrayBuffer ? new Uint8Array(value) : value);
      },
      cancel: (reason) => replayed.return?.(reason),
    },
    { highWaterMark: 0 },
  );
  return readerIterator(compressed.pipeThrough(new DecompressionStream('gzip')).getReader());
}

function replay(head, iter) {
  let i = 0;
  return {
    next: async () => (i < head.length ? { value: head[i++], done: false } : iter.next()),
    return: async (reason) => (await iter.return?.(reason)) ?? { done: true },
  };
}

function splitOptions(options) {
  // Everything but onEnd is the Exporter's own option (gzip and the input form included), so
  // the Exporter checks them all, unknown keys too.
  const { onEnd, ...exporterOptions } = options ?? {};
  return { onEnd, exporterOptions };
}

/**
 * Feeds a source's items to `ex`: bytes and strings go in as they come, in the form the
 * `input` option names or the core tells (NDJSON streams; a JSON text is read whole when the
 * input ends); arrays of users go to pushUsers.
 */
function feeder(ex) {
  const push = (item) => {
    if (typeof item === 'string' || isBytes(item)) {
      ex.push(item);
    } else if (item && item.batch) {
      ex.pushUsers(item.batch, item.first);
    } else if (Array.isArray(item) && item.length && (typeof item[0] === 'string' || isBytes(item[0]))) {
      for (const chunk of item) push(chunk);
    } else {
      ex.pushUsers(item);
    }
  };
  return { push, finish: () => ex.finish() };
}

/**
 * One step of a feed when the core has nothing to pull: the source's next item in, or the input
 * finished (at the source's end, or at a reached limit, the source then left unread).
 * @returns {Promise<boolean>} whether the input is finished now
 */
async function feedStep(iter, feed, ex) {
  if (ex.limitReached) {
    await iter.return?.();
    feed.finish();
    return true;
  }
  const { value, done } = await iter.next();
  if (done) {
    feed.finish();
    return true;
  }
  feed.push(value);
  return false;
}

/**
 * Binds the harness to one runtime's glue (`Exporter`, `isGzip`, `exportFile`). `ready` resolves
 * once the wasm is loaded (browsers fetch it; Node and Workers load it synchronously).
 */
export function makeHarness(glue, ready = async () => {}) {
  const { Exporter, isGzip, exportFile } = glue;
  function exportStream(source, request, options) {
    const { onEnd, exporterOptions } = splitOptions(options);
    let ex = null;
    let feed = null;
    let iter = null;
    let finished = false;
    const free = () => {
      if (ex) {
        ex.free();
        ex = null;
      }
    };
    const started = (async () => {
      await ready();
      ex = new Exporter(request, exporterOptions);
      feed = feeder(ex);
      try {
        iter = await gunzipIfNeeded(iterate(source), isGzip);
      } catch (e) {
        free();
        throw e;
      }
    })();
    started.catch(() => {}); // reported through the stream, not as an unhandled rejection
    const out = new ReadableStream(
      {
        start: () => started,
        // Called only when the consumer reads (highWaterMark 0): wasm works as fast as the reader.
        async pull(controller) {
          // workerd may call pull() before start() has settled when the stream is piped.
          await started;
          if (!ex) return;
          try {
            for (;;) {
              const chunk = ex.pull();
              if (chunk) {
                controller.enqueue(chunk);
                return;
              }
              if (ex.done) {
                onEnd?.({ stats: ex.stats, errors: ex.errors });
                free();
                // A reached limit ends the export before the source does: stop reading it.
                if (!finished) await iter.return?.();
                controller.close();
                return;
              }
              if (finished) continue;
              finished = await feedStep(iter, feed, ex);
            }
          } catch (e) {
            free();
            await iter?.return?.(e);
            throw e;
          }
        },
        async cancel(reason) {
          free();
          await iter?.return?.(reason);
        },
      },
      { highWaterMark: 0 },
    );
    return out;
  }

  function createExportTransform(request, options) {
    const { onEnd, exporterOptions } = splitOptions(options);
    let ex = null;
    let feed = null;
    const free = () => {
      if (ex) {
        ex.free();
        ex = null;
      }
    };
    const drain = (controller) => {
      for (let chunk = ex.pull(); chunk; chunk = ex.pull()) controller.enqueue(chunk);
    };
    const transform = new TransformStream({
      async start() {
        await ready();
        ex = new Exporter(request, exporterOptions);
        feed = feeder(ex);
      },
      transform(chunk, controller) {
        try {
          if (ex.limitReached) return;
          feed.push(chunk);
          drain(controller);
        } catch (e) {
          free();
          throw e;
        }
      },
      flush(controller) {
        try {
          feed.finish();
          drain(controller);
          onEnd?.({ stats: ex.stats, errors: ex.errors });
        } finally {
          free();
        }
      },
      // @ts-expect-error Transformer.cancel is newer in the Streams spec than TypeScript's lib.
      cancel() {
        free();
      },
    });
    return transform;
  }

  async function exportToBlob(source, request, options = {}) {
    /** @type {import('./harness.js').ExportSummary | null} */
    let summary = null;
    const stream = exportStream(source, request, { ...options, onEnd: (s) => { summary = s; options.onEnd?.(s); } });
    const chunks = [];
    const reader = stream.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    // The core names and types the File; its bytes stay in the JS-owned chunks.
    const file = exportFile(chunks, request, splitOptions(options).exporterOptions);
    return { blob: file, file, fileName: file.name, stats: summary?.stats, errors: summary?.errors ?? [] };
  }

  async function downloadExport(source, request, options = {}) {
    const result = await exportToBlob(source, request, options);
    const url = URL.createObjectURL(result.blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = result.fileName;
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
    // Revoking at once can cancel the download in some browsers; a minute is plenty.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return result;
  }

  /**
   * Auth0's bulk-import files of a source (the core's `forImport`): each `<tenant>.import.NNN.json`
   * as a File, in order, and the users left out with why (also as the File
   * `<tenant>.import.unimportable.json`). Input is read as fast as the files fill.
   */
  async function exportForImport(source, request, options = {}) {
    const { onEnd, exporterOptions } = splitOptions(options);
    await ready();
    const ex = new Exporter(request, { ...exporterOptions, forImport: true });
    let iter = null;
    try {
      const feed = feeder(ex);
      iter = await gunzipIfNeeded(iterate(source), isGzip);
      const files = [];
      let parts = [];
      let finished = false;
      for (;;) {
        const chunk = ex.pullImport();
        if (chunk) {
          parts.push(chunk.bytes);
          if (chunk.endsFile) {
            files.push(new File(parts, chunk.fileName, { type: 'application/json' }));
            parts = [];
          }
          continue;
        }
        if (ex.done) break;
        if (finished) throw new Error('the export stopped before its end'); // the core always ends a finished export
        finished = await feedStep(iter, feed, ex);
      }
      const summary = { stats: ex.stats, errors: ex.errors };
      const result = { files, unimportable: ex.unimportable, unimportableFile: ex.unimportableFile(), ...summary };
      onEnd?.(summary);
      return result;
    } catch (e) {
      await iter?.return?.(e);
      throw e;
    } finally {
      ex.free();
    }
  }

  return { exportStream, createExportTransform, exportToBlob, downloadExport, exportForImport };
}
