//! Runs the external corpora (`USEREXPORT_CORPORA`, by default the `corpora` folder beside the
//! checkout; test plan: its README.md) through the core's
//! three input paths and checks every output with real readers: serde_json, the Rust csv crate
//! and, through `tests/oracle/check_csv.py`, Python's own csv and json modules.
//!
//! When the corpora are absent each test prints `SKIPPED: corpora not found at …` and returns,
//! except under `CI=true`, where a missing corpus (or a missing python3 for the oracle) fails
//! the test: CI must not pass by checking nothing.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use userexport::{Error, Exporter, Field, Format, Options, Pull, Request, Stats};

// ---------------------------------------------------------------------------------------------
// Corpus location, runs and readers

fn say(msg: &str) {
    // Straight to the process's stderr: libtest's capture would hide a println! of a passing test.
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn corpora() -> Option<PathBuf> {
    // USEREXPORT_CORPORA overrides the place (and lets the skip path itself be tried).
    let dir = match std::env::var_os("USEREXPORT_CORPORA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"),
    };
    if dir.join("README.md").is_file() {
        Some(dir)
    } else {
        skip(&format!("corpora not found at {}", dir.display()));
        None
    }
}

/// True when running in CI (`CI=true`), where nothing may be skipped.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Reports a check that could not run: a note on a developer's machine, a failure in CI.
fn skip(why: &str) {
    assert!(!in_ci(), "CI=true and {why}: the corpus tests cannot be skipped in CI");
    say(&format!("SKIPPED: {why}"));
}

macro_rules! corpora_or_skip {
    () => {
        match corpora() {
            Some(dir) => dir,
            None => return,
        }
    };
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files(dir: &Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .map(|p| (p.file_name().unwrap().to_str().unwrap().to_string(), read(&p)))
        .collect();
    out.sort();
    out
}

/// The three ways users reach the core.
#[derive(Debug, Clone)]
enum Input {
    /// NDJSON bytes, pushed in these chunks.
    Ndjson(Vec<Vec<u8>>),
    /// One JSON text.
    Json(Vec<u8>),
    /// One parsed value (a user or an array of users).
    Value(Value),
}

struct Run {
    out: Vec<u8>,
    err: Option<Error>,
    skipped: Vec<Error>,
    stats: Stats,
}

fn run(request: &Request, lenient: bool, input: &Input) -> Run {
    let options = Options { lenient, chunk_size: 4096, ..Options::default() };
    let mut ex = Exporter::new(request.clone(), options);
    match input {
        Input::Ndjson(chunks) => chunks.iter().for_each(|c| ex.push_ndjson(c).unwrap()),
        Input::Json(text) => ex.push_json(text).unwrap(),
        Input::Value(v) => ex.push_value(v).unwrap(),
    }
    ex.finish().unwrap();
    let mut out = Vec::new();
    let err = loop {
        match ex.pull() {
            Ok(Pull::Data(d)) => out.extend_from_slice(d),
            Ok(_) => break None,
            Err(e) => break Some(e),
        }
    };
    Run { out, err, skipped: ex.skipped().to_vec(), stats: ex.stats() }
}

fn ndjson(bytes: &[u8]) -> Input {
    Input::Ndjson(vec![bytes.to_vec()])
}

fn fields_request(format: Format, fields: &[(&str, Option<&str>)]) -> Request {
    let fields = fields.iter().map(|(n, e)| Field::new(n, *e).unwrap()).collect();
    Request::new(format, None, Some(fields)).unwrap()
}

/// The NDJSON oracle in Rust: LF-split lines, UTF-8 without BOM or raw CR, each parsed by serde_json.
fn ndjson_lines(out: &[u8]) -> Vec<Value> {
    assert!(out.is_empty() || out.ends_with(b"\n"), "NDJSON output must end with LF");
    let mut lines = Vec::new();
    for line in out.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let text = std::str::from_utf8(line).expect("NDJSON line is UTF-8");
        assert!(!text.starts_with('\u{feff}') && !text.contains('\r'), "BOM or raw CR in {text:?}");
        lines.push(serde_json::from_str(text).unwrap_or_else(|e| panic!("NDJSON line {text:?}: {e}")));
    }
    lines
}

/// The CSV oracle in Rust: the csv crate with `flexible(false)`, via StringRecord (UTF-8 checked).
fn csv_table(out: &[u8]) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(false).from_reader(out);
    let table: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap_or_else(|e| panic!("CSV reads back: {e}")).iter().map(str::to_string).collect())
        .collect();
    for row in &table {
        for cell in row {
            assert!(!starts_formula(cell) || is_bare_number(cell), "cell {cell:?} could start a formula");
        }
    }
    table
}

/// OWASP triggers plus ASVS 5.0's NUL.
fn starts_formula(cell: &str) -> bool {
    matches!(cell.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '\0'))
}

fn is_bare_number(cell: &str) -> bool {
    serde_json::from_str::<serde_json::Number>(cell).is_ok()
}

/// ESC(s) of the README: `"` + `'` + s with every `"` doubled + `"`.
fn esc(s: &str) -> Vec<u8> {
    format!("\"'{}\"", s.replace('"', "\"\"")).into_bytes()
}

