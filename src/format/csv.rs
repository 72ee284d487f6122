//! CSV with OWASP cell escaping: every string becomes `"'…"` with `"` doubled; LF line ends.

use super::{Encoder, Value};
use crate::bytes::{any_of, find_byte};
use crate::json::{decode_string, write_compact};
use crate::request::Request;
use crate::scan::Kind;

/// The CSV encoder; the header line is built once, up front.
pub(crate) struct Csv {
    header: Vec<u8>,
    /// Per field: does an Auth0 date string go out bare?
    date: Vec<bool>,
}

impl Csv {
    /// An encoder for the request's columns.
    pub(crate) fn new(request: &Request) -> Csv {
        let mut header = Vec::new();
        for (i, column) in request.columns().enumerate() {
            if i > 0 {
                header.push(b',');
            }
            if header_needs_escape(column.as_bytes()) {
                escape_cell(&mut header, column.as_bytes());
            } else {
                header.extend_from_slice(column.as_bytes());
            }
        }
        header.push(b'\n');
        let date = request.fields.iter().map(|f| f.is_date_attribute()).collect();
        Csv { header, date }
    }
}

/// A header cell is escaped when it would break the row or could start a formula
/// (OWASP's triggers plus NUL, which OWASP ASVS 5.0 §1.2.10 adds), or starts with U+FEFF:
/// as the first column that is a BOM, which CSV readers and spreadsheets strip, exposing
/// whatever follows (`\u{FEFF}+c` reads back as `+c`).
fn header_needs_escape(name: &[u8]) -> bool {
    matches!(name.first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\0'))
        || name.starts_with("\u{FEFF}".as_bytes())
        || name.iter().any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
}

/// `"` + `'` + text with every `"` doubled + `"` (the OWASP rule, applied to every string).
pub(crate) fn escape_cell(out: &mut Vec<u8>, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.extend_from_slice(b"\"'");
    // Most cells hold no `"`: find them sixteen bytes a step and copy the runs between them
    // whole (a byte loop here was a sixth of pushUsers' wasm time).
    let mut from = 0;
    while let Some(q) = find_byte(&text[from..], b'"') {
        let i = from + q;
        out.extend_from_slice(&text[from..=i]);
        out.push(b'"');
        from = i + 1;
    }
    out.extend_from_slice(&text[from..]);
    out.push(b'"');
}

/// `YYYY-MM-DDTHH:MM:SS(.f{1,9})?Z`, the form Auth0 stores its dates in.
pub(crate) fn is_auth0_date(s: &[u8]) -> bool {
    let digit = |i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
    let at = |i: usize, c: u8| s.get(i) == Some(&c);
    let head = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18].iter().all(|&i| digit(i))
        && at(4, b'-')
        && at(7, b'-')
        && at(10, b'T')
        && at(13, b':')
        && at(16, b':');
    if !head {
        return false;
    }
    let mut i = 19;
    if at(i, b'.') {
        let from = i + 1;
        i = from;
        while digit(i) {
            i += 1;
        }
        if !(1..=9).contains(&(i - from)) {
            return false;
        }
    }
    at(i, b'Z') && s.len() == i + 1
}

impl Encoder for Csv {
    fn header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header);
    }

    fn record(&self, values: &[Option<Value<'_>>], out: &mut Vec<u8>, scratch: &mut Vec<u8>) {
        let row_start = out.len();
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let Some(v) = value else { continue };
            match v.kind {
                Kind::Null => {}
                Kind::True | Kind::False | Kind::Number => out.extend_from_slice(v.raw),
                Kind::String { escaped: false } => {
                    // Unescaped JSON string text has no `"` to double: one copy does it.
                    if self.date[i] && is_auth0_date(v.raw) {
                        out.extend_from_slice(v.raw);
                    } else {
                        out.extend_from_slice(b"\"'");
                        out.extend_from_slice(v.raw);
                        out.push(b'"');
                    }
                }
                Kind::Text => {
                    if self.date[i] && is_auth0_date(v.raw) {
                        out.extend_from_slice(v.raw);
                    } else {
                        escape_cell(out, v.raw);
                    }
                }
                Kind::String { escaped: true } => {
                    scratch.clear();
                    decode_string(v.raw, scratch);
                    if self.date[i] && is_auth0_date(scratch) {
                        out.extend_from_slice(scratch);
                    } else {
                        escape_cell(out, scratch);
                    }
                }
                // Compact already (no whitespace, no escape: a host's cells mostly): escaped as it is.
                Kind::Object | Kind::Array if !any_of(v.raw, b"\\ \t\n\r") => escape_cell(out, v.raw),
                Kind::Object | Kind::Array => {
                    let mut text = Vec::with_capacity(v.raw.len());
                    write_compact(&mut text, v.raw, scratch);
                    escape_cell(out, &text);
                }
            }
        }
        // A one-column row whose cell is empty would be a blank line, which CSV readers drop:
        // `""` keeps the row (an empty quoted cell, as the csv crate and Python write it).
        if values.len() == 1 && out.len() == row_start {
            out.extend_from_slice(b"\"\"");
        }
        out.push(b'\n');
    }
}
