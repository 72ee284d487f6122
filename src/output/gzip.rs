//! The gzip container: any format's output bytes in, a `.gz` stream out (what Auth0 serves),
//! or a segment of one: raw deflate ending in a sync flush, which a host joins with others.

use std::io::Write;

use flate2::write::{DeflateEncoder, GzEncoder};
use flate2::{Compression, Crc};

/// A whole gzip member, or a segment of one.
enum Encoder {
    Member(GzEncoder<Vec<u8>>),
    /// Raw deflate with no header, trailer or final block; the CRC-32 and length of its plain
    /// bytes are the host's, to write one trailer for all the segments of an export.
    Segment(DeflateEncoder<Vec<u8>>, Crc, u64),
}

/// gzip's member header as the core writes it: deflate, no file name, no time, unknown OS. A
/// host joining segments into one member writes it first.
pub const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// The CRC-32 of A followed by B, from `crc(A)`, `crc(B)` and B's length (zlib's
/// `crc32_combine`): segments exported apart are summed into one trailer without rereading them.
pub fn crc32_combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    let mut a = crc32fast::Hasher::new_with_initial(crc_a);
    a.combine(&crc32fast::Hasher::new_with_initial_len(crc_b, len_b));
    a.finalize()
}

/// What ends a gzip member made of segments (each ending in a sync flush): an empty final
/// deflate block, then the trailer, the CRC-32 and the length mod 2^32 of all its plain bytes.
pub fn gzip_member_end(crc: u32, len: u64) -> [u8; 10] {
    let mut end = [3, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    end[2..6].copy_from_slice(&crc.to_le_bytes());
    end[6..].copy_from_slice(&(len as u32).to_le_bytes());
    end
}

/// Plain output bytes go in; compressed bytes wait here until they are pulled.
pub(crate) struct Gzip {
    /// Compresses into its inner `Vec`, which holds the compressed bytes not yet pulled.
    encoder: Encoder,
    /// How much of the inner `Vec` has been pulled.
    pos: usize,
    finished: bool,
}

/// Measured in wasm on 40 MB of users (10.4 MB of CSV): level 1 costs +60 ms and writes 3.56 MB,
/// level 3 +220 ms and 2.80 MB, level 6 (zlib's default) +450 ms and 2.62 MB. Level 3 keeps a
/// million-user export a few seconds from the plain one for 7 % more bytes than level 6.
const LEVEL: u32 = 3;

impl Gzip {
    /// A compressor of a whole member, or (`segment`) of a segment.
    pub fn new(segment: bool) -> Gzip {
        let level = Compression::new(LEVEL);
        let encoder = if segment {
            Encoder::Segment(DeflateEncoder::new(Vec::new(), level), Crc::new(), 0)
        } else {
            Encoder::Member(GzEncoder::new(Vec::new(), level))
        };
        Gzip { encoder, pos: 0, finished: false }
    }

    fn buf(&self) -> &Vec<u8> {
        match &self.encoder {
            Encoder::Member(e) => e.get_ref(),
            Encoder::Segment(e, ..) => e.get_ref(),
        }
    }

    /// Whether compressed bytes wait to be pulled.
    pub fn has_waiting(&self) -> bool {
        self.pos < self.buf().len()
    }

    /// Hands out up to `max` waiting bytes, marking them pulled.
    pub fn take(&mut self, max: usize) -> &[u8] {
        let start = self.pos;
        self.pos = (start + max).min(self.buf().len());
        &self.buf()[start..self.pos]
    }

    /// Compresses `plain` (the compressor may keep some of it until more comes or the end).
    pub fn write(&mut self, plain: &[u8]) {
        self.compact();
        let written = match &mut self.encoder {
            Encoder::Member(e) => e.write_all(plain),
            Encoder::Segment(e, crc, len) => {
                crc.update(plain);
                *len += plain.len() as u64;
                e.write_all(plain)
            }
        };
        written.expect("compressing into a Vec cannot fail");
    }

    /// Writes what the compressor still holds and gzip's trailer (CRC-32 and length); for a
    /// segment, a sync flush instead: the bytes end on a byte boundary with no final block.
    pub fn finish(&mut self) {
        self.compact();
        let done = match &mut self.encoder {
            Encoder::Member(e) => e.try_finish(),
            Encoder::Segment(e, ..) => e.flush(),
        };
        done.expect("compressing into a Vec cannot fail");
        self.finished = true;
    }

    /// A segment's CRC-32 and length of the plain bytes it holds, once finished.
    pub fn segment(&self) -> Option<(u32, u64)> {
        match &self.encoder {
            Encoder::Segment(_, crc, len) if self.finished => Some((crc.sum(), *len)),
            _ => None,
        }
    }

    /// Drops the pulled bytes, so the buffer holds only what waits (called when no slice of
    /// it can still be in use: before more is written into it).
    fn compact(&mut self) {
        let buf = match &mut self.encoder {
            Encoder::Member(e) => e.get_mut(),
            Encoder::Segment(e, ..) => e.get_mut(),
        };
        buf.drain(..self.pos);
        self.pos = 0;
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc(bytes: &[u8]) -> u32 {
        let mut c = Crc::new();
        c.update(bytes);
        c.sum()
    }

    #[test]
    fn combined_crcs_equal_the_crc_of_the_joined_bytes() {
        let bytes: Vec<u8> = (0..4099u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for cut in [0, 1, 2, 7, 64, 1000, 4098, 4099] {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(crc32_combine(crc(a), crc(b), b.len() as u64), crc(&bytes), "cut {cut}");
        }
    }

    #[test]
    fn the_header_is_the_one_a_whole_member_starts_with() {
        let mut gz = Gzip::new(false);
        gz.write(b"a,b\n");
        gz.finish();
        assert_eq!(&gz.take(usize::MAX)[..10], &GZIP_HEADER);
    }

    #[test]
    fn the_member_end_is_a_final_block_and_the_trailer() {
        let end = gzip_member_end(0x0403_0201, (1 << 32) + 0x0807_0605);
        assert_eq!(end, [3, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
