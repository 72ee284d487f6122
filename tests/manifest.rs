//! The manifest: its sha256s equal `sha256sum`'s of the pulled bytes at every pull size and
//! input split, plain and gzip, and it records the request, options, counts and times.

mod common;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

use common::*;
use userexport::*;

/// Users with a bad line, a filtered connection, non-ASCII text and a last line without `\n`.
fn sample() -> Vec<u8> {
    "{\"user_id\":\"auth0|1\",\"name\":\"Zoë 中文\",\"identities\":[{\"connection\":\"db\"}]}\r\n\
     {\"user_id\":\"auth0|2\",\"name\":\"😀\",\"identities\":[{\"connection\":\"google\"}]}\n\
     {not json}\n\
     {\"user_id\":\"auth0|3\",\"name\":\"=HYPERLINK()\",\"identities\":[{\"connection\":\"db\"}]}\n\
     {\"user_id\":\"auth0|4\",\"name\":\"a,b\",\"identities\":[{\"connection\":\"db\"}],\"x\":1,\"x\":2}\n\
     {\"user_id\":\"auth0|5\",\"name\":\"עברית\",\"identities\":[{\"connection\":\"db\"}]}"
        .as_bytes()
        .to_vec()
}

const BODIES: [&str; 2] = [
    r#"{"format":"csv","fields":[{"name":"user_id"},{"name":"name","export_as":"Name"}]}"#,
    r#"{"format":"json","fields":[{"name":"user_id"},{"name":"name"}]}"#,
];

/// `sha256sum` of `bytes` (the coreutils program, not this crate's hasher), cached.
fn sha256sum(bytes: &[u8], cache: &mut HashMap<Vec<u8>, String>) -> String {
    if let Some(hex) = cache.get(bytes) {
        return hex.clone();
    }
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum runs");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hex = String::from_utf8(out.stdout).unwrap()[..64].to_string();
    cache.insert(bytes.to_vec(), hex.clone());
    hex
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut plain).unwrap();
    plain
}

/// Pushes `input` in pieces of `split` bytes, pulling at most `max` bytes at a time after each
/// piece; returns the exporter (every byte pulled) and the output.
fn run(body: &str, options: Options, input: &[u8], split: usize, max: usize) -> (Exporter, Vec<u8>) {
    let mut ex = Exporter::new(request(body), options);
    let mut out = Vec::new();
    let drain = |ex: &mut Exporter, out: &mut Vec<u8>| loop {
        assert_eq!(ex.digests(), None, "digests before the export is done");
        match ex.pull_at_most(max).unwrap() {
            Pull::Data(d) => out.extend_from_slice(d),
            Pull::NeedInput => break false,
            Pull::Done => break true,
        }
    };
    for piece in input.chunks(split.max(1)) {
        ex.push_ndjson(piece).unwrap();
        if drain(&mut ex, &mut out) {
            // Only a `limit` ends an export before its input does.
            assert!(ex.limit_reached());
            return (ex, out);
        }
    }
    ex.finish().unwrap();
    assert!(drain(&mut ex, &mut out));
    (ex, out)
}

#[test]
fn digests_equal_sha256sum_at_every_pull_size_and_split() {
    let input = sample();
    let mut cache = HashMap::new();
    let mut runs = 0;
    for body in BODIES {
        for gzip in [false, true] {
            let options = || Options {
                lenient: true,
                gzip,
                connection: Some("db".into()),
                manifest: true,
                ..Options::default()
            };
            let (_, whole) = run(body, options(), &input, input.len(), 1 << 20);
            let plain = if gzip { gunzip(&whole) } else { whole };
            let plain_hex = sha256sum(&plain, &mut cache);
            for split in [1, 2, 5, 13, 64, input.len()] {
                for max in 1..=64 {
                    let (ex, out) = run(body, options(), &input, split, max);
                    let d = ex.digests().expect("digests once done");
                    let at = format!("{body} gzip={gzip} split={split} pull={max}");
                    assert_eq!(d.plain.sha256_hex(), plain_hex, "{at}");
                    assert_eq!(d.plain.bytes, plain.len() as u64, "{at}");
                    match d.gzip {
                        None => {
                            assert!(!gzip, "{at}");
                            assert_eq!(out, plain, "{at}");
                        }
                        Some(g) => {
                            assert!(gzip, "{at}");
                            assert_eq!(g.sha256_hex(), sha256sum(&out, &mut cache), "{at}");
                            assert_eq!(g.bytes, out.len() as u64, "{at}");
                            assert_eq!(gunzip(&out), plain, "{at}");
                        }
                    }
                    runs += 1;
                }
            }
        }
    }
    assert_eq!(runs, 2 * 2 * 6 * 64);
}

