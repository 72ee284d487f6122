//! Shards and checkpoints: an NDJSON export cut at line boundaries and run in pieces (with
//! `first_line`, `write_header`, the remaining `limit`) gives exactly the one-run bytes and
//! the one-run lenient errors, with the stream's line numbers; `consumed_bytes` is a point to
//! resume from.

mod common;

use common::request;
use userexport::{Error, Exporter, Options, Pull, Request};

const CAP: usize = 200;

/// splitmix64: seeded, so a failure names the seed that reproduces it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A stream with every kind of line: users, filtered users, blank and CRLF lines, bad
/// records, a BOM at the start, over-long lines, and a last line without `\n`.
fn input(rng: &mut Rng) -> Vec<u8> {
    let mut s = b"\xEF\xBB\xBF".to_vec();
    for i in 0..60 {
        let line = match rng.below(10) {
            0 => String::new(),
            1 => "  \r".to_string(),
            2 => format!("{{\"user_id\":\"bad{i}\",}}"),
            3 => "[1]".to_string(),
            4 => format!("{{\"user_id\":\"long{i}\",\"pad\":\"{}\"}}", "x".repeat(CAP + rng.below(300))),
            5 => format!("{{\"user_id\":\"other{i}\",\"identities\":[{{\"connection\":\"other\"}}]}}"),
            6 => format!("{{\"user_id\":\"dup{i}\",\"n\":1,\"n\":2}}\r"),
            _ => format!("{{\"user_id\":\"u{i}\",\"n\":{i},\"identities\":[{{\"connection\":\"db\"}}]}}"),
        };
        s.extend_from_slice(line.as_bytes());
        s.push(b'\n');
    }
    s.extend_from_slice(b"{\"user_id\":\"last\",\"identities\":[{\"connection\":\"db\"}]}");
    s
}

const BODY: &str = r#"{"format":"csv","fields":[{"name":"user_id"},{"name":"n"}]}"#;

fn options(first_line: u64, write_header: bool) -> Options {
    Options {
        connection: Some("db".into()),
        lenient: true,
        max_record_bytes: CAP,
        first_line,
        write_header,
        ..Options::default()
    }
}

fn with_limit(limit: Option<u64>) -> Request {
    let mut r = request(BODY);
    r.limit = limit;
    r
}

/// Pushes `bytes` in random chunks, pulling after each, then finishes: output and skipped.
fn run(ex: &mut Exporter, bytes: &[u8], rng: &mut Rng) -> (Vec<u8>, Vec<Error>) {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len().min(97));
        ex.push_ndjson(&rest[..n]).unwrap();
        rest = &rest[n..];
        while let Pull::Data(d) = ex.pull().unwrap() {
            out.extend_from_slice(d);
        }
    }
    ex.finish().unwrap();
    out.extend_from_slice(&ex.pull_to_end().unwrap());
    (out, ex.skipped().to_vec())
}

/// The offsets just after each `\n`: where a shard may start.
fn boundaries(input: &[u8]) -> Vec<usize> {
    input.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i + 1).collect()
}

#[test]
fn shards_at_random_line_boundaries_equal_one_run() {
    for seed in 0..40u64 {
        let mut rng = Rng(seed);
        let input = input(&mut rng);
        let limit = (seed % 3 == 0).then(|| 5 + seed % 20);
        let mut whole = Exporter::new(with_limit(limit), options(1, true));
        let (want_out, want_skipped) = run(&mut whole, &input, &mut rng);
        assert!(!want_skipped.is_empty() && want_out.len() > 20, "seed {seed}: a stream worth cutting");

        let cuts = boundaries(&input);
        let k = 1 + rng.below(6);
        let mut starts: Vec<usize> = (0..k).map(|_| cuts[rng.below(cuts.len())]).collect();
        starts.push(0);
        starts.sort();
        starts.dedup();
        let (mut out, mut skipped, mut written) = (Vec::new(), Vec::new(), 0u64);
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(input.len());
            let remaining = limit.map(|l| l - written);
            if remaining == Some(0) {
                break;
            }
            let first_line = input[..start].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            let mut ex = Exporter::new(with_limit(remaining), options(first_line, i == 0));
            let (o, s) = run(&mut ex, &input[start..end], &mut rng);
            out.extend_from_slice(&o);
            skipped.extend(s);
            written += ex.stats().users_written;
        }
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&want_out), "seed {seed}");
        assert_eq!(skipped, want_skipped, "seed {seed}: the same errors, with the stream's line numbers");
    }
}

