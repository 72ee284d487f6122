//! Shared helpers for the integration tests: run an export whole, and read CSV with the `csv` crate.
#![allow(dead_code)]

use userexport::{Error, Exporter, Options, Pull, Request};

/// The real Auth0 user recorded in go-auth0's test data (spec §6, "U1").
pub const U1: &str = r#"{"blocked":false,"created_at":"2023-01-25T17:48:14.784Z","email":"chuck436@example.com","email_verified":true,"family_name":"Sanchez","given_name":"Chuck","identities":[{"connection":"Username-Password-Authentication","user_id":"63d16b5edf1ce171262c71b5","provider":"auth0","isSocial":false}],"name":"chuck436@example.com","nickname":"Chucky","picture":"https://example-picture-url.jpg","updated_at":"2023-01-25T17:48:14.784Z","user_id":"auth0|63d16b5edf1ce171262c71b5","user_metadata":{"favourite_attack":"roundhouse_kick"},"username":"test-user215","app_metadata":{"facts":["count_to_infinity_twice","kill_two_stones_with_one_bird","can_hear_sign_language"]}}"#;

pub fn request(body: &str) -> Request {
    Request::from_json(body).unwrap_or_else(|e| panic!("request {body} rejected: {e}"))
}

/// Exports NDJSON `input` (pushed whole) and returns the output text.
pub fn ndjson(body: &str, input: &str) -> Result<String, Error> {
    ndjson_with(body, Options::default(), input.as_bytes()).map(|b| String::from_utf8(b).unwrap())
}

pub fn ndjson_with(body: &str, options: Options, input: &[u8]) -> Result<Vec<u8>, Error> {
    let mut ex = Exporter::new(request(body), options);
    ex.push_ndjson(input)?;
    ex.finish()?;
    ex.pull_to_end()
}

/// Exports JSON text `input` and returns the output text.
pub fn json_text(body: &str, input: &str) -> Result<String, Error> {
    let mut ex = Exporter::new(request(body), Options::default());
    ex.push_json(input.as_bytes())?;
    ex.finish()?;
    ex.pull_to_end().map(|b| String::from_utf8(b).unwrap())
}

/// Lenient NDJSON export: the output and the skipped records.
pub fn lenient(body: &str, input: &[u8]) -> (String, Vec<Error>) {
    let mut ex = Exporter::new(request(body), Options { lenient: true, ..Options::default() });
    ex.push_ndjson(input).unwrap();
    ex.finish().unwrap();
    let out = ex.pull_to_end().unwrap();
    (String::from_utf8(out).unwrap(), ex.skipped().to_vec())
}

/// Reads CSV bytes with the `csv` crate (strict: equal record lengths, UTF-8), header included.
pub fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(false).from_reader(bytes);
    rdr.records().map(|r| r.expect("valid CSV").iter().map(str::to_string).collect()).collect()
}

/// Pulls until the export stops: everything pulled, and the error that stopped it, if any.
pub fn drain(ex: &mut Exporter) -> (Vec<u8>, Option<Error>) {
    let mut out = Vec::new();
    loop {
        match ex.pull() {
            Ok(Pull::Data(d)) => out.extend_from_slice(d),
            Ok(_) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}
