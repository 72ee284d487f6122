//! Hosts that split one batch: `push_json_from` numbering and `push_unsupported` ordering.
use userexport::{ErrorCode, Exporter, Options, Request};

fn csv_email() -> Request {
    Request::from_json(r#"{"format":"csv","fields":[{"name":"email"}]}"#).unwrap()
}

#[test]
fn lenient_reports_unsupported_in_order_with_batch_indexes() {
    let mut ex = Exporter::new(csv_email(), Options { lenient: true, ..Options::default() });
    ex.push_json_from(br#"[{"email":"a"}]"#, 0).unwrap();
    ex.push_unsupported(1, "NaN at .score").unwrap();
    ex.push_json_from(br#"[{"email":"c"},7]"#, 2).unwrap();
    ex.finish().unwrap();
    let out = ex.pull_to_end().unwrap();
    assert_eq!(out, b"email\n\"'a\"\n\"'c\"\n");
    let skipped: Vec<_> = ex.skipped().iter().map(|e| (e.code(), e.index())).collect();
    assert_eq!(skipped, [(ErrorCode::UnsupportedValue, Some(1)), (ErrorCode::NotAnObject, Some(3))]);
    assert_eq!(ex.stats().users_read, 4);
    assert_eq!(ex.stats().users_skipped, 2);
}

#[test]
fn strict_fails_at_the_unsupported_user_after_earlier_users() {
    let mut ex = Exporter::new(csv_email(), Options::default());
    ex.push_json(br#"{"email":"a"}"#).unwrap();
    ex.push_unsupported(5, "a BigInt at .n").unwrap();
    ex.push_json(br#"{"email":"b"}"#).unwrap();
    let first = ex.pull_to_end();
    let e = first.unwrap_err();
    assert_eq!((e.code(), e.index()), (ErrorCode::UnsupportedValue, Some(5)));
    assert_eq!(e.to_string(), "index 5: a BigInt at .n");
}
