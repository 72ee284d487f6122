//! Running sha256 digests and byte counts of the output, taken as the bytes are produced.
//!
//! The plain bytes are hashed as they leave the output buffer (for a pull, or for the
//! compressor), the gzip bytes as they are pulled: one pass, so a manifest costs no second
//! read of the export.

use sha2::{Digest as _, Sha256};

/// The sha256 and the length of one byte stream (the plain export, or its gzip file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    /// How many bytes were hashed.
    pub bytes: u64,
    /// Their sha256.
    pub sha256: [u8; 32],
}

impl Digest {
    /// The sha256 as 64 lowercase hex digits (what `sha256sum` prints).
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The digests of a finished export: of the plain bytes always, of the gzip bytes when the
/// output is gzipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digests {
    /// The plain export (NDJSON or CSV), gzipped or not.
    pub plain: Digest,
    /// The gzip file, when [`crate::Options::gzip`] is on.
    pub gzip: Option<Digest>,
}

/// A sha256 in progress and the bytes it has seen.
#[derive(Clone, Default)]
pub(crate) struct Running {
    hasher: Sha256,
    bytes: u64,
}

impl Running {
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.bytes += bytes.len() as u64;
    }

    /// The digest of what was seen so far (the running state goes on unchanged).
    pub fn digest(&self) -> Digest {
        Digest { bytes: self.bytes, sha256: self.hasher.clone().finalize().into() }
    }
}
