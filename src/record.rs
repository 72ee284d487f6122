//! One record from input bytes to export bytes: scan it, filter it by connection and query, encode it, count it.
//!
//! The input readers (`input::ndjson`, `input::json_text`) find where records are; this module
//! decides what becomes of each one, and keeps the counts and the lenient mode's reports.

use crate::error::{Error, ErrorCode, Location, Result};
use crate::format::{encoder_for, Encoder, Value};
use crate::import::Importer;
use crate::json::decode_string;
use crate::plan::{Plan, NONE};
use crate::query::{Query, QueryValue};
use crate::request::Request;
use crate::scan::{skip_ws, Capture, Fault, Kind, Scan, Scanner};

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
    /// The number of the last NDJSON line read (complete lines, plus a last line without `\n`):
    /// the lines seen so far, counted from [`crate::Options::first_line`].
    pub lines: u64,
}

/// A record that cannot be written: why, where its value ended (if known), and its user_id.
pub(crate) struct BadRecord {
    pub error: Error,
    pub end: Option<usize>,
    pub user_id: Option<String>,
}

/// What every record of one export goes through, whichever reader found it.
pub(crate) struct Records {
    plan: Plan,
    /// A plan with no paths: whole values in a host's cells are checked with it.
    bare_plan: Plan,
    /// Per query path, a plan that reports every value of a host's cell to that path, through
    /// arrays (a host sends what a path reaches, in one cell).
    query_cell_plans: Vec<Plan>,
    /// The fields' names (for messages about a host's cells) and which one is the top-level `user_id`.
    field_names: Vec<String>,
    user_id_field: Option<usize>,
    encoder: Box<dyn Encoder>,
    scanner: Scanner,
    /// The allocation of a record's values, kept between records (empty between them).
    values: Vec<Option<Value<'static>>>,
    scratch: Vec<u8>,
    query_scratch: crate::query::Scratch,
    connection: Option<String>,
    lenient: bool,
    limit: Option<u64>,
    /// Longest record accepted, in bytes.
    pub max_record_bytes: usize,
    pub stats: Stats,
    pub skipped: Vec<Error>,
    /// `limit` users are written: nothing more is read.
    pub limit_reached: bool,
    /// Field discovery's tally (`crate::discover`): sees every good user's bytes, before the
    /// filters. None in an export.
    pub discover: Option<Box<crate::discover::tally::PathCounts>>,
    /// The import encoder, in place of `encoder`, for an import export.
    pub import: Option<Importer>,
    /// Where the record in hand is (set by the readers): for the import's list of users left out.
    pub at: Option<Location>,
}

impl Records {
    pub fn new(
        request: &Request,
        connection: Option<String>,
        query: Option<Query>,
        lenient: bool,
        max_record_bytes: usize,
    ) -> Records {
        let query_cell_plans = query
            .as_ref()
            .map_or(Vec::new(), |q| (0..q.paths().len() as u32).map(|p| Plan::leaf(q.clone(), p)).collect());
        Records {
            plan: Plan::new(request, query),
            bare_plan: Plan::empty(),
            query_cell_plans,
            field_names: request.fields.iter().map(|f| f.name.clone()).collect(),
            user_id_field: request
                .fields
                .iter()
                .position(|f| matches!(f.path.as_slice(), [crate::request::Step::Key(k)] if k == "user_id")),
            encoder: encoder_for(request),
            scanner: Scanner::default(),
            values: Vec::new(),
            scratch: Vec::new(),
            query_scratch: Default::default(),
            connection,
            lenient,
            limit: request.limit,
            max_record_bytes,
            stats: Stats::default(),
            skipped: Vec::new(),
            limit_reached: false,
            discover: None,
            import: None,
            at: None,
        }
    }

    /// Appends what comes before the first record (the CSV header line).
    pub fn header(&self, out: &mut Vec<u8>) {
        self.encoder.header(out);
    }

    /// Validates the JSON value at `pos` of `text` (a Management API page member, say).
    pub fn scan_value(&mut self, text: &[u8], pos: usize) -> Scan {
        self.scanner.scan(&self.plan, text, pos)
    }

