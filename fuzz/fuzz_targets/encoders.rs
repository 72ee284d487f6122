//! Fuzz target: any value under any column name round-trips through both encoders.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use userexport::{Exporter, Field, Format, Options, Request};

fuzz_target!(|data: &[u8]| {
    // Bytes before the first 0xFF name the column; the rest is the value's JSON text.
    let cut = data.iter().position(|&b| b == 0xFF).unwrap_or(0);
    let column: String = String::from_utf8_lossy(&data[..cut]).chars().take(100).collect();
    let value = &data[(cut + 1).min(data.len())..];
    let Ok(parsed) = serde_json::from_slice::<serde_json::Value>(value) else { return };
    let column = if column.is_empty() { "v".to_string() } else { column };
    if column == "user_id" {
        return;
    }
    let mut record = b"{\"user_id\":\"u\",\"v\":".to_vec();
    record.extend_from_slice(value);
    record.push(b'}');
    for format in [Format::Json, Format::Csv] {
        let fields = vec![Field::new("user_id", None).unwrap(), Field::new("v", Some(&column)).unwrap()];
        let request = Request::new(format, None, Some(fields)).unwrap();
        let mut ex = Exporter::new(request.clone(), Options::default());
        ex.push_json(&record).unwrap();
        ex.finish().unwrap();
        let (out, err) = common::drain(&mut ex);
        if let Some(e) = err {
            // serde_json keeps duplicates and lone surrogates silently; the core rejects them.
            assert!(
                matches!(e.code().as_str(), "duplicate_key" | "lone_surrogate" | "too_deep"),
                "serde_json accepted what the core rejected: {e}"
            );
            continue;
        }
        common::check_output(&request, &out, 1);
        match format {
            Format::Json => {
                let line: serde_json::Value = serde_json::from_slice(&out[..out.len() - 1]).unwrap();
                assert_eq!(line.get(&column), Some(&parsed), "NDJSON value changed");
            }
            Format::Csv => {
                let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(&out[..]);
                let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
                let cell = &rows[1][1];
                match &parsed {
                    serde_json::Value::String(s) => assert_eq!(cell, format!("'{s}"), "CSV string changed"),
                    serde_json::Value::Null => assert_eq!(cell, ""),
                    serde_json::Value::Bool(b) => assert_eq!(cell, b.to_string()),
                    serde_json::Value::Number(_) => {
                        assert_eq!(serde_json::from_str::<serde_json::Value>(cell).unwrap(), parsed)
                    }
                    _ => {
                        let text = cell.strip_prefix('\'').expect("escaped container");
                        assert_eq!(serde_json::from_str::<serde_json::Value>(text).unwrap(), parsed);
                    }
                }
                let header = &rows[0][1];
                let expect_escaped = column.starts_with(['=', '+', '-', '@', '\t', '\r', '\0', '\u{feff}'])
                    || column.contains([',', '"', '\r', '\n']);
                if expect_escaped {
                    assert_eq!(header, format!("'{column}"));
                } else {
                    assert_eq!(header, column);
                }
            }
        }
    }
});
