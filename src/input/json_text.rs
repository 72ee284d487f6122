//! JSON-text reading: one user, an array of users, or a Management API page, each text whole in memory.
//!
//! Texts queue in push order. A text that is not one valid JSON value fails the export, in
//! lenient mode too, naming line and column: nothing of it is written. A valid text's users
//! are then read one by one, so an error names the user's index, and a bad user (not an
//! object, a duplicate key, longer than the record cap…) does not stop the ones after it.

use std::collections::VecDeque;

use super::cells::{self, CellBatch, CellCursor};
use super::{first_bad_utf8, BOM};
use crate::error::{Error, ErrorCode, Location, Result};
use crate::record::Records;
use crate::scan::{skip_ws, Scan};

enum Stage {
    Single,
    /// A record the host could not turn into JSON; its message.
    Unsupported(String),
    /// Users a host read value by value (`Exporter::push_cells`), and how far they are read:
    /// queued here so they keep their order among the texts.
    Cells(Box<(CellBatch, CellCursor)>),
    Elements {
        index: u64,
        in_page: bool,
        after_comma: bool,
    },
    PageTail,
    Tail,
    Done,
}

struct Text {
    text: Vec<u8>,
    /// The whole text has been checked to be one valid JSON value.
    checked: bool,
    pos: usize,
    stage: Stage,
    /// First invalid UTF-8 offset at or after `pos`, if any.
    bad_utf8: Option<usize>,
    /// Index of this text's first user (0 unless the host numbers a split batch).
    base: u64,
}

/// The JSON texts pushed and not yet read through.
#[derive(Default)]
pub(crate) struct Texts {
    queue: VecDeque<Text>,
    /// Bytes of the texts read through.
    read: u64,
}

impl Texts {
    /// Queues a JSON text whose users are numbered from `first_index`.
    pub fn push(&mut self, text: &[u8], first_index: u64, records: &mut Records) {
        let mut pos = if text.starts_with(BOM) { BOM.len() } else { 0 };
        pos = skip_ws(text, pos);
        let stage = match text.get(pos) {
            Some(b'[') => {
                pos += 1;
                Stage::Elements { index: 0, in_page: false, after_comma: false }
            }
            Some(b'{') => match page_users(text, pos, records) {
                Some(users) => {
                    pos = users + 1;
                    Stage::Elements { index: 0, in_page: true, after_comma: false }
                }
                None => Stage::Single,
            },
            _ => Stage::Single,
        };
        let bad_utf8 = first_bad_utf8(text, pos);
        let text = text.to_vec();
        self.queue.push_back(Text { text, checked: false, pos, stage, bad_utf8, base: first_index });
    }

    /// Queues users a host read value by value; the first is user `first_index`.
    pub fn push_cells(&mut self, batch: CellBatch, first_index: u64) {
        self.push_textless(Stage::Cells(Box::new((batch, CellCursor::default()))), first_index);
    }

    /// Queues a user the host could not turn into JSON, at `index`, with why.
    pub fn push_unsupported(&mut self, index: u64, message: String) {
        self.push_textless(Stage::Unsupported(message), index);
    }

    /// Queues what a host gave without JSON text to read (so nothing to check), in push order.
    fn push_textless(&mut self, stage: Stage, base: u64) {
        self.queue.push_back(Text { text: Vec::new(), checked: true, pos: 0, stage, bad_utf8: None, base });
    }

    /// Unread bytes held.
    pub fn buffered(&self) -> usize {
        self.queue.iter().map(|d| d.text.len() - d.pos.min(d.text.len())).sum()
    }

    /// Bytes of the texts read through (a text counts once all its users are read).
    pub fn consumed(&self) -> u64 {
        self.read
    }

    /// Every text pushed so far has been read through.
    pub fn exhausted(&self) -> bool {
        self.queue.is_empty()
    }

