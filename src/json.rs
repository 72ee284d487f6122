//! JSON text, a leaf: decoding validated strings, escaping the way `JSON.stringify` does, compact copies.
//!
//! It imports only the byte scans of `bytes`, so it reads alone; the scanner validates and this
//! module trusts what it is given (it never panics on valid input, and never reports errors).

use crate::bytes::{any_of, find_byte, plain_run};

/// For each byte: 0 = copy as is, else the character after the backslash (`u` = `\u00XX`).
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the escaped content of a JSON string (without quotes) for decoded UTF-8 `text`.
pub(crate) fn escape_into(out: &mut Vec<u8>, text: &[u8]) {
    // The bytes to escape are exactly the ones that end a plain run (`"`, `\\`, controls), so
    // the text between them is found sixteen bytes a step and copied whole.
    let mut from = 0;
    loop {
        let stop = plain_run(text, from);
        out.extend_from_slice(&text[from..stop]);
        let Some(&b) = text.get(stop) else { return };
        let e = ESCAPE[b as usize];
        if e == b'u' {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        } else {
            out.extend_from_slice(&[b'\\', e]);
        }
        from = stop + 1;
    }
}

/// Appends `text` (decoded UTF-8) as a quoted JSON string.
///
/// Public only with the `bench-internals` feature: the benchmark's data generator writes its
/// input with the exporter's own escaping, so the file is what a Node program would have written.
pub fn write_json_string(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    escape_into(out, text);
    out.push(b'"');
}

/// Decodes the content of a validated JSON string (between its quotes) into UTF-8.
/// Lone surrogates never reach here: the scanner rejects the record first.
pub(crate) fn decode_string(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < raw.len() {
        let Some(off) = find_byte(&raw[i..], b'\\') else {
            out.extend_from_slice(&raw[i..]);
            return;
        };
        out.extend_from_slice(&raw[i..i + off]);
        i += off;
        let c = raw[i + 1];
        i += 2;
        match c {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'u' => {
                let mut cp = hex4(raw, i).unwrap_or(0xFFFD);
                i += 4;
                if (0xD800..0xDC00).contains(&cp) {
                    match hex4(raw, i + 2) {
                        Some(low @ 0xDC00..=0xDFFF) if raw.get(i) == Some(&b'\\') => {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                            i += 6;
                        }
                        _ => cp = 0xFFFD,
                    }
                } else if (0xDC00..0xE000).contains(&cp) {
                    cp = 0xFFFD;
                }
                let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                let mut tmp = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            }
            other => out.push(other), // `"`, `\` and `/`
        }
    }
}

/// Appends a validated string's content (between its quotes) re-escaped as `JSON.stringify` would.
pub(crate) fn canonical_string_content(out: &mut Vec<u8>, raw: &[u8], escaped: bool, scratch: &mut Vec<u8>) {
    if escaped {
        scratch.clear();
        decode_string(raw, scratch);
        escape_into(out, scratch);
    } else {
        // Unescaped JSON string text holds no `"`, `\` or controls: it is already canonical.
        out.extend_from_slice(raw);
    }
}

/// Appends a validated JSON value in compact canonical form: no insignificant whitespace,
/// strings re-escaped, numbers and key order exactly as they came.
pub(crate) fn write_compact(out: &mut Vec<u8>, raw: &[u8], scratch: &mut Vec<u8>) {
    // Most values captured whole (a roles array, a small object) are compact already: with no
    // whitespace and no escape anywhere there is nothing to change, so they are copied at once.
    if !any_of(raw, b"\\ \t\n\r") {
        out.extend_from_slice(raw);
        return;
    }
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                let start = i + 1;
                let mut j = start;
                let mut escaped = false;
                loop {
                    // A validated string holds no raw control: a run stops at its `"` or a `\\`.
                    j = plain_run(raw, j);
                    if raw[j] != b'\\' {
                        break;
                    }
                    escaped = true;
                    j += 2;
                }
                out.push(b'"');
                canonical_string_content(out, &raw[start..j], escaped, scratch);
                out.push(b'"');
                i = j + 1;
            }
            _ => {
                let start = i;
                while i < raw.len() && !matches!(raw[i], b' ' | b'\t' | b'\n' | b'\r' | b'"') {
                    i += 1;
                }
                out.extend_from_slice(&raw[start..i]);
            }
        }
    }
}

/// The value of the four hex digits at `at`, if they are there.
pub(crate) fn hex4(buf: &[u8], at: usize) -> Option<u32> {
    let digits = buf.get(at..at + 4)?;
    let mut v = 0u32;
    for &d in digits {
        v = v * 16 + (d as char).to_digit(16)?;
    }
    Some(v)
}
