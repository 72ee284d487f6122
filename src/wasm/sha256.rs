//! A streaming sha256 for hosts that join an export's parts themselves (the page's workers write
//! one shard each): the manifest's digest of the joined bytes, which no part's own digest gives.

use sha2::{Digest, Sha256};
use wasm_bindgen::prelude::*;

/// sha256 of bytes given in any number of pieces, and how many bytes that was.
#[wasm_bindgen(js_name = Sha256)]
pub struct JsSha256 {
    hasher: Sha256,
    bytes: f64,
}

#[wasm_bindgen(js_class = Sha256)]
impl JsSha256 {
    /// A hash of no bytes yet.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> JsSha256 {
        JsSha256 { hasher: Sha256::new(), bytes: 0.0 }
    }

    /// Hashes the next piece.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.bytes += bytes.len() as f64;
    }

    /// How many bytes were hashed.
    #[wasm_bindgen(getter)]
    pub fn bytes(&self) -> f64 {
        self.bytes
    }

    /// The sha256 so far, as 64 lowercase hex digits (hashing may go on after).
    pub fn hex(&self) -> String {
        self.hasher.clone().finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}
