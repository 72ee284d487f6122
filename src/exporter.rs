//! The streaming exporter, a thin front: push users in (NDJSON bytes, JSON text, parsed values), pull bytes out.
//!
//! Sans-I/O: nothing here reads or writes anything but memory. Input is kept until a pull
//! needs it, so memory is one pushed chunk plus one output chunk plus the record in hand.
//! The work is done by the readers (`input`), the record pipeline (`record`) and the output
//! buffer (`output`); this module keeps their order of calls and the export's state.

use crate::error::{Error, ErrorCode, Result};
use crate::import::{
    check_for_import, import_request, ImportFile, Importer, Unimportable, IMPORT_FILE_MAX_BYTES,
};
use crate::input::cells::CellBatch;
use crate::input::json_text::Texts;
use crate::input::ndjson::Lines;
use crate::input::{detect_input, InputForm, BOM};
use crate::manifest::{reasons, Manifest};
use crate::output::{Digests, Output, Pull};
use crate::query::Query;
use crate::record::{Records, Stats};
use crate::request::Request;
use crate::tenant::file_name;

/// Default size of a pulled chunk.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;
/// Default cap on one NDJSON line, in bytes (JSON text and values are already whole in memory).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 32 * 1024 * 1024;

/// What a host sets beside Auth0's request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Only users whose `identities[0].connection` equals this name (the host resolves
    /// `connection_id` to it). Default: every user.
    pub connection: Option<String>,
    /// Only users that Auth0's user-search query matches (after the connection filter),
    /// evaluated in the same pass. Compile it with [`Query::parse`]; a bad query is refused
    /// there (`invalid_query`), before any user is read. Default: every user.
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
    /// With `gzip`: pull a segment of a gzip member instead of a whole one, for an export run in
    /// pieces (slices, shards) that must be one gzip member in the end: raw deflate ending in
    /// a sync flush (byte-aligned, no final block), with no gzip header or trailer. The host
    /// writes the member: gzip's 10-byte header, the pieces' segments in order, an empty final
    /// block (`03 00`), and the trailer from each piece's [`Exporter::gzip_segment`] (the CRC-32s
    /// combined, the lengths summed). Default: `false`.
    pub gzip_segment: bool,
    /// The form of the bytes given to [`Exporter::push_bytes`]. Default: [`InputForm::Auto`].
    pub input_form: InputForm,
    /// The physical line number of the first NDJSON byte pushed. Default: 1, the start of a
    /// stream. A shard or a resumed export that starts after line `n` of a stream (at a line
    /// boundary) passes `n + 1`: errors then carry the stream's line numbers, and a BOM is not
    /// skipped, as it is only allowed at the start of a stream. (For JSON text, the first
    /// index is [`Exporter::push_json_from`]'s.) With a `limit`, such an export passes the
    /// users still to write in its request.
    pub first_line: u64,
    /// Write the CSV header line. Default: `true`; every shard but the first passes `false`.
    pub write_header: bool,
    /// Keep the sha256 digests of the output that [`Exporter::manifest`] proves the export with.
    /// Default: `false` (hashing costs about half the throughput in wasm).
    pub manifest: bool,
    /// Write Auth0's bulk-import files instead of the export: JSON arrays of the properties
    /// Auth0's import schema allows, database-connection users only, cut at
    /// [`IMPORT_FILE_MAX_BYTES`] (pull them with [`Exporter::pull_import`]). The request may
    /// not name `fields` or `format: "csv"`, and `gzip` and `manifest` cannot be set
    /// ([`Exporter::try_new`] says so). Default: `false`.
    pub for_import: bool,
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
            gzip_segment: false,
            input_form: InputForm::Auto,
            first_line: 1,
            write_header: true,
            manifest: false,
            for_import: false,
        }
    }
}

enum Input {
    None,
    /// Bytes from `push_bytes` whose form is not known yet, and the length at the last try
    /// to tell (tried again only when the bytes have doubled, so the tries cost linear time).
    Undecided(Vec<u8>, usize),
    /// A JSON text arriving through `push_bytes`, read whole once the input is finished.
    Gathering(Vec<u8>),
    Ndjson(Lines),
    Json(Texts),
}

