//! Byte scans sixteen bytes a step (WebAssembly `simd128` in the npm package, two 64-bit words
//! natively), shared by the scanner, the line reader and the encoders: every input byte passes
//! through one of them, so a byte-at-a-time loop here shows in every profile.

const ESCAPE_HIT: u64 = 0x8080_8080_8080_8080;
const LO: u64 = 0x0101_0101_0101_0101;

/// Flags (high bit of each byte) the bytes that end a run of plain string text:
/// `"`, `\` and controls below 0x20. The lowest flag is exact.
#[inline(always)]
fn string_stops(w: u64) -> u64 {
    let quote = w ^ (LO * b'"' as u64);
    let backslash = w ^ (LO * b'\\' as u64);
    let has_quote = quote.wrapping_sub(LO) & !quote;
    let has_bs = backslash.wrapping_sub(LO) & !backslash;
    let has_ctrl = w.wrapping_sub(LO * 0x20) & !w;
    (has_quote | has_bs | has_ctrl) & ESCAPE_HIT
}

/// Sixteen-byte blocks as one bit per byte (bit `i` for byte `i`), the primitive of every byte
/// scan here: WebAssembly `simd128` in the npm package, two 64-bit words (SWAR) natively.
/// The lowest bit of each answer is exact, which is all a scan reads; the tests compare both
/// forms with a byte loop, on the host and in Node through wasm.
pub(crate) mod block {
    /// The first sixteen bytes of `at` (the caller checks there are that many).
    #[inline(always)]
    fn words(at: &[u8]) -> (u64, u64) {
        let w = |i: usize| u64::from_le_bytes(at[i..i + 8].try_into().expect("8 bytes"));
        (w(0), w(8))
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    mod imp {
        use core::arch::wasm32::{u64x2, u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_or};

        // Two little-endian words make the vector: a safe load that the compiler turns into one
        // `v128.load` (the crate has no unsafe code, and `v128_load` takes a raw pointer).
        #[inline(always)]
        fn load(at: &[u8]) -> v128 {
            let (a, b) = super::words(at);
            u64x2(a, b)
        }

        #[inline(always)]
        pub fn eq(at: &[u8], byte: u8) -> u32 {
            u8x16_bitmask(u8x16_eq(load(at), u8x16_splat(byte))) as u32
        }

        #[inline(always)]
        pub fn string_stops(at: &[u8]) -> u32 {
            let v = load(at);
            let quote = u8x16_eq(v, u8x16_splat(b'"'));
            let backslash = u8x16_eq(v, u8x16_splat(b'\\'));
            let control = u8x16_lt(v, u8x16_splat(0x20));
            u8x16_bitmask(v128_or(v128_or(quote, backslash), control)) as u32
        }
    }

    /// The word-at-a-time form: the native targets' `imp`, and tested on every host.
    #[cfg(any(test, not(all(target_arch = "wasm32", target_feature = "simd128"))))]
    pub(crate) mod swar {
        use super::super::{string_stops as stops64, ESCAPE_HIT, LO};

        /// One bit per byte from the high-bit flags of two words. Only the lowest flag of a word
        /// is exact (a borrow can flag the byte above a match), so bits above it are cleared.
        #[inline(always)]
        fn pack(fa: u64, fb: u64) -> u32 {
            let lowest = |f: u64| if f == 0 { 0 } else { 1u32 << (f.trailing_zeros() / 8) };
            let a = lowest(fa);
            if a != 0 {
                a
            } else {
                lowest(fb) << 8
            }
        }

        /// Bits of the bytes equal to `byte`: exact for the lowest set bit, which is all the
        /// scans here read.
        #[inline(always)]
        pub fn eq(at: &[u8], byte: u8) -> u32 {
            let (a, b) = super::words(at);
            let zeros = |w: u64| {
                let w = w ^ (LO * byte as u64);
                w.wrapping_sub(LO) & !w & ESCAPE_HIT
            };
            pack(zeros(a), zeros(b))
        }

        /// Bits of the bytes that end plain string text; exact for the lowest set bit.
        #[inline(always)]
        pub fn string_stops(at: &[u8]) -> u32 {
            let (a, b) = super::words(at);
            pack(stops64(a), stops64(b))
        }
    }

    // x86-64's SSE2 intrinsics cannot be called without `unsafe` unless each caller declares the
    // feature, which this crate's safe-only rule and inlining into the scanner both rule out.
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    use swar as imp;

    /// Bits of the bytes of `at[..16]` equal to `byte` (the lowest set bit is exact).
    #[inline(always)]
    pub(crate) fn eq(at: &[u8], byte: u8) -> u32 {
        imp::eq(at, byte)
    }

    /// Bits of the bytes of `at[..16]` that are `"`, `\\` or a control (the lowest is exact).
    #[inline(always)]
    pub(crate) fn string_stops(at: &[u8]) -> u32 {
        imp::string_stops(at)
    }
}

/// Offset of the first `byte` in `hay`, sixteen bytes a step (what `memchr` does, without the
/// dependency): finding line ends is a pass over every input byte, so a byte loop here cost
/// about a seventh of the export time.
#[inline]
pub(crate) fn find_byte(hay: &[u8], byte: u8) -> Option<usize> {
    let mut i = 0;
    while i + 16 <= hay.len() {
        let hits = block::eq(&hay[i..], byte);
        if hits != 0 {
            return Some(i + hits.trailing_zeros() as usize);
        }
        i += 16;
    }
    // Most cells an encoder looks through are shorter than a block: a word at a time first.
    if i + 8 <= hay.len() {
        let w = u64::from_le_bytes(hay[i..i + 8].try_into().expect("8 bytes")) ^ (LO * byte as u64);
        let zeros = w.wrapping_sub(LO) & !w & ESCAPE_HIT;
        if zeros != 0 {
            return Some(i + (zeros.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    hay[i..].iter().position(|&b| b == byte).map(|p| i + p)
}

/// Whether any byte of `hay` is one of `set` (a handful of bytes: one compare each per block).
#[inline]
pub(crate) fn any_of(hay: &[u8], set: &[u8]) -> bool {
    let mut i = 0;
    while i + 16 <= hay.len() {
        if set.iter().any(|&b| block::eq(&hay[i..], b) != 0) {
            return true;
        }
        i += 16;
    }
    hay[i..].iter().any(|b| set.contains(b))
}

/// The end of the run of plain string text (no `"`, `\\` or control) that starts at `i`.
#[inline(always)]
pub(crate) fn plain_run(buf: &[u8], mut i: usize) -> usize {
    while i + 16 <= buf.len() {
        let stops = block::string_stops(&buf[i..]);
        if stops != 0 {
            return i + stops.trailing_zeros() as usize;
        }
        i += 16;
    }
    while i + 8 <= buf.len() {
        let w = u64::from_le_bytes(buf[i..i + 8].try_into().expect("8 bytes"));
        let stops = string_stops(w);
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < buf.len() && !matches!(buf[i], b'"' | b'\\' | 0..=0x1f) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::{any_of, block, find_byte, plain_run};

    // Also in Node through wasm (scripts/test.sh), where `block` is the simd128 form.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn blocks_agree_with_a_byte_loop() {
        // Each byte value at each of the 16 places, over backgrounds of plain text, of the
        // byte itself (many hits) and of 0x01 (where a word's borrow leaks a false flag).
        type Block = fn(&[u8]) -> u32;
        let stops: [(&str, Block); 2] =
            [("this target", block::string_stops), ("swar", block::swar::string_stops)];
        let is_stop = |b: u8| matches!(b, b'"' | b'\\' | 0..=0x1f);
        for background in [b'a', 0x01, b'"', 0xff] {
            for at in 0..16 {
                for v in 0..=255u8 {
                    let mut bytes = [background; 17];
                    bytes[at] = v;
                    let lowest = |hit: &dyn Fn(u8) -> bool| bytes[..16].iter().position(|&b| hit(b));
                    for (name, f) in stops {
                        let got = f(&bytes).trailing_zeros() as usize;
                        assert_eq!(Some(got).filter(|&g| g < 16), lowest(&is_stop), "{name} stops {bytes:?}");
                    }
                    for byte in [b'\n', b'"', v] {
                        for (name, got) in [
                            ("this target", block::eq(&bytes, byte)),
                            ("swar", block::swar::eq(&bytes, byte)),
                        ] {
                            let got = got.trailing_zeros() as usize;
                            assert_eq!(
                                Some(got).filter(|&g| g < 16),
                                lowest(&|b| b == byte),
                                "{name} eq {byte} {bytes:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn find_byte_agrees_with_a_byte_loop() {
        // Every byte value next to the target, at every offset of a 16-byte step and its tail,
        // including 0x01 above a match (where the word trick's borrow leaks a false flag).
        for len in 0..40 {
            for at in 0..len {
                for other in [0u8, 1, 9, 11, 0x0a ^ 0x80, 0x8a, 0xff, b'\n' + 1] {
                    let mut hay = vec![other; len];
                    hay[at] = b'\n';
                    let want = hay.iter().position(|&b| b == b'\n');
                    assert_eq!(find_byte(&hay, b'\n'), want, "len {len} at {at} other {other:#x}");
                    if at + 1 < len {
                        hay[at + 1] = b'\n';
                        assert_eq!(find_byte(&hay, b'\n'), Some(at));
                    }
                }
            }
            assert_eq!(find_byte(&vec![b'a'; len], b'\n'), None);
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn plain_run_and_any_of_agree_with_byte_loops() {
        // Each stop byte and each set byte at every place of a 16-byte step, its 8-byte tail and
        // its byte tail, over text with high bytes (UTF-8) and a 0x01 below (a word's borrow).
        let is_stop = |b: u8| matches!(b, b'"' | b'\\' | 0..=0x1f);
        let set = b"\\ \t\n\r";
        for len in 0..40 {
            for at in 0..len {
                for v in [b'"', b'\\', 0x00, 0x1f, 0x20, b' ', b'\n', b'a', 0x7f, 0x80, 0xe2, 0xff] {
                    let mut text = vec![0xc3; len];
                    text[at] = v;
                    if at > 0 {
                        text[at - 1] = 0x01;
                    }
                    for from in 0..=len {
                        let want = text[from..].iter().position(|&b| is_stop(b)).map_or(len, |p| from + p);
                        assert_eq!(plain_run(&text, from), want, "len {len} at {at} v {v:#x} from {from}");
                    }
                    let bare = text.iter().map(|&b| if b == 0x01 { b'x' } else { b }).collect::<Vec<_>>();
                    assert_eq!(
                        any_of(&bare, set),
                        bare.iter().any(|b| set.contains(b)),
                        "len {len} at {at} v {v:#x}"
                    );
                }
            }
        }
    }
}
