//! `Exporter::push_cells`: users a host read value by value write the same bytes as the same users
//! pushed as JSON text, at every pull size; bad cells and bad users are reported at their index.

use serde_json::{json, Value};
use userexport::{Cell, CellBatch, ErrorCode, Exporter, Options, Pull, Request, Step};

/// A small host reader over parsed values: walks each field's path as a JS host would.
fn cells(request: &Request, users: &[Value], connection: bool) -> CellBatch {
    let mut paths: Vec<Vec<Step>> = request.fields.iter().map(|f| f.path.clone()).collect();
    if connection {
        paths.push(userexport::connection_path().to_vec());
    }
    let mut batch = CellBatch { width: paths.len(), ..CellBatch::default() };
    for user in users {
        for path in &paths {
            let mut v = Some(user);
            for step in path {
                v = match (v, step) {
                    (Some(Value::Object(o)), Step::Key(k)) => o.get(k),
                    (Some(Value::Array(a)), Step::Index(i)) => a.get(*i as usize),
                    _ => None,
                };
            }
            let (cell, text) = match v {
                None => (Cell::Absent, String::new()),
                Some(Value::Null) => (Cell::Null, String::new()),
                Some(Value::Bool(false)) => (Cell::False, String::new()),
                Some(Value::Bool(true)) => (Cell::True, String::new()),
                Some(Value::String(s)) => (Cell::Text, s.clone()),
                Some(Value::Number(n)) => (Cell::Number, n.to_string()),
                Some(other) => (Cell::Json, other.to_string()),
            };
            batch.tags.push(cell as u8);
            batch.lens.push(text.len() as u32);
            batch.text.extend_from_slice(text.as_bytes());
        }
    }
    batch
}

/// The same batch with the texts of its odd columns moved to `second_text`, as a host that keeps
/// some columns apart hands them over.
fn second_columns(batch: CellBatch) -> CellBatch {
    let mut out = CellBatch {
        width: batch.width,
        tags: batch.tags.clone(),
        bad: batch.bad.clone(),
        ..CellBatch::default()
    };
    let mut at = 0;
    for (i, &len) in batch.lens.iter().enumerate() {
        let text = &batch.text[at..at + len as usize];
        at += len as usize;
        let has_text = Cell::from_tag(batch.tags[i]).is_some_and(Cell::has_text);
        if i % batch.width % 2 == 1 && has_text {
            out.second_text.extend_from_slice(text);
            out.lens.push(len | CellBatch::SECOND);
        } else {
            out.text.extend_from_slice(text);
            out.lens.push(len);
        }
    }
    out
}

fn drain(ex: &mut Exporter, size: usize) -> Result<Vec<u8>, userexport::Error> {
    let mut out = Vec::new();
    loop {
        match ex.pull_at_most(size)? {
            Pull::Data(bytes) => out.extend_from_slice(bytes),
            Pull::NeedInput | Pull::Done => return Ok(out),
        }
    }
}

fn users() -> Vec<Value> {
    vec![
        json!({"user_id":"auth0|1","email":"a\"b@x.com","identities":[{"connection":"db"}],"app_metadata":{"plan":"gold","roles":["a","b\n"]},"logins_count":3,"created_at":"2024-01-02T03:04:05.678Z"}),
        json!({"user_id":"google|2","email":"=1+1","identities":[{"connection":"google"}],"app_metadata":{"plan":null},"logins_count":1.5e300,"blocked":true}),
        json!({"user_id":"x","name":"\u{0}nul \u{2028} é 😀","identities":[],"user_metadata":{"a":{"b":[1,{"c":"d"}]}}}),
        json!({"email":"", "created_at":"not a date", "blocked":false}),
    ]
}

