//! Bad input: every kind of bad record, strict and lenient, with its line / index / user_id.

mod common;
use common::*;
use userexport::*;

const BODY: &str = r#"{"fields":[{"name":"user_id"}]}"#;

fn nest(depth: usize) -> String {
    // depth 1 is the record itself.
    format!("{{\"user_id\":\"deep\",\"v\":{}1{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1))
}

/// (bad line, code, user_id expected in the report, message fragment)
fn bad_lines() -> Vec<(Vec<u8>, ErrorCode, Option<&'static str>, &'static str)> {
    vec![
        (b"{\"user_id\":\"a\",}".to_vec(), ErrorCode::InvalidJson, Some("a"), "expected a key"),
        (b"{\"user_id\":\"a\"".to_vec(), ErrorCode::InvalidJson, Some("a"), "ends too early"),
        (b"not json".to_vec(), ErrorCode::InvalidJson, None, "unexpected 'n'"),
        (b"{\"user_id\":\"a\"} {}".to_vec(), ErrorCode::InvalidJson, Some("a"), "after the user"),
        (b"{\"n\":01,\"user_id\":\"a\"}".to_vec(), ErrorCode::InvalidJson, None, "expected"),
        (b"{\"user_id\":\"a\tb\"}".to_vec(), ErrorCode::InvalidJson, None, "control character"),
        (b"{\"user_id\":\"a\",\"x\":\"\\q\"}".to_vec(), ErrorCode::InvalidJson, Some("a"), "invalid escape"),
        (b"[1,2]".to_vec(), ErrorCode::NotAnObject, None, "not an array"),
        (b"\"str\"".to_vec(), ErrorCode::NotAnObject, None, "not a string"),
        (b"42".to_vec(), ErrorCode::NotAnObject, None, "not a number"),
        (b"null".to_vec(), ErrorCode::NotAnObject, None, "not null"),
        (b"{\"user_id\":\"a\",\"n\":\"\xff\"}".to_vec(), ErrorCode::InvalidUtf8, Some("a"), "invalid UTF-8"),
        (
            b"{\"user_id\":\"a\",\"n\":\"\xed\xa0\x80\"}".to_vec(),
            ErrorCode::InvalidUtf8,
            Some("a"),
            "invalid UTF-8",
        ),
        (
            b"{\"user_id\":\"a\",\"n\":\"\\ud800\"}".to_vec(),
            ErrorCode::LoneSurrogate,
            Some("a"),
            "lone surrogate",
        ),
        (
            b"{\"user_id\":\"a\",\"n\":\"\\udc00\\ud800\"}".to_vec(),
            ErrorCode::LoneSurrogate,
            Some("a"),
            "lone surrogate",
        ),
        (
            b"{\"user_id\":\"a\",\"n\":\"\\ud83d x\"}".to_vec(),
            ErrorCode::LoneSurrogate,
            Some("a"),
            "lone surrogate",
        ),
        (
            b"{\"user_id\":\"a\",\"k\":1,\"k\":2}".to_vec(),
            ErrorCode::DuplicateKey,
            Some("a"),
            "\"k\" appears twice",
        ),
        (
            b"{\"user_id\":\"a\",\"m\":{\"k\":1,\"\\u006b\":2}}".to_vec(),
            ErrorCode::DuplicateKey,
            Some("a"),
            "\"k\" appears twice",
        ),
        (b"{\"user_id\":\"a\",\"user_id\":\"b\"}".to_vec(), ErrorCode::DuplicateKey, Some("b"), "twice"),
        (nest(129).into_bytes(), ErrorCode::TooDeep, Some("deep"), "deeper than 128"),
        (
            format!("{{\"user_id\":\"x\",\"v\":{}", "[".repeat(100_000)).into_bytes(),
            ErrorCode::TooDeep,
            Some("x"),
            "deeper than 128",
        ),
    ]
}

/// `bad` as line 3 of good1, a blank line, bad + CRLF, good2; and how to show `bad` in a failure.
fn sandwich(bad: &[u8]) -> (Vec<u8>, String) {
    let mut input = b"{\"user_id\":\"good1\"}\n\n".to_vec();
    input.extend_from_slice(bad);
    input.extend_from_slice(b"\r\n{\"user_id\":\"good2\"}\n");
    (input, String::from_utf8_lossy(&bad[..bad.len().min(60)]).into_owned())
}

#[test]
fn each_bad_record_strict_names_its_line() {
    for (bad, code, user_id, fragment) in bad_lines() {
        let (input, shown) = sandwich(&bad);
        let e = ndjson_with(BODY, Options::default(), &input).expect_err(&shown);
        assert_eq!(e.code(), code, "{shown}: {e}");
        assert_eq!(e.line(), Some(3), "{shown}: {e}");
        assert_eq!(e.user_id(), user_id, "{shown}: {e}");
        assert!(e.message().contains(fragment), "{shown}: {e}");
        assert!(e.to_string().starts_with("line 3: "), "{e}");
    }
}

#[test]
fn each_bad_record_lenient_is_skipped_whole() {
    for (bad, code, user_id, _) in bad_lines() {
        let (input, shown) = sandwich(&bad);
        let (out, errors) = lenient(BODY, &input);
        assert_eq!(out, "{\"user_id\":\"good1\"}\n{\"user_id\":\"good2\"}\n", "{shown}");
        assert_eq!(errors.len(), 1, "{shown}");
        assert_eq!(
            (errors[0].code(), errors[0].line(), errors[0].user_id()),
            (code, Some(3), user_id),
            "{shown}"
        );
    }
}

#[test]
fn depth_128_is_fine() {
    assert_eq!(ndjson(BODY, &nest(128)).unwrap(), "{\"user_id\":\"deep\"}\n");
}

#[test]
fn strict_failure_stops_the_export() {
    let mut ex = Exporter::new(request(BODY), Options::default());
    ex.push_ndjson(b"{\"user_id\":\"a\"}\n{bad}\n{\"user_id\":\"c\"}\n").unwrap();
    ex.finish().unwrap();
    let (out, err) = drain(&mut ex);
    let err = err.expect("the bad record stops the export");
    assert_eq!(err.line(), Some(2));
    assert!(!out.windows(3).any(|w| w == b"\"c\""), "nothing after the bad record is written");
    // Every later call fails the same way; pushes too.
    assert_eq!(ex.pull().unwrap_err(), err);
    assert_eq!(ex.push_ndjson(b"{}\n").unwrap_err().code(), ErrorCode::InvalidState);
}

#[test]
fn record_size_cap() {
    let opts = || Options { max_record_bytes: 64, lenient: true, ..Options::default() };
    let long = format!("{{\"user_id\":\"{}\"}}", "x".repeat(100));
    let fits = format!("{{\"user_id\":\"{}\"}}", "y".repeat(64 - 14));
    assert_eq!(fits.len(), 64);
    for split in [1usize, 7, 64, 1000] {
        let mut ex = Exporter::new(request(BODY), opts());
        let input = format!("{fits}\r\n{long}\n{fits}\n{long}");
        for piece in input.as_bytes().chunks(split) {
            ex.push_ndjson(piece).unwrap();
            while let Pull::Data(_) = ex.pull().unwrap() {}
        }
        ex.finish().unwrap();
        while let Pull::Data(_) = ex.pull().unwrap() {}
        let lines: Vec<_> = ex.skipped().iter().map(|e| (e.code(), e.line())).collect();
        assert_eq!(
            lines,
            [(ErrorCode::RecordTooLarge, Some(2)), (ErrorCode::RecordTooLarge, Some(4))],
            "split {split}"
        );
        assert_eq!(ex.stats().users_written, 2);
    }
}

#[test]
fn a_line_that_never_ends_is_held_to_the_cap() {
    // Strict: the export fails as soon as the line passes the cap, without waiting for its end.
    let mut ex = Exporter::new(request(BODY), Options { max_record_bytes: 1000, ..Options::default() });
    ex.push_ndjson(b"{\"user_id\":\"ok\"}\n{\"user_id\":\"").unwrap();
    ex.push_ndjson(&[b'x'; 900]).unwrap();
    assert!(matches!(ex.pull().unwrap(), Pull::Data(_)));
    assert_eq!(ex.pull().unwrap(), Pull::NeedInput);
    ex.push_ndjson(&[b'x'; 900]).unwrap();
    let e = ex.pull().unwrap_err();
    assert_eq!((e.code(), e.line()), (ErrorCode::RecordTooLarge, Some(2)));
    // Lenient: reported once, the rest of the line is dropped as it streams, the next line is read.
    let mut ex =
        Exporter::new(request(BODY), Options { max_record_bytes: 1000, lenient: true, ..Options::default() });
    ex.push_ndjson(b"{\"user_id\":\"").unwrap();
    for _ in 0..10_000 {
        ex.push_ndjson(&[b'x'; 1000]).unwrap();
        assert_eq!(ex.pull().unwrap(), Pull::NeedInput);
        assert!(ex.buffered_bytes() <= 1002);
    }
    ex.push_ndjson(b"\"}\n{\"user_id\":\"next\"}").unwrap();
    ex.finish().unwrap();
    assert_eq!(ex.pull_to_end().unwrap(), b"{\"user_id\":\"next\"}\n");
    let got: Vec<_> = ex.skipped().iter().map(|e| (e.code(), e.line())).collect();
    assert_eq!(got, [(ErrorCode::RecordTooLarge, Some(1))]);
}

#[test]
fn json_text_errors_name_the_index() {
    let body = BODY;
    let run = |text: &str, lenient: bool| {
        let mut ex = Exporter::new(request(body), Options { lenient, ..Options::default() });
        ex.push_json(text.as_bytes()).unwrap();
        ex.finish().unwrap();
        let out = ex.pull_to_end();
        (out.map(|b| String::from_utf8(b).unwrap()), ex.skipped().to_vec())
    };
    let text = r#"[{"user_id":"a"}, 5, {"user_id":"c","k":1,"k":2}, {"user_id":"d"}]"#;
    let (out, errors) = run(text, true);
    assert_eq!(out.unwrap(), "{\"user_id\":\"a\"}\n{\"user_id\":\"d\"}\n");
    let got: Vec<_> = errors.iter().map(|e| (e.code(), e.index(), e.user_id().map(str::to_string))).collect();
    assert_eq!(
        got,
        [(ErrorCode::NotAnObject, Some(1), None), (ErrorCode::DuplicateKey, Some(2), Some("c".into()))]
    );
    let (out, _) = run(text, false);
    let e = out.unwrap_err();
    assert_eq!((e.code(), e.index()), (ErrorCode::NotAnObject, Some(1)));
    assert!(e.to_string().starts_with("index 1: "));
    // A text that is not one valid JSON value fails the export, lenient too, naming line and
    // column; none of its users is written or "skipped".
    for lenient in [true, false] {
        let (out, errors) = run("[{\"user_id\":\"a\"},\n {\"user_id\":\"b\",},{\"user_id\":\"c\"}]", lenient);
        let e = out.unwrap_err();
        assert_eq!(
            (e.code(), e.line(), e.column(), e.index()),
            (ErrorCode::InvalidJson, Some(2), Some(17), None)
        );
        assert!(e.to_string().starts_with("line 2, column 17: "), "{e}");
        assert!(!e.to_string().contains("byte"), "{e}");
        assert!(errors.is_empty());
    }
    // Invalid UTF-8 inside one element is that element's error only.
    let mut ex = Exporter::new(request(body), Options { lenient: true, ..Options::default() });
    ex.push_json(b"[{\"user_id\":\"a\"},{\"user_id\":\"\xff\"},{\"user_id\":\"c\"}]").unwrap();
    ex.finish().unwrap();
    assert_eq!(ex.pull_to_end().unwrap(), b"{\"user_id\":\"a\"}\n{\"user_id\":\"c\"}\n");
    assert_eq!((ex.skipped()[0].code(), ex.skipped()[0].index()), (ErrorCode::InvalidUtf8, Some(1)));
    // Broken structure around the users.
    for (text, code) in [
        ("[{\"user_id\":\"a\"},]", ErrorCode::InvalidJson),
        ("[{\"user_id\":\"a\"}", ErrorCode::InvalidJson),
        ("[{\"user_id\":\"a\"}] x", ErrorCode::InvalidJson),
        ("{\"user_id\":\"a\"} {}", ErrorCode::InvalidJson),
        ("{\"users\":[{\"user_id\":\"a\"}],\"foo\":1}", ErrorCode::InvalidJson),
        ("", ErrorCode::InvalidJson),
        ("7", ErrorCode::NotAnObject),
    ] {
        let (out, _) = run(text, false);
        assert_eq!(out.unwrap_err().code(), code, "{text}");
    }
}

#[test]
fn lenient_reports_every_skipped_record_in_order() {
    let input = "{\"user_id\":\"a\"}\nx\n\n[]\r\n{\"user_id\":\"b\"}\n{\"user_id\":\"c\",\"user_id\":1}\n";
    let (out, errors) = lenient(BODY, input.as_bytes());
    assert_eq!(out, "{\"user_id\":\"a\"}\n{\"user_id\":\"b\"}\n");
    let lines: Vec<_> = errors.iter().map(|e| e.line().unwrap()).collect();
    assert_eq!(lines, [2, 4, 6]);
    assert_eq!(errors[2].user_id(), Some("1"));
}
