//! The core's streaming gunzip against real encoders: flate2's, GNU gzip's and Python's bytes
//! (tests/gunzip/), split at every point, several members, and corrupt or truncated streams.

use std::io::Write;

use flate2::write::{DeflateEncoder, GzEncoder};
use flate2::{Compression, GzBuilder};
use userexport::{ErrorCode, Gunzip, Pull};

/// Gunzips `parts` pushed in order (pulling after each, as a host does), with `chunk`-byte pulls.
fn gunzip_parts(parts: &[&[u8]], chunk: usize) -> userexport::Result<Vec<u8>> {
    let mut g = Gunzip::new(chunk);
    let mut out = Vec::new();
    let drain = |g: &mut Gunzip, out: &mut Vec<u8>| -> userexport::Result<bool> {
        loop {
            match g.pull()? {
                Pull::Data(bytes) => {
                    assert!(
                        !bytes.is_empty() && bytes.len() <= chunk.max(1),
                        "a pull gave {} bytes",
                        bytes.len()
                    );
                    out.extend_from_slice(bytes);
                }
                Pull::NeedInput => return Ok(false),
                Pull::Done => return Ok(true),
            }
        }
    };
    for part in parts {
        g.push(part)?;
        assert!(!drain(&mut g, &mut out)?, "Done before finish()");
    }
    g.finish()?;
    assert!(drain(&mut g, &mut out)?, "no Done after finish()");
    assert_eq!(g.plain_bytes(), out.len() as u64);
    Ok(out)
}

fn gunzip(gz: &[u8]) -> userexport::Result<Vec<u8>> {
    gunzip_parts(&[gz], 64 * 1024)
}

fn gz(plain: &[u8], level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
    e.write_all(plain).unwrap();
    e.finish().unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gunzip").join(name)).unwrap()
}

fn users() -> Vec<u8> {
    fixture("users.ndjson")
}

/// Users NDJSON of about `n` bytes (the sample repeated), compressible like a real export.
fn many_users(n: usize) -> Vec<u8> {
    let one = users();
    let mut out = Vec::with_capacity(n + one.len());
    while out.len() < n {
        out.extend_from_slice(&one);
    }
    out
}

fn error_of(r: userexport::Result<Vec<u8>>) -> userexport::Error {
    match r {
        Ok(bytes) => panic!("gunzipped {} bytes, expected an error", bytes.len()),
        Err(e) => e,
    }
}

#[test]
fn round_trips_flate2_at_every_level_and_pull_size() {
    let inputs: [Vec<u8>; 4] = [Vec::new(), b"x".to_vec(), users(), many_users(600_000)];
    for plain in &inputs {
        for level in [0, 1, 3, 6, 9] {
            let gz = gz(plain, level);
            for chunk in [1, 7, 4096, 256 * 1024] {
                if chunk < 4096 && plain.len() > 20_000 {
                    continue; // one-byte pulls of 600 KB teach nothing new and cost seconds
                }
                let out = gunzip_parts(&[&gz], chunk).unwrap();
                assert!(out == *plain, "level {level}, {chunk}-byte pulls, {} bytes", plain.len());
            }
        }
    }
}

#[test]
fn reads_gnu_gzip_and_python_output() {
    let plain = users();
    for name in ["users.gzip-cli.gz", "users.python-fname.gz", "users.python-members.gz"] {
        let gz = fixture(name);
        assert!(userexport::is_gzip(&gz), "{name}");
        assert_eq!(gunzip(&gz).unwrap(), plain, "{name}");
    }
}

