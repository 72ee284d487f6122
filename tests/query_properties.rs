//! Property tests of the user-search query: random users and random queries, checked against a plain evaluator.
//!
//! The generator builds a query as a tree, writes it out as text, and the crate parses that text.
//! The reference below evaluates the generator's own tree over `serde_json::Value`s with the
//! simplest code that states each rule (lower-casing, f64 numbers, ISO strings compared as
//! text, a backtracking glob); it shares nothing with the crate's evaluator.

mod common;

use common::request;
use proptest::prelude::*;
use serde_json::{json, Value};
use userexport::query::{Query, QueryValue, Scratch};
use userexport::{Cell, CellBatch, Exporter, Options};

const FOLDED: [&str; 2] = ["name", "email"];

#[derive(Debug, Clone)]
enum Clause {
    Exists(&'static str),
    Equals(&'static str, String),
    Phrase(&'static str, String),
    Pattern(&'static str, String),
    NumRange(&'static str, Option<i64>, bool, Option<i64>, bool),
    DateRange(&'static str, Option<String>, bool, Option<String>, bool),
}

#[derive(Debug, Clone)]
enum Q {
    Clause(Clause),
    Not(Box<Q>),
    And(Vec<Q>),
    Or(Vec<Q>),
}

// ---- users ----

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Ann"),
        Just("ann"),
        Just("ANNA"),
        Just("bob"),
        Just("Bobby"),
        Just("élan"),
        Just("ÉLAN"),
        Just("x y")
    ]
    .prop_map(String::from)
}

fn stamp() -> impl Strategy<Value = String> {
    (2016u32..2019, 1u32..13, 1u32..29, 0u32..24)
        .prop_map(|(y, m, d, h)| format!("{y}-{m:02}-{d:02}T{h:02}:30:00.000Z"))
}

fn maybe<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop_oneof![1 => Just(None), 4 => s.prop_map(Some)].boxed()
}

fn user() -> impl Strategy<Value = Value> {
    (
        maybe(word()),
        maybe((word(), prop_oneof![Just("example.com"), Just("EXAMPLE.com"), Just("other.org")])),
        maybe(prop_oneof![
            (-2i64..12).prop_map(|n| json!(n)),
            (-4i64..24).prop_map(|n| json!(n as f64 / 2.0))
        ]),
        maybe(stamp()),
        maybe(prop_oneof![Just(json!("gold")), Just(json!("Gold")), Just(json!(null)), Just(json!(5))]),
        proptest::collection::vec(prop_oneof![Just("github"), Just("google-oauth2"), Just("db")], 0..3),
        maybe(proptest::collection::vec(word(), 0..3)),
        maybe(prop_oneof![Just(json!(true)), Just(json!(false)), Just(json!(null))]),
    )
        .prop_map(|(name, email, logins, last_login, plan, conns, tags, verified)| {
            let mut u = serde_json::Map::new();
            u.insert("user_id".into(), json!("auth0|1"));
            if let Some(n) = name {
                u.insert("name".into(), json!(n));
            }
            if let Some((local, domain)) = email {
                u.insert("email".into(), json!(format!("{}@{domain}", local.replace(' ', "."))));
            }
            if let Some(l) = logins {
                u.insert("logins_count".into(), l);
            }
            if let Some(t) = last_login {
                u.insert("last_login".into(), json!(t));
            }
            if let Some(p) = plan {
                u.insert("app_metadata".into(), json!({ "plan": p }));
            }
            u.insert(
                "identities".into(),
                Value::Array(conns.iter().map(|c| json!({ "connection": c })).collect()),
            );
            if let Some(t) = tags {
                u.insert("user_metadata".into(), json!({ "tags": t }));
            }
            if let Some(v) = verified {
                u.insert("email_verified".into(), v);
            }
            Value::Object(u)
        })
}

// ---- queries ----

fn clause() -> impl Strategy<Value = Clause> {
    let text_field =
        prop_oneof![Just("name"), Just("email"), Just("app_metadata.plan"), Just("identities.connection")];
    let any_field = prop_oneof![
        Just("name"),
        Just("email"),
        Just("email.domain"),
        Just("logins_count"),
        Just("last_login"),
        Just("app_metadata.plan"),
        Just("identities.connection"),
        Just("user_metadata.tags"),
        Just("email_verified"),
    ];
    let value_text = prop_oneof![
        word(),
        Just("gold".to_string()),
        Just("github".to_string()),
        Just("example.com".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        (-2i64..12).prop_map(|n| n.to_string()),
        Just("12.5".to_string()),
    ];
    let pattern = prop_oneof![
        Just("an*"),
        Just("AN*"),
        Just("*ann*"),
        Just("*lan"),
        Just("b*y"),
        Just("*@example.com"),
        Just("go*"),
        Just("*hub"),
        Just("*ogle*"),
    ];
    let date = prop_oneof![
        (2016u32..2020).prop_map(|y| y.to_string()),
        (2016u32..2019, 1u32..13).prop_map(|(y, m)| format!("{y}-{m:02}")),
        (2016u32..2019, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
    ];
    prop_oneof![
        any_field.clone().prop_map(Clause::Exists),
        (any_field.clone(), value_text.clone()).prop_filter_map("a bare word has no space", |(f, v)| {
            (!v.contains(' ')).then_some(Clause::Equals(f, v))
        }),
        (any_field, value_text).prop_map(|(f, v)| Clause::Phrase(f, v)),
        (text_field, pattern).prop_map(|(f, p)| Clause::Pattern(f, p.to_string())),
        (maybe(-2i64..12), any::<bool>(), maybe(-2i64..12), any::<bool>())
            .prop_map(|(lo, li, hi, hin)| Clause::NumRange("logins_count", lo, li, hi, hin)),
        (maybe(date.clone()), any::<bool>(), maybe(date), any::<bool>())
            .prop_map(|(lo, li, hi, hin)| Clause::DateRange("last_login", lo, li, hi, hin)),
    ]
}

fn query() -> impl Strategy<Value = Q> {
    clause().prop_map(Q::Clause).prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|q| Q::Not(Box::new(q))),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Q::And),
            proptest::collection::vec(inner, 2..4).prop_map(Q::Or),
        ]
    })
}

