//! Output buffering: encoded bytes wait here until pulled, plain or through the gzip stage.
//!
//! The encoding side is a callback (`fill`), so this module knows nothing of records or input:
//! it asks for bytes when fewer than a pull wants are waiting, and hands them out in bounded chunks.

mod digest;
mod gzip;

use self::digest::Running;
pub use self::digest::{Digest, Digests};
use self::gzip::Gzip;
pub use self::gzip::{crc32_combine, gzip_member_end, GZIP_HEADER};
use crate::error::Result;

/// What a pull gives: data, or why there is none. One enum serves both pull families:
/// [`crate::Exporter::pull`] gives `Pull<&[u8]>` (a chunk of the exporter's buffer) and
/// [`crate::Exporter::pull_into`] gives `Pull<usize>` (how many bytes it copied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pull<T> {
    /// Output: at least one byte.
    Data(T),
    /// Nothing until more input is pushed (or the input is finished).
    NeedInput,
    /// The export is complete: every byte has been pulled.
    Done,
}

/// How much plain output goes into the compressor at a time.
const GZIP_SLAB: usize = 64 * 1024;

/// The plain bytes taken for one pull.
enum Taken {
    Data(std::ops::Range<usize>),
    NeedInput,
    Ended,
}

/// Encoded bytes not yet pulled, and the optional compressor.
pub(crate) struct Output {
    plain: Vec<u8>,
    /// How much of `plain` has been taken.
    pos: usize,
    gzip: Option<Gzip>,
    /// Every plain byte taken so far (pulled, or given to the compressor), when digests are kept.
    plain_digest: Option<Running>,
    /// Every gzip byte pulled so far (when gzipped and digests are kept).
    gzip_digest: Option<Running>,
    /// The last pull said [`Pull::Done`]: the digests are final.
    done: bool,
}

impl Output {
    /// `digest`: keep the sha256 of the output as it is taken (a manifest's proof). It is
    /// asked for, not always on: in wasm it costs about half the export's throughput.
    /// `segment` (with `gzip`): raw deflate ending in a sync flush instead of a gzip member.
    pub fn new(gzip: bool, segment: bool, digest: bool) -> Output {
        Output {
            plain: Vec::new(),
            pos: 0,
            gzip: gzip.then(|| Gzip::new(segment)),
            plain_digest: digest.then(Running::default),
            gzip_digest: (digest && gzip).then(Running::default),
            done: false,
        }
    }

    /// The digests of the output, once every byte has been pulled (when they are kept).
    pub fn digests(&self) -> Option<Digests> {
        let plain = self.plain_digest.as_ref().filter(|_| self.done)?;
        Some(Digests { plain: plain.digest(), gzip: self.gzip_digest.as_ref().map(Running::digest) })
    }

    /// A gzip segment's CRC-32 and plain length, once every byte has been pulled.
    pub fn segment(&self) -> Option<(u32, u64)> {
        self.gzip.as_ref().filter(|_| self.done)?.segment()
    }

    pub fn is_gzipped(&self) -> bool {
        self.gzip.is_some()
    }

    /// Plain bytes encoded and not yet taken.
    pub fn waiting(&self) -> usize {
        self.plain.len() - self.pos
    }

    /// Pulls at most `max` (≥ 1) bytes. `fill(plain, want)` appends encoded bytes to `plain`
    /// (which then holds only waiting bytes) until `want` wait or the input runs out, and
    /// says whether the input has ended (no byte will ever be appended again).
    pub fn pull(
        &mut self,
        max: usize,
        mut fill: impl FnMut(&mut Vec<u8>, usize) -> Result<bool>,
    ) -> Result<Pull<&[u8]>> {
        if self.gzip.is_none() {
            return Ok(match self.take_plain(max, &mut fill)? {
                Taken::Data(range) => Pull::Data(&self.plain[range]),
                Taken::NeedInput => Pull::NeedInput,
                Taken::Ended => {
                    self.done = true;
                    Pull::Done
                }
            });
        }
        loop {
            let gz = self.gzip.as_ref().expect("the gzip stage");
            if gz.has_waiting() {
                break;
            }
            if gz.is_finished() {
                self.done = true;
                return Ok(Pull::Done);
            }
            match self.take_plain(GZIP_SLAB, &mut fill)? {
                Taken::Data(range) => self.gzip.as_mut().expect("the gzip stage").write(&self.plain[range]),
                Taken::Ended => self.gzip.as_mut().expect("the gzip stage").finish(),
                Taken::NeedInput => return Ok(Pull::NeedInput),
            }
        }
        let bytes = self.gzip.as_mut().expect("the gzip stage").take(max);
        if let Some(d) = &mut self.gzip_digest {
            d.update(bytes);
        }
        Ok(Pull::Data(bytes))
    }

    /// Encodes until `max` bytes wait (or the input runs out) and takes at most `max` of them.
    fn take_plain(
        &mut self,
        max: usize,
        fill: &mut impl FnMut(&mut Vec<u8>, usize) -> Result<bool>,
    ) -> Result<Taken> {
        let mut ended = false;
        if self.waiting() < max {
            // Less than `max` is waiting, so this move is small even behind a huge record.
            if self.pos > 0 {
                self.plain.drain(..self.pos);
                self.pos = 0;
            }
            ended = fill(&mut self.plain, max)?;
        }
        let n = self.waiting().min(max);
        if n == 0 {
            return Ok(if ended { Taken::Ended } else { Taken::NeedInput });
        }
        let start = self.pos;
        self.pos += n;
        if let Some(d) = &mut self.plain_digest {
            d.update(&self.plain[start..start + n]);
        }
        Ok(Taken::Data(start..start + n))
    }
}
