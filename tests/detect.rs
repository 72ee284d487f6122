//! Input-form detection (COMPATIBILITY.md, "Telling NDJSON from JSON text"): `push_bytes` with
//! `InputForm::Auto`, split at every byte, gives exactly what the named form gives.

mod common;

use common::request;
use userexport::{detect_input, Error, ErrorCode, Exporter, InputForm, Options, Pull};

const BODY: &str = r#"{"format":"csv","fields":[{"name":"user_id"},{"name":"n"}]}"#;

/// (name, input, the form the rule gives it).
fn table() -> Vec<(&'static str, Vec<u8>, InputForm)> {
    let pretty = b"{\n  \"user_id\": \"p\",\n  \"n\": [\n    1,\n    2\n  ]\n}\n".to_vec();
    vec![
        ("empty", b"".to_vec(), InputForm::Ndjson),
        ("whitespace only", b" \n\r\n\t \n".to_vec(), InputForm::Ndjson),
        ("two NDJSON lines", b"{\"user_id\":\"a\",\"n\":1}\n{\"user_id\":\"b\"}\n".to_vec(), InputForm::Ndjson),
        ("BOM then NDJSON", b"\xEF\xBB\xBF{\"user_id\":\"a\"}\r\n{\"user_id\":\"b\"}".to_vec(), InputForm::Ndjson),
        ("leading blank lines, NDJSON", b"\n\r\n  \n{\"user_id\":\"a\"}\n{\"user_id\":\"b\"}\n".to_vec(), InputForm::Ndjson),
        ("one-line NDJSON is one value", b"{\"user_id\":\"a\",\"n\":2}\n".to_vec(), InputForm::Json),
        ("array", b"[{\"user_id\":\"a\"},\n {\"user_id\":\"b\",\"n\":true}]".to_vec(), InputForm::Json),
        ("BOM, blank lines, array", b"\xEF\xBB\xBF\n\n  [\n{\"user_id\":\"a\"}\n]\n".to_vec(), InputForm::Json),
        ("pretty-printed single user", pretty, InputForm::Json),
        (
            "Management API page",
            b"{\"start\":0,\"limit\":50,\"length\":2,\"users\":[{\"user_id\":\"a\"},{\"user_id\":\"b\"}],\"total\":2}"
                .to_vec(),
            InputForm::Json,
        ),
        (
            "bad first line, truncated",
            b"{\"user_id\":\"x\",\n{\"user_id\":\"y\",\"n\":3}\n{\"user_id\":\"z\"}\n".to_vec(),
            InputForm::Ndjson,
        ),
        ("first line [1,2]", b"[1,2]\n{\"user_id\":\"y\"}\n".to_vec(), InputForm::Json),
        (
            "first line repeats a key, more lines",
            b"{\"user_id\":\"a\",\"n\":1,\"n\":2}\n{\"user_id\":\"b\"}\n".to_vec(),
            InputForm::Ndjson,
        ),
        ("one number", b" 7 ".to_vec(), InputForm::Json),
        ("a string over two lines is broken", b"\"ab\ncd\"".to_vec(), InputForm::Ndjson),
    ]
}

/// What an export gave: its bytes, the error that stopped it, the records it skipped.
type Outcome = (Vec<u8>, Option<Error>, Vec<Error>);

/// Pushes `chunks` with `push`, pulling after each push (so pulls meet an undecided input).
fn run(
    lenient: bool,
    chunks: &[&[u8]],
    push: &dyn Fn(&mut Exporter, &[u8]) -> userexport::Result<()>,
) -> Outcome {
    let mut ex = Exporter::new(request(BODY), Options { lenient, ..Options::default() });
    let mut out = Vec::new();
    let pull_all = |ex: &mut Exporter, out: &mut Vec<u8>| -> Option<Error> {
        loop {
            match ex.pull() {
                Ok(Pull::Data(d)) => out.extend_from_slice(d),
                Ok(_) => return None,
                Err(e) => return Some(e),
            }
        }
    };
    for chunk in chunks {
        if let Err(e) = push(&mut ex, chunk) {
            return (out, Some(e), ex.skipped().to_vec());
        }
        if let Some(e) = pull_all(&mut ex, &mut out) {
            return (out, Some(e), ex.skipped().to_vec());
        }
    }
    if let Err(e) = ex.finish() {
        return (out, Some(e), ex.skipped().to_vec());
    }
    let e = pull_all(&mut ex, &mut out);
    (out, e, ex.skipped().to_vec())
}

fn named(form: InputForm, lenient: bool, input: &[u8]) -> Outcome {
    match form {
        InputForm::Ndjson => run(lenient, &[input], &|ex, c| ex.push_ndjson(c)),
        InputForm::Json => run(lenient, &[input], &|ex, c| ex.push_json(c)),
        InputForm::Auto => unreachable!(),
    }
}

