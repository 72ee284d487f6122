//! The `query` option through the whole exporter: Auth0's examples on streamed users, errors, counts, and agreement across inputs.

mod common;

use common::{request, U1};
use serde_json::{json, Value};
use userexport::{Error, ErrorCode, Exporter, Options, Query};

const IDS: &str = r#"{"format":"json","fields":[{"name":"user_id"}]}"#;

fn options(query: &str) -> Options {
    Options {
        query: Some(Query::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"))),
        ..Options::default()
    }
}

/// The user_ids an NDJSON export with `query` writes, pushing the input one byte at a time
/// (so every value is cut at every point) and whole; both must agree.
fn ids(query: &str, users: &[Value]) -> Vec<String> {
    let text: String = users.iter().map(|u| format!("{u}\n")).collect();
    let mut whole = Exporter::new(request(IDS), options(query));
    whole.push_ndjson(text.as_bytes()).unwrap();
    whole.finish().unwrap();
    let out = whole.pull_to_end().unwrap();
    let mut bytewise = Exporter::new(request(IDS), options(query));
    for b in text.as_bytes() {
        bytewise.push_ndjson(std::slice::from_ref(b)).unwrap();
    }
    bytewise.finish().unwrap();
    assert_eq!(bytewise.pull_to_end().unwrap(), out, "{query}: split input");
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["user_id"].as_str().unwrap().to_string())
        .collect()
}

/// Gives each user the user_id `u<index>`.
fn numbered(users: Vec<Value>) -> Vec<Value> {
    users
        .into_iter()
        .enumerate()
        .map(|(i, mut u)| {
            u["user_id"] = json!(format!("u{i}"));
            u
        })
        .collect()
}

