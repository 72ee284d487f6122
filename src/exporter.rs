//! The streaming exporter: push users in (NDJSON bytes, JSON text, parsed values), pull bytes out.
//!
//! Sans-I/O: nothing here reads or writes anything but memory. Input is kept until a pull
//! needs it, so memory is one pushed chunk plus one output chunk plus the record in hand.

use std::collections::VecDeque;

use crate::error::{Error, ErrorCode, Location, Result};
use crate::format::{encoder_for, Encoder, Value};
use crate::gzip::Gzip;
use crate::json_out::decode_string;
use crate::plan::{Plan, NONE};
use crate::query::Query;
use crate::request::Request;
use crate::scan::{find_byte, skip_ws, Capture, Kind, Scan, Scanner};

/// Default size of a pulled chunk.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;
/// Default cap on one NDJSON line, in bytes (JSON text and values are already whole in memory).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 32 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What a host sets beside Auth0's request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Only users whose `identities[0].connection` equals this name (the host resolves
    /// `connection_id` to it). Default: every user.
    pub connection: Option<String>,
    /// Only users that Auth0's user-search query matches (after the connection filter),
    /// evaluated in the same pass. Compile it with [`Query::parse`]; a bad query is refused
    /// there, before any user is read. Default: every user.
    pub query: Option<Query>,
    /// Skip bad records and report them instead of failing. Default: `false` (strict).
    pub lenient: bool,
    /// Most bytes one [`Exporter::pull`] returns. Default: [`DEFAULT_CHUNK_SIZE`].
    pub chunk_size: usize,
    /// Longest NDJSON line accepted, in bytes. Default: [`DEFAULT_MAX_RECORD_BYTES`].
    pub max_record_bytes: usize,
    /// Pull the output gzipped (a `<tenant>.csv.gz` / `.json.gz`, as Auth0 serves it):
    /// gunzipped, exactly the bytes of the plain export. Default: `false`.
    pub gzip: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connection: None,
            query: None,
            lenient: false,
            chunk_size: DEFAULT_CHUNK_SIZE,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            gzip: false,
        }
    }
}

/// Counts kept while exporting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records read (blank NDJSON lines are not records).
    pub users_read: u64,
    /// Users written to the output.
    pub users_written: u64,
    /// Bad records skipped in lenient mode.
    pub users_skipped: u64,
    /// Good records left out by the connection filter or the query.
    pub users_filtered: u64,
    /// Good records that passed the connection filter and the query (with no query: the
    /// connection filter alone). Once `limit` is reached no further record is read.
    pub users_matched: u64,
    /// Bytes pushed in.
    pub bytes_in: u64,
    /// Bytes pulled out (compressed bytes when the output is gzipped).
    pub bytes_out: u64,
    /// NDJSON lines seen so far (complete lines, plus a last line without `\n`).
    pub lines: u64,
}

/// What [`Exporter::pull`] has to give.
#[derive(Debug, PartialEq, Eq)]
pub enum Pull<'a> {
    /// Output bytes, at most the chunk size.
    Data(&'a [u8]),
    /// Nothing until more input is pushed (or [`Exporter::finish`] is called).
    NeedInput,
    /// The export is complete: every byte has been pulled.
    Done,
}

/// Where an export stands after a [`Exporter::pull_into`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// More output may come once more input is pushed or the input is finished.
    NeedInput,
    /// More output is ready: call again.
    HasOutput,
    /// Complete.
    Done,
}

#[derive(Default)]
struct NdjsonInput {
    buf: Vec<u8>,
    /// Start of the unread part of `buf`.
    pos: usize,
    /// Where the search for the next `\n` resumes (no `\n` in `pos..scan_from`).
    scan_from: usize,
    /// Physical lines completed so far.
    line: u64,
    /// The stream start (and its BOM) has been dealt with.
    started: bool,
    /// Start of the unfinished last line in `buf`.
    tail_start: usize,
    /// The unfinished last line broke the record cap: drop pushed bytes until its `\n`.
    discarding: bool,
    /// That line's error is already reported (a strict export fails without waiting for its end).
    overlong_reported: bool,
}

