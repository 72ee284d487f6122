//! Unit tests of the query module: every example of Auth0's query-syntax and user-search pages, and the errors.
//!
//! The values are fed by a small walker over `serde_json::Value` that reports what a streaming
//! walk would (arrays transparent); the streaming scanner itself is tested in `tests/query.rs`.

use serde_json::{json, Value};

use super::{Query, QueryValue, Scratch};

fn feed(q: &Query, path: usize, keys: &[String], v: &Value, hits: &mut super::Hits, scratch: &mut Scratch) {
    match (keys.split_first(), v) {
        (_, Value::Array(items)) => items.iter().for_each(|i| feed(q, path, keys, i, hits, scratch)),
        (Some((k, rest)), Value::Object(m)) => {
            if let Some(child) = m.get(k) {
                feed(q, path, rest, child, hits, scratch)
            }
        }
        (Some(_), _) => {}
        (None, v) => {
            let text = serde_json::to_string(v).expect("serializes");
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
            q.observe(path, value, hits, scratch);
        }
    }
}

fn matches(query: &str, user: &Value) -> bool {
    let q = Query::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut hits = q.new_hits();
    let mut scratch = Scratch::default();
    for (i, p) in q.paths().iter().enumerate() {
        feed(&q, i, p.keys(), user, &mut hits, &mut scratch);
    }
    q.eval(&hits)
}

/// (query, users that match, users that do not).
fn check(query: &str, yes: &[Value], no: &[Value]) {
    for u in yes {
        assert!(matches(query, u), "{query} should match {u}");
    }
    for u in no {
        assert!(!matches(query, u), "{query} should not match {u}");
    }
}

#[test]
fn auth0_sample_queries() {
    check(
        "name:*john*",
        &[json!({"name":"Big John Doe"}), json!({"name":"john"})],
        &[json!({"name":"jon"}), json!({})],
    );
    check("name:\"jane\"", &[json!({"name":"jane"}), json!({"name":"Jane"})], &[json!({"name":"jane doe"})]);
    check(
        "name:john*",
        &[json!({"name":"johnny"}), json!({"name":"John Smith"})],
        &[json!({"name":"ajohn"})],
    );
    check(
        "name:jane*smith",
        &[json!({"name":"Jane Smith"}), json!({"name":"janesmith"})],
        &[json!({"name":"jane smithe"})],
    );
    check(
        "email:\"john@exampleco.com\"",
        &[json!({"email":"john@exampleco.com"}), json!({"email":"John@ExampleCo.com"})],
        &[json!({"email":"john@exampleco.co"})],
    );
    check(
        "email:(\"john@exampleco.com\" OR \"jane@exampleco.com\")",
        &[json!({"email":"john@exampleco.com"}), json!({"email":"jane@exampleco.com"})],
        &[json!({"email":"bob@exampleco.com"})],
    );
    check(
        "email_verified:false OR NOT _exists_:email_verified",
        &[json!({"email_verified":false}), json!({}), json!({"email_verified":null})],
        &[json!({"email_verified":true})],
    );
    check(
        "user_metadata.full_name:\"John Smith\"",
        &[json!({"user_metadata":{"full_name":"John Smith"}})],
        &[json!({"user_metadata":{"full_name":"john smith"}}), json!({"full_name":"John Smith"})],
    );
    check(
        "identities.connection:\"google-oauth2\"",
        &[
            json!({"identities":[{"connection":"google-oauth2"}]}),
            json!({"identities":[{"connection":"db"},{"connection":"google-oauth2"}]}),
        ],
        &[json!({"identities":[{"connection":"Google-OAuth2"}]}), json!({"identities":[]})],
    );
    check(
        "(NOT _exists_:logins_count OR logins_count:0)",
        &[json!({}), json!({"logins_count":0}), json!({"logins_count":0.0})],
        &[json!({"logins_count":1})],
    );
    check(
        "last_login:[* TO 2017-12-31]",
        &[json!({"last_login":"2017-12-31T23:59:59.999Z"}), json!({"last_login":"1999-01-01T00:00:00.000Z"})],
        &[json!({"last_login":"2018-01-01T00:00:00.000Z"}), json!({})],
    );
    for q in ["last_login:{2017-11 TO 2017-12]", "last_login:[2017-12-01 TO 2017-12-31]"] {
        check(
            q,
            &[
                json!({"last_login":"2017-12-01T00:00:00.000Z"}),
                json!({"last_login":"2017-12-31T23:59:59.999Z"}),
            ],
            &[
                json!({"last_login":"2017-11-30T23:59:59.999Z"}),
                json!({"last_login":"2018-01-01T00:00:00.000Z"}),
            ],
        );
    }
    check(
        "logins_count:[100 TO 200]",
        &[json!({"logins_count":100}), json!({"logins_count":200}), json!({"logins_count":150})],
        &[json!({"logins_count":99}), json!({"logins_count":201}), json!({"logins_count":"150"})],
    );
    check(
        "logins_count:[100 TO *]",
        &[json!({"logins_count":100}), json!({"logins_count":1e9})],
        &[json!({"logins_count":99})],
    );
    check(
        "logins_count:{100 TO 200}",
        &[json!({"logins_count":101}), json!({"logins_count":199})],
        &[json!({"logins_count":100}), json!({"logins_count":200})],
    );
    check(
        "email.domain:\"exampleco.com\"",
        &[json!({"email":"jane@exampleco.com"}), json!({"email":"Jane@EXAMPLECO.com"})],
        &[json!({"email":"jane@exampleco.co"}), json!({"email":"exampleco.com"})],
    );
}

