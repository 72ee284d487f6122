//! Input readers: where the records are in NDJSON bytes and in JSON text, and the cells of
//! users a host read itself.
//!
//! A reader owns the input it was given and hands each record to [`crate::record::Records`].

pub(crate) mod cells;
pub(crate) mod json_text;
pub(crate) mod ndjson;

/// UTF-8's byte order mark: skipped at the start of a stream, an error anywhere else.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Offset of the first invalid UTF-8 byte of `text` at or after `from`.
pub(crate) fn first_bad_utf8(text: &[u8], from: usize) -> Option<usize> {
    let text = text.get(from..)?;
    // The SIMD check answers only yes or no; std finds the offset in the rare bad text.
    if simdutf8::basic::from_utf8(text).is_ok() {
        return None;
    }
    std::str::from_utf8(text).err().map(|e| from + e.valid_up_to())
}
