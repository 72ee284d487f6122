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
