// Plans an export: a plain source cut at line boundaries (R2 range reads) into K shards; a gzipped one read as it is gunzipped, or staged as plain NDJSON first when it is to be sharded.
import { isGzip } from 'userexport';
import { gunzipRange, readable } from './source.js';
import { writeR2 } from './r2-writer.js';

/** How far past a cut point a line end is looked for, per read. */
const PROBE_BYTES = 64 * 1024;

/** True when the object starts with gzip's magic bytes. */
export async function sourceIsGzip(bucket, key) {
  const head = await bucket.get(key, { range: { offset: 0, length: 2 } });
  if (!head) return null;
  return isGzip(new Uint8Array(await head.arrayBuffer()));
}

/**
 * The plain size a gzip object's trailer states (ISIZE: the length modulo 2^32 of its last
 * member), at least its compressed size: an estimate that only decides whether the source is
 * large enough to stage and shard (a wrapped ISIZE of a > 4 GiB source still counts its gz size).
 */
export async function gzipPlainSize(bucket, key, size) {
  if (size < 18) return size;
  const tail = await bucket.get(key, { range: { offset: size - 4, length: 4 } });
  const b = new Uint8Array(await tail.arrayBuffer());
  return Math.max(size, (b[0] | (b[1] << 8) | (b[2] << 16)) + b[3] * 2 ** 24);
}

/**
 * Gunzips `key` of USERS into `dest` (also in USERS) as plain NDJSON, one part in memory at a
 * time: gzip cannot be entered at an offset, so this is what makes a `.gz` source resumable and
 * splittable. Runs in one invocation (a crash repeats it); returns the plain size.
 */
export async function stage(env, key, dest, partBytes) {
  const head = await env.USERS.head(key);
  if (!head) throw new Error(`The users source "${key}" is missing from the USERS bucket.`);
  // A corrupt source fails here, named by the gunzipping reader.
  return writeR2(env.USERS, dest, readable(gunzipRange(env.USERS, key, head.size)), partBytes, { contentType: 'application/x-ndjson' });
}

/**
 * K byte ranges of a plain NDJSON object of `size` bytes, each starting at a line boundary (the
 * first at 0): cut points near size·i/K moved to just after the next `\n`. Fewer when lines are
 * long enough that two cut points meet.
 */
export async function splitRanges(bucket, key, size, k) {
  const starts = [0];
  for (let i = 1; i < k; i++) {
    let at = Math.max(Math.floor((size * i) / k), starts[starts.length - 1]);
    let found = -1;
    while (at < size && found < 0) {
      const part = await bucket.get(key, { range: { offset: at, length: Math.min(PROBE_BYTES, size - at) } });
      const bytes = new Uint8Array(await part.arrayBuffer());
      const nl = bytes.indexOf(10);
      if (nl >= 0) found = at + nl + 1;
      else at += bytes.byteLength;
    }
    if (found > 0 && found < size && found > starts[starts.length - 1]) starts.push(found);
  }
  return starts.map((start, i) => ({ start, end: starts[i + 1] ?? size }));
}

/** Shards for a plain source of `size` bytes: one per `shardBytes`, at most `maxShards`. */
export function shardCount(size, shardBytes, maxShards) {
  return Math.max(1, Math.min(maxShards, Math.ceil(size / shardBytes)));
}
