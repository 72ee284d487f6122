//! NDJSON (Auth0's `json` format): `{"column":value,…}` per user, present fields only, LF after each.

use super::{Encoder, Value};
use crate::json::{canonical_string_content, escape_into, write_compact, write_json_string};
use crate::request::Request;
use crate::scan::Kind;

/// The NDJSON encoder; keys are escaped once, up front.
pub(crate) struct Ndjson {
    /// `"column":` for each field, ready to copy.
    keys: Vec<Vec<u8>>,
}

impl Ndjson {
    /// An encoder for the request's columns.
    pub(crate) fn new(request: &Request) -> Ndjson {
        let keys = request
            .columns()
            .map(|c| {
                let mut k = Vec::with_capacity(c.len() + 3);
                write_json_string(&mut k, c.as_bytes());
                k.push(b':');
                k
            })
            .collect();
        Ndjson { keys }
    }
}

impl Encoder for Ndjson {
    fn header(&self, _out: &mut Vec<u8>) {}

    fn record(&self, values: &[Option<Value<'_>>], out: &mut Vec<u8>, scratch: &mut Vec<u8>) {
        out.push(b'{');
        let mut first = true;
        for (key, value) in self.keys.iter().zip(values) {
            let Some(v) = value else { continue };
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(key);
            match v.kind {
                Kind::String { escaped } => {
                    out.push(b'"');
                    canonical_string_content(out, v.raw, escaped, scratch);
                    out.push(b'"');
                }
                Kind::Text => write_text(out, v.raw),
                Kind::Object | Kind::Array => write_compact(out, v.raw, scratch),
                Kind::Number | Kind::True | Kind::False | Kind::Null => out.extend_from_slice(v.raw),
            }
        }
        out.extend_from_slice(b"}\n");
    }
}

/// A host's text cell as a JSON string: the run that needs no escape (most cells, whole) is
/// found eight bytes a step and copied at once; what follows goes through the escaper.
fn write_text(out: &mut Vec<u8>, text: &[u8]) {
    let clean = clean_prefix(text);
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(&text[..clean]);
    if clean < text.len() {
        escape_into(out, &text[clean..]);
    }
    out.push(b'"');
}

/// The length of the prefix of `text` with no `"`, `\\` or control below 0x20 (the bytes
/// `JSON.stringify` escapes).
fn clean_prefix(text: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i + 8 <= text.len() {
        let w = u64::from_le_bytes(text[i..i + 8].try_into().expect("8 bytes"));
        let quote = w ^ (LO * u64::from(b'"'));
        let backslash = w ^ (LO * u64::from(b'\\'));
        // High bit of each byte that is zero (after the xor) or below 0x20; the lowest is exact.
        let stops = (quote.wrapping_sub(LO) & !quote
            | backslash.wrapping_sub(LO) & !backslash
            | w.wrapping_sub(LO * 0x20) & !w)
            & HI;
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + text[i..].iter().position(|&b| matches!(b, b'"' | b'\\' | 0..=0x1f)).unwrap_or(text.len() - i)
}

#[cfg(test)]
mod tests {
    use super::write_text;
    use crate::json::write_json_string;

    #[test]
    fn text_cells_are_escaped_as_json_strings() {
        // Each byte JSON escapes, at every position around the eight-byte words.
        for stop in ["\"", "\\", "\n", "\u{0}", "\u{1f}", "\u{7f}", "é", "\u{2028}", "😀"] {
            for at in 0..20 {
                let text = format!("{}{stop}{}", "a".repeat(at), "b".repeat(20 - at));
                let (mut got, mut want) = (Vec::new(), Vec::new());
                write_text(&mut got, text.as_bytes());
                write_json_string(&mut want, text.as_bytes());
                assert_eq!(got, want, "{text:?}");
            }
        }
    }
}
