//! For re-import: the golden cases of tests/import/cases.json, every input split and pull size, and the 500,000-byte file limit to the byte.

mod common;
use common::*;
use serde_json::Value;
use userexport::*;

/// The import output of one export: each file's bytes, and the users left out as (line, user_id, reason).
type Outcome = (Vec<Vec<u8>>, Vec<(Option<u64>, Option<String>, &'static str)>);

fn options(case: &Value, chunk_size: usize) -> Options {
    Options {
        for_import: true,
        chunk_size,
        connection: case["options"]["connection"].as_str().map(String::from),
        ..Options::default()
    }
}

fn body(case: &Value) -> String {
    case.get("request").map_or("{}".to_string(), Value::to_string)
}

/// Pushes `pieces`, pulling with `pull_import` after each, and checks every chunk names one file.
fn run(body: &str, options: Options, pieces: &[&[u8]]) -> Outcome {
    let chunk = options.chunk_size;
    let mut ex = Exporter::try_new(request(body), options).unwrap();
    let mut files: Vec<Vec<u8>> = Vec::new();
    let mut ended = true;
    let mut drain = |ex: &mut Exporter| loop {
        match ex.pull_import().unwrap() {
            Pull::Data(c) => {
                assert!(!c.bytes.is_empty() && c.bytes.len() <= chunk);
                if ended {
                    assert_eq!(c.file as usize, files.len() + 1, "a new file after the last one ended");
                    files.push(Vec::new());
                } else {
                    assert_eq!(c.file as usize, files.len(), "the open file goes on");
                }
                files.last_mut().unwrap().extend_from_slice(c.bytes);
                ended = c.ends_file;
            }
            Pull::NeedInput => break false,
            Pull::Done => break true,
        }
    };
    for piece in pieces {
        ex.push_ndjson(piece).unwrap();
        drain(&mut ex);
    }
    ex.finish().unwrap();
    assert!(drain(&mut ex));
    assert!(ended, "the last chunk ends its file");
    let listed: Vec<u64> = ex.import_files().iter().map(|f| f.bytes).collect();
    assert_eq!(listed, files.iter().map(|f| f.len() as u64).collect::<Vec<_>>());
    let left =
        ex.unimportable().iter().map(|u| (u.location.and_then(line), u.user_id.clone(), u.reason.as_str()));
    (files, left.collect())
}

fn line(l: Location) -> Option<u64> {
    match l {
        Location::Line(n) => Some(n),
        _ => None,
    }
}

fn cases() -> Vec<Value> {
    serde_json::from_str(include_str!("import/cases.json")).unwrap()
}

fn expected(case: &Value) -> Outcome {
    let files =
        case["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().as_bytes().to_vec()).collect();
    let left = case["unimportable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let reason = [
                Reason::NotDatabase,
                Reason::UnknownProvider,
                Reason::NoEmail,
                Reason::InvalidEmail,
                Reason::WrongType,
                Reason::ReservedKey,
                Reason::OtherConnection,
                Reason::TooLarge,
            ]
            .into_iter()
            .find(|r| r.as_str() == u["reason"].as_str().unwrap())
            .expect("a known reason")
            .as_str();
            (u["line"].as_u64(), u["user_id"].as_str().map(String::from), reason)
        })
        .collect();
    (files, left)
}

#[test]
fn golden_cases() {
    for case in cases() {
        let input = case["input"].as_str().unwrap().as_bytes();
        let got = run(&body(&case), options(&case, DEFAULT_CHUNK_SIZE), &[input]);
        assert_eq!(got, expected(&case), "{}", case["name"]);
    }
}

#[test]
fn every_split_and_pull_size_gives_the_same_files() {
    for case in cases() {
        let input = case["input"].as_str().unwrap().as_bytes();
        let want = expected(&case);
        for i in 0..=input.len() {
            let got = run(&body(&case), options(&case, 7), &[&input[..i], &input[i..]]);
            assert_eq!(got, want, "{} split at {i}", case["name"]);
        }
        for size in 1..=64 {
            assert_eq!(
                run(&body(&case), options(&case, size), &[input]),
                want,
                "{} pull size {size}",
                case["name"]
            );
        }
    }
}

#[test]
fn json_text_users_are_located_by_index() {
    let text = r#"[{"user_id":"auth0|1","email":"a@example.com"},{"user_id":"google-oauth2|2","email":"b@example.com"}]"#;
    let mut ex =
        Exporter::try_new(Request::default(), Options { for_import: true, ..Options::default() }).unwrap();
    ex.push_json(text.as_bytes()).unwrap();
    ex.finish().unwrap();
    let out = ex.pull_to_end().unwrap();
    assert_eq!(out, b"[\n{\"user_id\":\"1\",\"email\":\"a@example.com\"}\n]\n");
    let left = &ex.unimportable()[0];
    assert_eq!((left.location, left.user_id.as_deref()), (Some(Location::Index(1)), Some("google-oauth2|2")));
    assert!(left.message.contains("google-oauth2"), "{}", left.message);
}

/// A database user whose import object is exactly `len` bytes (an `email` padded to fit).
fn user_of(len: usize, id: usize) -> (String, String) {
    let object = |local: &str| format!(r#"{{"user_id":"{id:06}","email":"{local}@example.com"}}"#);
    let pad = len - object("").len();
    let local = "a".repeat(pad);
    let out = object(&local);
    assert_eq!(out.len(), len);
    let line = format!(
        r#"{{"user_id":"auth0|{id:06}","email":"{local}@example.com","identities":[{{"connection":"db","provider":"auth0"}}]}}"#
    );
    (line, out)
}

fn export(lines: &[String]) -> Outcome {
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    run("{}", Options { for_import: true, ..Options::default() }, &[input.as_bytes()])
}

#[test]
fn a_file_is_at_most_500000_bytes_to_the_byte() {
    // One user filling a file exactly: 2 ("[\n") + len + 3 ("\n]\n") = 500,000.
    let (line, obj) = user_of(IMPORT_FILE_MAX_BYTES - 5, 1);
    let (files, left) = export(&[line]);
    assert_eq!(files, vec![format!("[\n{obj}\n]\n").into_bytes()]);
    assert_eq!(files[0].len(), IMPORT_FILE_MAX_BYTES);
    assert!(left.is_empty());

    // One byte more: the user alone is too large, listed, not split.
    let (line, _) = user_of(IMPORT_FILE_MAX_BYTES - 4, 2);
    let (files, left) = export(&[line]);
    assert!(files.is_empty());
    assert_eq!(left, vec![(Some(1), Some("auth0|000002".to_string()), "too_large")]);

    // Two users whose file is exactly the limit share it; one byte more and the second starts file 2.
    let first = 300_000;
    let second = IMPORT_FILE_MAX_BYTES - 2 - first - 2 - 3;
    let (a, a_obj) = user_of(first, 3);
    let (b, b_obj) = user_of(second, 4);
    let (files, _) = export(&[a.clone(), b]);
    assert_eq!(files, vec![format!("[\n{a_obj},\n{b_obj}\n]\n").into_bytes()]);
    assert_eq!(files[0].len(), IMPORT_FILE_MAX_BYTES);
    let (b, b_obj) = user_of(second + 1, 5);
    let (files, _) = export(&[a, b]);
    assert_eq!(files, vec![format!("[\n{a_obj}\n]\n").into_bytes(), format!("[\n{b_obj}\n]\n").into_bytes()]);
}

#[test]
fn many_users_fill_numbered_files_in_order() {
    let lines: Vec<String> = (0..12_000).map(|i| user_of(100, i).0).collect();
    let (files, left) = export(&lines);
    assert!(left.is_empty());
    // 4,901 users of 100 bytes fit: 2 + 4901 * 100 + 4900 * 2 + 3 = 499,905; one more is 500,007.
    let counts: Vec<usize> = files.iter().map(|f| f.iter().filter(|&&b| b == b'{').count()).collect();
    assert_eq!(counts, vec![4901, 4901, 2198]);
    assert!(files.iter().all(|f| f.len() <= IMPORT_FILE_MAX_BYTES));
    let ids: Vec<Value> = files
        .iter()
        .flat_map(|f| serde_json::from_slice::<Vec<Value>>(f).unwrap())
        .map(|u| u["user_id"].clone())
        .collect();
    assert_eq!(ids, (0..12_000).map(|i| Value::from(format!("{i:06}"))).collect::<Vec<_>>());
    assert_eq!(import_file_name("acme", 1).unwrap(), "acme.import.001.json");
    assert_eq!(import_file_name("acme", 1000).unwrap(), "acme.import.1000.json");
}

#[test]
fn options_an_import_cannot_take_are_refused_before_any_input() {
    let refused = |body: &str, options: Options| {
        let e =
            Exporter::try_new(request(body), Options { for_import: true, ..options }).err().expect("refused");
        assert_eq!(e.code(), ErrorCode::InvalidRequest);
        e.message().to_string()
    };
    assert!(refused(r#"{"fields":[{"name":"email"}]}"#, Options::default()).contains("fields"));
    assert!(refused(r#"{"format":"csv"}"#, Options::default()).contains("csv"));
    assert!(refused("{}", Options { gzip: true, ..Options::default() }).contains("gzip"));
    assert!(refused("{}", Options { manifest: true, ..Options::default() }).contains("manifest"));
    // Exporter::new defers the same refusal to the first call.
    let mut ex =
        Exporter::new(request(r#"{"format":"csv"}"#), Options { for_import: true, ..Options::default() });
    assert_eq!(ex.push_ndjson(b"{}\n").unwrap_err().code(), ErrorCode::InvalidState);
}

#[test]
fn strict_and_lenient_bad_records_are_errors_not_unimportable() {
    let input = b"{\"user_id\":\"auth0|1\",\"email\":\"a@example.com\"}\n{bad\n";
    let mut ex = Exporter::new(Request::default(), Options { for_import: true, ..Options::default() });
    ex.push_ndjson(input).unwrap();
    ex.finish().unwrap();
    let (_, err) = drain(&mut ex);
    assert_eq!(err.unwrap().line(), Some(2));
    let mut ex =
        Exporter::new(Request::default(), Options { for_import: true, lenient: true, ..Options::default() });
    ex.push_ndjson(input).unwrap();
    ex.finish().unwrap();
    assert_eq!(ex.pull_to_end().unwrap(), b"[\n{\"user_id\":\"1\",\"email\":\"a@example.com\"}\n]\n");
    assert_eq!(ex.skipped().len(), 1);
    assert!(ex.unimportable().is_empty());
}

#[test]
fn schema_email_check() {
    for ok in ["a@b.co", "o'hara+x@mail.example.org", "a.b-c_d@x-y.io", "1@2.3"] {
        assert!(is_schema_email(ok.as_bytes()), "{ok}");
    }
    for bad in [
        "",
        "a",
        "a@",
        "@b.co",
        "a@b",
        "a..b@c.io",
        ".a@c.io",
        "a@-b.io",
        "a@b-.io",
        "a b@c.io",
        "é@c.io",
        "a@b..io",
    ] {
        assert!(!is_schema_email(bad.as_bytes()), "{bad}");
    }
}

#[test]
fn the_list_of_users_left_out_is_one_json_array() {
    let case = &cases()[1];
    let mut ex =
        Exporter::try_new(Request::default(), Options { for_import: true, ..Options::default() }).unwrap();
    ex.push_ndjson(case["input"].as_str().unwrap().as_bytes()).unwrap();
    ex.finish().unwrap();
    ex.pull_to_end().unwrap();
    let text = String::from_utf8(unimportable_json(ex.unimportable())).unwrap();
    assert!(text.starts_with("[\n{\"line\":1,\"user_id\":\"google-oauth2|123\",\"reason\":\"not_database_connection\",\"message\":"));
    assert_eq!(text.lines().count(), 5, "{text}");
    let parsed: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed.len(), 3);
    assert_eq!(unimportable_json(&[]), b"[]\n");
    assert_eq!(unimportable_file_name("acme").unwrap(), "acme.import.unimportable.json");
    assert!(unimportable_file_name("../x").is_err());
}

/// Python's zipfile reads `bytes`: the entries as (name, text).
fn read_zip(bytes: &[u8], tag: &str) -> Vec<(String, String)> {
    let path = std::env::temp_dir().join(format!("userexport-zip-{}-{tag}.zip", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/read_zip.py");
    let out = std::process::Command::new("python3").arg(script).arg(&path).output().expect("python3 runs");
    std::fs::remove_file(&path).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let entries: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    entries.iter().map(|e| (e["name"].as_str().unwrap().into(), e["text"].as_str().unwrap().into())).collect()
}

#[test]
fn the_store_only_zip_is_read_by_pythons_zipfile() {
    let lines: Vec<String> = (0..6000).map(|i| user_of(100, i).0).collect();
    let (files, _) = export(&lines);
    let mut zip = StoredZip::new();
    let mut out = Vec::new();
    let mut want = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let name = import_file_name("acme", i as u32 + 1).unwrap();
        zip.add(&name, f, &mut out).unwrap();
        want.push((name, String::from_utf8(f.clone()).unwrap()));
    }
    zip.add("acme.import.unimportable.json", b"[]\n", &mut out).unwrap();
    want.push(("acme.import.unimportable.json".into(), "[]\n".into()));
    zip.finish(&mut out).unwrap();
    assert_eq!(read_zip(&out, "files"), want);
    // The same files make the same bytes (fixed dates); an empty archive is one end record.
    let mut again = Vec::new();
    let mut z = StoredZip::new();
    for (name, text) in &want {
        z.add(name, text.as_bytes(), &mut again).unwrap();
    }
    z.finish(&mut again).unwrap();
    assert_eq!(again, out);
    let mut empty = Vec::new();
    StoredZip::new().finish(&mut empty).unwrap();
    assert_eq!(empty.len(), 22);
    assert_eq!(read_zip(&empty, "empty"), vec![]);
    assert_eq!(import_zip_name("acme").unwrap(), "acme.import.zip");
}

#[test]
fn the_list_taken_as_it_grows_is_the_whole_list() {
    for case in cases() {
        let input = case["input"].as_str().unwrap().as_bytes();
        let mut whole = Exporter::try_new(request(&body(&case)), options(&case, 64)).unwrap();
        whole.push_ndjson(input).unwrap();
        whole.finish().unwrap();
        whole.pull_to_end().unwrap();
        let want = unimportable_json(whole.unimportable());
        // Pushed a byte at a time, the list taken after every pull.
        let mut ex = Exporter::try_new(request(&body(&case)), options(&case, 64)).unwrap();
        let mut got = Vec::new();
        for b in input.chunks(1) {
            ex.push_ndjson(b).unwrap();
            while let Pull::Data(_) = ex.pull_import().unwrap() {}
            got.extend(ex.take_unimportable_json(false));
        }
        ex.finish().unwrap();
        while let Pull::Data(_) = ex.pull_import().unwrap() {}
        got.extend(ex.take_unimportable_json(true));
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap(), "{}", case["name"]);
        assert!(ex.unimportable().is_empty());
        assert_eq!(ex.unimportable_count(), case["unimportable"].as_array().unwrap().len() as u64);
    }
}