impl Input {
    fn exhausted(&self) -> bool {
        match self {
            Input::None => true,
            Input::Undecided(buf, _) | Input::Gathering(buf) => buf.is_empty(),
            Input::Ndjson(lines) => lines.exhausted(),
            Input::Json(texts) => texts.exhausted(),
        }
    }
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
    chunk_size: usize,
    /// [`Options::input_form`].
    options_form: InputForm,
    /// [`Options::first_line`].
    first_line: u64,
    records: Records,
    input: Input,
    output: Output,
    header_written: bool,
    finished: bool,
    failed: Option<Error>,
    /// What the options asked, for the manifest: the query's text, the connection, lenient.
    asked: (Option<String>, Option<String>, bool),
    /// Import output pulled so far, and a pulled chunk's part past a file's end, not yet given.
    import_pulled: u64,
    carry: Vec<u8>,
    carry_pos: usize,
}

/// A chunk of import output ([`Exporter::pull_import`]): bytes of one file, never two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportChunk<'a> {
    /// The file these bytes belong to, 1-based (`<tenant>.import.001.json` is 1).
    pub file: u32,
    /// The bytes, following the file's earlier chunks.
    pub bytes: &'a [u8],
    /// These bytes end the file.
    pub ends_file: bool,
}

impl Exporter {
    /// A new export of `request` with host `options`, or the error that a `for_import` export
    /// with options it cannot take (fields, CSV, gzip, manifest) gets before any input.
    pub fn try_new(request: Request, options: Options) -> Result<Exporter> {
        if options.for_import {
            check_for_import(&request, &options)?;
        }
        Ok(Exporter::new(request, options))
    }

    /// A new export of `request` with host `options`. A `for_import` export with options it
    /// cannot take fails at its first push, finish or pull ([`Exporter::try_new`] says so at once).
    pub fn new(request: Request, options: Options) -> Exporter {
        let for_import = options.for_import;
        let mut refused = None;
        let request = if for_import {
            match check_for_import(&request, &options).and_then(|()| import_request(&request, false)) {
                Ok(r) => r,
                Err(e) => {
                    refused = Some(e);
                    request
                }
            }
        } else {
            request
        };
        let asked = (
            options.query.as_ref().map(|q| q.text().to_string()),
            options.connection.clone(),
            options.lenient,
        );
        let mut records = Records::new(
            &request,
            options.connection,
            options.query,
            options.lenient,
            options.max_record_bytes,
        );
        records.stats.lines = options.first_line.max(1) - 1;
        if for_import {
            records.import = Some(Importer::new(IMPORT_FILE_MAX_BYTES));
        }
        Exporter {
            request,
            chunk_size: options.chunk_size.max(1),
            options_form: options.input_form,
            first_line: options.first_line,
            records,
            input: Input::None,
            output: Output::new(options.gzip, options.gzip_segment, options.manifest),
            header_written: !options.write_header,
            finished: false,
            failed: refused,
            asked,
            import_pulled: 0,
            carry: Vec::new(),
            carry_pos: 0,
        }
    }

    /// The request being exported.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The counts so far.
    pub fn stats(&self) -> Stats {
        self.records.stats
    }

    /// Every record skipped in lenient mode, in input order, with where and why.
    pub fn skipped(&self) -> &[Error] {
        &self.records.skipped
    }

    /// The record pipeline, for field discovery (`crate::discover`), which reads users through
    /// this exporter's own input readers.
    pub(crate) fn records_mut(&mut self) -> &mut Records {
        &mut self.records
    }

    /// The record pipeline, read-only (see [`Exporter::records_mut`]).
    pub(crate) fn records(&self) -> &Records {
        &self.records
    }

    /// True once `limit` users are written: the host may stop reading input.
    pub fn limit_reached(&self) -> bool {
        self.records.limit_reached
    }

    /// Bytes held right now: unread input plus output not yet pulled (for hosts that watch memory).
    pub fn buffered_bytes(&self) -> usize {
        let input = match &self.input {
            Input::None => 0,
            Input::Undecided(buf, _) | Input::Gathering(buf) => buf.len(),
            Input::Ndjson(lines) => lines.buffered(),
            Input::Json(texts) => texts.buffered(),
        };
        input + self.output.waiting()
    }