/// (query, users, indexes of the users it keeps): every example of Auth0's pages.
#[test]
fn auth0_examples_filter_a_streamed_export() {
    let cases: Vec<(&str, Vec<Value>, Vec<usize>)> = vec![
        ("name:*john*", vec![json!({"name":"Big John"}), json!({"name":"jon"}), json!({})], vec![0]),
        ("name:\"jane\"", vec![json!({"name":"Jane"}), json!({"name":"jane doe"})], vec![0]),
        ("name:john*", vec![json!({"name":"Johnny"}), json!({"name":"a john"})], vec![0]),
        ("name:jane*smith", vec![json!({"name":"Jane Smith"}), json!({"name":"Jane Smithers"})], vec![0]),
        ("name:\"jane smith\"", vec![json!({"name":"jane smith"}), json!({"name":"jane"})], vec![0]),
        (
            "email:\"john@exampleco.com\"",
            vec![json!({"email":"JOHN@exampleco.com"}), json!({"email":"x@y"})],
            vec![0],
        ),
        (
            "email:(\"john@exampleco.com\" OR \"jane@exampleco.com\")",
            vec![
                json!({"email":"jane@exampleco.com"}),
                json!({"email":"bob@exampleco.com"}),
                json!({"email":"john@exampleco.com"}),
            ],
            vec![0, 2],
        ),
        (
            "email_verified:false OR NOT _exists_:email_verified",
            vec![
                json!({"email_verified":false}),
                json!({"email_verified":true}),
                json!({}),
                json!({"email_verified":null}),
            ],
            vec![0, 2, 3],
        ),
        (
            "user_metadata.full_name:\"John Smith\"",
            vec![
                json!({"user_metadata":{"full_name":"John Smith"}}),
                json!({"user_metadata":{"full_name":"john smith"}}),
            ],
            vec![0],
        ),
        (
            "identities.connection:\"google-oauth2\"",
            vec![
                json!({"identities":[{"connection":"db"},{"connection":"google-oauth2"}]}),
                json!({"identities":[{"connection":"db"}]}),
                json!({"identities":[]}),
            ],
            vec![0],
        ),
        (
            "(NOT _exists_:logins_count OR logins_count:0)",
            vec![json!({}), json!({"logins_count":0}), json!({"logins_count":3})],
            vec![0, 1],
        ),
        (
            "last_login:[* TO 2017-12-31]",
            vec![
                json!({"last_login":"2017-12-31T23:00:00.000Z"}),
                json!({"last_login":"2018-01-01T00:00:00.000Z"}),
            ],
            vec![0],
        ),
        (
            "last_login:{2017-11 TO 2017-12]",
            vec![
                json!({"last_login":"2017-11-30T23:59:59.999Z"}),
                json!({"last_login":"2017-12-01T00:00:00.000Z"}),
                json!({"last_login":"2017-12-31T23:59:59.999Z"}),
                json!({"last_login":"2018-01-01T00:00:00.000Z"}),
            ],
            vec![1, 2],
        ),
        (
            "last_login:[2017-12-01 TO 2017-12-31]",
            vec![
                json!({"last_login":"2017-11-30T12:00:00.000Z"}),
                json!({"last_login":"2017-12-31T12:00:00.000Z"}),
            ],
            vec![1],
        ),
        (
            "logins_count:[100 TO 200]",
            vec![json!({"logins_count":100}), json!({"logins_count":200}), json!({"logins_count":201})],
            vec![0, 1],
        ),
        (
            "logins_count:[100 TO *]",
            vec![json!({"logins_count":99}), json!({"logins_count":1000000})],
            vec![1],
        ),
        (
            "logins_count:{100 TO 200}",
            vec![json!({"logins_count":100}), json!({"logins_count":150}), json!({"logins_count":200})],
            vec![1],
        ),
        (
            "logins_count:[100 TO 200}",
            vec![json!({"logins_count":100}), json!({"logins_count":200})],
            vec![0],
        ),
        ("logins_count:{100 TO *]", vec![json!({"logins_count":100}), json!({"logins_count":101})], vec![1]),
        (
            "email.domain:\"exampleco.com\"",
            vec![json!({"email":"a@ExampleCo.com"}), json!({"email":"a@exampleco.co"})],
            vec![0],
        ),
        (
            "app_metadata.subscription.plan:\"gold\"",
            vec![
                json!({"app_metadata":{"subscription":{"plan":"gold"}}}),
                json!({"app_metadata":{"subscription":{"plan":"silver"}}}),
            ],
            vec![0],
        ),
        (
            "user_metadata.addresses.city:\"Paris\"",
            vec![
                json!({"user_metadata":{"addresses":[{"city":"Lyon"},{"city":"Paris"}]}}),
                json!({"user_metadata":{"addresses":{"city":["Seattle","Paris"]}}}),
                json!({"user_metadata":{"addresses":[[{"city":"Paris"}]]}}),
                json!({"user_metadata":{"addresses":[{"city":"Lyon"}]}}),
            ],
            vec![0, 1, 2],
        ),
        ("name:*usa", vec![json!({"name":"Jusa"}), json!({"name":"usa!"})], vec![0]),
        (
            "created_at:2016",
            vec![
                json!({"created_at":"2016-02-29T00:00:00.000Z"}),
                json!({"created_at":"2015-12-31T23:59:59.999Z"}),
            ],
            vec![0],
        ),
    ];
    for (query, users, keep) in cases {
        let users = numbered(users);
        let want: Vec<String> = keep.iter().map(|i| format!("u{i}")).collect();
        assert_eq!(ids(query, &users), want, "{query}");
    }
}

#[test]
fn a_bad_query_is_an_invalid_query_error_with_its_position() {
    let e: Error = Query::parse("logins_count:[100 200]").unwrap_err().into();
    assert_eq!(e.code(), ErrorCode::InvalidQuery);
    assert_eq!(e.code().as_str(), "invalid_query");
    assert_eq!(e.to_string(), "query: position 19: expected TO in a range");
    assert!(!e.code().is_record_error());
    assert_eq!(e.status_code(), Some(400));
    assert_eq!(
        e.auth0_envelope().unwrap(),
        r#"{"statusCode":400,"error":"Bad Request","message":"query: position 19: expected TO in a range","errorCode":"invalid_query_string"}"#
    );
}