    /// Hands users to `records` until `want` bytes wait in `out`, the texts run out, or the
    /// limit is reached.
    pub fn fill(&mut self, records: &mut Records, out: &mut Vec<u8>, want: usize) -> Result<()> {
        while out.len() < want && !records.limit_reached {
            let Some(doc) = self.queue.front_mut() else { return Ok(()) };
            if !doc.checked {
                // Not a bad record but a bad input: `?` fails the export whatever the mode.
                check_one_value(&doc.text, records)?;
                doc.checked = true;
            }
            let text = &doc.text;
            match doc.stage {
                Stage::Done => {
                    self.read += doc.text.len() as u64;
                    self.queue.pop_front();
                }
                Stage::Unsupported(ref mut message) => {
                    let e = Error::new(ErrorCode::UnsupportedValue, std::mem::take(message));
                    let loc = Location::Index(doc.base);
                    doc.stage = Stage::Done;
                    records.stats.users_read += 1;
                    records.bad_record(e.at(loc, None))?;
                }
                Stage::Cells(ref mut cells) => {
                    let (batch, cursor) = &mut **cells;
                    if cursor.user == batch.users() {
                        doc.stage = Stage::Done;
                    } else {
                        cells::next_user(batch, cursor, doc.base, records, out)?;
                    }
                }
                Stage::Single => {
                    doc.stage = Stage::Done;
                    let loc = Location::Index(doc.base);
                    records.at = Some(loc);
                    match records.record(text, doc.pos, doc.bad_utf8, true, out) {
                        Ok(_) => {}
                        Err(bad) => records.bad_record(bad.error.at(loc, bad.user_id))?,
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
                        records.bad_record(structure_error(text, pos, "a user after ','").at(loc, None))?;
                        continue;
                    }
                    records.at = Some(loc);
                    let end = match records.record(text, pos, doc.bad_utf8, false, out) {
                        Ok(end) => end,
                        Err(bad) => {
                            records.bad_record(bad.error.at(loc, bad.user_id))?;
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
                            records.bad_record(e.at(Location::Index(doc.base + index + 1), None))?;
                        }
                    }
                }
                Stage::PageTail => {
                    let result = page_tail(text, doc.pos, records);
                    doc.stage = Stage::Done;
                    if let Err(e) = result {
                        records.bad_record(e)?;
                    }
                }
                Stage::Tail => {
                    let pos = skip_ws(text, doc.pos);
                    doc.stage = Stage::Done;
                    if pos != text.len() {
                        records.bad_record(structure_error(text, pos, "the end of the JSON text"))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Fails unless `text` (after a BOM) is exactly one JSON value with only whitespace around it.
fn check_one_value(text: &[u8], records: &mut Records) -> Result<()> {
    let start = skip_ws(text, if text.starts_with(BOM) { BOM.len() } else { 0 });
    let (code, at, why) = match records.scan_value(text, start) {
        Scan::Ok(end) | Scan::Bad(_, end) => {
            let after = skip_ws(text, end);
            if after == text.len() {
                return Ok(());
            }
            (ErrorCode::InvalidJson, after, "more text follows the JSON value".to_string())
        }
        // As in a record, a syntax fault at or past the first non-UTF-8 byte is that byte's fault.
        Scan::Broken(fault) if first_bad_utf8(text, start).is_some_and(|b| b <= fault.offset) => {
            let b = first_bad_utf8(text, start).expect("checked just above");
            (ErrorCode::InvalidUtf8, b, "invalid UTF-8".to_string())
        }
        // The scanner's message ends with a byte offset; line and column say it better here.
        Scan::Broken(fault) => match fault.message.rfind(" (") {
            Some(cut) if fault.message.ends_with(')') => {
                (fault.code, fault.offset, fault.message[..cut].to_string())
            }
            _ => (fault.code, fault.offset, fault.message),
        },
    };
    let (line, column) = line_column(text, at);
    let e = Error::new(code, format!("the input is not one valid JSON text: {why}"));
    Err(e.at(Location::LineColumn(line, column), None))
}

/// 1-based line and column (in characters, a leading BOM not counted) of byte `at` of `text`.
fn line_column(text: &[u8], at: usize) -> (u64, u64) {
    let before = &text[..at.min(text.len())];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let mut from = line_start;
    if line_start == 0 && before.starts_with(BOM) {
        from = BOM.len();
    }
    // Characters, not bytes: count every byte that is not a UTF-8 continuation byte.
    let chars = before[from..].iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
    (line, chars + 1)
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

/// Members a Management API page may have besides `users`.
const PAGE_KEYS: [&[u8]; 5] = [b"start", b"limit", b"length", b"total", b"next"];

/// If the object at `pos` is a Management API page, the offset of its `users` array's `[`.
///
/// A page is an object whose members before `users` are all page members (`start`, `limit`,
/// `length`, `total`, `next`) and whose `users` is an array; anything else is one user.
fn page_users(text: &[u8], pos: usize, records: &mut Records) -> Option<usize> {
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
        i = match records.scan_value(text, i) {
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
fn page_tail(text: &[u8], mut i: usize, records: &mut Records) -> Result<()> {
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
                i = match records.scan_value(text, skip_ws(text, i + 1)) {
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
