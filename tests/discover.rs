//! Field discovery (COMPATIBILITY.md, "Field discovery"): the paths, counts, types and examples
//! of a table of small inputs, and on the sample users the counts of an independent walk of
//! serde_json values, split at every chunk size.

use std::collections::HashMap;

use serde_json::Value;
use userexport::{DiscoverOptions, Discoverer, Discovery, ErrorCode, InputForm};

fn discover_with(input: &[u8], options: DiscoverOptions, chunk: usize) -> Discovery {
    let mut d = Discoverer::new(options);
    for piece in input.chunks(chunk.max(1)) {
        d.push(piece).expect("push");
    }
    d.finish().expect("finish");
    d.discovery()
}

fn discover(input: &str) -> Discovery {
    discover_with(input.as_bytes(), DiscoverOptions::default(), usize::MAX)
}

/// `(path, present, filled, kinds, example)` rows of a discovery.
fn rows(d: &Discovery) -> Vec<(String, u64, u64, String, Option<String>)> {
    d.paths
        .iter()
        .map(|p| (p.path.clone(), p.present, p.filled, p.kind_names().join("|"), p.example.clone()))
        .collect()
}

fn row(
    path: &str,
    present: u64,
    filled: u64,
    kinds: &str,
    example: Option<&str>,
) -> (String, u64, u64, String, Option<String>) {
    (path.to_string(), present, filled, kinds.to_string(), example.map(str::to_string))
}