    /// A checkpoint: how many of the bytes pushed lie before the end of the last record read
    /// (written, skipped or filtered out; its line end included). For NDJSON that is a line
    /// boundary; a JSON text counts once all its users are read.
    ///
    /// Records are encoded ahead of the pulls, so this is a point to resume from only when
    /// their output has been taken: after a pull returns [`Pull::NeedInput`] or [`Pull::Done`]
    /// (plain output; a gzip stream keeps some bytes in its compressor). An export that goes
    /// on from there is fed the input from this offset, with [`Options::first_line`] set to
    /// `stats().lines + 1`, no header, and the remaining `limit`.
    pub fn consumed_bytes(&self) -> u64 {
        match &self.input {
            Input::None | Input::Undecided(..) | Input::Gathering(_) => 0,
            Input::Ndjson(lines) => lines.consumed(),
            Input::Json(texts) => texts.consumed(),
        }
    }

    /// True once [`Exporter::finish`] was called.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// With [`Options::gzip_segment`]: the CRC-32 and length of the plain bytes in the segment,
    /// once a pull has said [`Pull::Done`]; otherwise `None`.
    pub fn gzip_segment(&self) -> Option<(u32, u64)> {
        self.output.segment()
    }

    /// Whether the output is gzipped ([`Options::gzip`]).
    pub fn is_gzipped(&self) -> bool {
        self.output.is_gzipped()
    }

    /// The sha256 and byte count of the plain output, and of the gzip output when gzipped:
    /// `None` until a pull has said [`Pull::Done`] (every byte pulled).
    pub fn digests(&self) -> Option<Digests> {
        self.output.digests()
    }

    /// The manifest of this export, once every byte is pulled and when [`Options::manifest`] was
    /// set (else `None`): request, options,
    /// counts, digests and the host's `started_at` / `ended_at`, with the file name
    /// `tenant` gives. An invalid tenant is an error (`invalid_tenant`).
    pub fn manifest(&self, tenant: &str, started_at: &str, ended_at: &str) -> Result<Option<Manifest>> {
        let Some(digests) = self.digests() else { return Ok(None) };
        let (query, connection, lenient) = self.asked.clone();
        Ok(Some(Manifest {
            file_name: file_name(tenant, self.request.format, self.is_gzipped())?,
            request: self.request.clone(),
            query,
            connection,
            lenient,
            gzip: self.is_gzipped(),
            stats: self.stats(),
            skipped_reasons: reasons(self.skipped()),
            digests: Some(digests),
            started_at: started_at.to_string(),
            ended_at: ended_at.to_string(),
        }))
    }

    /// Whether this export writes import files ([`Options::for_import`]).
    pub fn is_for_import(&self) -> bool {
        self.records.import.is_some()
    }

    /// The import files finished so far, in order (the last one once every byte is pulled).
    pub fn import_files(&self) -> &[ImportFile] {
        self.records.import.as_ref().map_or(&[], |i| &i.files)
    }

    /// The users left out of the import files so far, in input order, with where and why.
    pub fn unimportable(&self) -> &[Unimportable] {
        self.records.import.as_ref().map_or(&[], |i| &i.unimportable)
    }

    /// Users left out of the import files so far, those already taken included.
    pub fn unimportable_count(&self) -> u64 {
        self.records.import.as_ref().map_or(0, |i| i.left_out)
    }

    /// The list file of the users left out (`<tenant>.import.unimportable.json`) as it grows:
    /// the bytes for the users left out since the last call, which leave memory (a host writes
    /// them as they come, so a tenant of mostly social users costs no memory per user). With
    /// `end`, after the last pull, the list's close too. The calls' bytes, in order, are
    /// [`crate::unimportable_json`] of every user left out; [`Exporter::unimportable`] then
    /// holds only those not taken yet.
    pub fn take_unimportable_json(&mut self, end: bool) -> Vec<u8> {
        self.records.import.as_mut().map_or_else(Vec::new, |i| i.take_json(end))
    }