#[test]
fn detect_input_follows_the_rule_for_whole_inputs_and_never_changes_its_mind() {
    for (name, input, form) in table() {
        assert_eq!(detect_input(&input, true), Some(form), "{name}");
        for k in 0..=input.len() {
            let early = detect_input(&input[..k], false);
            assert!(early.is_none() || early == Some(form), "{name}: prefix {k} said {early:?}");
        }
    }
    assert_eq!(detect_input(b"[", false), Some(InputForm::Json));
    assert_eq!(detect_input(b"{\"a\":1}\n{", false), Some(InputForm::Ndjson));
    assert_eq!(detect_input(b"{\"a\":1}\n", false), None);
    assert_eq!(detect_input(b"{\"a\":\"tru", false), None);
    assert_eq!(detect_input(b"{\"a\":tru", false), None);
    assert_eq!(detect_input(b"{\"a\":\"\\u12", false), None);
    assert_eq!(detect_input(b"{\"a\":\"\\u12x", false), Some(InputForm::Ndjson));
    assert_eq!(detect_input(b"\xEF\xBB", false), None);
    assert_eq!(detect_input(b"\xEF\xBB", true), Some(InputForm::Ndjson));
}

#[test]
fn auto_split_at_every_point_equals_the_named_form() {
    for (name, input, form) in table() {
        for lenient in [false, true] {
            let want = named(form, lenient, &input);
            let auto = |ex: &mut Exporter, c: &[u8]| ex.push_bytes(c);
            for k in 0..=input.len() {
                let got = run(lenient, &[&input[..k], &input[k..]], &auto);
                assert_eq!(got, want, "{name}, lenient {lenient}, split at {k}");
            }
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            assert_eq!(run(lenient, &bytes, &auto), want, "{name}, lenient {lenient}, byte by byte");
            // Naming the form through the options gives the same too.
            let mut ex =
                Exporter::new(request(BODY), Options { lenient, input_form: form, ..Options::default() });
            let got = (|| {
                for c in &bytes {
                    ex.push_bytes(c)?;
                }
                ex.finish()?;
                ex.pull_to_end()
            })();
            assert_eq!(got.as_ref().ok(), want.1.is_none().then_some(&want.0), "{name}: named {form:?}");
        }
    }
}

/// The cases the rule spells out, with what they must give.
#[test]
fn the_spelled_out_cases() {
    let auto = |ex: &mut Exporter, c: &[u8]| ex.push_bytes(c);
    // A bad (truncated) first line: NDJSON. Strict names line 1; lenient skips it only.
    let input = b"{\"user_id\":\"x\",\n{\"user_id\":\"y\",\"n\":3}\n";
    let (out, e, _) = run(false, &[input], &auto);
    assert_eq!(out, b"user_id,n\n");
    let e = e.unwrap();
    assert_eq!((e.code(), e.line()), (ErrorCode::InvalidJson, Some(1)));
    let (out, e, skipped) = run(true, &[input], &auto);
    assert!(e.is_none());
    assert_eq!(out, b"user_id,n\n\"'y\",3\n");
    assert_eq!(skipped.iter().map(Error::line).collect::<Vec<_>>(), [Some(1)]);
    // `[1,2]` first: JSON text, not one valid value: the export fails in both modes with a
    // line and a column, and nothing is skipped.
    for lenient in [false, true] {
        let (out, e, skipped) = run(lenient, &[b"[1,2]\n{\"user_id\":\"y\"}\n"], &auto);
        let e = e.unwrap();
        assert_eq!((e.code(), e.line(), e.column()), (ErrorCode::InvalidJson, Some(2), Some(1)), "{e}");
        assert!(skipped.is_empty());
        assert_eq!(out, b"user_id,n\n");
    }
    // A pretty-printed user is one JSON text: one row.
    let (out, e, _) = run(false, &[b"{\n\"user_id\": \"p\"\n}\n"], &auto);
    assert!(e.is_none());
    assert_eq!(out, b"user_id,n\n\"'p\",\n");
}

#[test]
fn undecided_input_is_held_only_up_to_the_record_cap() {
    // One value that never closes: past the cap the first record is too large either way,
    // and the input goes on as NDJSON (so the bytes held stay bounded).
    let cap = 1000;
    let options = Options { max_record_bytes: cap, lenient: true, ..Options::default() };
    let mut ex = Exporter::new(request(BODY), options);
    ex.push_bytes(b"{\"user_id\":\"").unwrap();
    for _ in 0..100 {
        ex.push_bytes(&[b'a'; 100]).unwrap();
        assert!(ex.buffered_bytes() <= cap + 200, "held {}", ex.buffered_bytes());
    }
    ex.push_bytes(b"\"}\n{\"user_id\":\"b\"}\n").unwrap();
    ex.finish().unwrap();
    assert_eq!(ex.pull_to_end().unwrap(), b"user_id,n\n\"'b\",\n");
    assert_eq!(
        ex.skipped().iter().map(|e| (e.code(), e.line())).collect::<Vec<_>>(),
        [(ErrorCode::RecordTooLarge, Some(1))]
    );
}

#[test]
fn push_bytes_does_not_mix_with_the_named_pushes() {
    let mut ex = Exporter::new(request(BODY), Options::default());
    ex.push_bytes(b"{").unwrap();
    assert_eq!(ex.push_json(b"{}").unwrap_err().code(), ErrorCode::InvalidState);
    assert_eq!(ex.push_ndjson(b"{}").unwrap_err().code(), ErrorCode::InvalidState);
}