fn render(q: &Q) -> String {
    let bound = |b: Option<String>| b.unwrap_or_else(|| "*".to_string());
    match q {
        Q::Clause(c) => match c {
            Clause::Exists(f) => format!("_exists_:{f}"),
            Clause::Equals(f, v) => format!("{f}:{v}"),
            Clause::Phrase(f, v) => format!("{f}:{}", serde_json::to_string(v).unwrap()),
            Clause::Pattern(f, p) => format!("{f}:{p}"),
            Clause::NumRange(f, lo, li, hi, hin) => format!(
                "{f}:{}{} TO {}{}",
                if *li { '[' } else { '{' },
                bound(lo.map(|n| n.to_string())),
                bound(hi.map(|n| n.to_string())),
                if *hin { ']' } else { '}' }
            ),
            Clause::DateRange(f, lo, li, hi, hin) => format!(
                "{f}:{}{} TO {}{}",
                if *li { '[' } else { '{' },
                bound(lo.clone()),
                bound(hi.clone()),
                if *hin { ']' } else { '}' }
            ),
        },
        Q::Not(q) => format!("NOT ({})", render(q)),
        Q::And(qs) => qs.iter().map(|q| format!("({})", render(q))).collect::<Vec<_>>().join(" AND "),
        Q::Or(qs) => qs.iter().map(|q| format!("({})", render(q))).collect::<Vec<_>>().join(" OR "),
    }
}

// ---- the reference ----

/// Every value at `path` (dotted), arrays flattened at any level; nulls dropped.
fn values_at<'a>(v: &'a Value, keys: &[&str], out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| values_at(i, keys, out)),
        Value::Null => {}
        _ => match keys.split_first() {
            None => out.push(v),
            Some((k, rest)) => {
                if let Some(c) = v.get(k) {
                    values_at(c, rest, out)
                }
            }
        },
    }
}