/// A member with every optional header field (extra, name, comment, header CRC), by hand.
fn member_with_every_field(plain: &[u8]) -> Vec<u8> {
    let mut m = vec![0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 1, 2, 3, 4, 0, 3];
    m.extend_from_slice(&5u16.to_le_bytes());
    m.extend_from_slice(b"AB\x03xy");
    m.extend_from_slice(b"users.ndjson\0");
    m.extend_from_slice(b"a comment\0");
    let hcrc = crc32fast::hash(&m) as u16;
    m.extend_from_slice(&hcrc.to_le_bytes());
    let mut d = DeflateEncoder::new(m, Compression::new(6));
    d.write_all(plain).unwrap();
    let mut m = d.finish().unwrap();
    m.extend_from_slice(&crc32fast::hash(plain).to_le_bytes());
    m.extend_from_slice(&(plain.len() as u32).to_le_bytes());
    m
}

#[test]
fn reads_every_optional_header_field() {
    let plain = users();
    assert_eq!(gunzip(&member_with_every_field(&plain)).unwrap(), plain);
    // flate2's builder writes the same fields (not the header CRC) its own way.
    let mut e = GzBuilder::new()
        .filename("u.ndjson")
        .comment("c")
        .extra(vec![1, 2, 3])
        .mtime(9)
        .write(Vec::new(), Compression::fast());
    e.write_all(&plain).unwrap();
    assert_eq!(gunzip(&e.finish().unwrap()).unwrap(), plain);

    let mut bad = member_with_every_field(&plain);
    bad[10 + 2 + 5 + 13 + 10] ^= 1; // the header CRC
    let e = error_of(gunzip(&bad));
    assert_eq!(e.code(), ErrorCode::InvalidGzip);
    assert!(e.message().contains("header CRC") && e.message().contains("compressed byte 40"), "{e}");
}

#[test]
fn every_split_point_gives_the_same_bytes() {
    let text =
        b"{\"user_id\":\"auth0|1\",\"email\":\"a@example.com\"}\n{\"user_id\":\"auth0|2\"}\n".repeat(3);
    // Two members, one with every header field, then an empty one: splits fall in each part.
    let mut gz = member_with_every_field(&text);
    gz.extend_from_slice(&self::gz(b"", 6));
    gz.extend_from_slice(&self::gz(&text, 1));
    let mut want = text.clone();
    want.extend_from_slice(&text);
    for i in 0..=gz.len() {
        assert_eq!(gunzip_parts(&[&gz[..i], &gz[i..]], 5).unwrap(), want, "split at {i}");
    }
    // Byte by byte.
    let bytes: Vec<&[u8]> = gz.chunks(1).collect();
    assert_eq!(gunzip_parts(&bytes, 3).unwrap(), want);
}

#[test]
fn reads_concatenated_members_and_empty_ones() {
    let plain = many_users(300_000);
    let (a, b) = plain.split_at(123_457);
    let empty = gz(b"", 9);
    let mut cat = empty.clone();
    cat.extend_from_slice(&gz(a, 3));
    cat.extend_from_slice(&empty);
    cat.extend_from_slice(&gz(b, 9));
    cat.extend_from_slice(&empty);
    let mut g = Gunzip::new(64 * 1024);
    g.push(&cat).unwrap();
    g.finish().unwrap();
    let mut out = Vec::new();
    while let Pull::Data(bytes) = g.pull().unwrap() {
        out.extend_from_slice(bytes);
    }
    assert!(out == plain);
    assert_eq!(g.members(), 5);
    assert_eq!(g.compressed_bytes(), cat.len() as u64);
    // One empty member alone is an empty stream, not an error.
    assert_eq!(gunzip(&empty).unwrap(), b"");
}

