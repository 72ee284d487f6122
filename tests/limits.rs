//! Every limit LIMITS.md documents, tested on both sides of its boundary.

use userexport::{
    check_tenant, file_name, Exporter, Field, Format, Options, Pull, Request, DEFAULT_CHUNK_SIZE,
    DEFAULT_MAX_RECORD_BYTES, MAX_CSV_FIELDS, MAX_DEPTH, MAX_NAME_CHARS,
};

fn export(request: &Request, options: Options, ndjson: &[u8]) -> (Vec<u8>, Vec<userexport::Error>) {
    let mut ex = Exporter::new(request.clone(), Options { lenient: true, ..options });
    ex.push_ndjson(ndjson).unwrap();
    ex.finish().unwrap();
    let out = ex.pull_to_end().unwrap();
    (out, ex.skipped().to_vec())
}

fn nested(depth: usize) -> String {
    // The record is level 1; `depth - 1` arrays inside it.
    format!("{{\"v\":{}{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1))
}

#[test]
fn depth_128_is_accepted_129_is_too_deep() {
    assert_eq!(MAX_DEPTH, 128);
    let request = Request::from_json(r#"{"fields":[{"name":"v"}]}"#).unwrap();
    let (out, skipped) = export(&request, Options::default(), nested(128).as_bytes());
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(out.len(), nested(128).len() + 1);
    let (_, skipped) = export(&request, Options::default(), nested(129).as_bytes());
    assert_eq!(skipped[0].code().as_str(), "too_deep");
    assert!(skipped[0].message().contains("128"), "{}", skipped[0]);
    // 1 000 000 levels: an error, not a stack overflow.
    let deep = "[".repeat(1_000_000);
    let (_, skipped) = export(&request, Options::default(), deep.as_bytes());
    assert_eq!(skipped[0].code().as_str(), "too_deep", "nesting is found before the type");
    let deep = format!("{{\"v\":{}", "[".repeat(1_000_000));
    let (_, skipped) = export(&request, Options::default(), deep.as_bytes());
    assert_eq!(skipped[0].code().as_str(), "too_deep");
}

#[test]
fn record_cap_exact_is_accepted_one_more_byte_is_refused() {
    assert_eq!(DEFAULT_MAX_RECORD_BYTES, 32 * 1024 * 1024);
    let request = Request::from_json(r#"{"fields":[{"name":"v"}]}"#).unwrap();
    let line = br#"{"v":"0123456789"}"#;
    let options = |cap| Options { max_record_bytes: cap, ..Options::default() };
    let (out, skipped) = export(&request, options(line.len()), line);
    assert!(skipped.is_empty());
    assert_eq!(out, b"{\"v\":\"0123456789\"}\n");
    let (out, skipped) = export(&request, options(line.len() - 1), line);
    assert_eq!(out, b"");
    assert_eq!(skipped[0].code().as_str(), "record_too_large");
    assert_eq!(skipped[0].line(), Some(1));
    assert!(skipped[0].message().contains(&format!("{} bytes", line.len() - 1)));
    // A line that never ends is stopped by the cap while it streams in: memory stays bounded.
    let mut ex =
        Exporter::new(request, Options { lenient: true, max_record_bytes: 1024, ..Options::default() });
    for _ in 0..10_000 {
        ex.push_ndjson(&[b'x'; 1000]).unwrap();
        assert_eq!(ex.pull().unwrap(), Pull::NeedInput);
        assert!(ex.buffered_bytes() <= 1024 + 2, "holds {} bytes", ex.buffered_bytes());
    }
    // Reported once, on its own line number.
    ex.finish().unwrap();
    assert_eq!(ex.pull().unwrap(), Pull::Done);
    assert_eq!(ex.skipped().len(), 1);
    assert_eq!(ex.skipped()[0].code().as_str(), "record_too_large");
    assert_eq!(ex.skipped()[0].line(), Some(1));
}

#[test]
fn thirty_csv_fields_and_hundred_character_names() {
    assert_eq!((MAX_CSV_FIELDS, MAX_NAME_CHARS), (30, 100));
    let fields = |n: usize| (0..n).map(|i| Field::new(&format!("f{i}"), None).unwrap()).collect::<Vec<_>>();
    assert!(Request::new(Format::Csv, None, Some(fields(30))).is_ok());
    let e = Request::new(Format::Csv, None, Some(fields(31))).unwrap_err();
    assert_eq!(e.code().as_str(), "invalid_request");
    assert!(e.message().contains("30"), "{e}");
    assert!(Request::new(Format::Json, None, Some(fields(31))).is_ok(), "NDJSON has no field cap");
    // Characters are Unicode scalar values: 100 emoji (200 UTF-16 units in JS) are allowed.
    assert!(Field::new(&"a".repeat(100), Some(&"😀".repeat(100))).is_ok());
    let e = Field::new(&"a".repeat(101), None).unwrap_err();
    assert!(e.message().contains("1 to 100 characters") && e.message().contains("101"), "{e}");
    let e = Field::new("a", Some(&"é".repeat(101))).unwrap_err();
    assert!(e.message().contains("export_as"), "{e}");
    assert!(Field::new("", None).is_err() && Field::new("a", Some("")).is_err());
}

#[test]
fn tenant_names_are_1_to_64_safe_characters() {
    assert!(check_tenant(&"a".repeat(64)).is_ok());
    assert_eq!(file_name("acme-1_x", Format::Csv, true).unwrap(), "acme-1_x.csv.gz");
    for bad in ["", &"a".repeat(65), "Acme", "../x", "a.b", "a b", "é"] {
        let e = check_tenant(bad).unwrap_err();
        assert_eq!(e.code().as_str(), "invalid_tenant", "{bad:?}");
    }
}

#[test]
fn chunk_size_bounds_every_pull() {
    assert_eq!(DEFAULT_CHUNK_SIZE, 64 * 1024);
    let request = Request::from_json(r#"{"format":"csv","fields":[{"name":"v"},{"name":"w"}]}"#).unwrap();
    let big = format!("{{\"v\":\"{}\"}}\n", "x".repeat(200_000));
    for chunk_size in [0, 1, 7, DEFAULT_CHUNK_SIZE] {
        let mut ex = Exporter::new(request.clone(), Options { chunk_size, ..Options::default() });
        ex.push_ndjson(big.as_bytes()).unwrap();
        ex.finish().unwrap();
        let mut total = 0;
        let mut pulls = 0;
        while let Pull::Data(d) = ex.pull().unwrap() {
            assert!(d.len() <= chunk_size.max(1), "a pull of {} bytes with chunk size {chunk_size}", d.len());
            total += d.len();
            pulls += 1;
            if pulls > 300_000 {
                break;
            }
        }
        assert_eq!(total, "v,w\n".len() + 200_000 + 4 + 1, "chunk size {chunk_size}");
    }
    // pull_into works with any buffer, even one byte.
    let mut ex = Exporter::new(request, Options::default());
    ex.push_ndjson(b"{\"v\":1}").unwrap();
    ex.finish().unwrap();
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match ex.pull_into(&mut b).unwrap() {
            Pull::Data(n) => out.extend_from_slice(&b[..n]),
            Pull::Done => break,
            Pull::NeedInput => panic!("input was finished"),
        }
    }
    assert_eq!(out, b"v,w\n1,\n");
}
