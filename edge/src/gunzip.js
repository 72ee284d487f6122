// A tenant's users object as NDJSON bytes: gunzipped when it starts with gzip's magic, and its plain size.
import { isGzip } from 'userexport';

/**
 * The NDJSON size of a users object, for percentage_done: its size, or for gzip the ISIZE
 * trailer (exact below 4 GiB; R2 reads come in chunks too large to count compressed bytes by).
 */
export async function plainSize(bucket, key, size) {
  if (size < 18) return size;
  const head = new Uint8Array(await (await bucket.get(key, { range: { offset: 0, length: 2 } })).arrayBuffer());
  if (!isGzip(head)) return size;
  const t = new Uint8Array(await (await bucket.get(key, { range: { suffix: 4 } })).arrayBuffer());
  return (t[0] | (t[1] << 8) | (t[2] << 16) | (t[3] << 24)) >>> 0;
}

/** A reader of the body's bytes, through DecompressionStream when the first chunk is gzip. */
export async function ndjsonReader(body) {
  const reader = body.getReader();
  const first = await reader.read();
  if (first.done) return reader;
  const head = first.value;
  const rest = new ReadableStream(
    {
      start(controller) {
        controller.enqueue(head);
      },
      async pull(controller) {
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return (isGzip(head) ? rest.pipeThrough(new DecompressionStream('gzip')) : rest).getReader();
}
