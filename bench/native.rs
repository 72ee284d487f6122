//! Native throughput benchmark: the userexport core against a serde_json::Value baseline, same job, same bytes.
//!
//! `cargo bench --bench throughput` generates the seeded data sets under `target/bench-data/`
//! (once), then times NDJSON→CSV and NDJSON→NDJSON for the job in `bench/job.json`: input
//! pushed in 64 KiB chunks, output pulled in 64 KiB chunks, median of several runs. The
//! baseline parses every line into a `serde_json::Value` and writes the same bytes; both
//! outputs are compared by sha256 before any number is printed, so a fast wrong answer
//! cannot pass. Throughput is input bytes per median CPU second of the benchmark thread
//! (wall seconds are printed beside it: the machine is shared). Results also go to `target/bench-data/native-results.json` for the Node runner.
//!
//! Flags (after `--`): `--smoke` (tiny input, one run: keeps the bench from rotting in CI;
//! also `USEREXPORT_BENCH_SMOKE=1`), `--generate` (write the data files and stop),
//! `--runs N`, `--sizes 100k,1m`, `--only csv|json`, `--profile` (core only, unchecked, for `perf record`;
//! with `--stream` it reads the file 1 MiB at a time inside each run, as the package's hosts do).

mod gen;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;
use sha2::{Digest, Sha256};
use userexport::{
    parse_path, write_json_string, Exporter, Format, Options, Pull, Query, Request, Step, DATE_ATTRIBUTES,
};

const SEED: u64 = 0x5EED_0A07;
const CHUNK: usize = 64 * 1024;
const JOB: &str = include_str!("job.json");
/// A query over three fields (`*` patterns on the case-folded `email`, a number range, a term
/// read through the `identities` array) that every generated user matches: the rows with and
/// without it write the same bytes, so the difference is what evaluating the query costs.
const QUERY_ALL: &str =
    "(email:*example* OR email.domain:*.jp) AND logins_count:[0 TO *] AND NOT identities.connection:\"no-such-connection\"";
/// The same three fields, keeping about a third of the users (what a real filter looks like).
const QUERY_SOME: &str = "identities.connection:github OR (email.domain:*.com AND logins_count:[2500 TO *])";

/// What [`QUERY_SOME`] keeps, written the plain way for the baseline.
fn keep_some(user: &Value) -> bool {
    let conn =
        user["identities"].as_array().is_some_and(|ids| ids.iter().any(|i| i["connection"] == "github"));
    let domain = user["email"]
        .as_str()
        .and_then(|e| e.rsplit_once('@'))
        .is_some_and(|(_, d)| d.to_lowercase().ends_with(".com"));
    let logins = user["logins_count"].as_u64().is_some_and(|n| n >= 2500);
    conn || (domain && logins)
}

struct Args {
    smoke: bool,
    generate_only: bool,
    /// Only the core, no checks: a clean process to run under `perf record`.
    profile: bool,
    /// With `profile`: read the file in 1 MiB reads inside each run, as the package's hosts do.
    stream: bool,
    runs: usize,
    sizes: Vec<u64>,
    formats: Vec<Format>,
}

fn parse_count(s: &str) -> u64 {
    let s = s.to_ascii_lowercase();
    let (n, mul) = match s.strip_suffix('m') {
        Some(n) => (n, 1_000_000),
        None => match s.strip_suffix('k') {
            Some(n) => (n, 1_000),
            None => (s.as_str(), 1),
        },
    };
    n.parse::<u64>().unwrap_or_else(|_| panic!("bad size {s:?}")) * mul
}

fn args() -> Args {
    let mut a = Args {
        smoke: std::env::var("USEREXPORT_BENCH_SMOKE").is_ok_and(|v| v == "1"),
        generate_only: false,
        profile: false,
        stream: false,
        runs: 5,
        sizes: vec![100_000, 1_000_000],
        formats: vec![Format::Csv, Format::Json],
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--smoke" => a.smoke = true,
            "--generate" => a.generate_only = true,
            "--profile" => a.profile = true,
            "--stream" => a.stream = true,
            "--runs" => a.runs = it.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            "--sizes" => a.sizes = it.next().expect("--sizes 100k,1m").split(',').map(parse_count).collect(),
            "--only" => {
                a.formats = match it.next().as_deref() {
                    Some("csv") => vec![Format::Csv],
                    Some("json") => vec![Format::Json],
                    other => panic!("--only csv|json, got {other:?}"),
                }
            }
            // cargo passes `--bench` to harness-less benches; filters are not used here.
            _ => {}
        }
    }
    if a.smoke {
        a.runs = 1;
        a.sizes = vec![2_000];
    }
    a
}

