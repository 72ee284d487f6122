//! Core bugs found by the corpus tests (tests/corpora.rs), kept as plain tests that need no corpus.

use userexport::{Exporter, Options, Pull, Request};

/// i_string_UTF-16LE_with_BOM.json: a record starting with a non-UTF-8 byte was reported as
/// `invalid_json` ("unexpected byte 0xff") because the syntax fault sat on the same byte as the
/// UTF-8 fault; the UTF-8 error is the one that tells the user what is wrong.
#[test]
fn a_record_starting_with_bad_utf8_is_invalid_utf8() {
    for bytes in [&b"\xFF\xFE[\x00\"\x00"[..], b"\xE9", b"{\"a\":\xFF}"] {
        let request = Request::from_json(r#"{"fields":[{"name":"a"}]}"#).unwrap();
        let mut ex = Exporter::new(request, Options { lenient: true, ..Options::default() });
        let mut line = b"{\"a\":1}\n".to_vec();
        line.extend_from_slice(bytes);
        ex.push_ndjson(&line).unwrap();
        ex.finish().unwrap();
        while let Pull::Data(_) = ex.pull().unwrap() {}
        let e = &ex.skipped()[0];
        assert_eq!((e.code().as_str(), e.line()), ("invalid_utf8", Some(2)), "{bytes:?}: {e}");
    }
}

fn capped_run(chunks: &[&[u8]], cap: usize) -> (Vec<u8>, Vec<String>) {
    let request = Request::from_json(r#"{"fields":[{"name":"a"}]}"#).unwrap();
    let options = Options { lenient: true, max_record_bytes: cap, ..Options::default() };
    let mut ex = Exporter::new(request, options);
    let mut out = Vec::new();
    for c in chunks {
        ex.push_ndjson(c).unwrap();
        while let Pull::Data(d) = ex.pull().unwrap() {
            out.extend_from_slice(d);
        }
    }
    ex.finish().unwrap();
    while let Pull::Data(d) = ex.pull().unwrap() {
        out.extend_from_slice(d);
    }
    (out, ex.skipped().iter().map(|e| e.to_string()).collect())
}

/// A line of exactly the record cap followed by CRLF was rejected as too large when a chunk
/// ended between its CR and LF (the CR was counted as part of the line), and accepted when
/// the whole line came at once.
#[test]
fn a_line_at_the_cap_with_crlf_does_not_depend_on_chunking() {
    let line = b"{\"a\":\"0123456789\"}\r\n{\"a\":1}\n";
    let cap = 18; // the first line without its CRLF
    let whole = capped_run(&[line], cap);
    let split = capped_run(&[&line[..19], &line[19..]], cap);
    assert_eq!(whole.1, Vec::<String>::new());
    assert_eq!(whole, split);
    let over = capped_run(&[&line[..18], &line[18..]], cap - 1);
    assert_eq!(over.1.len(), 1, "one byte over the cap is still refused: {:?}", over.1);
}

/// Pulling one big record in small chunks moved the rest of the record on every pull
/// (16 MB in 1 KiB pulls took 32 s in release). Linear now: 8 MB in 512-byte pulls well
/// within a few seconds even unoptimised, where the quadratic version moved ~128 GB.
#[test]
fn small_pulls_of_a_big_record_are_linear() {
    let request = Request::from_json(r#"{"format":"csv","fields":[{"name":"user_metadata.big"}]}"#).unwrap();
    let line = format!("{{\"user_metadata\":{{\"big\":\"{}\"}}}}\n", "x".repeat(8 << 20));
    let mut ex = Exporter::new(request, Options { chunk_size: 512, ..Options::default() });
    ex.push_ndjson(line.as_bytes()).unwrap();
    ex.finish().unwrap();
    let started = std::time::Instant::now();
    let mut total = 0;
    while let Pull::Data(d) = ex.pull().unwrap() {
        assert!(d.len() <= 512);
        total += d.len();
    }
    assert_eq!(total, "user_metadata.big\n".len() + (8 << 20) + 4);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
}
