//! A sans-I/O streaming gunzip: compressed bytes pushed in chunks split anywhere, plain bytes
//! pulled in chunks of bounded size, every member's CRC-32 and length checked.
//!
//! A host with a `.gz` users source gunzips it here instead of in its runtime (workerd's
//! `DecompressionStream` costs a promise round trip per 4 KiB and leaves garbage behind). Memory
//! is the compressed bytes pushed and not yet read, one reused output buffer of the chunk size,
//! and the inflater's 32 KiB window: a chunk that expands a thousandfold comes out a chunk at a
//! time, never whole.

use flate2::{Crc, Decompress, FlushDecompress, Status};

use crate::describe::GZIP_MAGIC;
use crate::error::{Error, ErrorCode, Result};
use crate::output::Pull;

/// Default most plain bytes one [`Gunzip::pull`] returns.
pub const DEFAULT_GUNZIP_CHUNK: usize = 256 * 1024;

/// The header flags of RFC 1952, and the bits it reserves (a member with any set is refused,
/// as gzip itself does).
const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;
const RESERVED: u8 = 0xe0;

/// Where in a member the reader is.
enum Stage {
    /// Before the first member, or after a member's trailer: the input may end here.
    Between,
    /// Inside a member's header.
    Header(Header),
    /// Inside a member's deflate data.
    Body,
    /// Inside a member's 8-byte trailer, `n` bytes of it read.
    Trailer([u8; 8], usize),
}

/// A member header read byte by byte, so a chunk may end anywhere in it.
struct Header {
    fixed: [u8; 10],
    /// Bytes of `fixed` read.
    n: usize,
    /// Bytes still to skip of the extra field, or of its 2-byte length (`xlen_bytes`).
    xlen: [u8; 2],
    xlen_bytes: usize,
    extra_left: usize,
    /// Optional fields not yet passed, as flag bits (FEXTRA, FNAME, FCOMMENT, FHCRC).
    pending: u8,
    hcrc: [u8; 2],
    hcrc_bytes: usize,
    /// CRC-32 of the header bytes read, for FHCRC (its low 16 bits).
    crc: Crc,
}

impl Header {
    fn new() -> Header {
        Header {
            fixed: [0; 10],
            n: 0,
            xlen: [0; 2],
            xlen_bytes: 0,
            extra_left: 0,
            pending: 0,
            hcrc: [0; 2],
            hcrc_bytes: 0,
            crc: Crc::new(),
        }
    }

    /// Reads header bytes from `bytes`: how many it took, and whether the header is complete.
    /// `Err` carries a message and the index in `bytes` of the byte that broke the rule.
    fn feed(&mut self, bytes: &[u8]) -> std::result::Result<(usize, bool), (String, usize)> {
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if self.n < 10 {
                self.fixed[self.n] = b;
                self.n += 1;
                self.crc.update(&[b]);
                i += 1;
                let seen = &self.fixed[..self.n.min(2)];
                if !GZIP_MAGIC.starts_with(seen) {
                    return Err(("is not a gzip member (it does not start with 1f 8b)".into(), i - 1));
                }
                if self.n == 3 && b != 8 {
                    return Err((format!("uses compression method {b}, not deflate (8)"), i - 1));
                }
                if self.n == 4 {
                    if b & RESERVED != 0 {
                        return Err((format!("sets reserved header flags ({b:#04x})"), i - 1));
                    }
                    self.pending = b & (FEXTRA | FNAME | FCOMMENT | FHCRC);
                }
                continue;
            }
            if self.pending & FEXTRA != 0 {
                if self.xlen_bytes < 2 {
                    self.xlen[self.xlen_bytes] = b;
                    self.xlen_bytes += 1;
                    self.crc.update(&[b]);
                    i += 1;
                    if self.xlen_bytes == 2 {
                        self.extra_left = usize::from(u16::from_le_bytes(self.xlen));
                        if self.extra_left == 0 {
                            self.pending &= !FEXTRA;
                        }
                    }
                } else {
                    let take = self.extra_left.min(bytes.len() - i);
                    self.crc.update(&bytes[i..i + take]);
                    i += take;
                    self.extra_left -= take;
                    if self.extra_left == 0 {
                        self.pending &= !FEXTRA;
                    }
                }
                continue;
            }
            if self.pending & (FNAME | FCOMMENT) != 0 {
                // The file name, then the comment: each ends at a zero byte.
                let rest = &bytes[i..];
                let end = rest.iter().position(|&c| c == 0);
                let take = end.map_or(rest.len(), |e| e + 1);
                self.crc.update(&rest[..take]);
                i += take;
                if end.is_some() {
                    let field = if self.pending & FNAME != 0 { FNAME } else { FCOMMENT };
                    self.pending &= !field;
                }
                continue;
            }
            if self.pending & FHCRC != 0 {
                self.hcrc[self.hcrc_bytes] = b;
                self.hcrc_bytes += 1;
                i += 1;
                if self.hcrc_bytes == 2 {
                    let want = u16::from_le_bytes(self.hcrc);
                    let got = (self.crc.sum() & 0xffff) as u16;
                    if want != got {
                        return Err((
                            format!("has a header CRC of {want:#06x}, but its header's is {got:#06x}"),
                            i - 2,
                        ));
                    }
                    self.pending = 0;
                }
                continue;
            }
            break;
        }
        Ok((i, self.n == 10 && self.pending == 0))
    }
}