fn size_name(n: u64) -> String {
    if n % 1_000_000 == 0 {
        format!("{}m", n / 1_000_000)
    } else if n % 1_000 == 0 {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

fn data_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-data")
}

/// The data file for `count` users, generated on first use.
fn data_file(count: u64) -> PathBuf {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    let path = dir.join(format!("users-{}.ndjson", size_name(count)));
    if !path.exists() {
        let t = Instant::now();
        gen::write_file(&path, SEED, count).expect("write the data file");
        eprintln!("generated {} in {:.1} s", path.display(), t.elapsed().as_secs_f64());
    }
    path
}

/// The job in `format`, parsed once per format: the timed runs get a clone, not a parse.
fn request(format: Format) -> Request {
    let mut job: Value = serde_json::from_str(JOB).expect("bench/job.json is JSON");
    job["format"] = Value::from(format.as_str());
    Request::from_json(&job.to_string()).expect("the job is a valid request")
}

/// Where output goes: counted always, hashed only in the checking run (hashing is not what is timed).
struct Sink {
    bytes: u64,
    hash: Option<Sha256>,
}

impl Sink {
    fn new(hash: bool) -> Sink {
        Sink { bytes: 0, hash: hash.then(Sha256::new) }
    }
    fn write(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        if let Some(h) = &mut self.hash {
            h.update(data);
        }
    }
    fn hex(self) -> String {
        let digest = self.hash.expect("a hashing sink").finalize();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The core as a host would drive it: push a chunk, pull what is ready, repeat, finish.
fn run_core(input: &[u8], request: &Request, query: Option<&Query>, sink: &mut Sink) -> u64 {
    let mut ex = Exporter::new(
        request.clone(),
        Options { chunk_size: CHUNK, query: query.cloned(), ..Options::default() },
    );
    let drain = |ex: &mut Exporter, sink: &mut Sink| {
        while let Pull::Data(d) = ex.pull().expect("the data set has no bad record") {
            sink.write(d);
        }
    };
    for chunk in input.chunks(CHUNK) {
        ex.push_ndjson(chunk).expect("push");
        drain(&mut ex, sink);
    }
    ex.finish().expect("finish");
    drain(&mut ex, sink);
    ex.stats().users_written
}

/// [`run_core`] reading the file `path` 1 MiB at a time into one reused buffer.
fn run_core_streaming(path: &Path, request: &Request, sink: &mut Sink) -> u64 {
    use std::io::Read;
    let mut file = std::fs::File::open(path).expect("open data");
    let mut buf = vec![0u8; 1 << 20];
    let mut ex = Exporter::new(request.clone(), Options { chunk_size: CHUNK, ..Options::default() });
    let drain = |ex: &mut Exporter, sink: &mut Sink| {
        while let Pull::Data(d) = ex.pull().expect("the data set has no bad record") {
            sink.write(d);
        }
    };
    loop {
        let n = file.read(&mut buf).expect("read data");
        if n == 0 {
            break;
        }
        ex.push_ndjson(&buf[..n]).expect("push");
        drain(&mut ex, sink);
    }
    ex.finish().expect("finish");
    drain(&mut ex, sink);
    ex.stats().users_written
}

/// The same job done the usual way: parse each line into a `serde_json::Value`, pick, write.
struct Baseline {
    paths: Vec<Vec<Step>>,
    /// Per field: `"column":` for NDJSON.
    keys: Vec<Vec<u8>>,
    header: Vec<u8>,
    date: Vec<bool>,
}

impl Baseline {
    fn new() -> Baseline {
        let job: Value = serde_json::from_str(JOB).expect("bench/job.json is JSON");
        let fields = job["fields"].as_array().expect("fields");
        let mut b = Baseline { paths: Vec::new(), keys: Vec::new(), header: Vec::new(), date: Vec::new() };
        for (i, f) in fields.iter().enumerate() {
            let name = f["name"].as_str().expect("name");
            let column = f.get("export_as").and_then(Value::as_str).unwrap_or(name);
            b.paths.push(parse_path(name).expect("a valid path"));
            let mut key = Vec::new();
            write_json_string(&mut key, column.as_bytes());
            key.push(b':');
            b.keys.push(key);
            if i > 0 {
                b.header.push(b',');
            }
            // The job's column names need no escaping (checked against the core's header below).
            b.header.extend_from_slice(column.as_bytes());
            b.date.push(DATE_ATTRIBUTES.contains(&name));
        }
        b.header.push(b'\n');
        b
    }

    fn pick<'v>(path: &[Step], mut v: &'v Value) -> Option<&'v Value> {
        for step in path {
            v = match (step, v) {
                (Step::Key(k), Value::Object(m)) => m.get(k)?,
                (Step::Index(i), Value::Array(a)) => a.get(*i as usize)?,
                _ => return None,
            };
        }
        Some(v)
    }

    fn cell(out: &mut Vec<u8>, text: &[u8]) {
        out.extend_from_slice(b"\"'");
        for &b in text {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    }

    fn run(&self, input: &[u8], format: Format, sink: &mut Sink) -> u64 {
        self.run_filtered(input, format, sink, &|_| true)
    }

    /// [`Baseline::run`] keeping only the users `keep` accepts (returns the users written).
    fn run_filtered(
        &self,
        input: &[u8],
        format: Format,
        sink: &mut Sink,
        keep: &dyn Fn(&Value) -> bool,
    ) -> u64 {
        let mut out = Vec::with_capacity(2 * CHUNK);
        if format == Format::Csv {
            out.extend_from_slice(&self.header);
        }
        let mut users = 0;
        let mut text = Vec::new();
        for line in input.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let user: Value = serde_json::from_slice(line).expect("valid JSON");
            if !keep(&user) {
                continue;
            }
            users += 1;
            match format {
                Format::Json => {
                    out.push(b'{');
                    let mut first = true;
                    for (path, key) in self.paths.iter().zip(&self.keys) {
                        let Some(v) = Self::pick(path, &user) else { continue };
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        out.extend_from_slice(key);
                        serde_json::to_writer(&mut out, v).expect("write to a Vec");
                    }
                    out.extend_from_slice(b"}\n");
                }
                Format::Csv => {
                    for (i, path) in self.paths.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        match Self::pick(path, &user) {
                            None | Some(Value::Null) => {}
                            Some(Value::Bool(b)) => {
                                out.extend_from_slice(if *b { b"true" } else { b"false" })
                            }
                            Some(Value::Number(n)) => out.extend_from_slice(n.to_string().as_bytes()),
                            Some(Value::String(s)) if self.date[i] && is_auth0_date(s) => {
                                out.extend_from_slice(s.as_bytes())
                            }
                            Some(Value::String(s)) => Self::cell(&mut out, s.as_bytes()),
                            Some(v) => {
                                text.clear();
                                serde_json::to_writer(&mut text, v).expect("write to a Vec");
                                Self::cell(&mut out, &text);
                            }
                        }
                    }
                    out.push(b'\n');
                }
            }
            if out.len() >= CHUNK {
                for c in out.chunks(CHUNK) {
                    sink.write(c);
                }
                out.clear();
            }
        }
        sink.write(&out);
        users
    }
}

