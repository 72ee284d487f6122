//! Fuzz target: request bodies never panic; accepted ones export a fixed user to valid output.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use userexport::{Exporter, Options, Request};

const USER: &[u8] = br#"{"user_id":"auth0|1","email":"=a@b.c","name":"-x","created_at":"2023-01-25T17:48:14.784Z","logins_count":-5,"identities":[{"connection":"db","a":[1,{"b":"+c"}]}],"user_metadata":{"k":"@v","a":{"b":[true,null]}}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(request) = Request::from_json(text) else { return };
    assert!(request.fields.len() <= 30 || request.format == userexport::Format::Json);
    let mut ex = Exporter::new(request.clone(), Options::default());
    ex.push_ndjson(USER).unwrap();
    ex.push_ndjson(b"\n").unwrap();
    ex.push_ndjson(USER).unwrap();
    ex.finish().unwrap();
    let (out, err) = common::drain(&mut ex);
    assert!(err.is_none(), "a good user failed: {err:?}");
    common::check_output(&request, &out, ex.stats().users_written);
});