/// Gunzips a stream of one or more gzip members (RFC 1952; concatenated members are one
/// stream, as `gzip -d` reads them): push compressed bytes, pull plain bytes, finish.
pub struct Gunzip {
    /// Compressed bytes pushed and not yet read start at `input[pos]`.
    input: Vec<u8>,
    pos: usize,
    /// Compressed bytes read before `input[pos]`, over the whole stream.
    offset: u64,
    stage: Stage,
    inflate: Decompress,
    /// CRC-32 and length of the current member's plain bytes.
    crc: Crc,
    /// The reused buffer a pull returns a slice of.
    out: Vec<u8>,
    plain: u64,
    members: u64,
    /// Where the current member started (its compressed offset), for errors.
    member_start: u64,
    finished: bool,
    failed: Option<Error>,
}

impl Gunzip {
    /// A gunzip whose pulls return at most `chunk_size` plain bytes (at least 1).
    pub fn new(chunk_size: usize) -> Gunzip {
        Gunzip::with_input_room(chunk_size, 0)
    }

    /// Like [`Gunzip::new`], with room for `input_room` compressed bytes allocated at once: a
    /// host that pushes chunks of at most that size then makes no allocation after this one
    /// (in wasm, where linear memory never shrinks, buffers allocated early stay out of the way
    /// of larger ones made and freed later).
    pub fn with_input_room(chunk_size: usize, input_room: usize) -> Gunzip {
        Gunzip {
            input: Vec::with_capacity(input_room),
            pos: 0,
            offset: 0,
            stage: Stage::Between,
            inflate: Decompress::new(false),
            crc: Crc::new(),
            out: vec![0; chunk_size.max(1)],
            plain: 0,
            members: 0,
            member_start: 0,
            finished: false,
            failed: None,
        }
    }

    /// Pushes compressed bytes; a chunk may end anywhere (in a header, in a trailer). They are
    /// kept until pulls read them: push again once a pull says [`Pull::NeedInput`].
    pub fn push(&mut self, compressed: &[u8]) -> Result<()> {
        self.check_usable()?;
        if self.finished {
            return Err(Error::new(ErrorCode::InvalidState, "gzip bytes pushed after finish()"));
        }
        if self.pos == self.input.len() {
            self.input.clear();
            self.pos = 0;
        } else if self.pos > 0 {
            self.input.drain(..self.pos);
            self.pos = 0;
        }
        self.input.extend_from_slice(compressed);
        Ok(())
    }

    /// Says no more compressed bytes will come: the stream must then end after a whole member.
    pub fn finish(&mut self) -> Result<()> {
        self.check_usable()?;
        self.finished = true;
        Ok(())
    }

    /// Plain bytes pulled so far.
    pub fn plain_bytes(&self) -> u64 {
        self.plain
    }

    /// Compressed bytes read so far (pushed bytes not yet read are not counted).
    pub fn compressed_bytes(&self) -> u64 {
        self.offset
    }

    /// Whole members read so far (trailers checked).
    pub fn members(&self) -> u64 {
        self.members
    }

    /// Compressed bytes pushed and not yet read.
    pub fn buffered_bytes(&self) -> usize {
        self.input.len() - self.pos
    }

    fn check_usable(&self) -> Result<()> {
        match &self.failed {
            Some(e) => Err(Error::new(ErrorCode::InvalidState, format!("the gunzip already failed: {e}"))),
            None => Ok(()),
        }
    }

    fn fail(&mut self, at: u64, message: impl std::fmt::Display) -> Error {
        let member = self.members + 1;
        let start = self.member_start;
        self.fail_with(format!(
            "gzip input: member {member} (from compressed byte {start}) {message}, at compressed byte {at}"
        ))
    }

    fn fail_with(&mut self, message: String) -> Error {
        let e = Error::new(ErrorCode::InvalidGzip, message);
        self.failed = Some(e.clone());
        e
    }

    fn advance(&mut self, n: usize) {
        self.pos += n;
        self.offset += n as u64;
    }

