//! The shared fixtures (tests/fixtures/*) still hold what the core writes; the CLI test checks the same bytes.
#[path = "../examples/fixtures.rs"]
mod fixtures;

#[test]
fn expected_outputs_match_the_core() {
    let dirs = fixtures::fixture_dirs();
    assert!(dirs.len() >= 4, "fixtures missing");
    for dir in dirs {
        let (name, bytes) = fixtures::export_fixture(&dir);
        let expected = std::fs::read(dir.join(&name))
            .unwrap_or_else(|_| panic!("{} missing", dir.join(&name).display()));
        assert!(
            expected == bytes,
            "{} is stale: run `cargo run --example fixtures`",
            dir.join(name).display()
        );
    }
}
