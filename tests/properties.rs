//! Property tests: random users, written in random JSON spellings, read back by real parsers.
//!
//! CSV goes through the `csv` crate: every string cell must read back as `'` + the string and
//! every row must have the header's width. NDJSON goes through serde_json and must equal the
//! values selected, with number texts unchanged.

mod common;
use common::*;
use proptest::prelude::*;
use serde_json::Value as J;

/// A JSON value together with the number texts it was written with.
#[derive(Debug, Clone)]
enum V {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<V>),
    Obj(Vec<(String, V)>),
}

fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 ]{0,12}",
        "[=+@\\-\t\r\n\",;' ]{0,6}[a-z]{0,4}",
        any::<String>().prop_map(|s| s.chars().take(16).collect()),
        proptest::collection::vec(
            prop_oneof![
                Just('\u{0}'),
                Just('\u{1f}'),
                Just('\u{7f}'),
                Just('\u{2028}'),
                Just('😀'),
                Just('"'),
                Just('\\'),
                Just('中')
            ],
            0..6
        )
        .prop_map(|v| v.into_iter().collect()),
    ]
}

fn number() -> impl Strategy<Value = String> {
    "-?(0|[1-9][0-9]{0,22})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,2})?"
}

fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        Just(V::Null),
        any::<bool>().prop_map(V::Bool),
        number().prop_map(V::Num),
        any_string().prop_map(V::Str),
    ];
    leaf.prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(V::Arr),
            proptest::collection::btree_map("[a-z]{1,3}", inner, 0..5)
                .prop_map(|m| V::Obj(m.into_iter().collect())),
        ]
    })
}

/// How [`write`] spells JSON text: `Random` is the input side (random whitespace, random escapes,
/// driven by a seed); `Canonical` is what `JSON.stringify` writes, the expected output.
enum Spelling {
    Random(u64),
    Canonical,
}

impl Spelling {
    /// A pseudo-random draw, true one time in `n` (always false when canonical).
    fn one_in(&mut self, n: u64) -> bool {
        match self {
            Spelling::Random(rng) => {
                *rng ^= *rng << 13;
                *rng ^= *rng >> 7;
                *rng ^= *rng << 17;
                *rng % n == 0
            }
            Spelling::Canonical => false,
        }
    }
}

fn write(v: &V, out: &mut String, sp: &mut Spelling) {
    if sp.one_in(4) {
        out.push(' ');
    }
    match v {
        V::Null => out.push_str("null"),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Num(n) => out.push_str(n),
        V::Str(s) => write_str(s, out, sp),
        V::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out, sp);
            }
            out.push(']');
        }
        V::Obj(members) => {
            out.push('{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out, sp);
                if sp.one_in(2) {
                    out.push(' ');
                }
                out.push(':');
                write(item, out, sp);
            }
            out.push('}');
        }
    }
}

fn write_str(s: &str, out: &mut String, sp: &mut Spelling) {
    if let Spelling::Canonical = sp {
        // serde_json escapes as JSON.stringify does: short forms, lower-case \u00xx, the rest raw.
        out.push_str(&serde_json::to_string(s).unwrap());
        return;
    }
    out.push('"');
    for c in s.chars() {
        let escape_anyway = sp.one_in(16);
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if escape_anyway => out.push_str("\\/"),
            c if (c as u32) < 0x20 || escape_anyway => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The expected output text of `v`.
fn canonical(v: &V) -> String {
    let mut s = String::new();
    write(v, &mut s, &mut Spelling::Canonical);
    s
}

const PATHS: [&str; 5] = ["s", "n", "o", "a[1]", "m.k"];

fn user() -> impl Strategy<Value = Vec<(String, V)>> {
    (
        any_string(),
        number(),
        value(),
        proptest::collection::vec(value(), 0..3),
        value(),
        any_string(),
        proptest::collection::vec(any::<bool>(), 6),
    )
        .prop_map(|(s, n, o, a, mk, id, present)| {
            let mut members = vec![("user_id".to_string(), V::Str(id))];
            let candidates = [
                ("s", V::Str(s)),
                ("n", V::Num(n)),
                ("o", o),
                ("a", V::Arr(a)),
                ("m", V::Obj(vec![("k".to_string(), mk)])),
                ("x", V::Str("unselected".into())),
            ];
            for ((k, v), keep) in candidates.into_iter().zip(present) {
                if keep {
                    members.push((k.to_string(), v));
                }
            }
            members
        })
}

/// The selected value for `path` in a user, if present.
fn select<'a>(user: &'a [(String, V)], path: &str) -> Option<&'a V> {
    let get = |members: &'a [(String, V)], k: &str| members.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    match path {
        "a[1]" => match get(user, "a")? {
            V::Arr(items) => items.get(1),
            _ => None,
        },
        "m.k" => match get(user, "m")? {
            V::Obj(m) => get(m, "k"),
            _ => None,
        },
        p => get(user, p),
    }
}