/// Enough users that the gzip stage takes several 64 KiB slabs of plain output.
#[test]
fn digests_of_a_large_gzip_export() {
    let mut input = Vec::new();
    for i in 0..6000 {
        writeln!(
            input,
            "{{\"user_id\":\"auth0|{i:06}\",\"email\":\"user{i}@example.com\",\"logins_count\":{i}}}"
        )
        .unwrap();
    }
    let body = r#"{"format":"csv","fields":[{"name":"user_id"},{"name":"email"},{"name":"logins_count"}]}"#;
    let mut cache = HashMap::new();
    let (_, plain) = run(body, Options::default(), &input, input.len(), 1 << 20);
    assert!(plain.len() > 3 * 64 * 1024, "{} plain bytes", plain.len());
    for (split, max) in [(1000, 1), (4096, 3000), (input.len(), 64 * 1024), (70_001, 100_000)] {
        let (ex, out) =
            run(body, Options { gzip: true, manifest: true, ..Options::default() }, &input, split, max);
        let d = ex.digests().unwrap();
        assert_eq!(gunzip(&out), plain);
        assert_eq!(d.plain.sha256_hex(), sha256sum(&plain, &mut cache));
        assert_eq!(d.plain.bytes, plain.len() as u64);
        let g = d.gzip.unwrap();
        assert_eq!(g.sha256_hex(), sha256sum(&out, &mut cache));
        assert_eq!(g.bytes, out.len() as u64);
        assert_eq!(ex.stats().bytes_out, out.len() as u64);
    }
}

#[test]
fn manifest_records_request_options_counts_digests_and_times() {
    let input = sample();
    let query = Query::parse("_exists_:name").unwrap();
    let options = Options {
        lenient: true,
        gzip: true,
        connection: Some("db".into()),
        query: Some(query),
        manifest: true,
        ..Options::default()
    };
    let (mut ex, out) = run(BODIES[0], options, &input, 7, 10);
    let m = ex.manifest("acme", "2026-01-02T03:04:05.000Z", "2026-01-02T03:04:06.500Z").unwrap().unwrap();
    let plain = gunzip(&out);
    let mut cache = HashMap::new();
    let v = m.to_value();
    let expected = serde_json::json!({
        "tool": "userexport",
        "version": env!("CARGO_PKG_VERSION"),
        "file": "acme.csv.gz",
        "request": {"format": "csv", "fields": [{"name": "user_id"}, {"name": "name", "export_as": "Name"}]},
        "options": {"query": "_exists_:name", "connection": "db", "lenient": true, "gzip": true},
        "counts": {"read": 6, "matched": 3, "written": 3, "filtered": 1, "skipped": 2,
                   "skippedReasons": {"invalid_json": 1, "duplicate_key": 1}},
        "input": {"bytes": input.len(), "lines": 6},
        "plain": {"sha256": sha256sum(&plain, &mut cache), "bytes": plain.len()},
        "gzip": {"sha256": sha256sum(&out, &mut cache), "bytes": out.len()},
        "startedAt": "2026-01-02T03:04:05.000Z",
        "endedAt": "2026-01-02T03:04:06.500Z",
    });
    assert_eq!(v, expected);
    // The file's text: the same object, keys in this order, pretty-printed, one final newline.
    let text = m.to_json();
    assert!(text.ends_with("}\n") && !text.ends_with("\n\n"));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), expected);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "tool",
            "version",
            "file",
            "request",
            "options",
            "counts",
            "input",
            "plain",
            "gzip",
            "startedAt",
            "endedAt"
        ]
    );
    assert_eq!(ex.manifest("no such tenant", "s", "e").unwrap_err().code(), ErrorCode::InvalidTenant);
    // Pulling after Done changes nothing.
    assert_eq!(ex.pull().unwrap(), Pull::Done);
    assert_eq!(
        ex.manifest("acme", "2026-01-02T03:04:05.000Z", "2026-01-02T03:04:06.500Z").unwrap().unwrap(),
        m
    );
}