/// Query paths share the trie with the fields: a field that reads `identities[0]` and a
/// query that reads every identity see their own values.
#[test]
fn query_paths_and_field_paths_share_one_walk() {
    let body = r#"{"format":"csv","fields":[{"name":"user_id"},{"name":"identities[0].connection"},{"name":"identities"}]}"#;
    let users = [
        json!({"user_id":"a","identities":[{"connection":"db"},{"connection":"github"}]}),
        json!({"user_id":"b","identities":[{"connection":"github"}]}),
        json!({"user_id":"c","identities":[{"connection":"db"}]}),
    ];
    let text: String = users.iter().map(|u| format!("{u}\n")).collect();
    let mut ex = Exporter::new(request(body), options("identities.connection:github"));
    ex.push_ndjson(text.as_bytes()).unwrap();
    ex.finish().unwrap();
    let out = String::from_utf8(ex.pull_to_end().unwrap()).unwrap();
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let rows: Vec<Vec<String>> =
        rdr.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(rows[0][..2], ["'a", "'db"]);
    assert_eq!(rows[1][..2], ["'b", "'github"]);
    assert_eq!(rows[0][2], r#"'[{"connection":"db"},{"connection":"github"}]"#);
}

#[test]
fn the_query_applies_after_the_connection_filter_and_counts() {
    let users = numbered(vec![
        json!({"identities":[{"connection":"db"}],"logins_count":5}),
        json!({"identities":[{"connection":"db"}],"logins_count":0}),
        json!({"identities":[{"connection":"github"}],"logins_count":5}),
        json!({"identities":[{"connection":"db"}],"logins_count":7}),
    ]);
    let text: String = users.iter().map(|u| format!("{u}\n")).collect();
    let opts = Options { connection: Some("db".into()), ..options("logins_count:[1 TO *]") };
    let mut ex = Exporter::new(request(IDS), opts);
    ex.push_ndjson(text.as_bytes()).unwrap();
    ex.finish().unwrap();
    let out = String::from_utf8(ex.pull_to_end().unwrap()).unwrap();
    assert_eq!(out, "{\"user_id\":\"u0\"}\n{\"user_id\":\"u3\"}\n");
    let s = ex.stats();
    assert_eq!((s.users_read, s.users_written, s.users_matched, s.users_filtered), (4, 2, 2, 2));
}

#[test]
fn limit_counts_matched_users_only() {
    let users = numbered((0..10).map(|i| json!({"logins_count": i})).collect());
    let text: String = users.iter().map(|u| format!("{u}\n")).collect();
    let body = r#"{"format":"json","limit":2,"fields":[{"name":"user_id"}]}"#;
    let mut ex = Exporter::new(request(body), options("logins_count:{4 TO *]"));
    ex.push_ndjson(text.as_bytes()).unwrap();
    ex.finish().unwrap();
    assert_eq!(ex.pull_to_end().unwrap(), b"{\"user_id\":\"u5\"}\n{\"user_id\":\"u6\"}\n");
    assert_eq!(ex.stats().users_matched, 2);
}

#[test]
fn without_a_query_every_user_matches() {
    let mut ex = Exporter::new(request(IDS), Options::default());
    ex.push_ndjson(format!("{U1}\n{U1}\n").as_bytes()).unwrap();
    ex.finish().unwrap();
    ex.pull_to_end().unwrap();
    assert_eq!(ex.stats().users_matched, 2);
    assert_eq!(ex.stats().users_filtered, 0);
}

/// Values with escapes, numbers in every spelling, pretty-printed JSON text and Management API
/// pages go through the same walk.
#[test]
fn escapes_numbers_and_page_input() {
    let ndjson = concat!(
        "{\"user_id\":\"a\",\"name\":\"J\\u00f6rg\",\"logins_count\":1.5e2}\n",
        "{\"user_id\":\"b\",\"name\":\"j\\u00d6RG\",\"logins_count\":150.0}\n",
        "{\"user_id\":\"c\",\"name\":\"Jorg\",\"logins_count\":149.99}\n",
    );
    for query in ["name:jörg AND logins_count:150", "name:JÖRG logins_count:[150 TO 150]"] {
        let mut ex = Exporter::new(request(IDS), options(query));
        ex.push_ndjson(ndjson.as_bytes()).unwrap();
        ex.finish().unwrap();
        let out = ex.pull_to_end().unwrap();
        assert_eq!(out, b"{\"user_id\":\"a\"}\n{\"user_id\":\"b\"}\n", "{query}");
    }
    let page = r#"{"start":0,"users":[
        {"user_id":"a", "app_metadata": {"roles": ["admin", "dev"]}},
        {"user_id":"b", "app_metadata": {"roles": "admin"}},
        {"user_id":"c", "app_metadata": {"roles": ["dev"]}}
    ],"total":3}"#;
    let mut ex = Exporter::new(request(IDS), options("app_metadata.roles:admin"));
    ex.push_json(page.as_bytes()).unwrap();
    ex.finish().unwrap();
    assert_eq!(ex.pull_to_end().unwrap(), b"{\"user_id\":\"a\"}\n{\"user_id\":\"b\"}\n");
}