fn is_auth0_date(s: &str) -> bool {
    let b = s.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd";
    if b.len() < 20
        || !b[..19].iter().zip(shape).all(|(&c, &p)| if p == b'd' { c.is_ascii_digit() } else { c == p })
    {
        return false;
    }
    let rest = &b[19..];
    match rest {
        [b'Z'] => true,
        [b'.', frac @ .., b'Z'] => (1..=9).contains(&frac.len()) && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

struct Row {
    size: String,
    format: &'static str,
    engine: &'static str,
    input_bytes: u64,
    output_bytes: u64,
    users: u64,
    /// Median CPU seconds (what the MB/s figures use) and median wall seconds.
    seconds: f64,
    wall: f64,
    sha256: String,
}

/// Nanoseconds this thread has run on a CPU (Linux schedstat). Other helpers share this
/// 2-core machine, so wall time alone would measure their load as much as our code.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Median wall seconds, median CPU seconds (wall when schedstat is missing), users.
fn time_runs(runs: usize, mut f: impl FnMut() -> u64) -> (f64, f64, u64) {
    let mut wall = Vec::with_capacity(runs);
    let mut cpu = Vec::with_capacity(runs);
    let mut users = 0;
    for _ in 0..runs {
        let c = thread_cpu_ns();
        let t = Instant::now();
        users = std::hint::black_box(f());
        let w = t.elapsed().as_secs_f64();
        wall.push(w);
        cpu.push(match (c, thread_cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => w,
        });
    }
    (median(wall), median(cpu), users)
}

fn main() {
    let args = args();
    if args.generate_only {
        for &n in &args.sizes {
            println!("{}", data_file(n).display());
        }
        return;
    }
    if args.profile {
        for &count in &args.sizes {
            // With --stream the file is read 1 MiB at a time inside the timed run, as the npm
            // package's hosts read it (the CLI's 1 MiB reads): a whole-process pair then compares
            // like with like, where reading 1.2 GB into memory first costs ~0.9 s of its own.
            let input =
                if args.stream { Vec::new() } else { std::fs::read(data_file(count)).expect("read data") };
            let bytes = if args.stream {
                std::fs::metadata(data_file(count)).expect("data").len()
            } else {
                input.len() as u64
            };
            for &format in &args.formats {
                let request = request(format);
                let (_, cpu, _) = time_runs(args.runs, || {
                    if args.stream {
                        run_core_streaming(&data_file(count), &request, &mut Sink::new(false))
                    } else {
                        run_core(&input, &request, None, &mut Sink::new(false))
                    }
                });
                println!("{} {}: {:.1} MB/s", size_name(count), format.as_str(), bytes as f64 / 1e6 / cpu);
            }
        }
        return;
    }
    let baseline = Baseline::new();
    let mut rows = Vec::new();
    let mut costs = Vec::new();
    for &count in &args.sizes {
        let input = if args.smoke {
            gen::ndjson(SEED, count)
        } else {
            std::fs::read(data_file(count)).expect("read data")
        };
        for &format in &args.formats {
            let fmt = format.as_str();
            let request = request(format);
            // Checking run (untimed): both engines, hashed, must agree byte for byte.
            let mut core_sink = Sink::new(true);
            let core_users = run_core(&input, &request, None, &mut core_sink);
            let core_bytes = core_sink.bytes;
            let core_hash = core_sink.hex();
            let mut base_sink = Sink::new(true);
            let base_users = baseline.run(&input, format, &mut base_sink);
            let base_bytes = base_sink.bytes;
            let base_hash = base_sink.hex();
            assert_eq!(core_users, count, "every generated user is written");
            assert_eq!(base_users, count);
            assert_eq!(
                core_hash, base_hash,
                "{fmt}: the core and the serde_json baseline disagree ({core_bytes} vs {base_bytes} bytes)"
            );
            for (engine, timed) in [("core", true), ("serde_json::Value baseline", false)] {
                let (wall, seconds, users) = time_runs(args.runs, || {
                    let mut sink = Sink::new(false);
                    if timed {
                        run_core(&input, &request, None, &mut sink)
                    } else {
                        baseline.run(&input, format, &mut sink)
                    }
                });
                rows.push(Row {
                    size: size_name(count),
                    format: if format == Format::Csv { "csv" } else { "ndjson" },
                    engine,
                    input_bytes: input.len() as u64,
                    output_bytes: core_bytes,
                    users,
                    seconds,
                    wall,
                    sha256: core_hash.clone(),
                });
            }
            // The query rows, checked first: all-matching writes exactly the unfiltered bytes,
            // the selective one what the baseline writes for the same users.
            let all = Query::parse(QUERY_ALL).expect("QUERY_ALL parses");
            let some = Query::parse(QUERY_SOME).expect("QUERY_SOME parses");
            let mut sink = Sink::new(true);
            assert_eq!(
                run_core(&input, &request, Some(&all), &mut sink),
                count,
                "QUERY_ALL keeps every user"
            );
            assert_eq!(sink.hex(), core_hash, "{fmt}: QUERY_ALL changed the output");
            let mut sink = Sink::new(true);
            let some_users = run_core(&input, &request, Some(&some), &mut sink);
            let (some_bytes, some_hash) = (sink.bytes, sink.hex());
            let mut base_sink = Sink::new(true);
            assert_eq!(
                baseline.run_filtered(&input, format, &mut base_sink, &keep_some),
                some_users,
                "{fmt}: QUERY_SOME users"
            );
            assert_eq!(base_sink.hex(), some_hash, "{fmt}: QUERY_SOME disagrees with the baseline");
            let (cost, mbps_plain, mbps_query) = paired_cost(&input, &request, &all, args.runs);
            costs.push(Cost {
                size: size_name(count),
                format: if format == Format::Csv { "csv" } else { "ndjson" },
                cost,
                mbps_plain,
                mbps_query,
            });
            for (engine, query, output_bytes, sha) in [
                ("core + query, all match", &all, core_bytes, &core_hash),
                ("core + query, selective", &some, some_bytes, &some_hash),
            ] {
                let (wall, seconds, users) =
                    time_runs(args.runs, || run_core(&input, &request, Some(query), &mut Sink::new(false)));
                rows.push(Row {
                    size: size_name(count),
                    format: if format == Format::Csv { "csv" } else { "ndjson" },
                    engine,
                    input_bytes: input.len() as u64,
                    output_bytes,
                    users,
                    seconds,
                    wall,
                    sha256: sha.clone(),
                });
            }
        }
    }
    report(&rows, &args);
    // One smoke run of a tiny input times nothing worth a ratio.
    for p in costs.iter().filter(|_| !args.smoke) {
        println!(
            "query cost, {} {}: {:+.1} % CPU time over the same export without a query (median of {} paired runs; \
             {:.1} vs {:.1} MB/s)",
            p.size,
            p.format,
            p.cost * 100.0,
            args.runs,
            p.mbps_query,
            p.mbps_plain
        );
    }
}

/// The query's cost measured in pairs: the export without and with [`QUERY_ALL`] run back to
/// back, the ratio taken per pair. The machine is shared, and load that drifts between two
/// blocks of runs would otherwise be read as the query's cost.
struct Cost {
    size: String,
    format: &'static str,
    cost: f64,
    mbps_plain: f64,
    mbps_query: f64,
}

fn paired_cost(input: &[u8], request: &Request, query: &Query, runs: usize) -> (f64, f64, f64) {
    let mut ratios = Vec::new();
    let (mut plain, mut with) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (_, a, _) = time_runs(1, || run_core(input, request, None, &mut Sink::new(false)));
        let (_, b, _) = time_runs(1, || run_core(input, request, Some(query), &mut Sink::new(false)));
        ratios.push(b / a);
        plain.push(a);
        with.push(b);
    }
    let mb = input.len() as f64 / 1e6;
    (median(ratios) - 1.0, mb / median(plain), mb / median(with))
}

fn report(rows: &[Row], args: &Args) {
    println!(
        "\n{:<6} {:<7} {:<27} {:>9} {:>12} {:>8} {:>8} {:>9}  sha256 of output",
        "users", "out", "engine", "MB/s in", "users/s", "cpu s", "wall s", "× base"
    );
    let mut json = Vec::new();
    for r in rows {
        let mbps = r.input_bytes as f64 / 1e6 / r.seconds;
        let base = rows
            .iter()
            .find(|b| b.size == r.size && b.format == r.format && b.engine.starts_with("serde_json"))
            .map_or(f64::NAN, |b| b.seconds / r.seconds);
        println!(
            "{:<6} {:<7} {:<27} {:>9.1} {:>12.0} {:>8.3} {:>8.3} {:>8.2}×  {}",
            r.size,
            r.format,
            r.engine,
            mbps,
            r.users as f64 / r.seconds,
            r.seconds,
            r.wall,
            base,
            &r.sha256[..16]
        );
        json.push(serde_json::json!({
            "size": r.size, "format": r.format, "engine": r.engine, "input_bytes": r.input_bytes,
            "output_bytes": r.output_bytes, "users": r.users, "median_cpu_seconds": r.seconds, "median_wall_seconds": r.wall,
            "mb_per_s": mbps, "users_per_s": r.users as f64 / r.seconds, "sha256": r.sha256,
            "runs": args.runs,
        }));
    }
    if !args.smoke {
        // Rows of other sizes from earlier runs are kept, so sizes can be measured one at a time.
        let path = data_dir().join("native-results.json");
        let sizes: Vec<String> = rows.iter().map(|r| r.size.clone()).collect();
        let mut all: Vec<Value> = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Vec<Value>>(&b).ok())
            .unwrap_or_default()
            .into_iter()
            .filter(|r| !r["size"].as_str().is_some_and(|s| sizes.iter().any(|n| n == s)))
            .collect();
        all.extend(json);
        std::fs::write(&path, serde_json::to_string_pretty(&all).expect("json")).expect("write results");
        println!("\nresults: {}", path.display());
    }
}
