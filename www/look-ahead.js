// The frame of the page's look-ahead workers (preview-worker.js, filter-worker.js): a request
// carries a `seq`, only the latest one is answered, and a newer one makes a running one give up.
import { isGzip } from '../pkg/userexport.js';

/**
 * Answers the worker's messages with `handle(data, superseded)` once `ready` resolves; posts
 * `{ seq, ...tag(data), ...result }` unless a newer request came in (or `handle` gave null), and
 * an error as `{ seq, ...tag(data), error: { message, code, line, index } }`.
 * @param {Promise<unknown>} ready
 * @param {(data: any, superseded: () => boolean) => Promise<object | null>} handle
 * @param {(data: any) => object} [tag]  what every answer to `data` carries besides its seq
 */
export function answerLatest(ready, handle, tag = () => ({})) {
  let latest = 0;
  self.onmessage = async ({ data }) => {
    latest = data.seq;
    await ready;
    if (data.seq !== latest) return;
    const superseded = () => data.seq !== latest;
    let result;
    try {
      result = await handle(data, superseded);
    } catch (e) {
      result = { error: { message: String(e?.message ?? e), code: e?.code, line: e?.line, index: e?.index } };
    }
    if (result && !superseded()) self.postMessage({ seq: data.seq, ...tag(data), ...result });
  };
}

/** A reader of a file's bytes, gunzipped when it starts with gzip's magic (the core's check). */
export async function bytesOf(blob) {
  const stream = blob.stream();
  const gz = isGzip(new Uint8Array(await blob.slice(0, 2).arrayBuffer()));
  return (gz ? stream.pipeThrough(new DecompressionStream('gzip')) : stream).getReader();
}