/// A bad record is still reported as one: the query never hides a broken user.
#[test]
fn bad_records_are_errors_whatever_the_query() {
    let input = "{\"user_id\":\"a\",\"name\":\"x\"}\n{\"user_id\":\"b\",\"name\":\"x\",\"name\":\"y\"}\n";
    let mut ex = Exporter::new(request(IDS), options("name:nobody"));
    ex.push_ndjson(input.as_bytes()).unwrap();
    ex.finish().unwrap();
    let e = ex.pull_to_end().unwrap_err();
    assert_eq!(e.code(), ErrorCode::DuplicateKey);
    assert_eq!(e.line(), Some(2));
}

/// Users a host reads itself (JS objects in the wasm build) come as cells: after the fields,
/// one cell per query path holding what the path reaches (arrays at any depth count element
/// by element), and the query decides as it does for bytes.
#[test]
fn cells_from_a_host_carry_the_query_paths() {
    use userexport::{Cell, CellBatch};
    let opts = options("identities.connection:github AND logins_count:[1 TO *]");
    let paths: Vec<String> =
        opts.query.as_ref().unwrap().paths().iter().map(|p| p.keys().join(".")).collect();
    assert_eq!(paths, ["identities.connection", "logins_count"]);
    let mut ex = Exporter::new(request(IDS), opts);
    assert_eq!(ex.cell_width(), 3);
    let rows: [[(Cell, &str); 3]; 4] = [
        [(Cell::Text, "a"), (Cell::Json, r#"["db","github"]"#), (Cell::Number, "5")],
        [(Cell::Text, "b"), (Cell::Text, "github"), (Cell::Absent, "")],
        [(Cell::Text, "c"), (Cell::Json, r#"[["github"]]"#), (Cell::Number, "0")],
        [(Cell::Text, "d"), (Cell::Json, r#"[[],["github"]]"#), (Cell::Number, "1e1")],
    ];
    let mut batch = CellBatch { width: 3, ..CellBatch::default() };
    for row in &rows {
        for (cell, text) in row {
            batch.tags.push(*cell as u8);
            batch.lens.push(text.len() as u32);
            batch.text.extend_from_slice(text.as_bytes());
        }
    }
    ex.push_cells(batch, 0).unwrap();
    ex.finish().unwrap();
    assert_eq!(ex.pull_to_end().unwrap(), b"{\"user_id\":\"a\"}\n{\"user_id\":\"d\"}\n");
    assert_eq!((ex.stats().users_matched, ex.stats().users_filtered), (2, 2));

    // A query cell that is not JSON makes the user bad, naming the path.
    let mut ex = Exporter::new(request(IDS), options("identities.connection:github"));
    let batch = CellBatch {
        width: 2,
        tags: vec![Cell::Text as u8, Cell::Json as u8],
        lens: vec![1, 5],
        text: b"a[\"x\",".to_vec(),
        ..CellBatch::default()
    };
    ex.push_cells(batch, 0).unwrap();
    ex.finish().unwrap();
    let e = ex.pull_to_end().unwrap_err();
    assert!(e.message().contains("identities.connection"), "{e}");
    assert_eq!(e.index(), Some(0));
}