    /// Pulls the next chunk of an import export's output: bytes of one file, never two
    /// (a pull that would cross a file's end stops there and keeps the rest for the next call).
    pub fn pull_import(&mut self) -> Result<Pull<ImportChunk<'_>>> {
        if self.carry_pos < self.carry.len() {
            let offset = self.import_pulled;
            let (file, end) = file_at(self.import_files(), offset);
            let left = &self.carry[self.carry_pos..];
            let n = end.map_or(left.len(), |e| left.len().min((e - offset) as usize));
            self.carry_pos += n;
            self.import_pulled += n as u64;
            let ends_file = end == Some(self.import_pulled);
            let bytes = &self.carry[self.carry_pos - n..self.carry_pos];
            return Ok(Pull::Data(ImportChunk { file, bytes, ends_file }));
        }
        self.carry.clear();
        self.carry_pos = 0;
        let offset = self.import_pulled;
        let chunk = self.chunk_size;
        let Exporter {
            records, input, output, header_written, finished, failed, carry, import_pulled, ..
        } = self;
        let finished = *finished;
        let pulled = output.pull(chunk, |plain, want| {
            encode(records, input, header_written, finished, failed, plain, want)
        })?;
        let Pull::Data(bytes) = pulled else {
            return Ok(match pulled {
                Pull::Done => Pull::Done,
                _ => Pull::NeedInput,
            });
        };
        records.stats.bytes_out += bytes.len() as u64;
        let files = records.import.as_ref().map_or(&[][..], |i| &i.files[..]);
        let (file, end) = file_at(files, offset);
        let n = end.map_or(bytes.len(), |e| bytes.len().min((e - offset) as usize));
        carry.extend_from_slice(&bytes[n..]);
        *import_pulled += n as u64;
        let ends_file = end == Some(*import_pulled);
        Ok(Pull::Data(ImportChunk { file, bytes: &bytes[..n], ends_file }))
    }

    fn check_push(&mut self, bytes: usize) -> Result<bool> {
        if let Some(e) = &self.failed {
            return Err(Error::new(ErrorCode::InvalidState, format!("the export already failed: {e}")));
        }
        if self.finished {
            return Err(Error::new(ErrorCode::InvalidState, "input pushed after finish()"));
        }
        self.records.stats.bytes_in += bytes as u64;
        Ok(!self.records.limit_reached)
    }

    /// Pushes NDJSON bytes; a chunk may end anywhere (inside a line, a UTF-8 sequence, a CRLF).
    pub fn push_ndjson(&mut self, chunk: &[u8]) -> Result<()> {
        if !self.check_push(chunk.len())? {
            return Ok(());
        }
        if matches!(self.input, Input::None) {
            self.input = Input::Ndjson(Lines::starting_at(self.first_line));
        }
        let Input::Ndjson(lines) = &mut self.input else { return Err(mixed()) };
        lines.push(chunk, self.records.max_record_bytes);
        Ok(())
    }

    /// Pushes input bytes in the form [`Options::input_form`] names: NDJSON, JSON text, or
    /// (the default) whichever [`detect_input`] tells. A chunk may end anywhere.
    ///
    /// NDJSON streams; a JSON text is read whole once [`Exporter::finish`] is called. While
    /// the form is undecided the bytes wait here, at most about the record-size cap: past
    /// that the first record is too large either way, and the input is read as NDJSON.
    pub fn push_bytes(&mut self, chunk: &[u8]) -> Result<()> {
        if !self.check_push(chunk.len())? {
            return Ok(());
        }
        if matches!(self.input, Input::None) {
            self.input = match self.options_form {
                InputForm::Auto => Input::Undecided(Vec::new(), 0),
                InputForm::Json => Input::Gathering(Vec::new()),
                InputForm::Ndjson => Input::Ndjson(Lines::starting_at(self.first_line)),
            };
        }
        let cap = self.records.max_record_bytes;
        match &mut self.input {
            Input::Undecided(buf, tried) => {
                buf.extend_from_slice(chunk);
                let over = buf.len() > cap.saturating_add(2 + BOM.len());
                if buf.len() < tried.saturating_mul(2) && !over {
                    return Ok(());
                }
                *tried = buf.len();
                let form = match detect_input(buf, false) {
                    Some(form) => form,
                    None if over => InputForm::Ndjson,
                    None => return Ok(()),
                };
                let buf = std::mem::take(buf);
                self.decide(form, buf);
            }
            Input::Gathering(buf) => buf.extend_from_slice(chunk),
            Input::Ndjson(lines) => lines.push(chunk, cap),
            Input::Json(_) | Input::None => return Err(mixed()),
        }
        Ok(())
    }

    /// Gives the bytes gathered while undecided to the reader of `form`.
    fn decide(&mut self, form: InputForm, buf: Vec<u8>) {
        self.input = match form {
            InputForm::Json => Input::Gathering(buf),
            InputForm::Ndjson | InputForm::Auto => {
                let mut lines = Lines::starting_at(self.first_line);
                lines.push(&buf, self.records.max_record_bytes);
                Input::Ndjson(lines)
            }
        };
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
        texts(&mut self.input)?.push(text, first_index, &mut self.records);
        Ok(())
    }

    /// Pushes users a host has read itself, value by value ([`CellBatch`]): a host that holds
    /// users as objects of its own (JS objects in the wasm build) reads only the selected paths
    /// and hands over their values, so nothing but whole objects is parsed again. A batch has
    /// [`Exporter::cell_width`] cells per user; `first_index` numbers its first user in errors.
    pub fn push_cells(&mut self, batch: CellBatch, first_index: u64) -> Result<()> {
        self.push_checked_cells(batch, first_index, false)
    }

    /// [`Exporter::push_cells`] for the wasm door, whose text is `TextEncoder` output: UTF-8 by
    /// construction, so it is not checked again.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn push_encoded_cells(&mut self, batch: CellBatch, first_index: u64) -> Result<()> {
        self.push_checked_cells(batch, first_index, true)
    }

    fn push_checked_cells(&mut self, batch: CellBatch, first_index: u64, encoded: bool) -> Result<()> {
        let width = self.cell_width();
        if batch.width != width {
            return Err(Error::new(
                ErrorCode::InvalidState,
                format!("a cell batch for this export needs {width} cells per user, not {}", batch.width),
            ));
        }
        batch.check(encoded).map_err(|m| Error::new(ErrorCode::InvalidState, m))?;
        if !self.check_push(batch.text.len())? {
            return Ok(());
        }
        texts(&mut self.input)?.push_cells(batch, first_index);
        Ok(())
    }

    /// Cells per user in a [`CellBatch`] for this export: one per field, then one for the user's
    /// `identities[0].connection` when the export filters on a connection, then one per path
    /// of the query, if there is one.
    pub fn cell_width(&self) -> usize {
        self.request.fields.len()
            + usize::from(self.records.filters_connection())
            + self.records.query_paths()
    }

    /// Queues, in input order, a user the host could not turn into JSON (a JS value with NaN,
    /// ±Infinity, a BigInt or a cycle): it fails a strict export and is skipped and reported
    /// by a lenient one, as `unsupported_value` at `index`, when the pulls reach it.
    pub fn push_unsupported(&mut self, index: u64, message: impl Into<String>) -> Result<()> {
        if !self.check_push(0)? {
            return Ok(());
        }
        texts(&mut self.input)?.push_unsupported(index, message.into());
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
        if let Input::Undecided(buf, _) = &mut self.input {
            let buf = std::mem::take(buf);
            let form = detect_input(&buf, true).expect("a complete input always has a form");
            self.decide(form, buf);
        }
        if let Input::Gathering(buf) = &mut self.input {
            let buf = std::mem::take(buf);
            let mut texts = Texts::default();
            texts.push(&buf, 0, &mut self.records);
            self.input = Input::Json(texts);
        }
        self.finished = true;
        Ok(())
    }

    /// Pulls the next chunk of output (at most the chunk size).
    ///
    /// In strict mode the first bad record fails the export: this returns its error, and so
    /// does every later call.
    pub fn pull(&mut self) -> Result<Pull<&[u8]>> {
        self.pull_at_most(self.chunk_size)
    }

    /// Like [`Exporter::pull`], but the chunk is at most `max` bytes (at least 1): for a host
    /// that copies output into a buffer of its own size, with no copy in between.
    pub fn pull_at_most(&mut self, max: usize) -> Result<Pull<&[u8]>> {
        let Exporter { records, input, output, header_written, finished, failed, .. } = self;
        let finished = *finished;
        let pulled = output.pull(max.max(1), |plain, want| {
            encode(records, input, header_written, finished, failed, plain, want)
        })?;
        if let Pull::Data(bytes) = &pulled {
            records.stats.bytes_out += bytes.len() as u64;
        }
        Ok(pulled)
    }

    /// Pulls output into a caller's buffer (csv-core style): `Data(n)` when `n` ≥ 1 bytes were
    /// copied, else why not. Any buffer size works, even one byte. A buffer is filled unless
    /// the output runs out: after a `Data(n)` with `n` short of the buffer, the next call gives
    /// `NeedInput`, `Done` or the error that stopped the export. An empty buffer gets `Data(0)`.
    pub fn pull_into(&mut self, buf: &mut [u8]) -> Result<Pull<usize>> {
        let mut n = 0;
        while n < buf.len() {
            match self.pull_at_most(buf.len() - n) {
                Ok(Pull::Data(bytes)) => {
                    buf[n..n + bytes.len()].copy_from_slice(bytes);
                    n += bytes.len();
                }
                Ok(Pull::Done) if n == 0 => return Ok(Pull::Done),
                Ok(Pull::NeedInput) if n == 0 => return Ok(Pull::NeedInput),
                Err(e) if n == 0 => return Err(e),
                // Bytes were copied: they come first; what stopped the copy comes with the next call.
                Ok(_) | Err(_) => break,
            }
        }
        Ok(Pull::Data(n))
    }

    /// Pulls everything there is now into one vector (convenient for small exports and tests).
    pub fn pull_to_end(&mut self) -> Result<Vec<u8>> {
        let mut all = Vec::new();
        while let Pull::Data(chunk) = self.pull()? {
            all.extend_from_slice(chunk);
        }
        Ok(all)
    }
}