#[test]
fn auth0_syntax_page_examples() {
    check(
        "name:\"jane smith\"",
        &[json!({"name":"Jane Smith"})],
        &[json!({"name":"jane"}), json!({"name":"smith jane"})],
    );
    check("logins_count:[100 TO 200}", &[json!({"logins_count":100})], &[json!({"logins_count":200})]);
    check("logins_count:{100 TO *]", &[json!({"logins_count":101})], &[json!({"logins_count":100})]);
    check(
        "app_metadata.subscription.plan:\"gold\"",
        &[json!({"app_metadata":{"subscription":{"plan":"gold"}}})],
        &[json!({"app_metadata":{"subscription":{"plan":"Gold"}}}), json!({"app_metadata":{"plan":"gold"}})],
    );
    check(
        "user_metadata.addresses.city:\"Paris\"",
        &[
            json!({"user_metadata":{"addresses":[{"city":"Lyon"},{"city":"Paris"}]}}),
            json!({"user_metadata":{"addresses":{"city":["Paris","Seattle"]}}}),
        ],
        &[json!({"user_metadata":{"addresses":[{"city":"paris"}]}})],
    );
    // The suffix rule: *usa is fine, *sa is refused.
    check("name:*usa", &[json!({"name":"Jusa"})], &[json!({"name":"usab"})]);
    assert!(Query::parse("name:*sa").is_err());
    // Nested objects and existence (Auth0's support article on metadata search).
    check(
        "_exists_:user_metadata.preferences.fontSize AND user_metadata.preferences.fontSize:13",
        &[json!({"user_metadata":{"preferences":{"fontSize":13}}})],
        &[json!({"user_metadata":{"preferences":{"fontSize":14}}}), json!({"user_metadata":{}})],
    );
    check(
        "created_at:2016",
        &[json!({"created_at":"2016-06-01T10:00:00.000Z"})],
        &[json!({"created_at":"2017-01-01T00:00:00.000Z"})],
    );
}

