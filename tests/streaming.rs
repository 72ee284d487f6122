//! Streaming: identical bytes for every pull size 1..64 and for NDJSON input split at every byte.

mod common;
use common::*;
use userexport::*;

/// A stream with a BOM, CRLF and LF, blank lines, 2-, 3- and 4-byte UTF-8, escapes, a bad line
/// and a last line without its `\n`.
fn sample() -> Vec<u8> {
    let mut s = b"\xEF\xBB\xBF".to_vec();
    s.extend_from_slice(
        "{\"user_id\":\"auth0|1\",\"name\":\"Zoë \\\"Z\\\" 中文\",\"identities\":[{\"connection\":\"db\"}],\"n\":1.0}\r\n\
         \r\n\
         {\"user_id\":\"auth0|2\",\"name\":\"😀 \\ud83d\\ude00\",\"user_metadata\":{\"note\":\"a,b\\r\\nc\"},\"n\":-0}\n\
         {not json}\r\n\
         \n\
         {\"user_id\":\"auth0|3\",\"name\":\"=HYPERLINK()\",\"created_at\":\"2024-01-02T03:04:05.678Z\",\"identities\":[{\"connection\":\"google\"}]}\r\n\
         {\"user_id\":\"auth0|4\",\"name\":\"עברית\",\"user_metadata\":{\"note\":[1,{\"x\":\"\\u00e9\"}]}}"
            .as_bytes(),
    );
    s
}

const BODIES: [&str; 2] = [
    r#"{"format":"csv","fields":[{"name":"user_id"},{"name":"name","export_as":"Name"},{"name":"user_metadata.note"},{"name":"identities[0].connection"},{"name":"created_at"},{"name":"n"}]}"#,
    r#"{"format":"json","fields":[{"name":"user_id"},{"name":"name"},{"name":"user_metadata"},{"name":"identities[0].connection","export_as":"c"},{"name":"n"}]}"#,
];

fn opts(chunk_size: usize) -> Options {
    Options { lenient: true, chunk_size, ..Options::default() }
}

/// Pushes `pieces` one by one, pulling everything available after each, then finishes.
fn run(body: &str, options: Options, pieces: &[&[u8]]) -> (Vec<u8>, Vec<(Option<u64>, ErrorCode)>) {
    let chunk = options.chunk_size;
    let mut ex = Exporter::new(request(body), options);
    let mut out = Vec::new();
    let mut drain = |ex: &mut Exporter| loop {
        match ex.pull().unwrap() {
            Pull::Data(d) => {
                assert!(
                    !d.is_empty() && d.len() <= chunk,
                    "chunk of {} bytes with chunk size {chunk}",
                    d.len()
                );
                out.extend_from_slice(d);
            }
            Pull::NeedInput => break false,
            Pull::Done => break true,
        }
    };
    for piece in pieces {
        ex.push_ndjson(piece).unwrap();
        assert!(!drain(&mut ex), "done before finish");
    }
    ex.finish().unwrap();
    assert!(drain(&mut ex), "done after finish");
    let errors = ex.skipped().iter().map(|e| (e.line(), e.code())).collect();
    (out, errors)
}

#[test]
fn reference_output_is_what_the_rules_say() {
    let (csv, errors) = run(BODIES[0], opts(DEFAULT_CHUNK_SIZE), &[&sample()]);
    assert_eq!(errors, [(Some(4), ErrorCode::InvalidJson)]);
    assert_eq!(
        String::from_utf8(csv).unwrap(),
        "user_id,Name,user_metadata.note,identities[0].connection,created_at,n\n\
         \"'auth0|1\",\"'Zoë \"\"Z\"\" 中文\",,\"'db\",,1.0\n\
         \"'auth0|2\",\"'😀 😀\",\"'a,b\r\nc\",,,-0\n\
         \"'auth0|3\",\"'=HYPERLINK()\",,\"'google\",2024-01-02T03:04:05.678Z,\n\
         \"'auth0|4\",\"'עברית\",\"'[1,{\"\"x\"\":\"\"é\"\"}]\",,,\n"
    );
    let (json, _) = run(BODIES[1], opts(DEFAULT_CHUNK_SIZE), &[&sample()]);
    assert_eq!(
        String::from_utf8(json).unwrap(),
        "{\"user_id\":\"auth0|1\",\"name\":\"Zoë \\\"Z\\\" 中文\",\"c\":\"db\",\"n\":1.0}\n\
         {\"user_id\":\"auth0|2\",\"name\":\"😀 😀\",\"user_metadata\":{\"note\":\"a,b\\r\\nc\"},\"n\":-0}\n\
         {\"user_id\":\"auth0|3\",\"name\":\"=HYPERLINK()\",\"c\":\"google\"}\n\
         {\"user_id\":\"auth0|4\",\"name\":\"עברית\",\"user_metadata\":{\"note\":[1,{\"x\":\"é\"}]}}\n"
    );
}

