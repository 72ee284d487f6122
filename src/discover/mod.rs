//! Field discovery: which paths the first users of an input hold, how often each is filled, and one example of each.
//!
//! A host offers these paths as fields to pick. The users are read by an [`Exporter`]'s own
//! input readers and scanner (NDJSON or JSON text, BOM, CRLF, bad records, the record cap,
//! exactly as an export reads them); every user the scanner accepted goes to [`tally`], which
//! walks its already validated bytes. Memory is bounded whatever the input: at most
//! [`DiscoverOptions::max_paths`] paths, each at most [`MAX_PATH_BYTES`] long with an example
//! of at most [`DiscoverOptions::max_example_chars`] characters.
//!
//! Paths are written as fields name them (COMPATIBILITY.md, "Field discovery"): keys joined by
//! `.`, array elements as `[n]`. An object or array is listed as a whole value too (a field
//! can take it whole), and its members below it; only the first
//! [`DiscoverOptions::max_index`] elements of an array are listed one by one. A key that a
//! field path cannot name (empty, or holding `.`, `[` or `]`) is not listed, nor anything
//! under it: [`Discovery::unnamed`] counts them.

pub(crate) mod tally;

use crate::error::Result;
use crate::exporter::{Exporter, Options};
use crate::input::InputForm;
use crate::output::Pull;
use crate::request::{Field, Format, Request};
pub use tally::{kind, PathInfo, MAX_PATH_BYTES};

/// How far discovery reads and how much it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverOptions {
    /// Users read at most (bad records included). Default 10,000.
    pub max_users: u64,
    /// Distinct paths kept at most; later new paths set [`Discovery::truncated`]. Default 1,000.
    pub max_paths: usize,
    /// Array elements listed one by one (`[0]` to `[max_index - 1]`). Default 3.
    pub max_index: u32,
    /// Longest example, in characters (an ellipsis marks a cut). Default 60.
    pub max_example_chars: usize,
    /// The form of the bytes given to [`Discoverer::push`]. Default: [`InputForm::Auto`].
    pub input_form: InputForm,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions {
            max_users: 10_000,
            max_paths: 1_000,
            max_index: 3,
            max_example_chars: 60,
            input_form: InputForm::Auto,
        }
    }
}

/// What discovery found so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// Users walked (good records: JSON objects the export would read).
    pub users: u64,
    /// Records read, bad ones included.
    pub users_read: u64,
    /// Bad records skipped (listed by [`Discoverer::skipped`]).
    pub users_skipped: u64,
    /// The whole input was read (finished before `max_users`).
    pub complete: bool,
    /// Some path was left out: the list was full, or the path was longer than [`MAX_PATH_BYTES`].
    pub truncated: bool,
    /// Keys met that no field path can name (empty, or holding `.`, `[` or `]`).
    pub unnamed: u64,
    /// The paths, in the order they were first met.
    pub paths: Vec<PathInfo>,
}

/// Reads the first users of an input and lists the paths they hold: push bytes, finish, read
/// [`Discoverer::discovery`]. Sans-I/O, like the [`Exporter`] it reads through.
pub struct Discoverer {
    exporter: Exporter,
    max_users: u64,
    /// Where the exporter's output (a `user_id` per user, which no one keeps) is pulled to.
    sink: Vec<u8>,
    finished: bool,
}

impl Discoverer {
    /// A discovery with these limits.
    pub fn new(options: DiscoverOptions) -> Discoverer {
        let max_users = options.max_users.max(1);
        // The smallest export: its limit stops a JSON text's users at `max_users` good ones.
        let fields = vec![Field::new("user_id", None).expect("a valid field")];
        let request = Request::new(Format::Json, Some(max_users), Some(fields)).expect("a valid request");
        let mut exporter = Exporter::new(
            request,
            Options { lenient: true, input_form: options.input_form, ..Options::default() },
        );
        exporter.records_mut().discover = Some(Box::new(tally::PathCounts::new(
            options.max_paths,
            options.max_index,
            options.max_example_chars,
        )));
        Discoverer { exporter, max_users, sink: vec![0; 16 * 1024], finished: false }
    }

    /// Pushes input bytes, split anywhere, in the form the options name. Once `max_users`
    /// records are read the rest is ignored: an NDJSON chunk is cut after as many lines as
    /// users are left, so not one user more is read.
    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        let mut rest = chunk;
        while !rest.is_empty() && !self.is_full() && !self.finished {
            let left = self.max_users - self.exporter.stats().users_read;
            let cut = after_newlines(rest, left);
            self.exporter.push_bytes(&rest[..cut])?;
            self.drain()?;
            rest = &rest[cut..];
        }
        Ok(())
    }

    /// Pushes a JSON text: one user, an array of users, or a Management API page.
    pub fn push_json(&mut self, text: &[u8]) -> Result<()> {
        if self.is_full() || self.finished {
            return Ok(());
        }
        self.exporter.push_json(text)?;
        self.drain()
    }

    /// Says no more input will come (a last NDJSON line may lack its `\n`; a JSON text is read
    /// now). Does nothing once `max_users` are read: the rest of the input was not pushed.
    pub fn finish(&mut self) -> Result<()> {
        if self.is_full() || self.finished {
            return Ok(());
        }
        self.finished = true;
        self.exporter.finish()?;
        self.drain()
    }

    /// True once `max_users` records are read: the host may stop reading input.
    pub fn is_full(&self) -> bool {
        self.exporter.stats().users_read >= self.max_users || self.exporter.limit_reached()
    }

    /// The records skipped as bad, with where and why (as a lenient export reports them).
    pub fn skipped(&self) -> &[crate::Error] {
        self.exporter.skipped()
    }

    /// What was found so far.
    pub fn discovery(&self) -> Discovery {
        let stats = self.exporter.stats();
        let counts = self.exporter.records().discover.as_deref().expect("a Discoverer keeps its tally");
        Discovery {
            users: counts.users,
            users_read: stats.users_read,
            users_skipped: stats.users_skipped,
            complete: self.finished && !self.is_full(),
            truncated: counts.truncated,
            unnamed: counts.unnamed,
            paths: counts.paths.clone(),
        }
    }

    /// Reads what was pushed, dropping the export's output.
    fn drain(&mut self) -> Result<()> {
        while let Pull::Data(_) = self.exporter.pull_into(&mut self.sink)? {}
        Ok(())
    }
}

/// The index just past the `n`-th newline of `bytes` (all of them when it has fewer), at least 1.
fn after_newlines(bytes: &[u8], n: u64) -> usize {
    let mut at = 0;
    for _ in 0..n {
        match crate::bytes::find_byte(&bytes[at..], b'\n') {
            Some(i) => at += i + 1,
            None => return bytes.len(),
        }
        if at == bytes.len() {
            break;
        }
    }
    at.max(1)
}
