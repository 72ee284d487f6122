//! Invariants every fuzz target checks on an export, using real readers (serde_json, csv crate).
#![allow(dead_code)]

use userexport::{Exporter, Format, Options, Pull, Request};

/// Output must be NDJSON lines that serde_json parses as objects, or a CSV whose every row has
/// the header's column count and whose cells never start a formula.
pub fn check_output(request: &Request, out: &[u8], written: u64) {
    let columns = request.fields.len();
    match request.format {
        Format::Json => {
            assert!(out.is_empty() || out.ends_with(b"\n"), "NDJSON output must end with LF");
            let mut lines = 0u64;
            for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                assert!(!line.contains(&b'\r'), "raw CR in an NDJSON line");
                match serde_json::from_slice::<serde_json::Value>(line) {
                    Ok(v) => assert!(v.is_object(), "NDJSON line is not an object"),
                    // Numbers keep their text by decision (tests/corpora.rs I_DECISIONS), so a
                    // number beyond binary64 is valid JSON that serde_json cannot hold.
                    Err(e) if beyond_binary64(&e) => {
                        assert!(line.starts_with(b"{") && std::str::from_utf8(line).is_ok())
                    }
                    Err(e) => panic!("NDJSON line does not parse: {e}: {:?}", String::from_utf8_lossy(line)),
                }
                lines += 1;
            }
            assert_eq!(lines, written, "one NDJSON line per written user");
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(out);
            let mut rows = 0u64;
            for (i, record) in reader.records().enumerate() {
                let record = record.unwrap_or_else(|e| panic!("CSV does not read back: {e}"));
                assert_eq!(record.len(), columns, "CSV row {i} has the wrong column count");
                for cell in record.iter() {
                    assert!(!starts_formula(cell) || is_bare_number(cell), "formula cell {cell:?} in row {i}");
                }
                rows += 1;
            }
            // One-column rows with an empty cell are blank lines, which CSV readers skip.
            if columns > 1 {
                assert_eq!(rows, written + 1, "header + one row per written user");
            }
        }
    }
}

pub fn starts_formula(cell: &str) -> bool {
    matches!(cell.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '\0'))
}

pub fn is_bare_number(cell: &str) -> bool {
    cell.starts_with('-')
        && match serde_json::from_str::<serde_json::Number>(cell) {
            Ok(_) => true,
            Err(e) => beyond_binary64(&e),
        }
}

/// Numbers keep their text by decision: 1e400 is valid JSON that serde_json cannot hold.
fn beyond_binary64(e: &serde_json::Error) -> bool {
    e.to_string().starts_with("number out of range")
}

/// Pulls everything, in pulls of the exporter's own chunk size; errors end the pull.
pub fn drain(ex: &mut Exporter) -> (Vec<u8>, Option<userexport::Error>) {
    let mut out = Vec::new();
    loop {
        match ex.pull() {
            Ok(Pull::Data(d)) => out.extend_from_slice(d),
            Ok(_) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

/// A small request picked by one byte: format, lenient mode and a field set.
pub fn pick_request(b: u8) -> (Request, Options) {
    let format = if b & 1 == 0 { "json" } else { "csv" };
    let fields = match (b >> 2) & 3 {
        0 => r#"[{"name":"user_id"},{"name":"email"},{"name":"v"}]"#,
        1 => r#"[{"name":"user_id"},{"name":"v[0]"},{"name":"v.a","export_as":"=x"},{"name":"created_at"}]"#,
        2 => r#"[{"name":"identities[0].connection"},{"name":"user_metadata.k"},{"name":"logins_count"}]"#,
        _ => r#"[{"name":"v"},{"name":"name"}]"#,
    };
    let body = format!(r#"{{"format":"{format}","fields":{fields}}}"#);
    let request = Request::from_json(&body).expect("fixed requests are valid");
    let options = Options { lenient: b & 2 != 0, chunk_size: 1 + (b as usize >> 4) * 97, ..Options::default() };
    (request, options)
}