    /// The next plain bytes (at most the chunk size), or why there are none: more input is
    /// needed, or the stream ended after a whole member. A corrupt or truncated stream is an
    /// `invalid_gzip` error naming the compressed byte offset; every later call returns it too.
    pub fn pull(&mut self) -> Result<Pull<&[u8]>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        loop {
            match self.step()? {
                Some(Pull::Data(n)) => return Ok(Pull::Data(&self.out[..n])),
                Some(Pull::NeedInput) => return Ok(Pull::NeedInput),
                Some(Pull::Done) => return Ok(Pull::Done),
                None => {}
            }
        }
    }

    /// One move of the reader: the length of plain bytes made in `out`, or why there are
    /// none, or `None` when it moved without making any.
    fn step(&mut self) -> Result<Option<Pull<usize>>> {
        {
            let rest = &self.input[self.pos..];
            match &mut self.stage {
                Stage::Between => {
                    if rest.is_empty() {
                        if !self.finished {
                            return Ok(Some(Pull::NeedInput));
                        }
                        if self.members == 0 {
                            return Err(self.fail_with("gzip input: it is empty (no gzip member)".into()));
                        }
                        return Ok(Some(Pull::Done));
                    }
                    self.member_start = self.offset;
                    self.stage = Stage::Header(Header::new());
                }
                Stage::Header(header) => {
                    if rest.is_empty() {
                        if !self.finished {
                            return Ok(Some(Pull::NeedInput));
                        }
                        return Err(self.fail(self.offset, "ends inside its header (truncated)"));
                    }
                    let fed = header.feed(rest);
                    match fed {
                        Err((message, i)) => {
                            let at = self.offset + i as u64;
                            if self.members > 0 && at < self.member_start + 2 {
                                // Bytes after a whole member that do not start another one.
                                let n = self.members;
                                return Err(self.fail_with(format!(
                                    "gzip input: the bytes after member {n} are not a gzip member (trailing garbage), at compressed byte {}",
                                    self.member_start
                                )));
                            }
                            return Err(self.fail(at, message));
                        }
                        Ok((n, done)) => {
                            self.advance(n);
                            if done {
                                self.stage = Stage::Body;
                                self.inflate.reset(false);
                                self.crc.reset();
                            }
                        }
                    }
                }
                Stage::Body => {
                    let (in0, out0) = (self.inflate.total_in(), self.inflate.total_out());
                    let status = self.inflate.decompress(rest, &mut self.out, FlushDecompress::None);
                    let read = (self.inflate.total_in() - in0) as usize;
                    let made = (self.inflate.total_out() - out0) as usize;
                    let at = self.offset;
                    self.advance(read);
                    let status = match status {
                        Ok(s) => s,
                        Err(e) => {
                            return Err(
                                self.fail(at + read as u64, format_args!("has bad deflate data ({e})"))
                            )
                        }
                    };
                    if status == Status::StreamEnd {
                        self.stage = Stage::Trailer([0; 8], 0);
                    }
                    if made > 0 {
                        self.crc.update(&self.out[..made]);
                        self.plain += made as u64;
                        return Ok(Some(Pull::Data(made)));
                    }
                    if read == 0 && status != Status::StreamEnd {
                        if !self.finished {
                            return Ok(Some(Pull::NeedInput));
                        }
                        return Err(self.fail(self.offset, "ends inside its deflate data (truncated)"));
                    }
                }
                Stage::Trailer(trailer, n) => {
                    if rest.is_empty() {
                        if !self.finished {
                            return Ok(Some(Pull::NeedInput));
                        }
                        return Err(self.fail(self.offset, "ends inside its 8-byte trailer (truncated)"));
                    }
                    let take = (8 - *n).min(rest.len());
                    trailer[*n..*n + take].copy_from_slice(&rest[..take]);
                    *n += take;
                    let full = (*n == 8).then_some(*trailer);
                    self.advance(take);
                    if let Some(t) = full {
                        let trailer_at = self.offset - 8;
                        let want_crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
                        let want_len = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
                        if want_crc != self.crc.sum() {
                            let got = self.crc.sum();
                            return Err(self.fail(
                                trailer_at,
                                format_args!("states a CRC-32 of {want_crc:08x}, but its data's is {got:08x} (corrupt)"),
                            ));
                        }
                        if want_len != self.crc.amount() {
                            let got = self.crc.amount();
                            return Err(self.fail(
                                trailer_at + 4,
                                format_args!("states a length of {want_len} (mod 2^32), but its data has {got} (corrupt)"),
                            ));
                        }
                        self.members += 1;
                        self.stage = Stage::Between;
                    }
                }
            }
        }
        Ok(None)
    }
}