#[test]
fn decided_rules() {
    // Metadata is case-sensitive, normalized fields are not; numbers compare by value.
    check(
        "app_metadata.plan:gold",
        &[json!({"app_metadata":{"plan":"gold"}})],
        &[json!({"app_metadata":{"plan":"GOLD"}})],
    );
    check("nickname:ÉLODIE", &[json!({"nickname":"élodie"})], &[]);
    check("logins_count:1e2", &[json!({"logins_count":100})], &[]);
    check("blocked:true", &[json!({"blocked":true})], &[json!({"blocked":"yes"}), json!({"blocked":false})]);
    // A bare term looks in the default fields, never in metadata.
    check(
        "jane",
        &[json!({"name":"Jane"}), json!({"username":"jane"})],
        &[json!({"user_metadata":{"name":"jane"}})],
    );
    // Side by side means OR; AND binds tighter than OR; NOT tightest.
    check("name:a name:b", &[json!({"name":"a"}), json!({"name":"b"})], &[json!({"name":"c"})]);
    check(
        "name:a OR name:b AND nickname:c",
        &[json!({"name":"a"}), json!({"name":"b","nickname":"c"})],
        &[json!({"name":"b"})],
    );
    check("NOT name:a AND NOT name:b", &[json!({"name":"c"}), json!({})], &[json!({"name":"a"})]);
    // Escapes: a JSON escape in the value, a query escape in the term.
    check("user_id:auth0\\|123", &[json!({"user_id":"auth0|123"}), json!({"user_id":"auth0\u{7c}123"})], &[]);
    check("name:a\\*b", &[json!({"name":"a*b"})], &[json!({"name":"axb"})]);
    check("name:\"tab\\\"quote\"", &[json!({"name":"tab\"quote"})], &[]);
    // null and {} do not exist; a non-empty object does.
    check(
        "_exists_:app_metadata",
        &[json!({"app_metadata":{"a":1}})],
        &[json!({"app_metadata":{}}), json!({"app_metadata":null})],
    );
    check(
        "_exists_:identities.connection",
        &[json!({"identities":[{"connection":"x"}]})],
        &[json!({"identities":[]})],
    );
    // Text ranges compare bytes.
    check("user_id:[auth0|a TO auth0|c]", &[json!({"user_id":"auth0|b"})], &[json!({"user_id":"auth0|d"})]);
}

#[test]
fn refused_queries_say_where_and_what() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "expected a query"),
        ("logins_count:[100 200]", 19, "expected TO in a range"),
        ("logins_count:[100 TO 200", 25, "expected ] or } to close the range"),
        ("name:", 6, "expected a value after 'name:'"),
        ("(name:a", 8, "expected ')' to close the '(' at position 1"),
        ("name:a)", 7, "no '(' opens it"),
        ("name:a AND", 11, "expected a clause after AND"),
        ("NOT", 4, "expected a clause after NOT"),
        ("name:*jo", 6, "at least 3 characters besides *"),
        ("user_metadata.city:Par*", 20, "no wildcards on user_metadata"),
        ("user_metadata.age:[1 TO 5]", 19, "no ranges on user_metadata"),
        ("name:jo?n", 8, "does not support ?"),
        ("\"open", 1, "expected \" to close the phrase"),
        ("app_metadata..plan:x", 1, "no empty key"),
        ("last_login:[2017 TO soon]", 21, "expected a date"),
        ("logins_count:[1 TO x]", 20, "expected both bounds to be numbers"),
        ("[1 TO 2]", 1, "expected a field name before a range"),
        ("_exists_:", 10, "expected a field name after _exists_:"),
        ("name:*", 6, "_exists_:name"),
        ("name:a OR", 10, "expected a clause after OR"),
        (":x", 1, "expected a field name before ':'"),
        ("identities[0].connection:github", 11, "query paths have no [n]"),
        ("logins_count:[1 TO 5] AND x[1 TO 2]", 28, "query paths have no [n]"),
    ];
    for &(q, at, want) in cases {
        let e = Query::parse(q).expect_err(q);
        assert_eq!(e.position, at, "{q}: {e}");
        assert!(e.expected.contains(want), "{q}: {e}");
        assert!(e.to_string().starts_with(&format!("query: position {at}: ")), "{e}");
    }
    let deep = format!("{}name:a{}", "(".repeat(40), ")".repeat(40));
    assert!(Query::parse(&deep).expect_err("deep").expected.contains("nested parentheses"));
}
