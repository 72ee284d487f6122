// Streams bytes into an R2 object with at most one part in memory: one put when small, multipart when not.

/** R2 wants every multipart part but the last to have one size, at least 5 MiB. */
export const DEFAULT_PART_BYTES = 5 * 1024 * 1024;

/** Writes `stream` to `bucket`/`key`; returns the number of bytes written. */
export async function writeR2(bucket, key, stream, partBytes, httpMetadata) {
  const reader = stream.getReader();
  const buf = new Uint8Array(partBytes);
  let fill = 0;
  let total = 0;
  let upload = null;
  const parts = [];
  const flushPart = async () => {
    upload ??= await bucket.createMultipartUpload(key, { httpMetadata });
    parts.push(await upload.uploadPart(parts.length + 1, buf.slice(0, fill)));
    fill = 0;
  };
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      let chunk = r.value;
      total += chunk.byteLength;
      while (chunk.byteLength > 0) {
        const n = Math.min(chunk.byteLength, partBytes - fill);
        buf.set(chunk.subarray(0, n), fill);
        fill += n;
        chunk = chunk.subarray(n);
        if (fill === partBytes) await flushPart();
      }
    }
    if (upload) {
      if (fill > 0) await flushPart();
      await upload.complete(parts);
    } else {
      await bucket.put(key, buf.subarray(0, fill), { httpMetadata });
    }
    return total;
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    await upload?.abort().catch(() => {});
    throw e;
  }
}