fn glob(p: &[char], s: &[char]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some(('*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

fn reference(q: &Q, user: &Value) -> bool {
    match q {
        Q::Not(q) => !reference(q, user),
        Q::And(qs) => qs.iter().all(|q| reference(q, user)),
        Q::Or(qs) => qs.iter().any(|q| reference(q, user)),
        Q::Clause(c) => {
            let field = match c {
                Clause::Exists(f)
                | Clause::Equals(f, _)
                | Clause::Phrase(f, _)
                | Clause::Pattern(f, _)
                | Clause::NumRange(f, ..)
                | Clause::DateRange(f, ..) => *f,
            };
            let mut found = Vec::new();
            let domain = field == "email.domain";
            let path: Vec<&str> = if domain { vec!["email"] } else { field.split('.').collect() };
            values_at(user, &path, &mut found);
            let fold = domain || FOLDED.contains(&field);
            let text = |v: &Value| -> Option<String> {
                let s = v.as_str()?;
                let s = if domain { s.rsplit_once('@')?.1 } else { s };
                Some(if fold { s.to_lowercase() } else { s.to_string() })
            };
            let norm = |t: &str| if fold { t.to_lowercase() } else { t.to_string() };
            found.iter().any(|v| match c {
                Clause::Exists(_) => !domain || text(v).is_some(),
                Clause::Equals(_, t) | Clause::Phrase(_, t) => {
                    if field == "last_login"
                        && [4, 7, 10].contains(&t.len())
                        && t.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                    {
                        // A date names a span: the stamp starts with it.
                        return v.as_str().is_some_and(|s| s.starts_with(t.as_str()));
                    }
                    match v {
                        Value::String(_) => text(v) == Some(norm(t)),
                        Value::Number(n) => t.parse::<f64>().is_ok_and(|x| n.as_f64() == Some(x)),
                        Value::Bool(b) => t == if *b { "true" } else { "false" },
                        _ => false,
                    }
                }
                Clause::Pattern(_, p) => text(v).is_some_and(|s| {
                    glob(&norm(p).chars().collect::<Vec<_>>(), &s.chars().collect::<Vec<_>>())
                }),
                Clause::NumRange(_, lo, li, hi, hin) => v.as_f64().is_some_and(|x| {
                    lo.is_none_or(|l| if *li { x >= l as f64 } else { x > l as f64 })
                        && hi.is_none_or(|h| if *hin { x <= h as f64 } else { x < h as f64 })
                }),
                Clause::DateRange(_, lo, li, hi, hin) => v.as_str().is_some_and(|s| {
                    // Stamps and bounds share one ISO layout: cut the stamp to the bound's
                    // length and compare text.
                    let cut = |b: &str| s[..b.len()].to_string();
                    lo.as_ref().is_none_or(|l| if *li { cut(l) >= *l } else { cut(l) > *l })
                        && hi.as_ref().is_none_or(|h| if *hin { cut(h) <= *h } else { cut(h) < *h })
                }),
            })
        }
    }
}

// ---- the crate, through the query module's own interface ----

fn feed(
    q: &Query,
    path: usize,
    keys: &[String],
    v: &Value,
    hits: &mut userexport::query::Hits,
    s: &mut Scratch,
) {
    match (keys.split_first(), v) {
        (_, Value::Array(items)) => items.iter().for_each(|i| feed(q, path, keys, i, hits, s)),
        (Some((k, rest)), Value::Object(m)) => {
            if let Some(child) = m.get(k) {
                feed(q, path, rest, child, hits, s)
            }
        }
        (Some(_), _) => {}
        (None, v) => {
            let text = serde_json::to_string(v).unwrap();
            let value = match v {
                Value::Null => QueryValue::Null,
                Value::Bool(b) => QueryValue::Bool(*b),
                Value::Number(_) => QueryValue::Num(text.as_bytes()),
                Value::String(_) => {
                    let raw = &text.as_bytes()[1..text.len() - 1];
                    QueryValue::Str { raw, escaped: raw.contains(&b'\\') }
                }
                Value::Object(m) => QueryValue::Object { empty: m.is_empty() },
                Value::Array(_) => unreachable!(),
            };
            q.observe(path, value, hits, s);
        }
    }
}

/// What a host reading objects itself (the wasm door) sends for one query path: every value
/// the keys reach, through arrays, as one JSON array cell (absent when none).
fn host_cell(user: &Value, keys: &[String], batch: &mut CellBatch) {
    fn reach<'a>(v: &'a Value, keys: &[String], out: &mut Vec<&'a Value>) {
        match (v, keys.split_first()) {
            (Value::Array(items), _) => items.iter().for_each(|i| reach(i, keys, out)),
            (_, None) => out.push(v),
            (Value::Object(m), Some((k, rest))) => {
                if let Some(c) = m.get(k) {
                    reach(c, rest, out)
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    reach(user, keys, &mut found);
    let text = if found.is_empty() { String::new() } else { serde_json::to_string(&found).unwrap() };
    batch.tags.push(if found.is_empty() { Cell::Absent } else { Cell::Json } as u8);
    batch.lens.push(text.len() as u32);
    batch.text.extend_from_slice(text.as_bytes());
}

/// The `user_id`s a real export with `query` writes, from NDJSON bytes, JSON text, parsed
/// values and a host's cells (which must agree byte for byte).
fn exported_ids(q: &Query, users: &[Value]) -> Vec<String> {
    let body = r#"{"format":"json","fields":[{"name":"user_id"}]}"#;
    let options = || Options { query: Some(q.clone()), ..Options::default() };
    let mut outputs = Vec::new();
    for form in 0..4 {
        let mut ex = Exporter::new(request(body), options());
        match form {
            3 => {
                let mut batch = CellBatch { width: ex.cell_width(), ..CellBatch::default() };
                for u in users {
                    let id = u["user_id"].as_str().unwrap();
                    batch.tags.push(Cell::Text as u8);
                    batch.lens.push(id.len() as u32);
                    batch.text.extend_from_slice(id.as_bytes());
                    for p in q.paths() {
                        host_cell(u, p.keys(), &mut batch);
                    }
                }
                ex.push_cells(batch, 0).unwrap();
            }
            0 => {
                let text: String = users.iter().map(|u| format!("{u}\n")).collect();
                ex.push_ndjson(text.as_bytes()).unwrap();
            }
            1 => ex.push_json(Value::Array(users.to_vec()).to_string().as_bytes()).unwrap(),
            _ => users.iter().for_each(|u| ex.push_value(u).unwrap()),
        }
        ex.finish().unwrap();
        let out = String::from_utf8(ex.pull_to_end().unwrap()).unwrap();
        let stats = ex.stats();
        assert_eq!(out.lines().count() as u64, stats.users_matched, "usersMatched counts the written users");
        assert_eq!(
            stats.users_matched + stats.users_filtered,
            users.len() as u64,
            "every user is counted once"
        );
        outputs.push(out);
    }
    assert_eq!(outputs[0], outputs[1], "NDJSON and JSON text agree");
    assert_eq!(outputs[0], outputs[2], "NDJSON and parsed values agree");
    assert_eq!(outputs[0], outputs[3], "NDJSON and a host's cells agree");
    outputs[0]
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["user_id"].as_str().unwrap().to_string())
        .collect()
}

fn crate_matches(q: &Query, user: &Value) -> bool {
    let mut hits = q.new_hits();
    let mut scratch = Scratch::default();
    for (i, p) in q.paths().iter().enumerate() {
        feed(q, i, p.keys(), user, &mut hits, &mut scratch);
    }
    q.eval(&hits)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn query_terms_agree_with_the_reference(q in query(), users in proptest::collection::vec(user(), 1..8)) {
        let text = render(&q);
        let compiled = Query::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        for u in &users {
            prop_assert_eq!(crate_matches(&compiled, u), reference(&q, u), "query {} on {}", text, u);
        }
    }

    /// The streaming route: the scanner reports values at the query's paths during its one
    /// walk of each record; the users written are those the reference keeps.
    #[test]
    fn streaming_export_keeps_what_the_reference_keeps(q in query(), users in proptest::collection::vec(user(), 1..8)) {
        let users: Vec<Value> = users
            .into_iter()
            .enumerate()
            .map(|(i, mut u)| {
                u["user_id"] = json!(format!("u{i}"));
                u
            })
            .collect();
        let text = render(&q);
        let compiled = Query::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let want: Vec<String> = users
            .iter()
            .filter(|u| reference(&q, u))
            .map(|u| u["user_id"].as_str().unwrap().to_string())
            .collect();
        prop_assert_eq!(exported_ids(&compiled, &users), want, "query {}", text);
    }
}
