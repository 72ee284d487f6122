//! The core compiled to wasm and run in Node (`wasm-pack test --node`): NDJSON split every 3 bytes
//! (inside UTF-8 sequences, CRLFs and the BOM) exports the same bytes as the whole input.
#![cfg(target_arch = "wasm32")]
use userexport::{Exporter, Options, Request};
use wasm_bindgen_test::wasm_bindgen_test;

const INPUT: &str = "\u{feff}{\"user_id\":\"a|1\",\"name\":\"Zoë 美咲 😀\"}\r\n\r\n{\"user_id\":\"b|2\",\"name\":\"=x,\\\"y\\\"\"}\n{\"user_id\":3}";

fn export(chunk: usize) -> Vec<u8> {
    let request =
        Request::from_json(r#"{"format":"csv","fields":[{"name":"user_id"},{"name":"name"}]}"#).unwrap();
    let mut ex = Exporter::new(request, Options { chunk_size: 7, ..Options::default() });
    let mut out = Vec::new();
    for part in INPUT.as_bytes().chunks(chunk) {
        ex.push_ndjson(part).unwrap();
        out.extend(ex.pull_to_end().unwrap());
    }
    ex.finish().unwrap();
    out.extend(ex.pull_to_end().unwrap());
    out
}

#[wasm_bindgen_test]
fn three_byte_chunks_equal_one_chunk() {
    let whole = export(INPUT.len());
    assert_eq!(
        String::from_utf8(whole.clone()).unwrap(),
        "user_id,name\n\"'a|1\",\"'Zoë 美咲 😀\"\n\"'b|2\",\"'=x,\"\"y\"\"\"\n3,\n"
    );
    assert_eq!(export(3), whole);
    assert_eq!(export(1), whole);
}