#[test]
fn paths_counts_kinds_and_examples() {
    let input = concat!(
        r#"{"user_id":"auth0|1","email":"","logins_count":7,"user_metadata":{"plan":"pro","tags":[]},"identities":[{"connection":"db","isSocial":false}]}"#,
        "\n",
        r#"{"user_id":"auth0|2","email":"b@example.com","logins_count":1.50e3,"user_metadata":{"plan":null},"identities":[{"connection":"gh"},{"connection":"db","profileData":{"x":1}}]}"#,
        "\n",
    );
    let d = discover(input);
    assert_eq!(
        (d.users, d.users_read, d.users_skipped, d.complete, d.truncated, d.unnamed),
        (2, 2, 0, true, false, 0)
    );
    assert_eq!(
        rows(&d),
        vec![
            row("user_id", 2, 2, "string", Some(r#""auth0|1""#)),
            // An empty string is present but not filled; the example is the first filled value.
            row("email", 2, 1, "string", Some(r#""b@example.com""#)),
            // Numbers keep their text.
            row("logins_count", 2, 2, "number", Some("7")),
            row("user_metadata.plan", 2, 1, "string|null", Some(r#""pro""#)),
            row("user_metadata.tags", 1, 0, "array", None),
            // A container is listed after what it holds (its value ends last), whole, compact.
            row("user_metadata", 2, 2, "object", Some(r#"{"plan":"pro","tags":[]}"#)),
            row("identities[0].connection", 2, 2, "string", Some(r#""db""#)),
            row("identities[0].isSocial", 1, 1, "boolean", Some("false")),
            row("identities[0]", 2, 2, "object", Some(r#"{"connection":"db","isSocial":false}"#)),
            row("identities", 2, 2, "array", Some(r#"[{"connection":"db","isSocial":false}]"#)),
            row("identities[1].connection", 1, 1, "string", Some(r#""db""#)),
            row("identities[1].profileData.x", 1, 1, "number", Some("1")),
            row("identities[1].profileData", 1, 1, "object", Some(r#"{"x":1}"#)),
            row("identities[1]", 1, 1, "object", Some(r#"{"connection":"db","profileData":{"x":1}}"#)),
        ]
    );
    // Every listed path is a field path the request accepts.
    for p in &d.paths {
        userexport::parse_path(&p.path).unwrap_or_else(|e| panic!("{}: {e}", p.path));
    }
}

#[test]
fn keys_no_field_path_can_name_are_counted_not_listed() {
    let d = discover(
        r#"{"a.b":{"c":1},"":2,"x[0]":3,"y]":4,"ok":{"":5,"in":6},"\u0063\u002ed":7,"\u00e9t\u00e9":8}"#,
    );
    let paths: Vec<&str> = d.paths.iter().map(|p| p.path.as_str()).collect();
    // Escaped keys are decoded ("été"); "\u0063\u002ed" is "c.d", which a path cannot name.
    assert_eq!(paths, vec!["ok.in", "ok", "été"]);
    assert_eq!(d.unnamed, 6);
}

#[test]
fn arrays_list_their_first_elements_and_whole_value() {
    let d = discover_with(
        br#"{"roles":["a","b","c","d"],"m":[[1,2],[3]]}"#,
        DiscoverOptions { max_index: 2, ..DiscoverOptions::default() },
        usize::MAX,
    );
    let paths: Vec<&str> = d.paths.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["roles[0]", "roles[1]", "roles", "m[0][0]", "m[0][1]", "m[0]", "m[1][0]", "m[1]", "m"]
    );
}

#[test]
fn bounded_paths_path_length_and_example_length() {
    let many: Vec<String> = (0..50).map(|i| format!("\"k{i}\":{i}")).collect();
    let d = discover_with(
        format!("{{{}}}\n", many.join(",")).as_bytes(),
        DiscoverOptions { max_paths: 10, ..DiscoverOptions::default() },
        7,
    );
    assert_eq!(d.paths.len(), 10);
    assert!(d.truncated);

    let long_key = "k".repeat(userexport::MAX_PATH_BYTES + 1);
    let d = discover(&format!(r#"{{"{long_key}":1,"short":2}}"#));
    assert_eq!(d.paths.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(), vec!["short"]);
    assert!(d.truncated);

    // Cut by characters, not bytes: no character is split.
    let d = discover_with(
        "{\"n\":\"ééééééééé\"}".as_bytes(),
        DiscoverOptions { max_example_chars: 4, ..DiscoverOptions::default() },
        1,
    );
    assert_eq!(d.paths[0].example.as_deref(), Some("\"ééé…"));
}

#[test]
fn stops_after_max_users_and_reads_not_one_more() {
    let input: String = (0..30).map(|i| format!("{{\"user_id\":\"u{i}\",\"n{i}\":1}}\n")).collect();
    for chunk in [1, 5, 64, usize::MAX] {
        let mut d = Discoverer::new(DiscoverOptions { max_users: 10, ..DiscoverOptions::default() });
        for piece in input.as_bytes().chunks(chunk) {
            d.push(piece).unwrap();
        }
        assert!(d.is_full());
        d.finish().unwrap();
        let got = d.discovery();
        assert_eq!((got.users, got.users_read, got.complete), (10, 10, false), "chunk {chunk}");
        assert!(got.paths.iter().any(|p| p.path == "n9"));
        assert!(!got.paths.iter().any(|p| p.path == "n10"), "chunk {chunk}");
    }
}

#[test]
fn bad_records_are_skipped_as_a_lenient_export_skips_them() {
    let d = {
        let mut d = Discoverer::new(DiscoverOptions::default());
        d.push(b"{\"a\":1}\nnot json\n[1]\n{\"a\":2,\"a\":3}\n\n{\"b\":true}").unwrap();
        d.finish().unwrap();
        let codes: Vec<(ErrorCode, Option<u64>)> = d.skipped().iter().map(|e| (e.code(), e.line())).collect();
        assert_eq!(
            codes,
            vec![
                (ErrorCode::InvalidJson, Some(2)),
                (ErrorCode::NotAnObject, Some(3)),
                (ErrorCode::DuplicateKey, Some(4))
            ]
        );
        d.discovery()
    };
    assert_eq!((d.users, d.users_read, d.users_skipped), (2, 5, 3));
    assert_eq!(rows(&d), vec![row("a", 1, 1, "number", Some("1")), row("b", 1, 1, "boolean", Some("true"))]);
}

#[test]
fn json_text_forms_give_the_same_paths_as_ndjson() {
    let users = [r#"{"user_id":"a","app_metadata":{"plan":"pro"}}"#, r#"{"user_id":"b","email":"x@y"}"#];
    let ndjson = discover(&format!("{}\n{}\n", users[0], users[1]));
    let array = discover(&format!("[\n  {},\n  {}\n]", users[0], users[1]));
    let page = {
        let mut d = Discoverer::new(DiscoverOptions::default());
        d.push_json(
            format!(r#"{{"start":0,"limit":50,"length":2,"users":[{},{}],"total":2}}"#, users[0], users[1])
                .as_bytes(),
        )
        .unwrap();
        d.finish().unwrap();
        d.discovery()
    };
    let forced = discover_with(
        format!("[{},{}]", users[0], users[1]).as_bytes(),
        DiscoverOptions { input_form: InputForm::Json, ..DiscoverOptions::default() },
        3,
    );
    assert_eq!(ndjson.paths.len(), 4);
    for other in [&array, &page, &forced] {
        assert_eq!(other.paths, ndjson.paths);
        assert_eq!(other.users, 2);
    }
}

/// Per path: users present, users filled, the first filled string as JSON.
type Counts = HashMap<String, (u64, u64, Option<String>)>;

/// An independent count: serde_json values walked by the documented rules.
fn oracle(input: &str, max_index: usize) -> (Vec<String>, Counts) {
    fn visit(v: &Value, path: &str, max_index: usize, order: &mut Vec<String>, counts: &mut Counts) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if k.is_empty() || k.contains(['.', '[', ']']) {
                        continue;
                    }
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    visit(child, &p, max_index, order, counts);
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate().take(max_index) {
                    visit(child, &format!("{path}[{i}]"), max_index, order, counts);
                }
            }
            _ => {}
        }
        if path.is_empty() {
            return;
        }
        let filled = match v {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(m) => !m.is_empty(),
            _ => true,
        };
        let e = counts.entry(path.to_string()).or_insert_with(|| {
            order.push(path.to_string());
            (0, 0, None)
        });
        e.0 += 1;
        if filled {
            e.1 += 1;
            if e.2.is_none() {
                if let Value::String(s) = v {
                    e.2 = Some(serde_json::to_string(s).unwrap());
                }
            }
        }
    }
    let (mut order, mut counts) = (Vec::new(), HashMap::new());
    for line in input.lines() {
        visit(&serde_json::from_str(line).unwrap(), "", max_index, &mut order, &mut counts);
    }
    (order, counts)
}

#[test]
fn sample_users_agree_with_an_independent_walk_at_every_chunk_size() {
    let input =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/users.ndjson")).unwrap();
    let options = DiscoverOptions { max_example_chars: 10_000, ..DiscoverOptions::default() };
    let (order, counts) = oracle(&input, options.max_index as usize);
    assert!(order.len() > 20, "the sample holds many paths");
    for chunk in [1, 7, 4096, usize::MAX] {
        let d = discover_with(input.as_bytes(), options.clone(), chunk);
        assert_eq!((d.users, d.complete, d.truncated), (1000, true, false));
        // Same paths, in the same order: containers after what they hold, keys in their order.
        assert_eq!(d.paths.iter().map(|p| p.path.clone()).collect::<Vec<_>>(), order, "chunk {chunk}");
        for p in &d.paths {
            let (present, filled, example) = &counts[&p.path];
            assert_eq!((p.present, p.filled), (*present, *filled), "{} at chunk {chunk}", p.path);
            if p.kinds == userexport::kind::STRING {
                assert_eq!(&p.example, example, "{}", p.path);
            }
        }
    }
}