fn fields(format: &str) -> String {
    let f: Vec<String> = PATHS.iter().map(|p| format!(r#"{{"name":"{p}"}}"#)).collect();
    format!(r#"{{"format":"{format}","fields":[{{"name":"user_id"}},{}]}}"#, f.join(","))
}

/// The users as NDJSON in random spellings; with `crlf`, each line ends in LF or CRLF at random.
fn ndjson_input(users: &[Vec<(String, V)>], seed: u64, crlf: bool) -> String {
    let mut input = String::new();
    let mut sp = Spelling::Random(seed | 1);
    for u in users {
        write(&V::Obj(u.clone()), &mut input, &mut sp);
        input.push_str(if crlf && sp.one_in(2) { "\r\n" } else { "\n" });
    }
    input
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn csv_reads_back_with_the_csv_crate(users in proptest::collection::vec(user(), 1..6), seed in any::<u64>()) {
        let out = ndjson(&fields("csv"), &ndjson_input(&users, seed, true)).unwrap();
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(out.as_bytes());
        let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
        prop_assert_eq!(rows.len(), users.len() + 1);
        for (row, u) in rows[1..].iter().zip(&users) {
            prop_assert_eq!(row.len(), PATHS.len() + 1);
            for (cell, path) in row.iter().zip(std::iter::once("user_id").chain(PATHS)) {
                let want = match select(u, path) {
                    None | Some(V::Null) => String::new(),
                    Some(V::Str(s)) => format!("'{s}"),
                    Some(V::Num(n)) => n.clone(),
                    Some(V::Bool(b)) => b.to_string(),
                    Some(v) => format!("'{}", canonical(v)),
                };
                prop_assert_eq!(cell, want.as_str());
                let starts_dangerous = cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n', '\0']);
                let is_number = matches!(select(u, path), Some(V::Num(_)));
                prop_assert!(!starts_dangerous || is_number, "cell {:?} starts with a formula character", cell);
            }
        }
    }

    #[test]
    fn ndjson_lines_parse_back_to_the_selected_values(users in proptest::collection::vec(user(), 1..6), seed in any::<u64>()) {
        let out = ndjson(&fields("json"), &ndjson_input(&users, seed, false)).unwrap();
        let lines: Vec<&str> = out.split_terminator('\n').collect();
        prop_assert_eq!(lines.len(), users.len());
        for (line, u) in lines.iter().zip(&users) {
            let mut want = String::from("{");
            for path in std::iter::once("user_id").chain(PATHS) {
                if let Some(v) = select(u, path) {
                    if want.len() > 1 {
                        want.push(',');
                    }
                    want.push_str(&format!("\"{path}\":{}", canonical(v)));
                }
            }
            want.push('}');
            // Exact bytes: JSON.stringify's spelling, number texts untouched…
            prop_assert_eq!(*line, want.as_str());
            // …and a real parser agrees on the values.
            let got: J = serde_json::from_str(line).unwrap();
            let expected: J = serde_json::from_str(&want).unwrap();
            prop_assert_eq!(got, expected);
        }
    }
}
