//! One table-driven test per rule of COMPATIBILITY.md, named after the rule, plus the spec's worked examples.

mod common;
use common::*;
use userexport::*;

// ---------------------------------------------------------------- the request

fn rejects(body: &str, needle: &str) {
    let e = Request::from_json(body).expect_err(body);
    assert_eq!(e.code(), ErrorCode::InvalidRequest, "{body}");
    assert_eq!(e.status_code(), Some(400));
    assert_eq!(e.auth0_error_code(), Some("invalid_body"));
    assert!(e.message().contains(needle), "{body}: message {:?} lacks {needle:?}", e.message());
}

#[test]
fn request_top_level_members() {
    for ok in ["{}", r#"{"connection_id":"con_ftSSLHb0O7rcUGmF","format":"json","limit":5,"fields":[]}"#] {
        Request::from_json(ok).unwrap();
    }
    rejects(r#"{"foo":1}"#, "Additional properties not allowed: foo");
    rejects(r#"{"format":"csv","scopes":[]}"#, "scopes");
    rejects("[]", "JSON object");
    rejects("{", "not valid JSON");
}

#[test]
fn request_repeated_member_last_wins() {
    // As `JSON.parse` reads a body: a repeated member's last value is the one that counts,
    // even when an earlier one would have been refused.
    assert_eq!(request(r#"{"format":"json","format":"csv"}"#).format, Format::Csv);
    assert_eq!(request(r#"{"format":"xml","format":"json"}"#).format, Format::Json);
    assert_eq!(request(r#"{"limit":5,"limit":7}"#).limit, Some(7));
    let r = request(
        r#"{"fields":[{"name":"a"}],"format":"csv","fields":[{"name":"b","export_as":"B","export_as":"C"}]}"#,
    );
    assert_eq!(r.columns().collect::<Vec<_>>(), ["C"]);
    assert_eq!(r.format, Format::Csv);
    rejects(r#"{"format":"csv","format":"xml"}"#, "format");
}

#[test]
fn request_format() {
    let table =
        [("{}", Format::Json), (r#"{"format":"json"}"#, Format::Json), (r#"{"format":"csv"}"#, Format::Csv)];
    for (body, want) in table {
        assert_eq!(request(body).format, want, "{body}");
    }
    for bad in [r#"{"format":"xml"}"#, r#"{"format":"CSV"}"#, r#"{"format":null}"#, r#"{"format":1}"#] {
        rejects(bad, "format");
    }
}

#[test]
fn request_limit() {
    assert_eq!(request(r#"{"limit":1}"#).limit, Some(1));
    assert_eq!(request(r#"{"limit":999999}"#).limit, Some(999999));
    assert_eq!(request("{}").limit, None);
    for bad in
        [r#"{"limit":0}"#, r#"{"limit":-1}"#, r#"{"limit":1.5}"#, r#"{"limit":"5"}"#, r#"{"limit":null}"#]
    {
        rejects(bad, "limit");
    }
}

#[test]
fn request_connection_id() {
    assert_eq!(
        request(r#"{"connection_id":"con_0123456789abcDEF"}"#).connection_id.as_deref(),
        Some("con_0123456789abcDEF")
    );
    for bad in [
        r#""con_short""#,
        r#""con_0123456789abcDEFG""#,
        r#""xon_0123456789abcDEF""#,
        r#""con_0123456789abc-EF""#,
        "5",
    ] {
        rejects(&format!(r#"{{"connection_id":{bad}}}"#), "connection_id");
    }
}

#[test]
fn request_fields_shape() {
    let long = "a".repeat(101);
    let max = "a".repeat(100);
    request(&format!(r#"{{"fields":[{{"name":"{max}","export_as":"{max}"}}]}}"#));
    // 100 characters, not bytes: 100 × "é" is 200 bytes.
    request(&format!(r#"{{"fields":[{{"name":"x","export_as":"{}"}}]}}"#, "é".repeat(100)));
    let table = [
        (r#"{"fields":[{"name":"email","foo":1}]}"#, "fields[0]"),
        (r#"{"fields":[{"export_as":"x"}]}"#, "fields[0] is missing its name"),
        (r#"{"fields":[{"name":"a"},{"name":""}]}"#, "fields[1].name"),
        (r#"{"fields":[{"name":5}]}"#, "fields[0].name"),
        (r#"{"fields":[{"name":"a","export_as":""}]}"#, "fields[0].export_as"),
        (r#"{"fields":[{"name":"a","export_as":null}]}"#, "fields[0].export_as"),
        (r#"{"fields":["email"]}"#, "fields[0]"),
        (r#"{"fields":{"name":"email"}}"#, "fields"),
    ];
    for (body, needle) in table {
        rejects(body, needle);
    }
    rejects(&format!(r#"{{"fields":[{{"name":"{long}"}}]}}"#), "1 to 100 characters");
    rejects(&format!(r#"{{"fields":[{{"name":"a","export_as":"{long}"}}]}}"#), "fields[0].export_as");
}

#[test]
fn request_default_fields() {
    let r = request(r#"{"format":"csv"}"#);
    let names: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        "user_id, email, email_verified, username, phone_number, phone_verified, name, nickname, \
         given_name, family_name, picture, created_at, updated_at, last_login, last_ip, logins_count, \
         blocked, last_password_reset, multifactor_last_modified"
            .split(", ")
            .collect::<Vec<_>>()
    );
    assert!(!r.fields_given);
    assert!(r.fields.iter().all(|f| f.export_as.is_none()));
    assert!(request(r#"{"fields":[]}"#).fields.is_empty());
}

#[test]
fn request_csv_field_limit() {
    let fields = |n: usize| (0..n).map(|i| format!(r#"{{"name":"f{i}"}}"#)).collect::<Vec<_>>().join(",");
    request(&format!(r#"{{"format":"csv","fields":[{}]}}"#, fields(30)));
    rejects(&format!(r#"{{"format":"csv","fields":[{}]}}"#, fields(31)), "at most 30 fields");
    request(&format!(r#"{{"format":"json","fields":[{}]}}"#, fields(31)));
}

#[test]
fn request_csv_whole_metadata() {
    for name in ["app_metadata", "user_metadata"] {
        rejects(
            &format!(r#"{{"format":"csv","fields":[{{"name":"{name}"}}]}}"#),
            &format!("\"{name}\" cannot be exported as a whole"),
        );
        request(&format!(r#"{{"format":"json","fields":[{{"name":"{name}"}}]}}"#));
        request(&format!(
            r#"{{"format":"csv","fields":[{{"name":"{name}.plan"}},{{"name":"{name}.address"}}]}}"#
        ));
    }
}

#[test]
fn request_duplicate_columns() {
    rejects(r#"{"fields":[{"name":"email"},{"name":"email"}]}"#, "fields[0] and fields[1]");
    rejects(r#"{"fields":[{"name":"email","export_as":"x"},{"name":"name","export_as":"x"}]}"#, "\"x\"");
    rejects(r#"{"fields":[{"name":"a"},{"name":"b","export_as":"a"}]}"#, "fields[0] and fields[1]");
    request(r#"{"fields":[{"name":"email"},{"name":"email","export_as":"Email"}]}"#);
}

#[test]
fn request_error_envelope() {
    let e = Request::from_json(r#"{"format":"xml"}"#).unwrap_err();
    let envelope: serde_json::Value = serde_json::from_str(&e.auth0_envelope().unwrap()).unwrap();
    assert_eq!(envelope["statusCode"], 400);
    assert_eq!(envelope["error"], "Bad Request");
    assert_eq!(envelope["errorCode"], "invalid_body");
    assert_eq!(envelope["message"], e.message());
    let keys: Vec<&String> = envelope.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4);
}

// ---------------------------------------------------------------- field paths

#[test]
fn field_path_syntax() {
    use Step::*;
    let k = |s: &str| Key(s.to_string());
    let table: Vec<(&str, Vec<Step>)> = vec![
        ("email", vec![k("email")]),
        ("identities[0].connection", vec![k("identities"), Index(0), k("connection")]),
        (
            "app_metadata.stripe[0].customer_id",
            vec![k("app_metadata"), k("stripe"), Index(0), k("customer_id")],
        ),
        ("a[0][1]", vec![k("a"), Index(0), Index(1)]),
        ("user_metadata.consent.given", vec![k("user_metadata"), k("consent"), k("given")]),
        ("a[10]", vec![k("a"), Index(10)]),
    ];
    for (name, want) in table {
        assert_eq!(parse_path(name).unwrap(), want, "{name}");
    }
    for bad in [
        "",
        ".a",
        "a.",
        "a..b",
        "a[",
        "a[]",
        "a[x]",
        "a[-1]",
        "a[0",
        "[0]",
        "a.[0]",
        "a[0]b",
        "a]",
        "a[1.5]",
        "a[99999999999]",
    ] {
        assert!(parse_path(bad).is_err(), "{bad:?} accepted");
        let body = format!(
            r#"{{"fields":[{{"name":"email"}},{{"name":{}}}]}}"#,
            serde_json::to_string(bad).unwrap()
        );
        let e = Request::from_json(&body).unwrap_err();
        assert!(e.message().starts_with("fields[1].name"), "{bad:?}: {}", e.message());
    }
}

#[test]
fn field_path_steps_into_the_right_type_only() {
    let body = r#"{"fields":[{"name":"a.b"},{"name":"a[0]"},{"name":"l[1]"},{"name":"l.x"},{"name":"l[5]"},{"name":"m.n.o"},{"name":"s.x"}]}"#;
    let table = [
        (r#"{"a":{"b":1},"l":[0,"one"]}"#, r#"{"a.b":1,"l[1]":"one"}"#),
        (r#"{"a":[7],"l":{"1":2,"x":3}}"#, r#"{"a[0]":7,"l.x":3}"#),
        (r#"{"a":"str","l":null,"m":{"n":{"o":[true]}},"s":"x"}"#, r#"{"m.n.o":[true]}"#),
        (r#"{"a":{"b":null}}"#, r#"{"a.b":null}"#),
    ];
    for (input, want) in table {
        assert_eq!(ndjson(body, input).unwrap(), format!("{want}\n"), "{input}");
    }
}

#[test]
fn column_names() {
    let body = r#"{"fields":[{"name":"user_metadata.plan"},{"name":"email","export_as":"E-mail"},{"name":"identities[0].connection"}]}"#;
    let input = r#"{"email":"a@b.c","user_metadata":{"plan":"pro"},"identities":[{"connection":"db"}]}"#;
    assert_eq!(
        ndjson(body, input).unwrap(),
        "{\"user_metadata.plan\":\"pro\",\"E-mail\":\"a@b.c\",\"identities[0].connection\":\"db\"}\n"
    );
    let csv_body = body.replace("{\"fields\"", "{\"format\":\"csv\",\"fields\"");
    assert_eq!(
        ndjson(&csv_body, input).unwrap(),
        "user_metadata.plan,E-mail,identities[0].connection\n\"'pro\",\"'a@b.c\",\"'db\"\n"
    );
}

#[test]
fn dashboard_preset() {
    let names: Vec<(&str, &str)> = DASHBOARD_PRESET.to_vec();
    assert_eq!(names[0], ("user_id", "Id"));
    assert_eq!(names[8], ("identities[0].connection", "Connection"));
    assert_eq!(names.len(), 11);
}

// ---------------------------------------------------------------- which users

#[test]
fn connection_filter() {
    let users = [
        r#"{"user_id":"1","identities":[{"connection":"db"}]}"#,
        r#"{"user_id":"2","identities":[{"connection":"google-oauth2"},{"connection":"db"}]}"#,
        r#"{"user_id":"3"}"#,
        r#"{"user_id":"4","identities":[{"connection":"d\u0062"}]}"#,
        r#"{"user_id":"5","identities":{"0":{"connection":"db"}}}"#,
        r#"{"user_id":"6","identities":[{"connection":"db "}]}"#,
    ]
    .join("\n");
    let body = r#"{"fields":[{"name":"user_id"}]}"#;
    let opts = Options { connection: Some("db".into()), ..Options::default() };
    let mut ex = Exporter::new(request(body), opts);
    ex.push_ndjson(users.as_bytes()).unwrap();
    ex.finish().unwrap();
    assert_eq!(
        String::from_utf8(ex.pull_to_end().unwrap()).unwrap(),
        "{\"user_id\":\"1\"}\n{\"user_id\":\"4\"}\n"
    );
    let s = ex.stats();
    assert_eq!((s.users_read, s.users_written, s.users_filtered), (6, 2, 4));
    // No connection: every user.
    assert_eq!(ndjson(body, &users).unwrap().lines().count(), 6);
}

#[test]
fn limit_stops_reading() {
    let body = r#"{"limit":2,"fields":[{"name":"user_id"}]}"#;
    let mut ex = Exporter::new(request(body), Options::default());
    ex.push_ndjson(b"{\"user_id\":\"a\"}\n{\"user_id\":\"b\"}\n{\"user_id\":\"c\"}\n").unwrap();
    assert!(!ex.limit_reached());
    let out = ex.pull_to_end().unwrap();
    assert_eq!(out, b"{\"user_id\":\"a\"}\n{\"user_id\":\"b\"}\n");
    assert!(ex.limit_reached(), "the host is told it may stop reading");
    // Done even before finish(): nothing more will be written.
    assert_eq!(ex.pull().unwrap(), Pull::Done);
    ex.push_ndjson(b"not even json\n").unwrap();
    assert_eq!(ex.pull().unwrap(), Pull::Done);
    assert_eq!(ex.stats().users_written, 2);
    // A bad record after the limit is never read, so it fails nothing.
    assert_eq!(ndjson(body, "{\"user_id\":\"a\"}\n{\"user_id\":\"b\"}\n{oops\n").unwrap().lines().count(), 2);
}

#[test]
fn limit_counts_written_users_only() {
    let body = r#"{"limit":1,"fields":[{"name":"user_id"}]}"#;
    let opts = Options { connection: Some("db".into()), ..Options::default() };
    let input = b"{\"user_id\":\"a\",\"identities\":[{\"connection\":\"x\"}]}\n{\"user_id\":\"b\",\"identities\":[{\"connection\":\"db\"}]}\n";
    assert_eq!(ndjson_with(body, opts, input).unwrap(), b"{\"user_id\":\"b\"}\n");
}

#[test]
fn users_keep_push_order() {
    let body = r#"{"fields":[{"name":"user_id"}]}"#;
    let mut ex = Exporter::new(request(body), Options::default());
    ex.push_json(br#"[{"user_id":"3"},{"user_id":"1"}]"#).unwrap();
    ex.push_json(br#"{"user_id":"2"}"#).unwrap();
    ex.finish().unwrap();
    assert_eq!(ex.pull_to_end().unwrap(), b"{\"user_id\":\"3\"}\n{\"user_id\":\"1\"}\n{\"user_id\":\"2\"}\n");
}

// ---------------------------------------------------------------- NDJSON

#[test]
fn ndjson_lines_and_absent_vs_null() {
    let body = r#"{"fields":[{"name":"a"},{"name":"b"},{"name":"c"}]}"#;
    let table = [
        (r#"{"a":1,"b":null}"#, r#"{"a":1,"b":null}"#),
        (r#"{"c":"x","a":"y"}"#, r#"{"a":"y","c":"x"}"#),
        (r#"{"z":1}"#, "{}"),
        (r#"{}"#, "{}"),
        ("  {  \"b\" :\t[ 1 , { \"k\" : \"v\" } ] }  ", r#"{"b":[1,{"k":"v"}]}"#),
    ];
    for (input, want) in table {
        assert_eq!(ndjson(body, input).unwrap(), format!("{want}\n"), "{input}");
    }
    assert_eq!(ndjson(body, "").unwrap(), "", "no users, no bytes, no BOM");
}

#[test]
fn ndjson_values_keep_type_and_key_order() {
    let body = r#"{"fields":[{"name":"app_metadata"},{"name":"identities"},{"name":"t"},{"name":"f"},{"name":"s"}]}"#;
    let input = r#"{"app_metadata":{"z":1,"a":{"y":[],"b":{}}},"identities":[{"connection":"db","isSocial":false}],"t":true,"f":false,"s":"1"}"#;
    assert_eq!(ndjson(body, input).unwrap(), format!("{input}\n"));
}

#[test]
fn ndjson_string_escaping() {
    // Input JSON string text → what JSON.stringify writes for the decoded string.
    let table = [
        (r#""plain""#, r#""plain""#),
        (r#""\/""#, r#""/""#),
        (r#""\u0041\u00e9\u4e2d""#, "\"Aé中\""),
        (r#""\ud83d\ude00""#, "\"😀\""),
        (r#""\b\f\n\r\t""#, r#""\b\f\n\r\t""#),
        (r#""\u0008\u000C\u000a\u000D\u0009""#, r#""\b\f\n\r\t""#),
        (r#""\u0000\u0001\u001F\u000b""#, r#""\u0000\u0001\u001f\u000b""#),
        (r#""\"\\""#, r#""\"\\""#),
        (r#""\u0022\u005C""#, r#""\"\\""#),
        ("\"\u{7f}\u{2028}\u{2029}\u{feff}\"", "\"\u{7f}\u{2028}\u{2029}\u{feff}\""),
        (r#""\u007f\u2028\u2029""#, "\"\u{7f}\u{2028}\u{2029}\""),
        ("\"中文 😀 עברית\"", "\"中文 😀 עברית\""),
    ];
    let body = r#"{"fields":[{"name":"v"},{"name":"o"}]}"#;
    for (input, want) in table {
        let line = format!(r#"{{"v":{input},"o":{{"k":[{input}]}}}}"#);
        assert_eq!(
            ndjson(body, &line).unwrap(),
            format!("{{\"v\":{want},\"o\":{{\"k\":[{want}]}}}}\n"),
            "{input}"
        );
    }
}

#[test]
fn numbers_keep_their_text() {
    let body = r#"{"fields":[{"name":"n"},{"name":"o"}]}"#;
    let csv = r#"{"format":"csv","fields":[{"name":"n"},{"name":"o"}]}"#;
    for n in [
        "0",
        "-0",
        "1.0",
        "1.50",
        "12345678901234567890",
        "1E400",
        "1e-999",
        "-1.5e+10",
        "0.1",
        "9007199254740993",
        "1E2",
    ] {
        let line = format!(r#"{{"n":{n},"o":[{n}]}}"#);
        assert_eq!(ndjson(body, &line).unwrap(), format!("{{\"n\":{n},\"o\":[{n}]}}\n"), "{n}");
        assert_eq!(ndjson(csv, &line).unwrap(), format!("n,o\n{n},\"'[{n}]\"\n"), "{n}");
    }
}

// ---------------------------------------------------------------- CSV

#[test]
fn csv_header_escaping() {
    let table = [
        ("email", "email"),
        ("Given Name", "Given Name"),
        ("a,b", "\"'a,b\""),
        ("say \"hi\"", "\"'say \"\"hi\"\"\""),
        ("line\nbreak", "\"'line\nbreak\""),
        ("cr\rhere", "\"'cr\rhere\""),
        ("=SUM(A1)", "\"'=SUM(A1)\""),
        ("+1", "\"'+1\""),
        ("-x", "\"'-x\""),
        ("@x", "\"'@x\""),
        ("\tx", "\"'\tx\""),
        ("\rx", "\"'\rx\""),
        ("x=1", "x=1"),
        ("'quoted'", "'quoted'"),
        // NUL (OWASP ASVS 5.0) and U+FEFF (read as a BOM and stripped, exposing what follows).
        ("\0x", "\"'\0x\""),
        ("\u{feff}+c", "\"'\u{feff}+c\""),
        ("x\0", "x\0"),
        ("x\u{feff}", "x\u{feff}"),
    ];
    for (column, want) in table {
        let body = format!(
            r#"{{"format":"csv","fields":[{{"name":"a","export_as":{}}}]}}"#,
            serde_json::to_string(column).unwrap()
        );
        let out = ndjson(&body, "").unwrap();
        assert_eq!(out, format!("{want}\n"), "{column:?}");
        if want.starts_with('"') {
            assert_eq!(read_csv(out.as_bytes())[0][0], format!("'{column}"));
        }
    }
}

#[test]
fn csv_cells() {
    let body = r#"{"format":"csv","fields":[{"name":"v"}]}"#;
    let table = [
        ("{}", "\"\""),
        (r#"{"v":null}"#, "\"\""),
        (r#"{"v":true}"#, "true"),
        (r#"{"v":false}"#, "false"),
        (r#"{"v":-5}"#, "-5"),
        (r#"{"v":""}"#, "\"'\""),
        (r#"{"v":"x"}"#, "\"'x\""),
        (r#"{"v":"a\"b"}"#, "\"'a\"\"b\""),
        (r#"{"v":"=1+1"}"#, "\"'=1+1\""),
        (r#"{"v":"+14258831929"}"#, "\"'+14258831929\""),
        (r#"{"v":"42"}"#, "\"'42\""),
        (r#"{"v":"a\r\nb\nc\rd"}"#, "\"'a\r\nb\nc\rd\""),
        (r#"{"v":"nul\u0000here"}"#, "\"'nul\0here\""),
        (r#"{"v":[1,"a\"b",{"k":null}]}"#, r#""'[1,""a\""b"",{""k"":null}]""#),
        (r#"{"v":{}}"#, "\"'{}\""),
        (r#"{"v":"2023-01-25T17:48:14.784Z"}"#, "\"'2023-01-25T17:48:14.784Z\""),
    ];
    for (input, want) in table {
        let out = ndjson(body, input).unwrap();
        assert_eq!(out, format!("v\n{want}\n"), "{input}");
        assert_eq!(read_csv(out.as_bytes()).len(), 2, "{input}");
    }
    // OWASP's two golden examples, byte for byte.
    for (s, want) in [("=1+2\";=1+2", "\"'=1+2\"\";=1+2\""), ("=1+2'\" ;,=1+2", "\"'=1+2'\"\" ;,=1+2\"")] {
        let line = format!(r#"{{"v":{}}}"#, serde_json::to_string(s).unwrap());
        assert_eq!(ndjson(body, &line).unwrap(), format!("v\n{want}\n"));
    }
}

#[test]
fn csv_row_whose_only_cell_is_empty() {
    // One column, value absent or null: `""`, so readers that drop blank lines keep the row.
    let one = r#"{"format":"csv","fields":[{"name":"v"}]}"#;
    let input = "{}\n{\"v\":null}\n{\"v\":1}\n{\"v\":\"\"}\n";
    let out = ndjson(one, input).unwrap();
    assert_eq!(out, "v\n\"\"\n\"\"\n1\n\"'\"\n");
    let rows = read_csv(out.as_bytes());
    assert_eq!(rows, [["v"], [""], [""], ["1"], ["'"]]);
    // Two columns: the commas already keep the row; nothing changes.
    let two = r#"{"format":"csv","fields":[{"name":"v"},{"name":"w"}]}"#;
    assert_eq!(ndjson(two, "{}\n").unwrap(), "v,w\n,\n");
    // The same through JSON text.
    assert_eq!(json_text(one, "[{},{\"v\":null}]").unwrap(), "v\n\"\"\n\"\"\n");
}

#[test]
fn csv_dates_bare_only_where_the_rule_says() {
    let body = r#"{"format":"csv","fields":[{"name":"created_at"},{"name":"updated_at"},{"name":"last_login"},{"name":"last_password_reset"},{"name":"multifactor_last_modified"},{"name":"user_metadata.signup_date"},{"name":"created_at","export_as":"c2"}]}"#;
    let d = "2024-01-02T03:04:05.678Z";
    let line = format!(
        r#"{{"created_at":"{d}","updated_at":"{d}","last_login":"{d}","last_password_reset":"{d}","multifactor_last_modified":"{d}","user_metadata":{{"signup_date":"{d}"}}}}"#
    );
    let out = ndjson(body, &line).unwrap();
    assert_eq!(out.lines().nth(1).unwrap(), format!("{d},{d},{d},{d},{d},\"'{d}\",{d}"));
    let table = [
        ("2024-01-02T03:04:05Z", true),
        ("2024-01-02T03:04:05.1Z", true),
        ("2024-01-02T03:04:05.123456789Z", true),
        ("2024-01-02T03:04:05.1234567890Z", false),
        ("2024-01-02T03:04:05.Z", false),
        ("2024-01-02T03:04:05.678", false),
        ("2024-01-02 03:04:05.678Z", false),
        ("2024-01-02T03:04:05.678+00:00", false),
        ("=2024-01-02T03:04:05Z", false),
        ("2024-01-02T03:04:05.678Z\n", false),
        ("1652961567", false),
    ];
    for (value, bare) in table {
        let line = format!(r#"{{"created_at":{}}}"#, serde_json::to_string(value).unwrap());
        let out = ndjson(r#"{"format":"csv","fields":[{"name":"created_at"}]}"#, &line).unwrap();
        let cell = &out["created_at\n".len()..out.len() - 1];
        if bare {
            assert_eq!(cell, value);
        } else {
            assert_eq!(read_csv(out.as_bytes())[1][0], format!("'{value}"), "{value:?}");
        }
    }
    // An escaped form of a date string is the same string.
    let out = ndjson(
        r#"{"format":"csv","fields":[{"name":"created_at"}]}"#,
        r#"{"created_at":"2024-01-02T03:04:05\u002e678Z"}"#,
    )
    .unwrap();
    assert_eq!(out, format!("created_at\n{d}\n"));
    // A number in a date attribute is a number.
    let out = ndjson(r#"{"format":"csv","fields":[{"name":"updated_at"}]}"#, r#"{"updated_at":1652961567}"#)
        .unwrap();
    assert_eq!(out, "updated_at\n1652961567\n");
}

#[test]
fn csv_no_users_is_the_header_alone() {
    assert_eq!(ndjson(r#"{"format":"csv","fields":[{"name":"a"},{"name":"b"}]}"#, "").unwrap(), "a,b\n");
    assert_eq!(ndjson(r#"{"format":"csv","fields":[]}"#, "{}\n").unwrap(), "\n\n");
}

// ---------------------------------------------------------------- output name

#[test]
fn file_names() {
    let table = [
        ("acme", Format::Csv, false, "acme.csv"),
        ("acme", Format::Json, false, "acme.json"),
        ("acme", Format::Csv, true, "acme.csv.gz"),
        ("dev-tenant_2", Format::Json, true, "dev-tenant_2.json.gz"),
    ];
    for (tenant, format, gzip, want) in table {
        assert_eq!(file_name(tenant, format, gzip).unwrap(), want);
    }
    let long = "a".repeat(65);
    for bad in ["", "Acme", "../etc", "a/b", "a b", "a.csv", "ü", "a\"b", "a\nb", long.as_str()] {
        let e = file_name(bad, Format::Csv, false).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidTenant, "{bad:?}");
    }
    file_name(&"a".repeat(64), Format::Csv, false).unwrap();
}

// ---------------------------------------------------------------- input

#[test]
fn ndjson_input_lines() {
    let body = r#"{"fields":[{"name":"i"}]}"#;
    let table: [(&[u8], &str); 7] = [
        (b"{\"i\":1}\n{\"i\":2}\n", "{\"i\":1}\n{\"i\":2}\n"),
        (b"{\"i\":1}\r\n{\"i\":2}\r\n", "{\"i\":1}\n{\"i\":2}\n"),
        (b"{\"i\":1}\n{\"i\":2}", "{\"i\":1}\n{\"i\":2}\n"),
        (b"\xEF\xBB\xBF{\"i\":1}\n", "{\"i\":1}\n"),
        (b"\n\n  \n\t\r\n{\"i\":1}\n\n", "{\"i\":1}\n"),
        (b"{\"i\":1}\r", "{\"i\":1}\n"),
        (b"\xEF\xBB\xBF", ""),
    ];
    for (input, want) in table {
        assert_eq!(
            ndjson_with(body, Options::default(), input).unwrap(),
            want.as_bytes(),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn bom_only_at_the_start() {
    let body = r#"{"fields":[{"name":"i"}]}"#;
    let (out, errors) = lenient(body, b"{\"i\":1}\n\xEF\xBB\xBF{\"i\":2}\n{\"i\":3}\n");
    assert_eq!(out, "{\"i\":1}\n{\"i\":3}\n");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line(), Some(2));
    assert!(errors[0].message().contains("byte order mark"));
}

#[test]
fn json_text_inputs() {
    let body = r#"{"fields":[{"name":"user_id"}]}"#;
    let table = [
        (r#"{"user_id":"a"}"#, "a"),
        (r#"  [ {"user_id":"a"} , {"user_id":"b"} ]  "#, "a,b"),
        ("[]", ""),
        (r#"{"start":0,"limit":50,"length":2,"users":[{"user_id":"a"},{"user_id":"b"}],"total":2}"#, "a,b"),
        (r#"{"users":[{"user_id":"a"}],"next":"cursor"}"#, "a"),
        (r#"{"users":[]}"#, ""),
        // An object with user data and a `users` member is a user, not a page.
        (r#"{"user_id":"u","users":[{"user_id":"x"}]}"#, "u"),
        ("\u{feff}[{\"user_id\":\"a\"}]", "a"),
    ];
    for (input, ids) in table {
        let want: String = ids
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|id| format!("{{\"user_id\":\"{id}\"}}\n"))
            .collect();
        assert_eq!(json_text(body, input).unwrap(), want, "{input}");
    }
}

#[test]
fn json_text_record_cap() {
    // The record-size cap covers each user of a JSON text (an array element, a page's user, the
    // single user), counted from its first byte to its last; over it: `record_too_large` at
    // its index, skipped alone in lenient mode.
    let body = r#"{"fields":[{"name":"user_id"}]}"#;
    let big = format!(r#"{{"user_id":"b","pad":"{}"}}"#, "x".repeat(100));
    assert_eq!(big.len(), 124);
    let run = |text: &str, cap: usize, lenient: bool| {
        let options = Options { max_record_bytes: cap, lenient, ..Options::default() };
        let mut ex = Exporter::new(request(body), options);
        ex.push_json(text.as_bytes()).unwrap();
        ex.finish().unwrap();
        let out = ex.pull_to_end().map(|b| String::from_utf8(b).unwrap());
        (
            out,
            ex.skipped()
                .iter()
                .map(|e| (e.code(), e.index(), e.user_id().map(str::to_string)))
                .collect::<Vec<_>>(),
        )
    };
    let too_large = |i| (ErrorCode::RecordTooLarge, Some(i), Some("b".to_string()));
    for text in [
        format!(r#"[{{"user_id":"a"}}, {big} ,{{"user_id":"c"}}]"#),
        format!(r#"{{"start":0,"users":[{{"user_id":"a"}},{big},{{"user_id":"c"}}],"total":3}}"#),
    ] {
        let (out, skipped) = run(&text, 123, true);
        assert_eq!(out.unwrap(), "{\"user_id\":\"a\"}\n{\"user_id\":\"c\"}\n", "{text}");
        assert_eq!(skipped, [too_large(1)], "{text}");
        let (out, _) = run(&text, 123, false);
        let e = out.unwrap_err();
        assert_eq!((e.code(), e.index()), (ErrorCode::RecordTooLarge, Some(1)), "{text}");
        // At the cap exactly, the user fits.
        let (out, skipped) = run(&text, 124, true);
        assert_eq!(out.unwrap().lines().count(), 3, "{text}");
        assert!(skipped.is_empty());
    }
    // A single user is element 0; whitespace around it does not count.
    let (out, skipped) = run(&format!("  {big}\n"), 123, true);
    assert_eq!((out.unwrap(), skipped), (String::new(), vec![too_large(0)]));
    assert_eq!(run(&format!("  {big}\n"), 124, true).0.unwrap(), "{\"user_id\":\"b\"}\n");
}

#[test]
fn parsed_values() {
    let body = r#"{"fields":[{"name":"user_id"},{"name":"n"}]}"#;
    let mut ex = Exporter::new(request(body), Options::default());
    ex.push_value(&serde_json::json!({"user_id": "a", "n": 1.5})).unwrap();
    ex.push_value(&serde_json::json!([{"user_id": "b"}, {"user_id": "c", "n": -3}])).unwrap();
    ex.finish().unwrap();
    assert_eq!(
        String::from_utf8(ex.pull_to_end().unwrap()).unwrap(),
        "{\"user_id\":\"a\",\"n\":1.5}\n{\"user_id\":\"b\"}\n{\"user_id\":\"c\",\"n\":-3}\n"
    );
}

#[test]
fn mixing_input_kinds_is_refused() {
    let mut ex = Exporter::new(Request::default(), Options::default());
    ex.push_ndjson(b"{}").unwrap();
    assert_eq!(ex.push_json(b"{}").unwrap_err().code(), ErrorCode::InvalidState);
    let mut ex = Exporter::new(Request::default(), Options::default());
    ex.push_json(b"{}").unwrap();
    assert_eq!(ex.push_ndjson(b"{}").unwrap_err().code(), ErrorCode::InvalidState);
}

#[test]
fn push_after_finish_is_refused() {
    let mut ex = Exporter::new(Request::default(), Options::default());
    ex.finish().unwrap();
    let e = ex.push_ndjson(b"{}\n").unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidState);
    assert!(e.message().contains("after finish"));
}

// ---------------------------------------------------------------- worked examples (spec §6a)

#[test]
fn worked_example_1_csv_documented_request() {
    let body = r#"{"format":"csv","limit":5,"fields":[{"name":"email"},{"name":"identities[0].connection","export_as":"provider"}]}"#;
    assert_eq!(
        ndjson(body, U1).unwrap(),
        "email,provider\n\"'chuck436@example.com\",\"'Username-Password-Authentication\"\n"
    );
}

#[test]
fn worked_example_2_csv_mixed_types() {
    let u2 = r#"{"user_id":"auth0|u2","name":"Ann \"Q\" Lee","email_verified":false,"logins_count":3,"created_at":"2024-01-02T03:04:05.678Z","user_metadata":{"nick":"=1+1","age":42}}"#;
    let body = r#"{"format":"csv","fields":[{"name":"user_id"},{"name":"name"},{"name":"email_verified"},{"name":"logins_count"},{"name":"created_at"},{"name":"given_name"},{"name":"user_metadata.nick","export_as":"Nick"},{"name":"user_metadata.age"}]}"#;
    assert_eq!(
        ndjson(body, u2).unwrap(),
        "user_id,name,email_verified,logins_count,created_at,given_name,Nick,user_metadata.age\n\
         \"'auth0|u2\",\"'Ann \"\"Q\"\" Lee\",false,3,2024-01-02T03:04:05.678Z,,\"'=1+1\",42\n"
    );
}

fn preset_body() -> String {
    let fields: Vec<String> =
        DASHBOARD_PRESET.iter().map(|(n, e)| format!(r#"{{"name":"{n}","export_as":"{e}"}}"#)).collect();
    format!(r#"{{"format":"json","fields":[{}]}}"#, fields.join(","))
}

#[test]
fn worked_example_3_ndjson_dashboard_preset() {
    assert_eq!(
        ndjson(&preset_body(), U1).unwrap(),
        "{\"Id\":\"auth0|63d16b5edf1ce171262c71b5\",\"Given Name\":\"Chuck\",\"Family Name\":\"Sanchez\",\"Nickname\":\"Chucky\",\"Name\":\"chuck436@example.com\",\"Email\":\"chuck436@example.com\",\"Email Verified\":true,\"Picture\":\"https://example-picture-url.jpg\",\"Connection\":\"Username-Password-Authentication\",\"Created At\":\"2023-01-25T17:48:14.784Z\",\"Updated At\":\"2023-01-25T17:48:14.784Z\"}\n"
    );
}

#[test]
fn worked_example_4_absent_attributes_omitted() {
    let user = r#"{"user_id":"auth0|626737a9813c000069daf462","nickname":"testuser1","name":"testuser1@auth0.com","email":"testuser1@auth0.com","identities":[{"connection":"Username-Password-Authentication"}],"created_at":"2022-04-26T00:07:05.098Z","updated_at":"2022-07-06T14:54:19.214Z"}"#;
    assert_eq!(
        ndjson(&preset_body(), user).unwrap(),
        "{\"Id\":\"auth0|626737a9813c000069daf462\",\"Nickname\":\"testuser1\",\"Name\":\"testuser1@auth0.com\",\"Email\":\"testuser1@auth0.com\",\"Connection\":\"Username-Password-Authentication\",\"Created At\":\"2022-04-26T00:07:05.098Z\",\"Updated At\":\"2022-07-06T14:54:19.214Z\"}\n"
    );
}

#[test]
fn worked_example_5_root_object_and_dotted_path() {
    let body = r#"{"fields":[{"name":"user_id"},{"name":"app_metadata"},{"name":"user_metadata.favourite_attack"}]}"#;
    assert_eq!(
        ndjson(body, U1).unwrap(),
        "{\"user_id\":\"auth0|63d16b5edf1ce171262c71b5\",\"app_metadata\":{\"facts\":[\"count_to_infinity_twice\",\"kill_two_stones_with_one_bird\",\"can_hear_sign_language\"]},\"user_metadata.favourite_attack\":\"roundhouse_kick\"}\n"
    );
}

#[test]
fn default_fields_export() {
    let out = ndjson(r#"{"format":"csv"}"#, U1).unwrap();
    assert_eq!(
        out,
        "user_id,email,email_verified,username,phone_number,phone_verified,name,nickname,given_name,family_name,picture,created_at,updated_at,last_login,last_ip,logins_count,blocked,last_password_reset,multifactor_last_modified\n\
         \"'auth0|63d16b5edf1ce171262c71b5\",\"'chuck436@example.com\",true,\"'test-user215\",,,\"'chuck436@example.com\",\"'Chucky\",\"'Chuck\",\"'Sanchez\",\"'https://example-picture-url.jpg\",2023-01-25T17:48:14.784Z,2023-01-25T17:48:14.784Z,,,,false,,\n"
    );
}

#[test]
fn parsed_values_keep_their_key_order() {
    let body = r#"{"fields":[{"name":"m"}]}"#;
    let value: serde_json::Value = serde_json::from_str(r#"{"m":{"zeta":1,"alpha":{"y":2,"b":3}}}"#).unwrap();
    let mut ex = Exporter::new(request(body), Options::default());
    ex.push_value(&value).unwrap();
    ex.finish().unwrap();
    assert_eq!(ex.pull_to_end().unwrap(), b"{\"m\":{\"zeta\":1,\"alpha\":{\"y\":2,\"b\":3}}}\n");
}