#[test]
fn a_manifest_of_parts_is_the_exporters_but_for_the_digests() {
    // The same export in one run and told by its counts and skipped codes, as a host that ran
    // it in shards tells them: the same manifest, with plain and gzip null.
    let input = sample();
    for (body, gzip) in [(BODIES[0], true), (BODIES[1], false)] {
        let options = Options {
            lenient: true,
            gzip,
            connection: Some("db".into()),
            query: Some(Query::parse("_exists_:name").unwrap()),
            manifest: true,
            ..Options::default()
        };
        let (ex, _) = run(body, options.clone(), &input, 64, 64);
        let whole = ex.manifest("acme", "s", "e").unwrap().unwrap().to_value();
        let skipped = ex.skipped().iter().map(Error::code);
        let parts =
            Manifest::of_parts(request(body), &options, "acme", ex.stats(), skipped, "s", "e").unwrap();
        let mut want = whole.clone();
        want["plain"] = serde_json::Value::Null;
        want["gzip"] = serde_json::Value::Null;
        assert_eq!(parts.to_value(), want, "{body}");
        // And the text: the same keys in the same order.
        assert_eq!(parts.to_json(), serde_json::to_string_pretty(&want).unwrap() + "\n");
    }
    let bad = Manifest::of_parts(
        request(BODIES[0]),
        &Options::default(),
        "no such tenant",
        Stats::default(),
        [],
        "s",
        "e",
    );
    assert_eq!(bad.unwrap_err().code(), ErrorCode::InvalidTenant);
    assert_eq!(ErrorCode::from_name("duplicate_key"), Some(ErrorCode::DuplicateKey));
    assert_eq!(ErrorCode::from_name("no_such_code"), None);
}

#[test]
fn manifest_of_a_plain_export_with_defaults_and_a_limit() {
    let body = r#"{"format":"json","limit":2,"connection_id":"con_0123456789abcdef"}"#;
    let input = format!("{U1}\n{U1}\n{U1}\n");
    let (ex, out) = run(
        body,
        Options {
            connection: Some("Username-Password-Authentication".into()),
            manifest: true,
            ..Options::default()
        },
        input.as_bytes(),
        50,
        64,
    );
    let v = ex.manifest("export", "a", "b").unwrap().unwrap().to_value();
    let mut cache = HashMap::new();
    assert_eq!(v["file"], "export.json");
    assert_eq!(v["request"]["connection_id"], "con_0123456789abcdef");
    assert_eq!(v["request"]["limit"], 2);
    // The request named no fields: the manifest lists the default ones it exported.
    let names: Vec<&str> =
        v["request"]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, DEFAULT_FIELDS);
    assert_eq!(
        v["options"],
        serde_json::json!({"query": null, "connection": "Username-Password-Authentication", "lenient": false, "gzip": false})
    );
    assert_eq!(v["counts"]["written"], 2);
    assert_eq!(v["counts"]["skippedReasons"], serde_json::json!({}));
    assert_eq!(v["plain"], serde_json::json!({"sha256": sha256sum(&out, &mut cache), "bytes": out.len()}));
    assert_eq!(v["gzip"], serde_json::Value::Null);
}

#[test]
fn no_manifest_until_done_nor_after_a_failure() {
    let mut ex = Exporter::new(request(BODIES[1]), Options { manifest: true, ..Options::default() });
    assert_eq!(ex.manifest("acme", "a", "b").unwrap(), None);
    ex.push_ndjson(b"{\"user_id\":\"1\"}\n{bad}\n").unwrap();
    ex.finish().unwrap();
    assert_eq!(ex.pull_to_end().unwrap_err().code(), ErrorCode::InvalidJson);
    assert_eq!(ex.digests(), None);
    assert_eq!(ex.manifest("acme", "a", "b").unwrap(), None);
}

#[test]
fn no_digests_unless_the_manifest_is_asked_for() {
    let input = sample();
    let (ex, _) = run(BODIES[0], Options { lenient: true, ..Options::default() }, &input, 7, 10);
    assert!(ex.digests().is_none());
    assert!(ex.manifest("acme", "a", "b").unwrap().is_none());
}
