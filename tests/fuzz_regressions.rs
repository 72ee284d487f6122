//! Every input the fuzz targets (fuzz/) found failing, kept as a plain test so it never comes back.

mod common;
use common::drain;
use userexport::{Exporter, Field, Format, Options, Pull, Request};

/// fuzz encoders crash-4ca143fc: a column named "\0…" went into the header bare, so a parsed
/// header cell started with NUL (an ASVS 5.0 §1.2.10 formula trigger).
#[test]
fn header_starting_with_nul_is_escaped() {
    let fields = vec![Field::new("user_id", None).unwrap(), Field::new("v", Some("\0\"+1 (5r")).unwrap()];
    let request = Request::new(Format::Csv, None, Some(fields)).unwrap();
    let mut ex = Exporter::new(request, Options::default());
    ex.push_json(br#"{"user_id":"u","v":"x"}"#).unwrap();
    ex.finish().unwrap();
    let out = ex.pull_to_end().unwrap();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&out[..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(&rows[0][1], "'\0\"+1 (5r");
    assert!(out.starts_with(b"user_id,\"'\0\"\"+1 (5r\"\n"), "{:?}", String::from_utf8_lossy(&out));
}

fn strict_run(chunks: &[&[u8]]) -> (Vec<u8>, Option<userexport::Error>) {
    let request = Request::from_json(r#"{"format":"csv","fields":[{"name":"v"},{"name":"name"}]}"#).unwrap();
    let mut ex = Exporter::new(request, Options { chunk_size: 7, ..Options::default() });
    let mut out = Vec::new();
    for c in chunks {
        ex.push_ndjson(c).unwrap();
        let (o, e) = drain(&mut ex);
        out.extend_from_slice(&o);
        if e.is_some() {
            return (out, e);
        }
    }
    ex.finish().unwrap();
    let (o, e) = drain(&mut ex);
    out.extend_from_slice(&o);
    (out, e)
}

/// fuzz ndjson_chunked crash-ee554405: in strict mode, output encoded before the bad record
/// (the header, earlier users) was dropped when the whole input came in one push but
/// delivered when it came in pieces. Now it is always delivered, then the error.
#[test]
fn strict_output_before_the_error_does_not_depend_on_chunking() {
    let input: &[u8] = b"{\"v\":1,\"name\":\"a\"}\n{\"v\":\"bad\0\"}\n{\"v\":3}\n";
    let whole = strict_run(&[input]);
    let pieces: Vec<&[u8]> = input.chunks(3).collect();
    let chunked = strict_run(&pieces);
    assert_eq!(whole.0, b"v,name\n1,\"'a\"\n");
    assert_eq!(whole.0, chunked.0);
    let (e1, e2) = (whole.1.unwrap(), chunked.1.unwrap());
    assert_eq!((e1.code().as_str(), e1.line()), ("invalid_json", Some(2)));
    assert_eq!(e1, e2);
}

/// The same through pull_into with a 1-byte buffer: every byte before the error arrives, then the error.
#[test]
fn strict_pull_into_delivers_bytes_then_the_error() {
    let request = Request::from_json(r#"{"format":"csv","fields":[{"name":"v"},{"name":"name"}]}"#).unwrap();
    let mut ex = Exporter::new(request, Options::default());
    ex.push_ndjson(b"{\"v\":1}\nnot json\n").unwrap();
    ex.finish().unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 1];
    let err = loop {
        match ex.pull_into(&mut buf) {
            Ok(Pull::Data(n)) => out.extend_from_slice(&buf[..n]),
            Ok(other) => panic!("a failed export must end in its error, not {other:?}"),
            Err(e) => break e,
        }
    };
    assert_eq!(out, b"v,name\n1,\n");
    assert_eq!(err.line(), Some(2));
}

fn lenient_capped(chunks: &[&[u8]], cap: usize) -> Vec<String> {
    let request = Request::from_json(r#"{"fields":[{"name":"email"}]}"#).unwrap();
    let options = Options { lenient: true, max_record_bytes: cap, ..Options::default() };
    let mut ex = Exporter::new(request, options);
    for c in chunks {
        ex.push_ndjson(c).unwrap();
        drain(&mut ex);
    }
    ex.finish().unwrap();
    drain(&mut ex);
    ex.skipped().iter().map(|e| e.to_string()).collect()
}

/// fuzz ndjson_chunked crash-b2626b64: a mid-stream line that starts with a BOM and is over
/// the record cap was `invalid_json` (BOM) when pushed whole but `record_too_large` when it
/// streamed in, since a streamed line is measured before it is seen whole. The cap now comes first.
#[test]
fn over_long_bom_line_gives_the_same_error_however_chunked() {
    let input: &[u8] = b"{\"email\":\"a\"}\n\xEF\xBB\xBF{\"email\":\"bobdoe@outlook.com\"}\n";
    let whole = lenient_capped(&[input], 10);
    let pieces: Vec<&[u8]> = input.chunks(4).collect();
    assert_eq!(whole, lenient_capped(&pieces, 10));
    assert_eq!(
        whole,
        [
            "line 1: the line is longer than the record-size cap of 10 bytes",
            "line 2: the line is longer than the record-size cap of 10 bytes"
        ]
    );
}

/// fuzz ndjson_chunked crash (whitespace-only line over the cap): skipped as blank when pushed
/// whole, `record_too_large` when streamed. The cap now applies to every line, blank or not.
#[test]
fn over_long_blank_line_gives_the_same_result_however_chunked() {
    let input: &[u8] = b"{\"email\":\"a\"}\n\t\t\t\n\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n{}\n";
    let whole = lenient_capped(&[input], 13);
    let pieces: Vec<&[u8]> = input.chunks(5).collect();
    assert_eq!(whole, lenient_capped(&pieces, 13));
    assert_eq!(whole, ["line 3: the line is longer than the record-size cap of 13 bytes"]);
}

/// fuzz ndjson_chunked crash-6075fd5b (after main's cap-at-push change): the stream's BOM was
/// counted in the cap + 2 bytes kept of an over-long first line, so after the BOM was skipped
/// the kept prefix fit under the cap and was parsed: a wrong error, or worse, a prefix such as
/// `{}` + spaces accepted as a user although the whole line (`{}   …x`) is not even JSON.
#[test]
fn over_long_first_line_after_a_bom_is_too_large_not_a_truncated_record() {
    let mut line = b"\xEF\xBB\xBF{}".to_vec();
    line.extend_from_slice(&[b' '; 20]);
    line.push(b'x');
    let whole = lenient_capped(&[&line], 10);
    assert_eq!(whole, ["line 1: the line is longer than the record-size cap of 10 bytes"]);
    let pieces: Vec<&[u8]> = line.chunks(2).collect();
    assert_eq!(whole, lenient_capped(&pieces, 10));
    let mut with_lf = line.clone();
    with_lf.extend_from_slice(b"\n{}\n");
    assert_eq!(lenient_capped(&[&with_lf], 10), whole);
}

/// A host may pass usize::MAX as "no cap": the bytes kept of a line must not overflow.
#[test]
fn a_cap_of_usize_max_does_not_overflow() {
    let out = lenient_capped(&[b"{\"email\":\"a\"}\n{\"email\":", b"\"b\"}"], usize::MAX);
    assert!(out.is_empty(), "{out:?}");
}

/// fuzz request crash-b7e7e28a: a first column named "\u{FEFF}+c" was written bare, so the
/// CSV file began with a UTF-8 BOM that the csv crate (and spreadsheets) strip, and the header
/// cell read back as the formula "+c".
#[test]
fn header_starting_with_feff_is_escaped() {
    let request =
        Request::from_json("{\"format\":\"csv\",\"fields\":[{\"name\":\"\u{feff}+c\"},{\"name\":\"x\"}]}")
            .unwrap();
    let mut ex = Exporter::new(request, Options::default());
    ex.finish().unwrap();
    let out = ex.pull_to_end().unwrap();
    assert_eq!(out, "\"'\u{feff}+c\",x\n".as_bytes());
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&out[..]);
    let header = reader.records().next().unwrap().unwrap();
    assert_eq!(&header[0], "'\u{feff}+c");
}
