//! Fuzz target: NDJSON bytes pushed whole and in random chunks must give identical output and
//! errors; gzipped (for seeds with bit 1 set), the same error or bytes that gunzip to the plain ones.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use userexport::Exporter;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (request, mut options) = common::pick_request(data[0]);
    let seed = data[1];
    // Odd seeds use a tiny record cap so the over-long-line path meets every chunking.
    if seed & 1 == 1 {
        options.max_record_bytes = 8 + (seed as usize >> 1);
    }
    let input = &data[2..];

    let run_with = |options: &userexport::Options, chunks: &mut dyn Iterator<Item = &[u8]>| {
        let mut ex = Exporter::new(request.clone(), options.clone());
        let mut out = Vec::new();
        let mut err = None;
        for c in chunks {
            ex.push_ndjson(c).expect("push never fails before an error is pulled");
            let (o, e) = common::drain(&mut ex);
            out.extend_from_slice(&o);
            if e.is_some() {
                err = e;
                break;
            }
        }
        if err.is_none() {
            ex.finish().expect("finish");
            let (o, e) = common::drain(&mut ex);
            out.extend_from_slice(&o);
            err = e;
        }
        (out, err, ex.skipped().to_vec(), ex.stats().users_written)
    };
    let run = |chunks: &mut dyn Iterator<Item = &[u8]>| run_with(&options, chunks);

    let whole = run(&mut std::iter::once(input));
    // Chunk boundaries from a tiny LCG seeded by the input, so splits land inside UTF-8,
    // inside CRLF and inside the BOM.
    let mut state = seed as u32 | 1;
    let mut cuts = Vec::new();
    let mut at = 0usize;
    while at < input.len() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let step = 1 + (state >> 16) as usize % 7;
        cuts.push(&input[at..(at + step).min(input.len())]);
        at += step;
    }
    let chunked = run(&mut cuts.iter().copied());
    assert_eq!(whole.0, chunked.0, "chunked output differs");
    assert_eq!(whole.1, chunked.1, "chunked error differs");
    assert_eq!(whole.2, chunked.2, "chunked skipped list differs");
    if whole.1.is_none() {
        common::check_output(&request, &whole.0, whole.3);
    }
    if seed & 2 == 2 {
        let gz_options = userexport::Options { gzip: true, ..options.clone() };
        let gz = run_with(&gz_options, &mut cuts.iter().copied());
        assert_eq!(whole.1, gz.1, "gzip error differs");
        assert_eq!(whole.2, gz.2, "gzip skipped list differs");
        if whole.1.is_none() {
            let mut plain = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz.0[..]), &mut plain)
                .expect("a whole gzip stream");
            assert_eq!(whole.0, plain, "gunzipped output differs");
        }
    }
});