    /// Reads one record at `start` of `buf`, and appends it to `out` unless it is filtered out.
    /// With `whole`, nothing but whitespace may follow it in `buf`. On error: the error
    /// (without location), the offset where the value ended if known, and the user_id if read.
    pub fn record(
        &mut self,
        buf: &[u8],
        start: usize,
        bad_utf8: Option<usize>,
        whole: bool,
        out: &mut Vec<u8>,
    ) -> std::result::Result<usize, BadRecord> {
        self.stats.users_read += 1;
        let is_object = buf.get(start) == Some(&b'{');
        self.scanner.hits.clear();
        let scanned = self.scanner.scan(&self.plan, buf, start);
        let id = self.user_id(buf);
        let (mut fault, end) = match scanned {
            Scan::Ok(end) => (None, Some(end)),
            Scan::Bad(f, end) => (Some(f), Some(end)),
            Scan::Broken(f) => (Some(f), None),
        };
        // The cap first, as for an NDJSON line: an over-long user is that, whatever else it is.
        if let Some(end) = end.filter(|&end| end - start > self.max_record_bytes) {
            let cap = self.max_record_bytes;
            let e = Error::new(
                ErrorCode::RecordTooLarge,
                format!("the user is longer than the record-size cap of {cap} bytes"),
            );
            return Err(BadRecord { error: e, end: Some(end), user_id: id });
        }
        let stop = fault.as_ref().map_or(usize::MAX, |f| f.offset);
        // A syntax fault on the first non-UTF-8 byte is reported as what it is: bad UTF-8.
        if let Some(b) = bad_utf8.filter(|&b| b <= stop && end.is_none_or(|e| b < e)) {
            fault = Some(Fault {
                code: ErrorCode::InvalidUtf8,
                message: format!("invalid UTF-8 at byte {b}"),
                offset: b,
                truncated: false,
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
        if let Some(paths) = self.discover.as_deref_mut() {
            paths.see(&buf[start..end]);
        }
        let connection = self
            .capture(self.plan.connection_slot)
            .map(|c| Value { kind: c.kind, raw: &buf[c.start..c.end] });
        let mut values = reuse(std::mem::take(&mut self.values));
        values.extend(
            self.plan
                .field_slots
                .iter()
                .map(|&slot| self.capture(slot).map(|c| Value { kind: c.kind, raw: &buf[c.start..c.end] })),
        );
        let holds = self.plan.query.as_ref().is_none_or(|q| q.eval(&self.scanner.hits));
        self.write_values(&values, connection, holds, out);
        self.values = reuse(values);
        Ok(end)
    }

    /// The rest of a good record's way: the connection filter on `connection` (the user's
    /// `identities[0].connection`), the query (`holds`: whether it matched the user), then the
    /// encoder and the counts.
    pub fn write_values(
        &mut self,
        values: &[Option<Value<'_>>],
        connection: Option<Value<'_>>,
        holds: bool,
        out: &mut Vec<u8>,
    ) {
        if let Some(wanted) = &self.connection {
            let matches = match connection {
                Some(Value { kind: Kind::String { escaped: true }, raw }) => {
                    self.scratch.clear();
                    decode_string(raw, &mut self.scratch);
                    self.scratch == wanted.as_bytes()
                }
                Some(Value { kind: Kind::String { escaped: false } | Kind::Text, raw }) => {
                    raw == wanted.as_bytes()
                }
                _ => false,
            };
            if !matches {
                self.stats.users_filtered += 1;
                return;
            }
        }
        if !holds {
            self.stats.users_filtered += 1;
            return;
        }
        self.stats.users_matched += 1;
        if let Some(import) = &mut self.import {
            if !import.record(values, self.at, &mut self.scratch, out) {
                return;
            }
        } else {
            self.encoder.record(values, out, &mut self.scratch);
        }
        self.stats.users_written += 1;
        if self.limit.is_some_and(|l| self.stats.users_written >= l) {
            self.limit_reached = true;
        }
    }

    /// Checks one whole JSON value (a host's cell) as a record's bytes are checked.
    pub fn scan_bare(&mut self, text: &[u8]) -> Scan {
        self.scanner.scan(&self.bare_plan, text, 0)
    }

    /// The field that is the top-level `user_id`, if one is.
    pub fn user_id_field(&self) -> Option<usize> {
        self.user_id_field
    }

    /// Whether the export keeps only one connection's users.
    pub fn filters_connection(&self) -> bool {
        self.connection.is_some()
    }

    /// How many paths the query reads (one cell each in a host's batch), 0 without a query.
    pub fn query_paths(&self) -> usize {
        self.query_cell_plans.len()
    }

    /// Starts a user whose query values come from a host's cells.
    pub fn clear_query(&mut self) {
        if let Some(q) = &self.plan.query {
            if self.scanner.hits.is_empty() {
                self.scanner.hits = q.new_hits();
            }
        }
        self.scanner.hits.clear();
    }

    /// The name of a host's cell `i` (a field, the connection, or a query path), for messages.
    pub fn cell_name(&self, i: usize) -> String {
        let fields = self.field_names.len();
        let conn = usize::from(self.connection.is_some());
        match (i.checked_sub(fields), self.plan.query.as_ref()) {
            (None, _) => self.field_names[i].clone(),
            (Some(j), _) if j < conn => "identities[0].connection".to_string(),
            (Some(j), Some(q)) => q.paths()[j - conn].keys().join("."),
            (Some(_), None) => format!("cell {i}"),
        }
    }

    /// Reports a host's cell for query path `path`: a scalar as it is, a JSON text (checked
    /// before) through the path's cell plan, so an array's elements count one by one.
    pub fn observe_cell(&mut self, path: usize, value: Value<'_>) {
        let Some(q) = self.plan.query.as_ref() else { return };
        let v = match value.kind {
            Kind::Text => QueryValue::Str { raw: value.raw, escaped: false },
            Kind::String { escaped } => QueryValue::Str { raw: value.raw, escaped },
            Kind::Number => QueryValue::Num(value.raw),
            Kind::True => QueryValue::Bool(true),
            Kind::False => QueryValue::Bool(false),
            Kind::Null => QueryValue::Null,
            Kind::Object | Kind::Array => {
                let _ = self.scanner.scan(&self.query_cell_plans[path], value.raw, 0);
                return;
            }
        };
        q.observe(path, v, &mut self.scanner.hits, &mut self.query_scratch);
    }

    /// Whether the query holds for the values reported since [`Records::clear_query`].
    pub fn query_holds(&self) -> bool {
        self.plan.query.as_ref().is_none_or(|q| q.eval(&self.scanner.hits))
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
    pub fn bad_record(&mut self, e: Error) -> Result<()> {
        if self.lenient {
            self.stats.users_skipped += 1;
            self.skipped.push(e);
            Ok(())
        } else {
            Err(e)
        }
    }
}

/// An emptied `Vec` of values as one of values borrowing other bytes, in the same allocation:
/// `Value<'a>` has one layout for every `'a`, so collecting an empty vector's iterator reuses its
/// buffer (std collects in place) and a record costs no allocation once the first has grown it.
fn reuse<'a, 'b>(mut v: Vec<Option<Value<'a>>>) -> Vec<Option<Value<'b>>> {
    v.clear();
    v.into_iter().map(|_| None).collect()
}

/// The error of a record longer than the cap.
pub(crate) fn too_large(cap: usize) -> Error {
    Error::new(
        ErrorCode::RecordTooLarge,
        format!("the line is longer than the record-size cap of {cap} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::{reuse, Value};
    use crate::scan::Kind;

    #[test]
    fn reuse_keeps_the_allocation() {
        let text = b"abc".to_vec();
        let mut v: Vec<Option<Value<'_>>> = Vec::with_capacity(40);
        v.push(Some(Value { kind: Kind::Number, raw: &text }));
        let ptr = v.as_ptr() as usize;
        let w: Vec<Option<Value<'static>>> = reuse(v);
        assert!(w.is_empty());
        assert_eq!((w.as_ptr() as usize, w.capacity()), (ptr, 40));
    }
}
