//! Writes tests/fixtures/*/expected.{csv,json} from the Rust core: `cargo run --example fixtures`.
//! The CLI test (tests/js/cli.test.mjs) and tests/fixtures.rs compare against these bytes.
use std::fs;
use std::path::{Path, PathBuf};

use userexport::{Exporter, Options, Request};

/// The core's export of one fixture folder: (file name of the expected output, bytes).
pub fn export_fixture(dir: &Path) -> (String, Vec<u8>) {
    let request = Request::from_json(&fs::read_to_string(dir.join("request.json")).unwrap()).unwrap();
    let mut options = Options::default();
    if let Ok(text) = fs::read_to_string(dir.join("options.json")) {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        options.connection = v["connection"].as_str().map(String::from);
        options.lenient = v["lenient"].as_bool().unwrap_or(false);
    }
    let name = format!("expected.{}", request.format.extension());
    let mut ex = Exporter::new(request, options);
    ex.push_ndjson(&fs::read(dir.join("input.ndjson")).unwrap()).unwrap();
    ex.finish().unwrap();
    (name, ex.pull_to_end().unwrap())
}

/// Every fixture folder, sorted.
pub fn fixture_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<_> =
        fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs
}

#[allow(dead_code)]
fn main() {
    for dir in fixture_dirs() {
        let (name, bytes) = export_fixture(&dir);
        fs::write(dir.join(&name), &bytes).unwrap();
        println!("{}: {} bytes", dir.join(name).display(), bytes.len());
    }
}
