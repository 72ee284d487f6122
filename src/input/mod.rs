//! Input readers: where the records are in NDJSON bytes and in JSON text, the cells of users a
//! host read itself, and telling NDJSON from JSON text.
//!
//! A reader owns the input it was given and hands each record to [`crate::record::Records`].

pub(crate) mod cells;
pub(crate) mod gunzip;
pub(crate) mod json_text;
pub(crate) mod ndjson;

use crate::plan::Plan;
use crate::scan::{skip_ws, Scan, Scanner};

/// The form of an input: NDJSON (one user per line) or JSON text (one user, an array of users,
/// or a Management API page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputForm {
    /// Tell from the bytes, by the rule of [`detect_input`].
    #[default]
    Auto,
    /// One user per line.
    Ndjson,
    /// One JSON value holding the users.
    Json,
}

/// Tells NDJSON from JSON text by the first bytes of an input, or `None` while they cannot tell.
///
/// The rule (COMPATIBILITY.md, "Input and bad input"): it is JSON text when its first
/// non-blank character (after a BOM) is `[`, or when the whole input is exactly one JSON value
/// with only whitespace around it; otherwise NDJSON. An empty or blank input is NDJSON (no
/// users). `is_complete` says `prefix` is the whole input; then the answer is never `None`.
/// A prefix is undecided only while it is blank, or one value not yet closed, or one value
/// followed by nothing but whitespace so far.
pub fn detect_input(prefix: &[u8], is_complete: bool) -> Option<InputForm> {
    let mut pos = 0;
    if prefix.starts_with(BOM) {
        pos = BOM.len();
    } else if !is_complete && !prefix.is_empty() && BOM.starts_with(prefix) {
        return None; // might still become a BOM
    }
    pos = skip_ws(prefix, pos);
    match prefix.get(pos) {
        None => return is_complete.then_some(InputForm::Ndjson),
        Some(b'[') => return Some(InputForm::Json),
        Some(_) => {}
    }
    // Only the value's syntax matters here: a duplicate key or a lone surrogate still makes
    // one JSON value (a bad user, reported when it is read).
    match Scanner::default().scan(&Plan::empty(), prefix, pos) {
        Scan::Ok(end) | Scan::Bad(_, end) => {
            if skip_ws(prefix, end) < prefix.len() {
                Some(InputForm::Ndjson)
            } else {
                is_complete.then_some(InputForm::Json)
            }
        }
        Scan::Broken(fault) if fault.truncated && !is_complete => None,
        Scan::Broken(_) => Some(InputForm::Ndjson),
    }
}

/// UTF-8's byte order mark: skipped at the start of a stream, an error anywhere else.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Offset of the first invalid UTF-8 byte of `text` at or after `from`.
pub(crate) fn first_bad_utf8(text: &[u8], from: usize) -> Option<usize> {
    let text = text.get(from..)?;
    // The SIMD check answers only yes or no; std finds the offset in the rare bad text.
    if simdutf8::basic::from_utf8(text).is_ok() {
        return None;
    }
    std::str::from_utf8(text).err().map(|e| from + e.valid_up_to())
}