#[test]
fn input_split_at_every_byte() {
    let input = sample();
    for body in BODIES {
        let want = run(body, opts(DEFAULT_CHUNK_SIZE), &[&input]);
        for i in 0..=input.len() {
            let got = run(body, opts(DEFAULT_CHUNK_SIZE), &[&input[..i], &input[i..]]);
            assert_eq!(got, want, "split at byte {i}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(body, opts(7), &bytes), want, "one byte at a time");
        // Three-way splits around every CR, LF and multi-byte sequence.
        for i in 0..input.len() {
            for j in [i + 1, i + 2, i + 3] {
                if j <= input.len() {
                    assert_eq!(
                        run(body, opts(64), &[&input[..i], &input[i..j], &input[j..]]),
                        want,
                        "split {i}/{j}"
                    );
                }
            }
        }
    }
}

/// Pushes all of `input`, finishes, and pulls it into a `size`-byte buffer (the caller's-buffer form).
fn pull_into_all(mut ex: Exporter, input: &[u8], size: usize) -> Vec<u8> {
    ex.push_ndjson(input).unwrap();
    ex.finish().unwrap();
    let mut buf = vec![0u8; size];
    let mut got = Vec::new();
    // A short buffer means the output ran out: the call after it must not give data.
    let mut short = false;
    loop {
        match ex.pull_into(&mut buf).unwrap() {
            Pull::Data(n) => {
                assert!(!short, "data after a short buffer");
                assert!(n >= 1, "Data(0) for a non-empty buffer");
                got.extend_from_slice(&buf[..n]);
                short = n < size;
            }
            Pull::Done => return got,
            Pull::NeedInput => panic!("input was finished"),
        }
    }
}

#[test]
fn every_pull_size_from_1_to_64() {
    let input = sample();
    for body in BODIES {
        let want = run(body, opts(DEFAULT_CHUNK_SIZE), &[&input]).0;
        for size in 1..=64 {
            assert_eq!(run(body, opts(size), &[&input]).0, want, "pull size {size}");
            // The caller's-buffer form.
            let got = pull_into_all(Exporter::new(request(body), opts(DEFAULT_CHUNK_SIZE)), &input, size);
            assert_eq!(got, want, "pull_into size {size}");
            // The at-most form (what wasm's pullInto uses), with the default chunk size.
            let mut ex = Exporter::new(request(body), opts(DEFAULT_CHUNK_SIZE));
            ex.push_ndjson(&input).unwrap();
            ex.finish().unwrap();
            let mut got = Vec::new();
            while let Pull::Data(chunk) = ex.pull_at_most(size).unwrap() {
                assert!(
                    !chunk.is_empty() && chunk.len() <= size,
                    "chunk of {} for at most {size}",
                    chunk.len()
                );
                got.extend_from_slice(chunk);
            }
            assert!(matches!(ex.pull_at_most(size).unwrap(), Pull::Done));
            assert_eq!(got, want, "pull_at_most size {size}");
        }
    }
}

#[test]
fn json_text_pulls_lazily_and_identically() {
    let users: Vec<String> =
        (0..300).map(|i| format!(r#"{{"user_id":"u{i}","name":"n,\"{i}\""}}"#)).collect();
    let page = format!(r#"{{"start":0,"limit":300,"length":300,"users":[{}],"total":300}}"#, users.join(","));
    let mut want = Vec::new();
    for body in BODIES {
        let mut ex = Exporter::new(request(body), opts(DEFAULT_CHUNK_SIZE));
        ex.push_json(page.as_bytes()).unwrap();
        ex.finish().unwrap();
        let whole = ex.pull_to_end().unwrap();
        for size in [1, 13, 64, 4096] {
            let mut ex = Exporter::new(request(body), opts(size));
            ex.push_json(page.as_bytes()).unwrap();
            ex.finish().unwrap();
            let mut got = Vec::new();
            while let Pull::Data(d) = ex.pull().unwrap() {
                assert!(d.len() <= size);
                got.extend_from_slice(d);
                // Output is made as it is pulled, not all at push time.
                assert!(ex.buffered_bytes() < page.len() + size + 200);
            }
            assert_eq!(got, whole, "chunk {size}");
        }
        want.push(whole);
    }
    assert_eq!(read_csv(&want[0]).len(), 301);
}

#[test]
fn memory_stays_bounded_whatever_the_number_of_users() {
    let user = r#"{"user_id":"auth0|0123456789","email":"someone@example.com","name":"Some One","identities":[{"connection":"db"}],"user_metadata":{"note":"hello, \"world\""}}"#;
    let chunk: Vec<u8> = std::iter::repeat_n(format!("{user}\n"), 40).collect::<String>().into_bytes();
    let mut ex = Exporter::new(request(BODIES[0]), Options { chunk_size: 4096, ..Options::default() });
    let mut high_water = 0;
    let mut bytes = 0usize;
    for _ in 0..5_000 {
        ex.push_ndjson(&chunk).unwrap();
        high_water = high_water.max(ex.buffered_bytes());
        while let Pull::Data(d) = ex.pull().unwrap() {
            bytes += d.len();
            high_water = high_water.max(ex.buffered_bytes());
        }
    }
    ex.finish().unwrap();
    while let Pull::Data(d) = ex.pull().unwrap() {
        bytes += d.len();
    }
    assert_eq!(ex.stats().users_written, 200_000);
    assert_eq!(ex.stats().bytes_out as usize, bytes);
    // One pushed chunk + one pull chunk + a record, for 200 000 users.
    assert!(high_water <= chunk.len() + 4096 + user.len() * 2, "held {high_water} bytes");
}

#[test]
fn a_16_mb_string_is_pulled_whole_in_small_chunks() {
    // 16 MB in one user_metadata string (Auth0's metadata limit), pulled 64 bytes at a time.
    let big = "x".repeat(16 << 20);
    let line = format!("{{\"user_id\":\"big\",\"user_metadata\":{{\"note\":\"{big}\"}}}}\n");
    let body = r#"{"format":"csv","fields":[{"name":"user_id"},{"name":"user_metadata.note"}]}"#;
    let mut ex = Exporter::new(request(body), Options { chunk_size: 4096, ..Options::default() });
    ex.push_ndjson(line.as_bytes()).unwrap();
    ex.finish().unwrap();
    let mut total = 0;
    while let Pull::Data(d) = ex.pull().unwrap() {
        total += d.len();
    }
    assert_eq!(total, "user_id,user_metadata.note\n".len() + "\"'big\",\"'\"\n".len() + big.len());
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("a whole gzip stream");
    out
}

#[test]
fn gzip_output_gunzips_to_the_plain_bytes_at_every_pull_size_and_split() {
    let input = sample();
    for body in BODIES {
        let want = run(body, opts(DEFAULT_CHUNK_SIZE), &[&input]).0;
        for size in [1, 2, 3, 7, 64, 1000, DEFAULT_CHUNK_SIZE] {
            let gz = run(body, Options { gzip: true, ..opts(size) }, &[&input]).0;
            assert_eq!(gz[..3], [0x1f, 0x8b, 8], "a gzip member, deflate");
            assert_eq!(gunzip(&gz), want, "gzip, pull size {size}");
        }
        for i in 0..=input.len() {
            let gz = run(body, Options { gzip: true, ..opts(64) }, &[&input[..i], &input[i..]]).0;
            assert_eq!(gunzip(&gz), want, "gzip, split at {i}");
        }
        for size in 1..=64 {
            let ex = Exporter::new(request(body), Options { gzip: true, ..opts(DEFAULT_CHUNK_SIZE) });
            assert_eq!(gunzip(&pull_into_all(ex, &input, size)), want, "gzip pull_into size {size}");
        }
    }
}

#[test]
fn gzip_keeps_limits_and_strict_errors() {
    let body = r#"{"format":"json","limit":2,"fields":[{"name":"user_id"}]}"#;
    let mut ex = Exporter::new(request(body), Options { gzip: true, lenient: true, ..Options::default() });
    ex.push_ndjson(&sample()).unwrap();
    // No finish(): the limit alone ends the export, gzip trailer included.
    let out = ex.pull_to_end().unwrap();
    assert!(matches!(ex.pull().unwrap(), Pull::Done));
    assert_eq!(gunzip(&out), b"{\"user_id\":\"auth0|1\"}\n{\"user_id\":\"auth0|2\"}\n");
    assert_eq!(ex.stats().bytes_out, out.len() as u64, "bytes_out counts the compressed bytes");

    let mut ex = Exporter::new(request(BODIES[0]), Options { gzip: true, ..Options::default() });
    ex.push_ndjson(&sample()).unwrap();
    ex.finish().unwrap();
    let err = drain(&mut ex).1.expect("a strict export with a bad line ends with its error");
    assert_eq!((err.code(), err.line()), (ErrorCode::InvalidJson, Some(4)));
}