#[test]
fn consumed_bytes_is_a_point_to_resume_from() {
    for seed in 100..140u64 {
        let mut rng = Rng(seed);
        let input = input(&mut rng);
        let mut whole = Exporter::new(request(BODY), options(1, true));
        let (want_out, want_skipped) = run(&mut whole, &input, &mut rng);

        // Push a random part in random chunks, pulling until the exporter needs input.
        let stop = rng.below(input.len());
        let mut ex = Exporter::new(request(BODY), options(1, true));
        let mut out = Vec::new();
        let mut at = 0;
        while at < stop {
            let n = 1 + rng.below((stop - at).min(97));
            ex.push_ndjson(&input[at..at + n]).unwrap();
            at += n;
            while let Pull::Data(d) = ex.pull().unwrap() {
                out.extend_from_slice(d);
            }
        }
        let consumed = ex.consumed_bytes() as usize;
        let line = ex.stats().lines;
        assert!(consumed <= stop, "seed {seed}");
        assert!(consumed == 0 || input[consumed - 1] == b'\n', "seed {seed}: {consumed} is a line boundary");
        assert_eq!(input[..consumed].iter().filter(|&&b| b == b'\n').count() as u64, line, "seed {seed}");
        // An over-long line is reported as soon as it passes the cap, before its end: the
        // resumed export reads that line again, so its error counts there.
        let mut skipped: Vec<Error> =
            ex.skipped().iter().filter(|e| e.line().is_some_and(|l| l <= line)).cloned().collect();

        let mut rest = Exporter::new(request(BODY), options(line + 1, out.is_empty()));
        let (o, s) = run(&mut rest, &input[consumed..], &mut rng);
        out.extend_from_slice(&o);
        skipped.extend(s);
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&want_out), "seed {seed}");
        assert_eq!(skipped, want_skipped, "seed {seed}");
    }
}

/// Output pulled to the end, after `finish`.
fn pull_all(ex: &mut Exporter, bytes: &[u8]) -> Vec<u8> {
    ex.push_ndjson(bytes).unwrap();
    ex.finish().unwrap();
    ex.pull_to_end().unwrap()
}

#[test]
fn gzip_segments_of_shards_join_into_one_gzip_member() {
    use std::io::Read;
    for seed in 200..220u64 {
        let mut rng = Rng(seed);
        let input = input(&mut rng);
        let mut whole = Exporter::new(request(BODY), options(1, true));
        let want = pull_all(&mut whole, &input);

        let cuts = boundaries(&input);
        let mut starts: Vec<usize> = (0..1 + rng.below(5)).map(|_| cuts[rng.below(cuts.len())]).collect();
        starts.push(0);
        starts.sort();
        starts.dedup();
        // gzip's header, the segments, an empty final block and the trailer (the core's pieces).
        let mut member = userexport::GZIP_HEADER.to_vec();
        let (mut crc_all, mut len_all) = (0u32, 0u64);
        let mut lines = 0;
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(input.len());
            let opts = Options { gzip: true, gzip_segment: true, ..options(lines + 1, i == 0) };
            let mut ex = Exporter::new(request(BODY), opts);
            let segment = pull_all(&mut ex, &input[start..end]);
            lines = ex.stats().lines;
            // The CRC-32 and length are those of this piece's plain output.
            let mut plain = Exporter::new(request(BODY), options(lines_before(&input, start) + 1, i == 0));
            let plain = pull_all(&mut plain, &input[start..end]);
            let mut crc = flate2::Crc::new();
            crc.update(&plain);
            assert_eq!(ex.gzip_segment(), Some((crc.sum(), plain.len() as u64)), "seed {seed}");
            crc_all = userexport::crc32_combine(crc_all, crc.sum(), plain.len() as u64);
            len_all += plain.len() as u64;
            member.extend_from_slice(&segment);
        }
        member.extend_from_slice(&userexport::gzip_member_end(crc_all, len_all));
        let mut crc = flate2::Crc::new();
        crc.update(&want);
        assert_eq!((crc_all, len_all), (crc.sum(), want.len() as u64), "seed {seed}: the combined CRC-32");
        // GzDecoder reads one member only: the joined file is one.
        let mut got = Vec::new();
        flate2::read::GzDecoder::new(&member[..]).read_to_end(&mut got).unwrap();
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "seed {seed}");
    }
}

fn lines_before(input: &[u8], at: usize) -> u64 {
    input[..at].iter().filter(|&&b| b == b'\n').count() as u64
}