#[test]
fn cells_write_what_the_same_users_as_json_text_write() {
    let requests = [
        r#"{"format":"csv","fields":[{"name":"user_id"},{"name":"email"},{"name":"name"},{"name":"identities[0].connection","export_as":"c"},{"name":"app_metadata.plan"},{"name":"app_metadata.roles"},{"name":"logins_count"},{"name":"created_at"},{"name":"blocked"},{"name":"user_metadata.a"}]}"#,
        r#"{"format":"json","fields":[{"name":"user_id"},{"name":"email"},{"name":"name"},{"name":"app_metadata"},{"name":"identities"},{"name":"logins_count"},{"name":"created_at"},{"name":"user_metadata.a.b[1]","export_as":"b1"}]}"#,
        r#"{"format":"csv","fields":[{"name":"email"}]}"#,
        r#"{"limit":2}"#,
    ];
    for body in requests {
        for connection in [None, Some("db")] {
            let request = Request::from_json(body).unwrap();
            let options = Options { connection: connection.map(str::to_string), ..Options::default() };
            let mut text = Exporter::new(request.clone(), options.clone());
            text.push_json(&serde_json::to_vec(&users()).unwrap()).unwrap();
            text.finish().unwrap();
            let want = drain(&mut text, 1 << 16).unwrap();
            for size in 1..=64 {
                let mut ex = Exporter::new(request.clone(), options.clone());
                let batch = cells(&request, &users(), connection.is_some());
                let batch = if size % 2 == 0 { second_columns(batch) } else { batch };
                assert_eq!(batch.width, ex.cell_width());
                ex.push_cells(batch, 0).unwrap();
                ex.finish().unwrap();
                let got = drain(&mut ex, size).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                    "{body} {connection:?} pull size {size}"
                );
                assert_eq!(ex.stats().users_written, text.stats().users_written);
                assert_eq!(ex.stats().users_filtered, text.stats().users_filtered);
            }
        }
    }
}

#[test]
fn bad_users_and_bad_json_cells_are_reported_at_their_index() {
    let request = Request::from_json(r#"{"fields":[{"name":"user_id"},{"name":"app_metadata"}]}"#).unwrap();
    let mut batch = cells(&request, &[json!({"user_id":"ok"}), json!({}), json!({"user_id":"u3"})], false);
    // User 1 is bad as the host saw it; user 2's whole object is not JSON the core accepts.
    batch.tags[2] = Cell::Bad as u8;
    batch.bad.push((ErrorCode::UnsupportedValue, "the field \"x\" is NaN".into()));
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    batch.tags[5] = Cell::Json as u8;
    batch.lens[5] = deep.len() as u32;
    batch.text.extend_from_slice(deep.as_bytes());
    let mut ex = Exporter::new(request, Options { lenient: true, ..Options::default() });
    ex.push_cells(batch, 10).unwrap();
    ex.finish().unwrap();
    assert_eq!(drain(&mut ex, 7).unwrap(), b"{\"user_id\":\"ok\"}\n");
    let seen: Vec<_> =
        ex.skipped().iter().map(|e| (e.index(), e.code(), e.user_id().map(str::to_string))).collect();
    assert_eq!(
        seen,
        [(Some(11), ErrorCode::UnsupportedValue, None), (Some(12), ErrorCode::TooDeep, Some("u3".into()))]
    );
    assert!(ex.skipped()[1].message().contains("\"app_metadata\""), "{}", ex.skipped()[1]);
}

#[test]
fn a_batch_of_the_wrong_shape_is_refused_whole() {
    let request = Request::from_json(r#"{"fields":[{"name":"email"}]}"#).unwrap();
    let mut ex = Exporter::new(request, Options::default());
    let wide = CellBatch { width: 2, tags: vec![0, 0], lens: vec![0, 0], ..CellBatch::default() };
    assert_eq!(ex.push_cells(wide, 0).unwrap_err().code(), ErrorCode::InvalidState);
    let short = CellBatch {
        width: 1,
        tags: vec![Cell::Text as u8],
        lens: vec![5],
        text: b"abc".to_vec(),
        second_text: vec![],
        bad: vec![],
    };
    assert_eq!(ex.push_cells(short, 0).unwrap_err().code(), ErrorCode::InvalidState);
    // The second text's lengths are checked against it alike.
    let second = CellBatch {
        width: 1,
        tags: vec![Cell::Text as u8],
        lens: vec![3 | CellBatch::SECOND],
        text: b"abc".to_vec(),
        ..CellBatch::default()
    };
    assert_eq!(ex.push_cells(second, 0).unwrap_err().code(), ErrorCode::InvalidState);
    assert_eq!(ex.stats().users_read, 0);
}