#[test]
fn a_corrupt_trailer_is_an_error_naming_its_offset() {
    let gz = gz(&users(), 6);
    let n = gz.len();
    let mut bad_crc = gz.clone();
    bad_crc[n - 8] ^= 0x40;
    let e = error_of(gunzip(&bad_crc));
    assert_eq!(e.code(), ErrorCode::InvalidGzip);
    assert!(
        e.message().contains("CRC-32") && e.message().contains(&format!("compressed byte {}", n - 8)),
        "{e}"
    );
    let mut bad_len = gz.clone();
    bad_len[n - 1] ^= 1;
    let e = error_of(gunzip(&bad_len));
    assert!(
        e.message().contains("length") && e.message().contains(&format!("compressed byte {}", n - 4)),
        "{e}"
    );
    // The error stays: a later pull gives it, a push says the gunzip failed.
    let mut g = Gunzip::new(1024);
    g.push(&bad_crc).unwrap();
    g.finish().unwrap();
    let first = loop {
        match g.pull() {
            Ok(Pull::Data(_)) => {}
            Ok(_) => panic!("a corrupt CRC-32 gave no error"),
            Err(e) => break e,
        }
    };
    assert_eq!(g.pull().unwrap_err(), first);
    assert_eq!(g.push(b"x").unwrap_err().code(), ErrorCode::InvalidState);
}

#[test]
fn corrupt_deflate_data_is_an_error() {
    let gz = gz(&users(), 6);
    // Every flipped byte of the deflate data is caught: by the inflater, or by the CRC-32.
    for i in (10..gz.len() - 8).step_by(97) {
        let mut bad = gz.clone();
        bad[i] ^= 0x10;
        let e = error_of(gunzip(&bad));
        assert_eq!(e.code(), ErrorCode::InvalidGzip, "byte {i}: {e}");
        assert!(e.message().contains("compressed byte"), "{e}");
    }
}

#[test]
fn every_truncation_is_an_error() {
    let mut gz = member_with_every_field(b"{\"user_id\":\"1\"}\n");
    gz.extend_from_slice(&self::gz(b"{\"user_id\":\"2\"}\n", 6));
    let first_member = member_with_every_field(b"{\"user_id\":\"1\"}\n").len();
    for i in 0..gz.len() {
        if i == first_member {
            continue; // a whole first member: a stream of its own
        }
        let e = error_of(gunzip(&gz[..i]));
        assert_eq!(e.code(), ErrorCode::InvalidGzip, "cut at {i}");
        let what = if i == 0 { "empty" } else { "truncated" };
        assert!(e.message().contains(what), "cut at {i}: {e}");
    }
}

#[test]
fn trailing_garbage_and_non_gzip_are_errors() {
    let mut gz = gz(&users(), 6);
    let n = gz.len();
    gz.extend_from_slice(b"\0\0garbage");
    let e = error_of(gunzip(&gz));
    assert_eq!(e.code(), ErrorCode::InvalidGzip);
    assert!(
        e.message().contains("trailing garbage") && e.message().contains(&format!("compressed byte {n}")),
        "{e}"
    );
    let e = error_of(gunzip(&users()));
    assert!(e.message().contains("not a gzip member") && e.message().contains("compressed byte 0"), "{e}");
    let e = error_of(gunzip(b"\x1f\x8b\x07\0\0\0\0\0\0\xff"));
    assert!(e.message().contains("compression method 7"), "{e}");
    let e = error_of(gunzip(b"\x1f\x8b\x08\x20\0\0\0\0\0\xff"));
    assert!(e.message().contains("reserved"), "{e}");
}

#[test]
fn memory_stays_bounded_for_a_chunk_that_expands_a_thousandfold() {
    // 32 MB of blank lines is about 32 KB compressed: pushed whole, it comes out a chunk at a time.
    let plain = vec![b'\n'; 32 << 20];
    let gz = gz(&plain, 9);
    assert!(gz.len() * 900 < plain.len(), "{} compressed bytes", gz.len());
    let mut g = Gunzip::new(64 * 1024);
    g.push(&gz).unwrap();
    g.finish().unwrap();
    let mut total = 0;
    while let Pull::Data(bytes) = g.pull().unwrap() {
        assert!(bytes.len() <= 64 * 1024);
        assert!(bytes.iter().all(|&b| b == b'\n'));
        total += bytes.len();
        assert!(g.buffered_bytes() <= gz.len());
    }
    assert_eq!(total, plain.len());
}