enum Stage {
    Single,
    /// A record the host could not turn into JSON; its message.
    Unsupported(String),
    Elements {
        index: u64,
        in_page: bool,
        after_comma: bool,
    },
    PageTail,
    Tail,
    Done,
}

struct JsonDoc {
    text: Vec<u8>,
    pos: usize,
    stage: Stage,
    /// First invalid UTF-8 offset at or after `pos`, if any.
    bad_utf8: Option<usize>,
    /// Index of this text's first user (0 unless the host numbers a split batch).
    base: u64,
}

enum Input {
    None,
    Ndjson(NdjsonInput),
    Json(VecDeque<JsonDoc>),
}

/// The export engine for one request: push users, pull export bytes, finish.
///
/// ```ignore
/// let request = Request::from_json(r#"{"format":"csv","fields":[{"name":"email"}]}"#)?;
/// let mut ex = Exporter::new(request, Options::default());
/// ex.push_ndjson(b"{\"email\":\"a@example.com\"}\n")?;
/// ex.finish()?;
/// let out = ex.pull_to_end()?;
/// assert_eq!(out, b"email\n\"'a@example.com\"\n");
/// ```
pub struct Exporter {
    request: Request,
    plan: Plan,
    encoder: Box<dyn Encoder>,
    options: Options,
    scanner: Scanner,
    scratch: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    /// With `Options::gzip`: the compressor between `out` and the pulls.
    gzip: Option<Gzip>,
    header_written: bool,
    input: Input,
    finished: bool,
    limit_reached: bool,
    failed: Option<Error>,
    stats: Stats,
    skipped: Vec<Error>,
}

impl Exporter {
    /// A new export of `request` with host `options`.
    pub fn new(request: Request, options: Options) -> Exporter {
        let plan = Plan::new(&request, options.query.clone());
        let encoder = encoder_for(&request);
        Exporter {
            request,
            plan,
            encoder,
            options: Options { chunk_size: options.chunk_size.max(1), ..options },
            scanner: Scanner::default(),
            scratch: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            gzip: options.gzip.then(Gzip::new),
            header_written: false,
            input: Input::None,
            finished: false,
            limit_reached: false,
            failed: None,
            stats: Stats::default(),
            skipped: Vec::new(),
        }
    }

    /// The request being exported.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The counts so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Every record skipped in lenient mode, in input order, with where and why.
    pub fn skipped(&self) -> &[Error] {
        &self.skipped
    }

    /// True once `limit` users are written: the host may stop reading input.
    pub fn limit_reached(&self) -> bool {
        self.limit_reached
    }

    /// Bytes held right now: unread input plus output not yet pulled (for hosts that watch memory).
    pub fn buffered_bytes(&self) -> usize {
        let input = match &self.input {
            Input::None => 0,
            Input::Ndjson(n) => n.buf.len() - n.pos,
            Input::Json(docs) => docs.iter().map(|d| d.text.len() - d.pos.min(d.text.len())).sum(),
        };
        input + self.out.len() - self.out_pos
    }

