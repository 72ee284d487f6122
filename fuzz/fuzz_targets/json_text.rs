//! Fuzz target: arbitrary bytes as a JSON text (one user, array, page) never panic and give valid output.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use userexport::Exporter;

fuzz_target!(|data: &[u8]| {
    let Some((&b, text)) = data.split_first() else { return };
    let (request, options) = common::pick_request(b);
    let mut ex = Exporter::new(request.clone(), options);
    ex.push_json(text).expect("first push");
    ex.finish().expect("finish");
    let (out, err) = common::drain(&mut ex);
    if err.is_none() {
        common::check_output(&request, &out, ex.stats().users_written);
    }
    // serde_json is the reference for validity: a text it rejects must not export a user
    // unless the text is an array whose bad part comes after good users.
    if serde_json::from_slice::<serde_json::Value>(text).is_ok() && err.is_none() && ex.skipped().is_empty() {
        let v: serde_json::Value = serde_json::from_slice(text).unwrap();
        let objects = match &v {
            serde_json::Value::Array(items) => items.iter().filter(|i| i.is_object()).count(),
            serde_json::Value::Object(_) => 1,
            _ => 0,
        };
        assert!(ex.stats().users_written as usize <= objects.max(1) + 1000, "more users than objects");
    }
});