/// Encodes records into `plain` until `want` bytes wait or no input is left; says whether the
/// export's plain output has ended (the `fill` of [`Output::pull`]).
fn encode(
    records: &mut Records,
    input: &mut Input,
    header_written: &mut bool,
    finished: bool,
    failed: &mut Option<Error>,
    plain: &mut Vec<u8>,
    want: usize,
) -> Result<bool> {
    if let Some(e) = failed {
        // Records encoded before the failure are still delivered, so what a strict export
        // gives before its error does not depend on how the input was chunked.
        return if plain.is_empty() { Err(e.clone()) } else { Ok(false) };
    }
    if !*header_written {
        records.header(plain);
        *header_written = true;
    }
    let result = match input {
        Input::None | Input::Undecided(..) | Input::Gathering(_) => Ok(()),
        Input::Ndjson(lines) => lines.fill(records, plain, want, finished),
        Input::Json(texts) => texts.fill(records, plain, want),
    };
    if let Err(e) = result {
        *failed = Some(e.clone());
        return if plain.is_empty() { Err(e) } else { Ok(false) };
    }
    let ended = records.limit_reached || (finished && input.exhausted());
    if ended {
        if let Some(import) = &mut records.import {
            import.finish(plain);
        }
    }
    Ok(ended)
}

/// The import file that output offset `offset` falls in (1-based), and where that file ends if
/// it is finished. Files are finished in order, so the first one ending past `offset` holds it.
fn file_at(files: &[ImportFile], offset: u64) -> (u32, Option<u64>) {
    let mut end = 0;
    for f in files {
        end += f.bytes;
        if offset < end {
            return (f.number, Some(end));
        }
    }
    (files.len() as u32 + 1, None)
}

/// The JSON-text reader, made on first use; an error if NDJSON came first.
fn texts(input: &mut Input) -> Result<&mut Texts> {
    if matches!(input, Input::None) {
        *input = Input::Json(Texts::default());
    }
    match input {
        Input::Json(texts) => Ok(texts),
        _ => Err(mixed()),
    }
}

fn mixed() -> Error {
    Error::new(
        ErrorCode::InvalidState,
        "NDJSON bytes and JSON text / values cannot be mixed in one export; use one exporter per input kind",
    )
}