    /// True once [`Exporter::finish`] was called.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn check_push(&mut self, bytes: usize) -> Result<bool> {
        if let Some(e) = &self.failed {
            return Err(Error::new(ErrorCode::InvalidState, format!("the export already failed: {e}")));
        }
        if self.finished {
            return Err(Error::new(ErrorCode::InvalidState, "input pushed after finish()"));
        }
        self.stats.bytes_in += bytes as u64;
        Ok(!self.limit_reached)
    }

    /// Pushes NDJSON bytes; a chunk may end anywhere (inside a line, a UTF-8 sequence, a CRLF).
    pub fn push_ndjson(&mut self, chunk: &[u8]) -> Result<()> {
        if !self.check_push(chunk.len())? {
            return Ok(());
        }
        if matches!(self.input, Input::None) {
            self.input = Input::Ndjson(NdjsonInput::default());
        }
        let Input::Ndjson(n) = &mut self.input else { return Err(mixed()) };
        let mut chunk = chunk;
        if n.discarding {
            // Only the end of the over-long line matters; keep nothing else of it.
            let Some(i) = find_byte(chunk, b'\n') else { return Ok(()) };
            n.discarding = false;
            chunk = &chunk[i..];
        }
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            n.tail_start = n.buf.len() + i + 1;
        }
        n.buf.extend_from_slice(chunk);
        // A line past the cap is kept only up to cap + 2 bytes: enough to fail it even after a
        // trailing CR is stripped, never more. Before the stream has started, the first line
        // may still begin with the BOM, which is skipped later and must not use up the budget
        // (else the kept prefix could fit the cap and be parsed as a record).
        let head = &n.buf[..n.buf.len().min(BOM.len())];
        let bom = if !n.started && n.tail_start == 0 && BOM.starts_with(head) { BOM.len() } else { 0 };
        let keep = self.options.max_record_bytes.saturating_add(2 + bom);
        if n.buf.len() - n.tail_start >= keep {
            n.buf.truncate(n.tail_start.saturating_add(keep));
            n.discarding = true;
        }
        Ok(())
    }

    /// Pushes a JSON text holding one user, an array of users, or a Management API page
    /// (`{"start":…,"users":[…],…}`).
    pub fn push_json(&mut self, text: &[u8]) -> Result<()> {
        self.push_json_from(text, 0)
    }

    /// Like [`Exporter::push_json`], but errors number the users from `first_index`: for a
    /// host that pushes one batch in parts and wants indexes into the whole batch.
    pub fn push_json_from(&mut self, text: &[u8], first_index: u64) -> Result<()> {
        if !self.check_push(text.len())? {
            return Ok(());
        }
        let mut pos = if text.starts_with(BOM) { BOM.len() } else { 0 };
        pos = skip_ws(text, pos);
        let stage = match text.get(pos) {
            Some(b'[') => {
                pos += 1;
                Stage::Elements { index: 0, in_page: false, after_comma: false }
            }
            Some(b'{') => match page_users(text, pos, &self.plan, &mut self.scanner) {
                Some(users) => {
                    pos = users + 1;
                    Stage::Elements { index: 0, in_page: true, after_comma: false }
                }
                None => Stage::Single,
            },
            _ => Stage::Single,
        };
        let doc = JsonDoc {
            bad_utf8: first_bad_utf8(text, pos),
            text: text.to_vec(),
            pos,
            stage,
            base: first_index,
        };
        self.push_doc(doc)
    }

    /// Queues, in input order, a user the host could not turn into JSON (a JS value with NaN,
    /// ±Infinity, a BigInt or a cycle): it fails a strict export and is skipped and reported
    /// by a lenient one, as `unsupported_value` at `index`, when the pulls reach it.
    pub fn push_unsupported(&mut self, index: u64, message: impl Into<String>) -> Result<()> {
        if !self.check_push(0)? {
            return Ok(());
        }
        let stage = Stage::Unsupported(message.into());
        self.push_doc(JsonDoc { text: Vec::new(), pos: 0, stage, bad_utf8: None, base: index })
    }

    fn push_doc(&mut self, doc: JsonDoc) -> Result<()> {
        match &mut self.input {
            Input::None => self.input = Input::Json(VecDeque::from([doc])),
            Input::Json(docs) => docs.push_back(doc),
            Input::Ndjson(_) => return Err(mixed()),
        }
        Ok(())
    }

    /// Pushes an already-parsed user, or an array of users.
    pub fn push_value(&mut self, value: &serde_json::Value) -> Result<()> {
        let text = serde_json::to_vec(value).expect("a Value always serializes");
        self.push_json(&text)
    }

    /// Says no more input will come; the last NDJSON line may lack its `\n`.
    pub fn finish(&mut self) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.finished = true;
        Ok(())
    }

    /// Pulls the next chunk of output (at most the chunk size).
    ///
    /// In strict mode the first bad record fails the export: this returns its error, and so
    /// does every later call.
    pub fn pull(&mut self) -> Result<Pull<'_>> {
        self.pull_at_most(self.options.chunk_size)
    }

    /// Like [`Exporter::pull`], but the chunk is at most `max` bytes (at least 1): for a host
    /// that copies output into a buffer of its own size, with no copy in between.
    pub fn pull_at_most(&mut self, max: usize) -> Result<Pull<'_>> {
        let max = max.max(1);
        if self.gzip.is_some() {
            return self.pull_gzip(max);
        }
        Ok(match self.take_plain(max)? {
            Some((start, end)) => {
                self.stats.bytes_out += (end - start) as u64;
                Pull::Data(&self.out[start..end])
            }
            None if self.plain_done() => Pull::Done,
            None => Pull::NeedInput,
        })
    }

    /// Encodes until `max` bytes wait (or the input runs out) and takes at most `max` of them:
    /// their range in `out`, or None when nothing waits.
    fn take_plain(&mut self, max: usize) -> Result<Option<(usize, usize)>> {
        self.fill(max)?;
        let n = (self.out.len() - self.out_pos).min(max);
        if n == 0 {
            return Ok(None);
        }
        let start = self.out_pos;
        self.out_pos += n;
        Ok(Some((start, start + n)))
    }

    /// The plain output, 64 KiB at a time, through the compressor.
    fn pull_gzip(&mut self, max: usize) -> Result<Pull<'_>> {
        loop {
            let gz = self.gzip.as_ref().expect("the gzip stage");
            if gz.has_waiting() {
                break;
            }
            if gz.is_finished() {
                return Ok(Pull::Done);
            }
            match self.take_plain(DEFAULT_CHUNK_SIZE)? {
                Some((start, end)) => {
                    self.gzip.as_mut().expect("the gzip stage").write(&self.out[start..end])
                }
                None if self.plain_done() => self.gzip.as_mut().expect("the gzip stage").finish(),
                None => return Ok(Pull::NeedInput),
            }
        }
        let bytes = self.gzip.as_mut().expect("the gzip stage").take(max);
        self.stats.bytes_out += bytes.len() as u64;
        Ok(Pull::Data(bytes))
    }

    /// Pulls output into a caller's buffer (csv-core style): returns the bytes written and
    /// where the export stands. Any buffer size works, even one byte. `HasOutput` comes with
    /// a full buffer; an error after some bytes were copied comes with the next call.
    pub fn pull_into(&mut self, buf: &mut [u8]) -> Result<(usize, Status)> {
        let mut n = 0;
        while n < buf.len() {
            match self.pull_at_most(buf.len() - n) {
                Ok(Pull::Data(bytes)) => {
                    buf[n..n + bytes.len()].copy_from_slice(bytes);
                    n += bytes.len();
                }
                Ok(Pull::Done) => return Ok((n, Status::Done)),
                Ok(Pull::NeedInput) => return Ok((n, Status::NeedInput)),
                Err(_) if n > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok((n, Status::HasOutput))
    }

    /// Whether the output is gzipped ([`Options::gzip`]).
    pub fn is_gzipped(&self) -> bool {
        self.gzip.is_some()
    }

    /// Pulls everything there is now into one vector (convenient for small exports and tests).
    pub fn pull_to_end(&mut self) -> Result<Vec<u8>> {
        let mut all = Vec::new();
        while let Pull::Data(chunk) = self.pull()? {
            all.extend_from_slice(chunk);
        }
        Ok(all)
    }

    /// Every plain byte has been taken (by the caller, or by the compressor).
    fn plain_done(&self) -> bool {
        self.failed.is_none()
            && self.out_pos == self.out.len()
            && self.header_written
            && (self.limit_reached || (self.finished && self.input_exhausted()))
    }

    fn input_exhausted(&self) -> bool {
        match &self.input {
            Input::None => true,
            Input::Ndjson(n) => n.pos == n.buf.len(),
            Input::Json(docs) => docs.is_empty(),
        }
    }

    /// Encodes records until `want` bytes are waiting or no input is left.
    fn fill(&mut self, want: usize) -> Result<()> {
        if let Some(e) = &self.failed {
            // Records encoded before the failure are still delivered, so what a strict export
            // gives before its error does not depend on how the input was chunked.
            if self.out_pos < self.out.len() {
                return Ok(());
            }
            return Err(e.clone());
        }
        if self.out.len() - self.out_pos >= want {
            return Ok(());
        }
        // Less than `want` is waiting, so this move is small even behind a huge record.
        if self.out_pos > 0 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
        if !self.header_written {
            self.encoder.header(&mut self.out);
            self.header_written = true;
        }
        let result = match std::mem::replace(&mut self.input, Input::None) {
            Input::None => Ok(()),
            Input::Ndjson(mut n) => {
                let r = self.fill_ndjson(&mut n, want);
                self.input = Input::Ndjson(n);
                r
            }
            Input::Json(mut docs) => {
                let r = self.fill_json(&mut docs, want);
                self.input = Input::Json(docs);
                r
            }
        };
        if let Err(e) = &result {
            self.failed = Some(e.clone());
            if self.out_pos < self.out.len() {
                return Ok(());
            }
        }
        result
    }

    fn fill_ndjson(&mut self, n: &mut NdjsonInput, want: usize) -> Result<()> {
        while self.out.len() < want && !self.limit_reached {
            if !n.started {
                let head = &n.buf[n.pos..];
                if head.len() < BOM.len() && BOM.starts_with(head) && !self.finished {
                    return Ok(()); // might still become a BOM
                }
                if head.starts_with(BOM) {
                    n.pos += BOM.len();
                }
                n.started = true;
                n.scan_from = n.pos;
            }
            match find_byte(&n.buf[n.scan_from..], b'\n') {
                Some(i) => {
                    let nl = n.scan_from + i;
                    n.line += 1;
                    self.stats.lines = n.line;
                    let start = n.pos;
                    n.pos = nl + 1;
                    n.scan_from = n.pos;
                    if !std::mem::take(&mut n.overlong_reported) {
                        self.ndjson_line(&n.buf[start..nl], n.line)?;
                    }
                }
                None => {
                    if n.discarding && !n.overlong_reported {
                        n.overlong_reported = true;
                        let e = too_large(self.options.max_record_bytes).at(Location::Line(n.line + 1), None);
                        self.stats.users_read += 1;
                        self.bad_record(e)?;
                    }
                    if self.finished && n.pos < n.buf.len() {
                        n.line += 1;
                        self.stats.lines = n.line;
                        let start = n.pos;
                        n.pos = n.buf.len();
                        if !std::mem::take(&mut n.overlong_reported) {
                            self.ndjson_line(&n.buf[start..], n.line)?;
                        }
                    }
                    // Keep only the unfinished line.
                    n.buf.drain(..n.pos);
                    n.tail_start -= n.pos.min(n.tail_start);
                    n.pos = 0;
                    n.scan_from = n.buf.len();
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn ndjson_line(&mut self, line: &[u8], number: u64) -> Result<()> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let loc = Location::Line(number);
        // The cap first, blank lines included: a streamed line is measured before its
        // content is seen, so any other order would make the outcome depend on chunking.
        if line.len() > self.options.max_record_bytes {
            self.stats.users_read += 1;
            return self.bad_record(too_large(self.options.max_record_bytes).at(loc, None));
        }
        let start = skip_ws(line, 0);
        if start == line.len() {
            return Ok(()); // blank lines are skipped (and still counted)
        }
        if line.starts_with(BOM) {
            self.stats.users_read += 1;
            let e = Error::new(
                ErrorCode::InvalidJson,
                "a byte order mark (U+FEFF) starts this line; it is only allowed at the start of the stream",
            );
            return self.bad_record(e.at(loc, None));
        }
        let bad_utf8 = first_bad_utf8(line, 0);
        match self.record(line, start, bad_utf8, true) {
            Ok(_) => Ok(()),
            Err(bad) => self.bad_record(bad.error.at(loc, bad.user_id)),
        }
    }

    fn fill_json(&mut self, docs: &mut VecDeque<JsonDoc>, want: usize) -> Result<()> {
        while self.out.len() < want && !self.limit_reached {
            let Some(doc) = docs.front_mut() else { return Ok(()) };
            let text = &doc.text;
            match doc.stage {
                Stage::Done => {
                    docs.pop_front();
                }
                Stage::Unsupported(ref mut message) => {
                    let e = Error::new(ErrorCode::UnsupportedValue, std::mem::take(message));
                    let loc = Location::Index(doc.base);
                    doc.stage = Stage::Done;
                    self.stats.users_read += 1;
                    self.bad_record(e.at(loc, None))?;
                }
                Stage::Single => {
                    doc.stage = Stage::Done;
                    let loc = Location::Index(doc.base);
                    match self.record(text, doc.pos, doc.bad_utf8, true) {
                        Ok(_) => {}
                        Err(bad) => self.bad_record(bad.error.at(loc, bad.user_id))?,
                    }
                }
                Stage::Elements { index, in_page, after_comma } => {
                    let pos = skip_ws(text, doc.pos);
                    let loc = Location::Index(doc.base + index);
                    if text.get(pos) == Some(&b']') && !after_comma {
                        doc.pos = pos + 1;
                        doc.stage = if in_page { Stage::PageTail } else { Stage::Tail };
                        continue;
                    }
                    if text.get(pos) == Some(&b']') {
                        doc.stage = Stage::Done;
                        self.bad_record(structure_error(text, pos, "a user after ','").at(loc, None))?;
                        continue;
                    }
                    let end = match self.record(text, pos, doc.bad_utf8, false) {
                        Ok(end) => end,
                        Err(bad) => {
                            self.bad_record(bad.error.at(loc, bad.user_id))?;
                            match bad.end {
                                Some(end) => end,
                                None => {
                                    // A syntax error: where the next user starts cannot be known.
                                    doc.stage = Stage::Done;
                                    continue;
                                }
                            }
                        }
                    };
                    if doc.bad_utf8.is_some_and(|b| b < end) {
                        doc.bad_utf8 = first_bad_utf8(text, end);
                    }
                    let after = skip_ws(text, end);
                    match text.get(after) {
                        Some(b',') => {
                            doc.pos = after + 1;
                            doc.stage = Stage::Elements { index: index + 1, in_page, after_comma: true };
                        }
                        Some(b']') => {
                            doc.pos = after + 1;
                            doc.stage = if in_page { Stage::PageTail } else { Stage::Tail };
                        }
                        _ => {
                            doc.stage = Stage::Done;
                            let e = structure_error(text, after, "',' or ']' after a user");
                            self.bad_record(e.at(Location::Index(doc.base + index + 1), None))?;
                        }
                    }
                }
                Stage::PageTail => {
                    let result = page_tail(text, doc.pos, &self.plan, &mut self.scanner);
                    doc.stage = Stage::Done;
                    if let Err(e) = result {
                        self.bad_record(e)?;
                    }
                }
                Stage::Tail => {
                    let pos = skip_ws(text, doc.pos);
                    doc.stage = Stage::Done;
                    if pos != text.len() {
                        self.bad_record(structure_error(text, pos, "the end of the JSON text"))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads one record at `start` of `buf`, and writes it unless it is filtered out.
    /// With `whole`, nothing but whitespace may follow it in `buf`. On error: the error
    /// (without location), the offset where the value ended if known, and the user_id if read.
    fn record(
        &mut self,
        buf: &[u8],
        start: usize,
        bad_utf8: Option<usize>,
        whole: bool,
    ) -> std::result::Result<usize, BadRecord> {
        self.stats.users_read += 1;
        let is_object = buf.get(start) == Some(&b'{');
        let scanned = self.scanner.scan(&self.plan, buf, start);
        let id = self.user_id(buf);
        let (mut fault, end) = match scanned {
            Scan::Ok(end) => (None, Some(end)),
            Scan::Bad(f, end) => (Some(f), Some(end)),
            Scan::Broken(f) => (Some(f), None),
        };
        let stop = fault.as_ref().map_or(usize::MAX, |f| f.offset);
        // A syntax fault on the first non-UTF-8 byte is reported as what it is: bad UTF-8.
        if let Some(b) = bad_utf8.filter(|&b| b <= stop && end.is_none_or(|e| b < e)) {
            fault = Some(crate::scan::Fault {
                code: ErrorCode::InvalidUtf8,
                message: format!("invalid UTF-8 at byte {b}"),
                offset: b,
            });
        }
        if let Some(f) = fault {
            return Err(BadRecord { error: Error::new(f.code, f.message), end, user_id: id });
        }
        let end = end.expect("no fault means the end is known");
        if whole && skip_ws(buf, end) != buf.len() {
            let at = skip_ws(buf, end);
            let e = Error::new(ErrorCode::InvalidJson, format!("unexpected text after the user (byte {at})"));
            return Err(BadRecord { error: e, end: None, user_id: id });
        }
        if !is_object {
            let what = match buf[start] {
                b'[' => "an array",
                b'"' => "a string",
                b't' | b'f' => "a boolean",
                b'n' => "null",
                _ => "a number",
            };
            let e = Error::new(ErrorCode::NotAnObject, format!("a user must be a JSON object, not {what}"));
            return Err(BadRecord { error: e, end: Some(end), user_id: None });
        }
        if let Some(connection) = &self.options.connection {
            let matches = match self.capture(self.plan.connection_slot) {
                Some(Capture { kind: Kind::String { escaped }, start, end }) => {
                    let raw = &buf[start..end];
                    if escaped {
                        self.scratch.clear();
                        decode_string(raw, &mut self.scratch);
                        self.scratch == connection.as_bytes()
                    } else {
                        raw == connection.as_bytes()
                    }
                }
                _ => false,
            };
            if !matches {
                self.stats.users_filtered += 1;
                return Ok(end);
            }
        }
        if let Some(q) = &self.plan.query {
            if !q.eval(&self.scanner.hits) {
                self.stats.users_filtered += 1;
                return Ok(end);
            }
        }
        self.stats.users_matched += 1;
        let values: Vec<Option<Value<'_>>> = self
            .plan
            .field_slots
            .iter()
            .map(|&slot| self.capture(slot).map(|c| Value { kind: c.kind, raw: &buf[c.start..c.end] }))
            .collect();
        self.encoder.record(&values, &mut self.out, &mut self.scratch);
        self.stats.users_written += 1;
        if self.request.limit.is_some_and(|l| self.stats.users_written >= l) {
            self.limit_reached = true;
        }
        Ok(end)
    }

    fn capture(&self, slot: u32) -> Option<Capture> {
        if slot == NONE {
            None
        } else {
            self.scanner.captures.get(slot as usize).copied().flatten()
        }
    }

    /// The record's top-level `user_id`, if the walk got to it and it is a string or number.
    fn user_id(&self, buf: &[u8]) -> Option<String> {
        let c = self.capture(self.plan.user_id_slot)?;
        let raw = &buf[c.start..c.end];
        let mut text = Vec::new();
        match c.kind {
            Kind::String { escaped: true } => decode_string(raw, &mut text),
            Kind::String { escaped: false } | Kind::Number => text.extend_from_slice(raw),
            _ => return None,
        }
        String::from_utf8(text).ok()
    }

    /// Strict: the export fails with `e`. Lenient: `e` is reported and the export goes on.
    fn bad_record(&mut self, e: Error) -> Result<()> {
        if self.options.lenient {
            self.stats.users_skipped += 1;
            self.skipped.push(e);
            Ok(())
        } else {
            Err(e)
        }
    }
}

/// A record that cannot be written: why, where its value ended (if known), and its user_id.
struct BadRecord {
    error: Error,
    end: Option<usize>,
    user_id: Option<String>,
}

fn mixed() -> Error {
    Error::new(
        ErrorCode::InvalidState,
        "NDJSON bytes and JSON text / values cannot be mixed in one export; use one exporter per input kind",
    )
}

fn too_large(cap: usize) -> Error {
    Error::new(
        ErrorCode::RecordTooLarge,
        format!("the line is longer than the record-size cap of {cap} bytes"),
    )
}

fn structure_error(text: &[u8], pos: usize, expected: &str) -> Error {
    let found = match text.get(pos) {
        None => "the end of the text".to_string(),
        Some(&b) if b.is_ascii_graphic() => format!("'{}'", b as char),
        Some(&b) => format!("byte 0x{b:02x}"),
    };
    Error::new(
        ErrorCode::InvalidJson,
        format!("found {found} at byte {pos} of the JSON text, expected {expected}"),
    )
}

fn first_bad_utf8(text: &[u8], from: usize) -> Option<usize> {
    let text = text.get(from..)?;
    // The SIMD check answers only yes or no; std finds the offset in the rare bad text.
    if simdutf8::basic::from_utf8(text).is_ok() {
        return None;
    }
    std::str::from_utf8(text).err().map(|e| from + e.valid_up_to())
}

/// Members a Management API page may have besides `users`.
const PAGE_KEYS: [&[u8]; 5] = [b"start", b"limit", b"length", b"total", b"next"];

/// If the object at `pos` is a Management API page, the offset of its `users` array's `[`.
///
/// A page is an object whose members before `users` are all page members (`start`, `limit`,
/// `length`, `total`, `next`) and whose `users` is an array; anything else is one user.
fn page_users(text: &[u8], pos: usize, plan: &Plan, scanner: &mut Scanner) -> Option<usize> {
    let mut i = skip_ws(text, pos + 1);
    loop {
        let (key, after) = simple_key(text, i)?;
        i = skip_ws(text, after);
        if text.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(text, i + 1);
        if key == b"users" {
            return (text.get(i) == Some(&b'[')).then_some(i);
        }
        if !PAGE_KEYS.contains(&key) {
            return None;
        }
        i = match scanner.scan(plan, text, i) {
            Scan::Ok(end) => skip_ws(text, end),
            _ => return None,
        };
        if text.get(i) != Some(&b',') {
            return None;
        }
        i = skip_ws(text, i + 1);
    }
}

/// A key without escapes at `i`: its bytes and the offset after its closing quote.
fn simple_key(text: &[u8], i: usize) -> Option<(&[u8], usize)> {
    if text.get(i) != Some(&b'"') {
        return None;
    }
    let len = text[i + 1..].iter().position(|&b| b == b'"' || b == b'\\')?;
    (text[i + 1 + len] == b'"').then(|| (&text[i + 1..i + 1 + len], i + len + 2))
}

/// Checks what follows a page's `users` array: more page members, `}`, then only whitespace.
fn page_tail(text: &[u8], mut i: usize, plan: &Plan, scanner: &mut Scanner) -> Result<()> {
    loop {
        i = skip_ws(text, i);
        match text.get(i) {
            Some(b'}') => break,
            Some(b',') => {
                i = skip_ws(text, i + 1);
                let Some((key, after)) = simple_key(text, i) else {
                    return Err(structure_error(text, i, "a member of the Management API page"));
                };
                if !PAGE_KEYS.contains(&key) {
                    let k = String::from_utf8_lossy(key);
                    return Err(Error::new(
                        ErrorCode::InvalidJson,
                        format!("unexpected member {k:?} after \"users\" in a Management API page"),
                    ));
                }
                i = skip_ws(text, after);
                if text.get(i) != Some(&b':') {
                    return Err(structure_error(text, i, "':'"));
                }
                i = match scanner.scan(plan, text, skip_ws(text, i + 1)) {
                    Scan::Ok(end) => end,
                    _ => return Err(structure_error(text, i + 1, "a valid page member value")),
                };
            }
            _ => return Err(structure_error(text, i, "',' or '}'")),
        }
    }
    if skip_ws(text, i + 1) != text.len() {
        return Err(structure_error(text, skip_ws(text, i + 1), "the end of the JSON text"));
    }
    Ok(())
}