/// The COMPATIBILITY.md rule for header cells, written out independently of the core.
fn header_cell(column: &str) -> String {
    let trigger =
        matches!(column.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\0' | '\u{feff}'));
    if trigger || column.contains([',', '"', '\r', '\n']) {
        format!("'{column}")
    } else {
        column.to_string()
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// JSON whitespace only (not Unicode whitespace), as RFC 8259 defines it.
fn trim_json_ws(b: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    &b[start..end]
}

fn lf_to_space(b: &[u8]) -> Vec<u8> {
    b.iter().map(|&c| if c == b'\n' || c == b'\r' { b' ' } else { c }).collect()
}

/// A JSON text in which no whitespace and no escape occurs is already in the compact,
/// JSON.stringify-escaped form the encoders write, so its output must be byte-identical.
fn is_canonical(text: &[u8]) -> bool {
    !text.iter().any(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\\'))
}

// ---------------------------------------------------------------------------------------------
// The Python oracle: tests/oracle/check_csv.py reads what these tests wrote.

struct Oracle {
    dir: PathBuf,
    items: Vec<Value>,
}

impl Oracle {
    fn new(name: &str) -> Oracle {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("oracle").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Oracle { dir, items: Vec::new() }
    }

    fn file(&self, bytes: &[u8]) -> String {
        let path = self.dir.join(format!("{}.out", self.items.len()));
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_string()
    }

    /// Python's csv must read exactly the table the csv crate read.
    fn csv(&mut self, out: &[u8], table: &[Vec<String>]) {
        let file = self.file(out);
        self.items.push(json!({"kind": "csv", "file": file, "table": table}));
    }

    /// Python's json (Decimal numbers, every key pair kept) must read each line as the
    /// matching expected JSON text; `unordered_top` allows the top-level key order to differ.
    fn ndjson(&mut self, out: &[u8], expected: &[String], unordered_top: bool) {
        let file = self.file(out);
        self.items.push(
            json!({"kind": "ndjson", "file": file, "expected": expected, "unordered_top": unordered_top}),
        );
    }

    fn check(self) {
        let manifest = self.dir.join("manifest.json");
        std::fs::write(&manifest, serde_json::to_vec(&self.items).unwrap()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/check_csv.py");
        let output = match std::process::Command::new("python3").arg(&script).arg(&manifest).output() {
            Ok(o) => o,
            Err(e) => {
                skip(&format!(
                    "python3 not runnable ({e}); the Python oracle did not check {}",
                    manifest.display()
                ));
                return;
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "Python oracle disagrees:\n{stdout}\n{stderr}");
        assert!(stdout.contains(&format!("checked {} outputs", self.items.len())), "oracle said: {stdout}");
    }
}

impl Oracle {
    /// Runs the oracle and says whether it accepted (for proving that it can refuse).
    fn accepts(self) -> Option<bool> {
        let manifest = self.dir.join("manifest.json");
        std::fs::write(&manifest, serde_json::to_vec(&self.items).unwrap()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/check_csv.py");
        let output = std::process::Command::new("python3").arg(&script).arg(&manifest).output().ok()?;
        Some(output.status.success())
    }
}

/// The Python oracle itself must refuse what it is there to catch: a cell that differs, a
/// rounded number, a dropped duplicate key, a formula cell, a short row.
#[test]
fn python_oracle_refuses_what_it_should() {
    let table = |rows: &[&[&str]]| -> Vec<Vec<String>> {
        rows.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
    };
    let mut good = Oracle::new("self_check_good");
    good.csv(b"a,b\n\"'x\",-5\n", &table(&[&["a", "b"], &["'x", "-5"]]));
    good.ndjson(b"{\"v\":1e-999}\n", &["{\"v\":1E-999}".to_string()], false);
    // U+2028 inside a string is one line: the oracle splits on LF bytes only.
    good.ndjson(
        "{\"a\":\"\u{2028}\u{85}\"}\n".as_bytes(),
        &["{\"a\":\"\\u2028\\u0085\"}".to_string()],
        false,
    );
    match good.accepts() {
        None => {
            skip("python3 not runnable; the oracle self-check did not run");
            return;
        }
        Some(ok) => assert!(ok, "the oracle refuses good output"),
    }
    type Corrupt<'a> = Box<dyn Fn(&mut Oracle) + 'a>;
    let bad_cases: Vec<(&str, Corrupt<'_>)> = vec![
        ("differing cell", Box::new(|o| o.csv(b"a\n\"'x\"\n", &table(&[&["a"], &["'y"]])))),
        ("formula cell", Box::new(|o| o.csv(b"a\n=1+2\n", &table(&[&["a"], &["=1+2"]])))),
        ("short row", Box::new(|o| o.csv(b"a,b\n1\n", &table(&[&["a", "b"], &["1"]])))),
        ("bad quoting", Box::new(|o| o.csv(b"a\n\"x\"y\n", &table(&[&["a"], &["xy"]])))),
        ("rounded number", Box::new(|o| o.ndjson(b"{\"v\":0}\n", &["{\"v\":1e-999}".to_string()], false))),
        (
            "lost digits",
            Box::new(|o| {
                o.ndjson(
                    b"{\"v\":10000000000000000000}\n",
                    &["{\"v\":10000000000000000999}".to_string()],
                    false,
                )
            }),
        ),
        (
            "dropped duplicate",
            Box::new(|o| o.ndjson(b"{\"a\":2}\n", &["{\"a\":1,\"a\":2}".to_string()], false)),
        ),
        ("raw CR", Box::new(|o| o.ndjson(b"{\"a\":1}\r\n", &["{\"a\":1}".to_string()], false))),
    ];
    for (what, add) in bad_cases {
        let mut o = Oracle::new("self_check_bad");
        add(&mut o);
        assert_eq!(o.accepts(), Some(false), "the oracle accepted a {what}");
    }
}

// ---------------------------------------------------------------------------------------------
// The good lines of every sandwich: Auth0's own sample profiles.

fn profiles(dir: &Path) -> Vec<Vec<u8>> {
    read(&dir.join("auth0-profiles/all-profiles.ndjson"))
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn user_id_of(line: &[u8]) -> String {
    let v: Value = serde_json::from_slice(line).unwrap();
    v["user_id"].as_str().unwrap().to_string()
}

#[derive(Debug, Clone, Copy)]
enum Variant {
    Lf,
    Crlf,
    Blank,
}

/// GOOD₁ \n X \n GOOD₂ \n (and the CRLF / blank-line variants): the stream and the 1-based
/// lines where X starts and GOOD₂ sits.
fn sandwich(good1: &[u8], x: &[u8], good2: &[u8], variant: Variant) -> (Vec<u8>, u64, u64) {
    let x_lines = x.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let mut s = Vec::new();
    s.extend_from_slice(good1);
    s.push(b'\n');
    let mut first = 2;
    if let Variant::Blank = variant {
        s.extend_from_slice(b"\n \t\n");
        first = 4;
    }
    s.extend_from_slice(x);
    s.push(b'\n');
    let mut good2_line = first + x_lines;
    if let Variant::Blank = variant {
        s.extend_from_slice(b"   \r\n");
        good2_line += 1;
    }
    s.extend_from_slice(good2);
    s.push(b'\n');
    if let Variant::Crlf = variant {
        let mut c = Vec::with_capacity(s.len() * 2);
        for &b in &s {
            if b == b'\n' {
                c.push(b'\r');
            }
            c.push(b);
        }
        s = c;
    }
    (s, first, good2_line)
}

struct Manifest {
    rows: HashMap<String, Vec<String>>,
}

impl Manifest {
    fn load(dir: &Path) -> Manifest {
        let text = String::from_utf8(read(&dir.join("jsontestsuite/MANIFEST.tsv"))).unwrap();
        let rows = text
            .lines()
            .skip(1)
            .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>())
            .map(|r| (r[0].rsplit('/').next().unwrap().to_string(), r))
            .collect();
        Manifest { rows }
    }

    fn has_newline(&self, file: &str) -> bool {
        let r = &self.rows[file];
        r[6] == "1" || r[7] == "1"
    }

    fn top_level(&self, file: &str) -> &str {
        &self.rows[file][3]
    }
}

// ---------------------------------------------------------------------------------------------
// 1. JSONTestSuite

fn id_request(format: Format) -> Request {
    fields_request(format, &[("user_id", None), ("email", None)])
}

/// Every `n_` file as line 2 of a sandwich: an error naming its line(s), both good users kept
/// in lenient mode, the export failing at that line in strict mode.
#[test]
fn jsontestsuite_n_files_are_rejected_with_their_line() {
    let dir = corpora_or_skip!();
    let manifest = Manifest::load(&dir);
    let goods = profiles(&dir);
    let (g1, g2) = (&goods[0], &goods[1]);
    let (id1, id2) = (user_id_of(g1), user_id_of(g2));
    let mut checked = 0;
    for (name, x) in files(&dir.join("jsontestsuite/test_parsing"), "n_") {
        let multi = manifest.has_newline(&name);
        // Whitespace-only text is a blank line in NDJSON: skipped by the documented rule.
        let blank = trim_json_ws(&x).is_empty() && !x.contains(&b'\n');
        for variant in [Variant::Lf, Variant::Crlf, Variant::Blank] {
            let (stream, first, good2_line) = sandwich(g1, &x, g2, variant);
            let last_x_line = good2_line - 1 - matches!(variant, Variant::Blank) as u64;
            for format in [Format::Json, Format::Csv] {
                let request = id_request(format);
                let lenient = run(&request, true, &ndjson(&stream));
                let what = format!("{name} {variant:?} {format:?}");
                assert!(lenient.err.is_none(), "{what}: lenient run failed: {:?}", lenient.err);
                let out = String::from_utf8(lenient.out.clone()).unwrap();
                let (p1, p2) = (out.find(&id1), out.rfind(&id2));
                assert!(p1.is_some() && p2.is_some() && p1 < p2, "{what}: good users missing:\n{out}");
                if blank {
                    assert!(lenient.skipped.is_empty(), "{what}: a blank line is skipped silently");
                    continue;
                }
                assert!(!lenient.skipped.is_empty(), "{what}: no error reported");
                for e in &lenient.skipped {
                    let line = e.line().unwrap_or_else(|| panic!("{what}: error without a line: {e}"));
                    assert!((first..=last_x_line).contains(&line), "{what}: error at line {line}: {e}");
                    assert!(e.code().is_record_error(), "{what}: {e}");
                    assert!(!e.message().is_empty());
                }
                if !multi {
                    assert_eq!(lenient.skipped.len(), 1, "{what}");
                    assert_eq!(lenient.stats.users_written, 2, "{what}");
                    assert_eq!(lenient.skipped[0].line(), Some(first), "{what}");
                }
                match format {
                    Format::Json => {
                        let lines = ndjson_lines(&lenient.out);
                        assert_eq!(lines.len() as u64, lenient.stats.users_written, "{what}");
                    }
                    Format::Csv => {
                        let table = csv_table(&lenient.out);
                        assert_eq!(table.len() as u64, lenient.stats.users_written + 1, "{what}");
                    }
                }
                let strict = run(&request, false, &ndjson(&stream));
                let e = strict.err.unwrap_or_else(|| panic!("{what}: strict run did not fail"));
                let line = e.line().unwrap();
                assert!((first..=last_x_line).contains(&line), "{what}: strict error at line {line}: {e}");
                if !multi {
                    assert_eq!(e, lenient.skipped[0], "{what}: strict and lenient name the same error");
                }
                let out = String::from_utf8(strict.out).unwrap();
                assert!(out.contains(&id1) && !out.contains(&id2), "{what}: strict output {out}");
            }
        }
        // The JSON-text path: the file alone is never an accepted export.
        if !blank {
            let r = run(&id_request(Format::Json), false, &Input::Json(x.clone()));
            assert!(r.err.is_some() || r.stats.users_written == 0, "{name}: accepted as JSON text");
        }
        if name.starts_with("n_structure_100000_opening_arrays")
            || name == "n_structure_open_array_object.json"
        {
            let r = run(&id_request(Format::Json), true, &ndjson(&x));
            assert_eq!(r.skipped.len(), 1);
            assert_eq!(r.skipped[0].code().as_str(), "too_deep", "{name}: {}", r.skipped[0]);
            let r = run(&id_request(Format::Json), false, &Input::Json(x.clone()));
            assert_eq!(r.err.unwrap().code().as_str(), "too_deep", "{name}");
        }
        checked += 1;
    }
    assert_eq!(checked, 188, "every n_ file ran");
}

/// `y_` files as whole records: objects accepted (a duplicate key rejected by name), anything
/// else `not_an_object` at its line; through NDJSON and JSON text.
#[test]
fn jsontestsuite_y_files_as_records() {
    let dir = corpora_or_skip!();
    let manifest = Manifest::load(&dir);
    let goods = profiles(&dir);
    let mut checked = 0;
    for (name, x) in files(&dir.join("jsontestsuite/test_parsing"), "y_") {
        let is_object = manifest.top_level(&name) == "dict";
        let duplicated = name.starts_with("y_object_duplicated_key");
        let line = if manifest.has_newline(&name) { lf_to_space(&x) } else { x.clone() };
        for variant in [Variant::Lf, Variant::Crlf, Variant::Blank] {
            let (stream, first, _) = sandwich(&goods[0], &line, &goods[1], variant);
            let r = run(&id_request(Format::Json), true, &ndjson(&stream));
            let what = format!("{name} {variant:?}");
            if is_object && !duplicated {
                assert!(r.skipped.is_empty(), "{what}: {:?}", r.skipped);
                assert_eq!(r.stats.users_written, 3, "{what}");
            } else {
                assert_eq!(r.skipped.len(), 1, "{what}");
                let want = if duplicated { "duplicate_key" } else { "not_an_object" };
                assert_eq!(r.skipped[0].code().as_str(), want, "{what}: {}", r.skipped[0]);
                assert_eq!(r.skipped[0].line(), Some(first), "{what}");
                assert_eq!(r.stats.users_written, 2, "{what}");
            }
        }
        // JSON text alone: serde_json says how many users an array holds.
        let parsed: Value = serde_json::from_slice(&x).unwrap();
        let (objects, others) = match &parsed {
            Value::Object(_) => (1, 0),
            Value::Array(items) => {
                let o = items.iter().filter(|i| i.is_object()).count();
                (o, items.len() - o)
            }
            _ => (0, 1),
        };
        let r = run(&id_request(Format::Json), true, &Input::Json(x.clone()));
        if duplicated {
            assert_eq!(r.skipped[0].code().as_str(), "duplicate_key", "{name}");
        } else {
            assert_eq!(r.stats.users_written as usize, objects, "{name}");
            assert_eq!(r.skipped.len(), others, "{name}: {:?}", r.skipped);
            assert!(r.skipped.iter().all(|e| e.code().as_str() == "not_an_object" && e.index().is_some()));
        }
        checked += 1;
    }
    assert_eq!(checked, 95);
}

fn splice(name: &str, v: &[u8]) -> Vec<u8> {
    let mut s = format!("{{\"user_id\":\"jsts|{name}\",\"email\":\"x@example.com\",\"v\":").into_bytes();
    s.extend_from_slice(v);
    s.push(b'}');
    s
}

fn v_request(format: Format) -> Request {
    fields_request(format, &[("user_id", None), ("email", None), ("v", None)])
}

/// What the CSV cell of `v` must read back as (the reference value from serde_json, the
/// original text when the value is a number).
fn check_v_cell(what: &str, cell: &str, v: &Value, text: Option<&[u8]>) {
    match v {
        Value::String(s) => assert_eq!(cell, format!("'{s}"), "{what}"),
        Value::Null => assert_eq!(cell, "", "{what}"),
        Value::Bool(b) => assert_eq!(cell, b.to_string(), "{what}"),
        Value::Number(_) => {
            assert_eq!(&serde_json::from_str::<Value>(cell).unwrap(), v, "{what}");
            if let Some(t) = text {
                assert_eq!(cell.as_bytes(), t, "{what}: number text changed");
            }
        }
        Value::Array(_) | Value::Object(_) => {
            let body = cell.strip_prefix('\'').unwrap_or_else(|| panic!("{what}: {cell:?} lacks its '"));
            assert_eq!(&serde_json::from_str::<Value>(body).unwrap(), v, "{what}: text form re-parses");
            if let Some(t) = text.filter(|t| is_canonical(t)) {
                assert_eq!(body.as_bytes(), t, "{what}: compact text changed");
            }
        }
    }
}

/// Every `y_` file as the value of a field, through all three paths and both formats.
#[test]
fn jsontestsuite_y_files_as_field_values() {
    let dir = corpora_or_skip!();
    let mut oracle = Oracle::new("y_field_values");
    let mut checked = 0;
    for (name, raw) in files(&dir.join("jsontestsuite/test_parsing"), "y_") {
        let text = trim_json_ws(&raw).to_vec();
        let spliced = splice(&name, &text);
        let reference: Value = serde_json::from_slice(&spliced).unwrap();
        let duplicated = name.starts_with("y_object_duplicated_key");
        let inputs = [
            ("ndjson", ndjson(&lf_to_space(&spliced)), true),
            ("json", Input::Json(spliced.clone()), true),
            ("value", Input::Value(reference.clone()), false),
        ];
        for (path, input, textual) in inputs {
            for format in [Format::Json, Format::Csv] {
                let what = format!("{name} via {path} as {format:?}");
                let r = run(&v_request(format), false, &input);
                if duplicated && textual {
                    assert_eq!(r.err.unwrap().code().as_str(), "duplicate_key", "{what}");
                    continue;
                }
                assert!(r.err.is_none(), "{what}: {:?}", r.err);
                let exact = textual.then_some(&text[..]);
                match format {
                    Format::Json => {
                        let lines = ndjson_lines(&r.out);
                        assert_eq!(lines.len(), 1, "{what}");
                        assert_eq!(lines[0]["v"], reference["v"], "{what}");
                        if let Some(t) = exact.filter(|t| is_canonical(t)) {
                            let mut want = splice(&name, t);
                            want.push(b'\n');
                            assert_eq!(r.out, want, "{what}: not byte-identical");
                        }
                        if textual {
                            oracle.ndjson(&r.out, &[String::from_utf8(spliced.clone()).unwrap()], false);
                        }
                    }
                    Format::Csv => {
                        let table = csv_table(&r.out);
                        assert_eq!(table[0], ["user_id", "email", "v"], "{what}");
                        assert_eq!(table.len(), 2, "{what}");
                        assert_eq!(table[1][0], format!("'jsts|{name}"));
                        check_v_cell(&what, &table[1][2], &reference["v"], exact);
                        oracle.csv(&r.out, &table);
                    }
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 95);
    oracle.check();
}

/// The team's written decision for each `i_` file: as a whole NDJSON record (line 2 of a
/// sandwich) and as the value of a field (NDJSON and JSON-text paths). `None` = accepted.
/// Accepting is allowed only when lossless: numbers come out with their exact text.
const I_DECISIONS: &[(&str, Option<&str>, Option<&str>, &str)] = &[
    // Numbers beyond binary64: the number text is kept as it came (COMPATIBILITY.md, "Numbers beyond binary64").
    ("i_number_double_huge_neg_exp.json", Some("not_an_object"), None, "number text kept exactly"),
    ("i_number_huge_exp.json", Some("not_an_object"), None, "number text kept exactly"),
    ("i_number_neg_int_huge_exp.json", Some("not_an_object"), None, "number text kept exactly"),
    ("i_number_pos_double_huge_exp.json", Some("not_an_object"), None, "number text kept exactly"),
    ("i_number_real_neg_overflow.json", Some("not_an_object"), None, "number text kept exactly"),
    ("i_number_real_pos_overflow.json", Some("not_an_object"), None, "number text kept exactly"),
    ("i_number_real_underflow.json", Some("not_an_object"), None, "number text kept exactly, never 0"),
    ("i_number_too_big_neg_int.json", Some("not_an_object"), None, "number text kept exactly"),
    ("i_number_too_big_pos_int.json", Some("not_an_object"), None, "number text kept exactly"),
    ("i_number_very_big_negative_int.json", Some("not_an_object"), None, "number text kept exactly"),
    // Escaped lone surrogates cannot become UTF-8 output.
    ("i_object_key_lone_2nd_surrogate.json", Some("lone_surrogate"), Some("lone_surrogate"), "\\uDFAA key"),
    (
        "i_string_1st_surrogate_but_2nd_missing.json",
        Some("lone_surrogate"),
        Some("lone_surrogate"),
        "\\uDADA",
    ),
    (
        "i_string_1st_valid_surrogate_2nd_invalid.json",
        Some("lone_surrogate"),
        Some("lone_surrogate"),
        "\\uD888\\u1234",
    ),
    (
        "i_string_incomplete_surrogate_and_escape_valid.json",
        Some("lone_surrogate"),
        Some("lone_surrogate"),
        "\\uD800\\n",
    ),
    ("i_string_incomplete_surrogate_pair.json", Some("lone_surrogate"), Some("lone_surrogate"), "\\uDd1ea"),
    (
        "i_string_incomplete_surrogates_escape_valid.json",
        Some("lone_surrogate"),
        Some("lone_surrogate"),
        "\\uD800\\uD800\\n",
    ),
    ("i_string_invalid_lonely_surrogate.json", Some("lone_surrogate"), Some("lone_surrogate"), "\\ud800"),
    ("i_string_invalid_surrogate.json", Some("lone_surrogate"), Some("lone_surrogate"), "\\ud800abc"),
    (
        "i_string_inverted_surrogates_U+1D11E.json",
        Some("lone_surrogate"),
        Some("lone_surrogate"),
        "low before high",
    ),
    ("i_string_lone_second_surrogate.json", Some("lone_surrogate"), Some("lone_surrogate"), "\\uDFAA"),
    // Bytes that are not UTF-8 cannot be written to a UTF-8 export.
    ("i_string_UTF-16LE_with_BOM.json", Some("invalid_utf8"), Some("invalid_utf8"), "UTF-16 is not UTF-8"),
    ("i_string_UTF-8_invalid_sequence.json", Some("invalid_utf8"), Some("invalid_utf8"), "invalid UTF-8"),
    ("i_string_UTF8_surrogate_U+D800.json", Some("invalid_utf8"), Some("invalid_utf8"), "encoded surrogate"),
    ("i_string_invalid_utf-8.json", Some("invalid_utf8"), Some("invalid_utf8"), "invalid UTF-8"),
    ("i_string_iso_latin_1.json", Some("invalid_utf8"), Some("invalid_utf8"), "Latin-1 is not UTF-8"),
    (
        "i_string_lone_utf8_continuation_byte.json",
        Some("invalid_utf8"),
        Some("invalid_utf8"),
        "invalid UTF-8",
    ),
    ("i_string_not_in_unicode_range.json", Some("invalid_utf8"), Some("invalid_utf8"), "beyond U+10FFFF"),
    ("i_string_overlong_sequence_2_bytes.json", Some("invalid_utf8"), Some("invalid_utf8"), "overlong"),
    ("i_string_overlong_sequence_6_bytes.json", Some("invalid_utf8"), Some("invalid_utf8"), "overlong"),
    (
        "i_string_overlong_sequence_6_bytes_null.json",
        Some("invalid_utf8"),
        Some("invalid_utf8"),
        "overlong NUL",
    ),
    ("i_string_truncated-utf-8.json", Some("invalid_utf8"), Some("invalid_utf8"), "truncated"),
    // UTF-16 without BOM starts with a NUL byte (valid UTF-8, invalid JSON) before its first
    // non-UTF-8 byte, so the first fault found is the JSON one.
    ("i_string_utf16BE_no_BOM.json", Some("invalid_json"), Some("invalid_json"), "UTF-16BE: NUL first"),
    ("i_string_utf16LE_no_BOM.json", Some("invalid_json"), Some("invalid_json"), "UTF-16LE: NUL after '['"),
    // Depth 500 is past the limit of 128.
    ("i_structure_500_nested_arrays.json", Some("too_deep"), Some("too_deep"), "depth limit 128"),
    // A BOM is skipped at the start of the stream only (tested separately); mid-stream and
    // inside a record it is an error.
    ("i_structure_UTF-8_BOM_empty_object.json", Some("invalid_json"), Some("invalid_json"), "BOM mid-stream"),
];

#[test]
fn jsontestsuite_i_files_follow_the_written_decisions() {
    let dir = corpora_or_skip!();
    let goods = profiles(&dir);
    let all = files(&dir.join("jsontestsuite/test_parsing"), "i_");
    assert_eq!(all.len(), I_DECISIONS.len(), "one decision per i_ file");
    for (name, x) in &all {
        let &(_, record, field, why) =
            I_DECISIONS.iter().find(|d| d.0 == name).unwrap_or_else(|| panic!("no decision for {name}"));
        let (stream, first, _) = sandwich(&goods[0], x, &goods[1], Variant::Lf);
        let r = run(&id_request(Format::Json), true, &ndjson(&stream));
        let got = r.skipped.first().map(|e| e.code().as_str());
        assert_eq!(got, record, "{name} as a record ({why}): {:?}", r.skipped);
        if record.is_some() {
            assert_eq!(r.skipped[0].line(), Some(first), "{name}");
        }
        assert_eq!(r.stats.users_written, 2 + record.is_none() as u64, "{name}");
        let text = trim_json_ws(x);
        let spliced = splice(name, text);
        for (path, input) in [("ndjson", ndjson(&spliced)), ("json", Input::Json(spliced.clone()))] {
            for format in [Format::Json, Format::Csv] {
                let r = run(&v_request(format), false, &input);
                let got = r.err.as_ref().map(|e| e.code().as_str());
                assert_eq!(got, field, "{name} as a field value via {path} ({why}): {:?}", r.err);
                if let (Some(e), "ndjson") = (&r.err, path) {
                    assert_eq!(e.line(), Some(1), "{name}");
                    assert_eq!(e.user_id(), Some(&*format!("jsts|{name}")), "{name}: user_id named");
                }
                if field.is_none() {
                    // Accepted means lossless: the number text comes out unchanged.
                    let number = &text[1..text.len() - 1];
                    match format {
                        Format::Json => {
                            let mut want = spliced.clone();
                            want.push(b'\n');
                            assert_eq!(r.out, want, "{name}");
                        }
                        Format::Csv => {
                            let table = csv_table(&r.out);
                            let cell = format!("'[{}]", std::str::from_utf8(number).unwrap());
                            assert_eq!(table[1][2], cell, "{name}");
                        }
                    }
                }
            }
        }
    }
    // The BOM file at the very start of a stream and as a JSON text: the BOM is skipped.
    let bom = read(&dir.join("jsontestsuite/test_parsing/i_structure_UTF-8_BOM_empty_object.json"));
    let mut stream = bom.clone();
    stream.push(b'\n');
    stream.extend_from_slice(&goods[0]);
    for chunks in [vec![stream.clone()], stream.chunks(1).map(<[u8]>::to_vec).collect()] {
        let r = run(&id_request(Format::Json), false, &Input::Ndjson(chunks));
        assert!(r.err.is_none(), "{:?}", r.err);
        assert_eq!(r.stats.users_written, 2);
        assert!(r.out.starts_with(b"{}\n"));
    }
    let r = run(&id_request(Format::Json), false, &Input::Json(bom));
    assert_eq!((r.err, r.out), (None, b"{}\n".to_vec()));
}

/// `test_transform`: no silent rounding, duplicate keys rejected, NFC/NFD keys kept apart.
#[test]
fn jsontestsuite_transform_probes() {
    let dir = corpora_or_skip!();
    let mut oracle = Oracle::new("transform");
    let mut checked = 0;
    for (name, raw) in files(&dir.join("jsontestsuite/test_transform"), "") {
        let text = trim_json_ws(&raw).to_vec();
        let spliced = splice(&name, &text);
        let expect = if name.starts_with("object_same_key") {
            Some("duplicate_key")
        } else if name.contains("escaped_invalid_codepoint") {
            Some("lone_surrogate")
        } else if name.contains("invalid_codepoint") {
            Some("invalid_utf8")
        } else {
            None
        };
        for (path, input) in
            [("ndjson", ndjson(&lf_to_space(&spliced))), ("json", Input::Json(spliced.clone()))]
        {
            for format in [Format::Json, Format::Csv] {
                let what = format!("{name} via {path} as {format:?}");
                let r = run(&v_request(format), false, &input);
                assert_eq!(r.err.as_ref().map(|e| e.code().as_str()), expect, "{what}: {:?}", r.err);
                if expect.is_some() {
                    assert!(
                        r.out.len() <= "user_id,email,v\n".len(),
                        "{what}: nothing of the record written"
                    );
                    continue;
                }
                match format {
                    Format::Json => {
                        // Each probe is compact and escape-free or a NUL escape JSON.stringify also writes.
                        let mut want = splice(&name, &text);
                        want.push(b'\n');
                        assert_eq!(r.out, want, "{what}: changed");
                        oracle.ndjson(&r.out, &[String::from_utf8(spliced.clone()).unwrap()], false);
                    }
                    Format::Csv => {
                        let table = csv_table(&r.out);
                        let want = format!("'{}", std::str::from_utf8(&text).unwrap());
                        let want = if text.starts_with(b"[") || text.starts_with(b"{") {
                            want
                        } else {
                            want[1..].to_string()
                        };
                        assert_eq!(table[1][2], want, "{what}");
                        oracle.csv(&r.out, &table);
                    }
                }
            }
        }
        if name.starts_with("number_") {
            // The same number as a bare field value (not inside an array): written as it came.
            let bare = &text[1..text.len() - 1];
            let spliced = splice(&name, bare);
            for input in [ndjson(&spliced), Input::Json(spliced.clone())] {
                let r = run(&v_request(Format::Json), false, &input);
                let mut want = spliced.clone();
                want.push(b'\n');
                assert_eq!(r.out, want, "{name}: bare number text kept");
                oracle.ndjson(&r.out, &[String::from_utf8(spliced.clone()).unwrap()], false);
                let r = run(&v_request(Format::Csv), false, &input);
                let table = csv_table(&r.out);
                assert_eq!(table[1][2].as_bytes(), bare, "{name}: bare number in CSV");
            }
        }
        if name.starts_with("object_key_nf") {
            let r = run(&v_request(Format::Json), false, &Input::Json(spliced.clone()));
            let line = &ndjson_lines(&r.out)[0];
            let keys: Vec<&String> = line["v"].as_object().unwrap().keys().collect();
            assert_eq!(keys.len(), 2, "{name}: NFC and NFD keys stay distinct");
            for k in keys {
                assert!(contains(&text, k.as_bytes()), "{name}: key bytes unchanged");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 22);
    oracle.check();
}

// ---------------------------------------------------------------------------------------------
// 2. csv-spectrum

fn spectrum(dir: &Path) -> Vec<(String, Vec<u8>, Value)> {
    let names: Vec<String> = files(&dir.join("csv-spectrum/csvs"), "").into_iter().map(|(n, _)| n).collect();
    names
        .into_iter()
        .map(|n| {
            let stem = n.trim_end_matches(".csv").to_string();
            let csv = read(&dir.join("csv-spectrum/csvs").join(&n));
            let expected: Value =
                serde_json::from_slice(&read(&dir.join(format!("csv-spectrum/json/{stem}.json")))).unwrap();
            (stem, csv, expected)
        })
        .collect()
}

/// Before judging anything, the csv crate must reproduce csv-spectrum's expected rows.
#[test]
fn csv_spectrum_validates_the_rust_csv_oracle() {
    let dir = corpora_or_skip!();
    let mut good = 0;
    for (stem, csv_bytes, expected) in spectrum(&dir) {
        let mut reader = csv::ReaderBuilder::new().from_reader(&csv_bytes[..]);
        if stem == "location_coordinates" {
            // Known upstream defect: its JSON twin is an object with another phone number.
            let rows: Vec<csv::ByteRecord> = reader.byte_records().map(|r| r.unwrap()).collect();
            assert_eq!((rows.len(), rows[0].len()), (1, 4));
            continue;
        }
        let headers = reader.headers().unwrap().clone();
        let rows: Vec<Value> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                Value::Object(headers.iter().zip(r.iter()).map(|(h, c)| (h.to_string(), json!(c))).collect())
            })
            .collect();
        assert_eq!(Value::Array(rows), expected, "{stem}");
        good += 1;
    }
    assert_eq!(good, 11);
}

/// Spectrum rows as users → CSV/NDJSON → read back: CR/LF, CRLF, quotes, commas, empty vs
/// missing survive byte for byte; and each spectrum file pushed as NDJSON fails line by line.
#[test]
fn csv_spectrum_round_trip_and_wrong_input_type() {
    let dir = corpora_or_skip!();
    let mut oracle = Oracle::new("spectrum");
    for (stem, csv_bytes, expected) in spectrum(&dir) {
        let Value::Array(rows) = expected else { continue };
        let columns: Vec<String> = rows[0].as_object().unwrap().keys().cloned().collect();
        let mut fields: Vec<(&str, Option<&str>)> = vec![("user_id", None)];
        fields.extend(columns.iter().map(|c| (c.as_str(), None)));
        fields.push(("missing", None));
        let users: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(n, row)| {
                let mut u = row.as_object().unwrap().clone();
                u.insert("user_id".into(), json!(format!("spectrum|{stem}|{n}")));
                Value::Object(u)
            })
            .collect();
        let texts: Vec<String> = users.iter().map(|u| u.to_string()).collect();
        let nd = texts.iter().map(|t| format!("{t}\n")).collect::<String>().into_bytes();
        let array = format!("[{}]", texts.join(",")).into_bytes();
        for (path, input) in
            [("ndjson", ndjson(&nd)), ("json", Input::Json(array)), ("value", Input::Value(json!(users)))]
        {
            let what = format!("{stem} via {path}");
            let r = run(&fields_request(Format::Csv, &fields), false, &input);
            assert!(r.err.is_none(), "{what}: {:?}", r.err);
            let table = csv_table(&r.out);
            assert_eq!(table.len(), rows.len() + 1, "{what}");
            for (n, row) in rows.iter().enumerate() {
                for (c, col) in columns.iter().enumerate() {
                    let s = row[col].as_str().unwrap();
                    assert_eq!(table[n + 1][c + 1], format!("'{s}"), "{what} row {n} {col}");
                    assert!(contains(&r.out, &esc(s)), "{what}: raw bytes of {s:?}");
                }
                assert_eq!(table[n + 1][columns.len() + 1], "", "{what}: missing is an empty cell");
            }
            if stem == "newlines_crlf" {
                assert!(contains(&r.out, b"\"'Once upon \r\na time\""), "CRLF inside a value survives");
            }
            if stem == "empty" {
                assert!(
                    contains(&r.out, b",\"'\",\"'\",\n"),
                    "\"\" is \"'\", missing is empty: {:?}",
                    String::from_utf8_lossy(&r.out)
                );
            }
            oracle.csv(&r.out, &table);
            let r = run(&fields_request(Format::Json, &fields), false, &input);
            assert!(r.err.is_none(), "{what}");
            assert_eq!(ndjson_lines(&r.out), users, "{what} NDJSON");
            if path != "value" {
                oracle.ndjson(&r.out, &texts, true);
            }
        }
        // The CSV file itself pushed as NDJSON: one error per non-blank physical line.
        let r = run(&id_request(Format::Json), true, &ndjson(&csv_bytes));
        let want: Vec<u64> = csv_bytes
            .split(|&b| b == b'\n')
            .enumerate()
            .filter(|(_, l)| !trim_json_ws(l).is_empty())
            .map(|(i, _)| i as u64 + 1)
            .collect();
        let got: Vec<u64> = r.skipped.iter().map(|e| e.line().unwrap()).collect();
        assert_eq!(got, want, "{stem} as NDJSON");
        assert_eq!(r.stats.users_written, 0);
    }
    oracle.check();
}

// ---------------------------------------------------------------------------------------------
// 3 + 4. BLNS and CSV-injection payloads

fn naughty(dir: &Path) -> Vec<String> {
    let blns: Vec<String> = serde_json::from_slice(&read(&dir.join("blns/blns.json"))).unwrap();
    let payloads: Vec<String> =
        serde_json::from_slice(&read(&dir.join("csv-injection/all_payloads.json"))).unwrap();
    assert_eq!((blns.len(), payloads.len()), (515, 27));
    blns.into_iter().chain(payloads).collect()
}

/// A key usable as one path step (COMPATIBILITY.md "Field paths": `.` splits, `[` opens an index).
fn path_safe(s: &str) -> bool {
    !s.is_empty() && s.chars().count() <= 86 && !s.contains(['.', '[', ']'])
}

#[test]
fn naughty_strings_in_every_place() {
    let dir = corpora_or_skip!();
    let mut oracle = Oracle::new("naughty");
    let fixed = [
        "user_id",
        "name",
        "nickname",
        "email",
        "user_metadata.note",
        "identities[0].connection",
        "user_metadata.m",
    ];
    let (mut cells, mut headers) = (0usize, 0usize);
    for (i, s) in naughty(&dir).iter().enumerate() {
        let mut metadata = json!({"note": s, "m": {s.as_str(): "v"}});
        let key_field = (path_safe(s) && s != "note" && s != "m").then(|| format!("user_metadata.{s}"));
        if key_field.is_some() {
            metadata[s.as_str()] = json!(s);
        }
        let user = json!({"user_id": s, "name": s, "nickname": s, "email": s,
                          "user_metadata": metadata, "identities": [{"connection": s}]});
        let text = serde_json::to_string(&user).unwrap();
        let mut fields: Vec<(String, Option<String>)> = fixed.iter().map(|f| (f.to_string(), None)).collect();
        if let Some(k) = &key_field {
            fields.push((k.clone(), None));
        }
        // The string as a column name; names that clash or are too long are request errors.
        let as_column = (1..=100).contains(&s.chars().count()) && !fields.iter().any(|(n, _)| n == s);
        if as_column {
            fields.push(("given_name".into(), Some(s.clone())));
        } else if !s.is_empty() && s.chars().count() > 100 {
            let e = Field::new("given_name", Some(s)).unwrap_err();
            assert_eq!(e.code().as_str(), "invalid_request", "string {i}: too long for a column name");
        }
        let spec: Vec<(&str, Option<&str>)> =
            fields.iter().map(|(n, e)| (n.as_str(), e.as_deref())).collect();
        let ndjson_line = format!("{text}\n").into_bytes();
        let inputs = [
            ("ndjson", ndjson(&ndjson_line)),
            ("json", Input::Json(text.clone().into_bytes())),
            ("value", Input::Value(user.clone())),
        ];
        for (path, input) in inputs {
            let what = format!("string {i} {s:?} via {path}");
            let csv_req = fields_request(Format::Csv, &spec);
            let r = run(&csv_req, false, &input);
            assert!(r.err.is_none(), "{what}: {:?}", r.err);
            let table = csv_table(&r.out);
            assert_eq!(table.len(), 2, "{what}: one header, one row");
            assert!(table.iter().all(|row| row.len() == spec.len()), "{what}: column count");
            let expected_header: Vec<String> = csv_req.columns().map(header_cell).collect();
            assert_eq!(table[0], expected_header, "{what}: header");
            let mut expected_row: Vec<String> = vec![format!("'{s}"); 6];
            expected_row.push(format!("'{}", serde_json::to_string(&json!({s.as_str(): "v"})).unwrap()));
            if key_field.is_some() {
                expected_row.push(format!("'{s}"));
            }
            if as_column {
                expected_row.push(String::new());
            }
            assert_eq!(table[1], expected_row, "{what}: cells");
            assert!(contains(&r.out, &esc(s)), "{what}: raw cell bytes are ESC(s)");
            cells += expected_row.len();
            headers += 1;
            oracle.csv(&r.out, &table);
            let json_req = fields_request(Format::Json, &spec);
            let r = run(&json_req, false, &input);
            assert!(r.err.is_none(), "{what}: {:?}", r.err);
            let line = &ndjson_lines(&r.out)[0];
            for f in
                ["user_id", "name", "nickname", "email", "user_metadata.note", "identities[0].connection"]
            {
                assert_eq!(line[f], json!(s), "{what}: {f} in NDJSON");
            }
            assert_eq!(line["user_metadata.m"], json!({s.as_str(): "v"}), "{what}");
            if path != "value" {
                let mut expect = serde_json::Map::new();
                for f in &json_req.fields {
                    if f.name == "given_name" {
                        continue;
                    }
                    let v = match f.name.as_str() {
                        "user_metadata.m" => json!({s.as_str(): "v"}),
                        _ => json!(s),
                    };
                    expect.insert(f.column().to_string(), v);
                }
                oracle.ndjson(&r.out, &[Value::Object(expect).to_string()], true);
            }
        }
    }
    say(&format!("naughty strings: {cells} cells and {headers} headers checked"));
    oracle.check();
}

/// The two OWASP worked examples, byte for byte.
#[test]
fn owasp_golden_vectors() {
    let dir = corpora_or_skip!();
    let v: Value =
        serde_json::from_slice(&read(&dir.join("csv-injection/owasp_csv-injection_vectors.json"))).unwrap();
    let examples = v["owasp_examples"].as_array().unwrap();
    assert_eq!(examples.len(), 2);
    for ex in examples {
        let (input, escaped) = (ex["input"].as_str().unwrap(), ex["escaped_output"].as_str().unwrap());
        let r = run(
            &fields_request(Format::Csv, &[("name", None)]),
            false,
            &Input::Value(json!({"name": input})),
        );
        assert_eq!(r.out, format!("name\n{escaped}\n").into_bytes());
        assert_eq!(esc(input), escaped.as_bytes(), "ESC() of these tests agrees with OWASP");
    }
}

/// `blns.txt` as NDJSON: one error per non-blank line with its number, no record, still usable.
#[test]
fn blns_txt_as_ndjson() {
    let dir = corpora_or_skip!();
    let bytes = read(&dir.join("blns/blns.txt"));
    let goods = profiles(&dir);
    let mut stream = bytes.clone();
    if !stream.ends_with(b"\n") {
        stream.push(b'\n');
    }
    let good_line = stream.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    stream.extend_from_slice(&goods[0]);
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let want: Vec<u64> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !trim_json_ws(l).is_empty())
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert!(want.len() > 500);
    for chunks in [vec![stream.clone()], stream.chunks(7).map(<[u8]>::to_vec).collect()] {
        let r = run(&id_request(Format::Csv), true, &Input::Ndjson(chunks));
        assert!(r.err.is_none());
        let got: Vec<u64> = r.skipped.iter().map(|e| e.line().unwrap()).collect();
        assert_eq!(got, want);
        assert_eq!(r.stats.users_written, 1, "only the good line after blns.txt");
        assert_eq!(r.stats.lines, good_line);
        let table = csv_table(&r.out);
        assert_eq!(table[1][0], format!("'{}", user_id_of(&goods[0])));
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Auth0 sample profiles

fn date_attribute(name: &str) -> bool {
    userexport::DATE_ATTRIBUTES.contains(&name)
}

fn auth0_date(s: &str) -> bool {
    let b = s.as_bytes();
    let shape = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b.ends_with(b"Z")
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18].iter().all(|&i| b[i].is_ascii_digit());
    if !shape {
        return false;
    }
    let frac = &s[19..s.len() - 1];
    shape
        && (frac.is_empty()
            || (frac.starts_with('.')
                && (2..=10).contains(&frac.len())
                && frac[1..].bytes().all(|c| c.is_ascii_digit())))
}

#[test]
fn auth0_profiles_all_accepted_types_kept() {
    let dir = corpora_or_skip!();
    let raw = read(&dir.join("auth0-profiles/all-profiles.ndjson"));
    let lines = profiles(&dir);
    let users: Vec<Value> = lines.iter().map(|l| serde_json::from_slice(l).unwrap()).collect();
    assert_eq!(users.len(), 19);
    let mut keys: Vec<String> = Vec::new();
    for u in &users {
        for k in u.as_object().unwrap().keys() {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let all: Vec<(&str, Option<&str>)> = keys.iter().map(|k| (k.as_str(), None)).collect();
    let csv_fields: Vec<(&str, Option<&str>)> =
        all.iter().copied().filter(|(k, _)| *k != "user_metadata" && *k != "app_metadata").collect();
    assert!(csv_fields.len() <= 30);
    let text_array = format!(
        "[{}]",
        lines.iter().map(|l| String::from_utf8(l.clone()).unwrap()).collect::<Vec<_>>().join(",")
    );
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(&raw);
    let crlf: Vec<u8> =
        raw.iter().flat_map(|&b| if b == b'\n' { vec![b'\r', b'\n'] } else { vec![b] }).collect();
    let mut oracle = Oracle::new("auth0");
    let texts: Vec<String> = lines.iter().map(|l| String::from_utf8(l.clone()).unwrap()).collect();
    let mut reference_json: Option<Vec<u8>> = None;
    let mut reference_csv: Option<Vec<u8>> = None;
    let inputs = [
        ("ndjson", ndjson(&raw)),
        ("ndjson 1-byte chunks", Input::Ndjson(with_bom.chunks(1).map(<[u8]>::to_vec).collect())),
        ("ndjson crlf 5-byte chunks", Input::Ndjson(crlf.chunks(5).map(<[u8]>::to_vec).collect())),
        ("ndjson bom", ndjson(&with_bom)),
        ("json", Input::Json(text_array.clone().into_bytes())),
        (
            "page",
            Input::Json(
                format!("{{\"start\":0,\"limit\":50,\"length\":19,\"users\":{text_array},\"total\":19}}")
                    .into_bytes(),
            ),
        ),
        ("value", Input::Value(Value::Array(users.clone()))),
    ];
    for (path, input) in inputs {
        let r = run(&fields_request(Format::Json, &all), false, &input);
        assert!(r.err.is_none(), "{path}: {:?}", r.err);
        let out = ndjson_lines(&r.out);
        assert_eq!(out, users, "{path}: NDJSON gives back equal objects (types kept)");
        if path != "value" {
            // Every byte-level input gives the same bytes.
            match &reference_json {
                None => reference_json = Some(r.out.clone()),
                Some(first) => assert_eq!(&r.out, first, "{path}: differs from whole NDJSON"),
            }
            oracle.ndjson(&r.out, &texts, true);
        }
        let r = run(&fields_request(Format::Csv, &csv_fields), false, &input);
        assert!(r.err.is_none(), "{path}: {:?}", r.err);
        let table = csv_table(&r.out);
        assert_eq!(table.len(), 20);
        assert_eq!(table[0], csv_fields.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>());
        for (u, row) in users.iter().zip(&table[1..]) {
            for ((k, _), cell) in csv_fields.iter().zip(row) {
                let what = format!("{path} {} {k}", u["user_id"]);
                match u.get(*k) {
                    None | Some(Value::Null) => assert_eq!(cell, "", "{what}"),
                    Some(Value::String(s)) if date_attribute(k) && auth0_date(s) => {
                        assert_eq!(cell, s, "{what}")
                    }
                    Some(v) => check_v_cell(&what, cell, v, None),
                }
            }
        }
        if path != "value" {
            match &reference_csv {
                None => reference_csv = Some(r.out.clone()),
                Some(first) => assert_eq!(&r.out, first, "{path}: CSV differs from whole NDJSON"),
            }
        }
        oracle.csv(&r.out, &table);
    }
    // The characters the plan names are really there, and came through untouched.
    let csv = String::from_utf8(reference_csv.unwrap()).unwrap();
    for needle in ["|", "%2F", "$2b$", "+14258831929", "{SSHA384}"] {
        assert!(texts.iter().any(|t| t.contains(needle)), "corpus has {needle}");
        assert!(csv.contains(needle) || needle == "{SSHA384}", "CSV keeps {needle}");
    }
    let nd = String::from_utf8(reference_json.unwrap()).unwrap();
    assert!(nd.contains("{SSHA384}") && nd.contains("$2b$") && nd.contains("%2F"));
    oracle.check();
}

// ---------------------------------------------------------------------------------------------
// 6. json-benchmark

#[test]
fn json_benchmark_roundtrip_and_jsonchecker() {
    let dir = corpora_or_skip!();
    let mut oracle = Oracle::new("json_benchmark");
    for (name, raw) in files(&dir.join("json-benchmark/data/roundtrip"), "roundtrip") {
        let text = trim_json_ws(&raw).to_vec();
        let spliced = splice(&name, &text);
        for input in [ndjson(&spliced), Input::Json(spliced.clone())] {
            let r = run(&v_request(Format::Json), false, &input);
            let mut want = spliced.clone();
            want.push(b'\n');
            assert_eq!(r.out, want, "{name}: number text kept byte for byte");
            oracle.ndjson(&r.out, &[String::from_utf8(spliced.clone()).unwrap()], false);
            let r = run(&v_request(Format::Csv), false, &input);
            let table = csv_table(&r.out);
            assert_eq!(table[1][2], format!("'{}", std::str::from_utf8(&text).unwrap()), "{name}");
        }
    }
    let goods = profiles(&dir);
    for (name, raw) in files(&dir.join("json-benchmark/data/jsonchecker"), "") {
        if name.starts_with("pass") || name == "fail18_EXCLUDE.json" {
            let spliced = splice(&name, trim_json_ws(&raw));
            for input in [ndjson(&lf_to_space(&spliced)), Input::Json(spliced.clone())] {
                let r = run(&v_request(Format::Json), false, &input);
                assert!(r.err.is_none(), "{name}: {:?}", r.err);
                let want: Value = serde_json::from_slice(&spliced).unwrap();
                assert_eq!(ndjson_lines(&r.out)[0]["v"], want["v"], "{name}");
                oracle.ndjson(&r.out, &[String::from_utf8(spliced.clone()).unwrap()], false);
            }
        } else if name == "fail01_EXCLUDE.json" {
            let (stream, first, _) = sandwich(&goods[0], &raw, &goods[1], Variant::Lf);
            let r = run(&id_request(Format::Json), true, &ndjson(&stream));
            assert_eq!(r.skipped.len(), 1);
            assert_eq!((r.skipped[0].code().as_str(), r.skipped[0].line()), ("not_an_object", Some(first)));
        } else if name.starts_with("fail") {
            let x = trim_json_ws(&raw);
            let (stream, first, good2) = sandwich(&goods[0], x, &goods[1], Variant::Lf);
            let r = run(&id_request(Format::Json), true, &ndjson(&stream));
            assert!(!r.skipped.is_empty(), "{name}: accepted");
            assert!(r.skipped.iter().all(|e| (first..good2).contains(&e.line().unwrap())), "{name}");
            assert_eq!(r.stats.users_written, 2, "{name}");
            let r = run(&id_request(Format::Json), false, &Input::Json(raw.clone()));
            assert!(r.err.is_some() || r.stats.users_written == 0, "{name}: accepted as JSON text");
        }
    }
    oracle.check();
}

/// canada.json and citm_catalog.json as one user's metadata: NDJSON equal, CSV cells bigger
/// than Python's default field limit, not truncated.
#[test]
fn json_benchmark_large_documents_as_user_metadata() {
    let dir = corpora_or_skip!();
    let mut oracle = Oracle::new("large");
    for (file, leaf) in [("canada.json", "features"), ("citm_catalog.json", "performances")] {
        let raw = read(&dir.join("json-benchmark/data").join(file));
        let mut text = br#"{"user_id":"big|1","user_metadata":"#.to_vec();
        text.extend_from_slice(trim_json_ws(&raw));
        text.push(b'}');
        let reference: Value = serde_json::from_slice(&text).unwrap();
        for (path, input) in [("ndjson", ndjson(&lf_to_space(&text))), ("json", Input::Json(text.clone()))] {
            let what = format!("{file} via {path}");
            let r = run(
                &fields_request(Format::Json, &[("user_id", None), ("user_metadata", None)]),
                false,
                &input,
            );
            assert!(r.err.is_none(), "{what}: {:?}", r.err);
            assert_eq!(ndjson_lines(&r.out), vec![reference.clone()], "{what}");
            oracle.ndjson(&r.out, &[String::from_utf8(text.clone()).unwrap()], false);
            let field = format!("user_metadata.{leaf}");
            let r = run(&fields_request(Format::Csv, &[("user_id", None), (&field, None)]), false, &input);
            assert!(r.err.is_none(), "{what}: {:?}", r.err);
            let table = csv_table(&r.out);
            let cell = &table[1][1];
            assert!(cell.chars().count() > 131_072, "{what}: cell of {} chars", cell.len());
            check_v_cell(&what, cell, &reference["user_metadata"][leaf], None);
            oracle.csv(&r.out, &table);
        }
    }
    oracle.check();
}

/// Standard base64 (RFC 4648) to bytes; only to rebuild the corpus's raw fragments.
fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap_or_else(|| panic!("base64 {s:?}")) as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// BLNS's base64 fragments put raw inside a JSON string (only `"`, `\` and controls escaped):
/// the 66 invalid UTF-8 ones give `invalid_utf8` naming line 2, the others round-trip exactly.
#[test]
fn blns_base64_fragments_raw_in_a_string() {
    let dir = corpora_or_skip!();
    let goods = profiles(&dir);
    let list: Vec<String> = serde_json::from_slice(&read(&dir.join("blns/blns.base64.json"))).unwrap();
    let (mut invalid, mut valid) = (0, 0);
    for (n, b64) in list.iter().enumerate() {
        let raw = base64_decode(b64);
        let mut line = format!("{{\"user_id\":\"b64|{n}\",\"name\":\"").into_bytes();
        for &b in &raw {
            match b {
                b'"' => line.extend_from_slice(b"\\\""),
                b'\\' => line.extend_from_slice(b"\\\\"),
                0..=0x1f => line.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                _ => line.push(b),
            }
        }
        line.extend_from_slice(b"\"}");
        let (stream, first, _) = sandwich(&goods[0], &line, &goods[1], Variant::Lf);
        let request = fields_request(Format::Json, &[("user_id", None), ("name", None)]);
        let r = run(&request, true, &ndjson(&stream));
        match String::from_utf8(raw) {
            Ok(text) => {
                assert!(r.skipped.is_empty(), "fragment {n}: {:?}", r.skipped);
                assert_eq!(ndjson_lines(&r.out)[1]["name"], json!(text), "fragment {n}");
                valid += 1;
            }
            Err(_) => {
                assert_eq!(r.skipped.len(), 1, "fragment {n}");
                let e = &r.skipped[0];
                assert_eq!((e.code().as_str(), e.line()), ("invalid_utf8", Some(first)), "fragment {n}: {e}");
                assert!(e.message().contains("byte"), "fragment {n}: the offset is named: {e}");
                assert_eq!(r.stats.users_written, 2);
                invalid += 1;
            }
        }
    }
    assert_eq!((valid, invalid), (list.len() - 66, 66));
}

/// Every naughty string as a user in one NDJSON stream (BOM first, CRLF endings): whole, one
/// byte at a time and at pseudo-random offsets (inside UTF-8 sequences, CRLF and the BOM)
/// give the same bytes.
#[test]
fn naughty_stream_output_does_not_depend_on_chunking() {
    let dir = corpora_or_skip!();
    let mut stream = b"\xEF\xBB\xBF".to_vec();
    for (i, s) in naughty(&dir).iter().enumerate() {
        stream.extend_from_slice(
            json!({"user_id": format!("n|{i}"), "name": s, "user_metadata": {"k": s}}).to_string().as_bytes(),
        );
        stream.extend_from_slice(if i % 2 == 0 { b"\r\n" } else { b"\n" });
    }
    let mut state = 0x2545_f491u32;
    let mut random = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let step = 1 + state as usize % 13;
        random.push(stream[at..(at + step).min(stream.len())].to_vec());
        at += step;
    }
    for format in [Format::Json, Format::Csv] {
        let request = fields_request(format, &[("user_id", None), ("name", None), ("user_metadata.k", None)]);
        let whole = run(&request, false, &ndjson(&stream));
        assert!(whole.err.is_none(), "{:?}", whole.err);
        assert_eq!(whole.stats.users_written, 542);
        for chunks in [stream.chunks(1).map(<[u8]>::to_vec).collect(), random.clone()] {
            let r = run(&request, false, &Input::Ndjson(chunks));
            assert_eq!(r.out, whole.out, "{format:?}: chunked output differs");
        }
        match format {
            Format::Json => assert_eq!(ndjson_lines(&whole.out).len(), 542),
            Format::Csv => assert_eq!(csv_table(&whole.out).len(), 543),
        }
    }
}
