//! The README's worked example (request, input, output blocks) is run as it stands.

use userexport::{Exporter, Options, Request};

fn block(readme: &str, info: &str) -> String {
    let start =
        readme.find(&format!("```{info}\n")).unwrap_or_else(|| panic!("README has no ```{info} block"));
    let body = &readme[start + info.len() + 4..];
    body[..body.find("```").expect("closed block")].to_string()
}

#[test]
fn readme_example_output_is_what_the_core_writes() {
    let readme = include_str!("../README.md");
    let request = Request::from_json(&block(readme, "json request")).unwrap();
    let mut ex = Exporter::new(request, Options::default());
    ex.push_ndjson(block(readme, "ndjson input").as_bytes()).unwrap();
    ex.finish().unwrap();
    let out = String::from_utf8(ex.pull_to_end().unwrap()).unwrap();
    assert_eq!(out, block(readme, "csv output"));
}

#[test]
fn readme_rust_example_runs() {
    use std::io::Write;
    use userexport::Pull;
    let run = || -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let mut stdout = Vec::new();
        // Same statements as the README's Rust block, writing into a Vec instead of stdout.
        let request = Request::from_json(r#"{"format":"csv","fields":[{"name":"email"}]}"#)?;
        let mut exporter = Exporter::new(request, Options::default());
        exporter.push_ndjson(b"{\"email\":\"a@example.com\"}\n")?;
        exporter.finish()?;
        while let Pull::Data(chunk) = exporter.pull()? {
            stdout.write_all(chunk)?;
        }
        Ok(stdout)
    };
    assert_eq!(run().unwrap(), b"email\n\"'a@example.com\"\n");
    let readme = include_str!("../README.md");
    let rust = block(readme, "rust");
    for line in [
        "Request::from_json(r#\"{\"format\":\"csv\",\"fields\":[{\"name\":\"email\"}]}\"#)?",
        "exporter.push_ndjson(b\"{\\\"email\\\":\\\"a@example.com\\\"}\\n\")?;",
        "while let Pull::Data(chunk) = exporter.pull()? {",
    ] {
        assert!(rust.contains(line), "the README's Rust block no longer has {line}");
    }
}
