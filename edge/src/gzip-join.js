// One gzip member out of an export's slices: each slice is a deflate segment (the core's gzipSegment); the header, final block and trailer are written here.

/** gzip's header: deflate, no name, no time, unknown OS (what the core's own gzip writes). */
export const GZIP_HEADER = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** An empty final block with fixed codes: after the segments' sync flushes it ends the deflate stream. */
export const FINAL_BLOCK = new Uint8Array([3, 0]);

/** The trailer: the CRC-32 and length (mod 2^32) of all the plain bytes, little-endian. */
export function trailer(crc, length) {
  const t = new Uint8Array(8);
  const view = new DataView(t.buffer);
  view.setUint32(0, crc >>> 0, true);
  view.setUint32(4, length % 2 ** 32, true);
  return t;
}

const times = (mat, vec) => {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i];
  return sum >>> 0;
};
const square = (out, mat) => {
  for (let n = 0; n < 32; n++) out[n] = times(mat, mat[n]);
};

/**
 * The CRC-32 of A followed by B from crc(A), crc(B) and B's length, as zlib's crc32_combine:
 * appending `len2` zero bytes is a linear map over GF(2), applied by squaring its matrix.
 */
export function crc32Combine(crc1, crc2, len2) {
  if (len2 <= 0) return crc1 >>> 0;
  const even = new Array(32);
  const odd = new Array(32);
  odd[0] = 0xedb88320;
  for (let n = 1, row = 1; n < 32; n++, row = (row << 1) >>> 0) odd[n] = row;
  square(even, odd);
  square(odd, even);
  let c = crc1 >>> 0;
  for (;;) {
    square(even, odd);
    if (len2 % 2) c = times(even, c);
    len2 = Math.floor(len2 / 2);
    if (len2 === 0) break;
    square(odd, even);
    if (len2 % 2) c = times(odd, c);
    len2 = Math.floor(len2 / 2);
    if (len2 === 0) break;
  }
  return (c ^ crc2) >>> 0;
}
