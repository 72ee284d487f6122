//! The JS `Gunzip` class: the core's streaming gunzip, for a host that reads a `.gz` users source
//! (the edge's export of a gzip object) without its runtime's `DecompressionStream`.

use js_sys::Uint8Array;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::crossing::{argument_error, options_object, pulled_bytes, size, to_js};
use crate::{Gunzip, DEFAULT_GUNZIP_CHUNK};

/// `new Gunzip(options)`: read like the Exporter's options (an unknown key is a `TypeError`).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct JsGunzipOptions {
    chunk_size: Option<f64>,
}

const GUNZIP_OPTION_KEYS: [&str; 1] = ["chunkSize"];

/// Room kept from the start for a pushed chunk, here and in the core's input buffer.
const PUSH_ROOM: usize = 128 * 1024;

/// Gunzips a stream of gzip members: push compressed bytes, pull plain bytes, finish.
#[wasm_bindgen(js_name = Gunzip, skip_typescript)]
pub struct JsGunzip {
    inner: Gunzip,
    done: bool,
    /// Where a pushed chunk is copied into wasm memory: one buffer kept for every push, so a
    /// long gunzip does not scatter short-lived allocations between an Exporter's (the edge
    /// makes an Exporter per slice while one Gunzip lives on; linear memory never shrinks).
    scratch: Vec<u8>,
}

#[wasm_bindgen(js_class = Gunzip)]
impl JsGunzip {
    /// A gunzip whose pulls give at most `chunkSize` plain bytes (default 256 KiB).
    #[wasm_bindgen(constructor, skip_typescript)]
    pub fn new(options: JsValue) -> Result<JsGunzip, JsValue> {
        let js: JsGunzipOptions = options_object(&options, "Gunzip options", &GUNZIP_OPTION_KEYS)?;
        let chunk = size(js.chunk_size, "chunkSize", DEFAULT_GUNZIP_CHUNK)?;
        // Sized for the edge's pushes (64 KiB and one R2 chunk) before any Exporter allocates.
        Ok(JsGunzip {
            inner: Gunzip::with_input_room(chunk, PUSH_ROOM),
            done: false,
            scratch: Vec::with_capacity(PUSH_ROOM),
        })
    }

    /// Pushes compressed bytes, split anywhere; they wait in wasm memory until pulls read them.
    #[wasm_bindgen(skip_typescript)]
    pub fn push(&mut self, chunk: &JsValue) -> Result<(), JsValue> {
        let Some(bytes) = chunk.dyn_ref::<Uint8Array>() else {
            return Err(argument_error("Gunzip.push takes a Uint8Array"));
        };
        self.scratch.resize(bytes.length() as usize, 0);
        bytes.copy_to(&mut self.scratch);
        self.inner.push(&self.scratch).map_err(|e| to_js(&e))
    }

    /// Says no more compressed bytes will come.
    #[wasm_bindgen(skip_typescript)]
    pub fn finish(&mut self) -> Result<(), JsValue> {
        self.inner.finish().map_err(|e| to_js(&e))
    }

    /// The next plain bytes (copied out of wasm memory), or `undefined` when more input is
    /// needed or the stream has ended (`done`).
    #[wasm_bindgen(skip_typescript)]
    pub fn pull(&mut self) -> Result<Option<Uint8Array>, JsValue> {
        let (bytes, ended) = pulled_bytes(self.inner.pull())?;
        self.done |= ended;
        Ok(bytes)
    }

    /// True once the input is finished and every plain byte has been pulled.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn done(&self) -> bool {
        self.done
    }

    /// Plain bytes pulled so far.
    #[wasm_bindgen(getter, js_name = plainBytes, skip_typescript)]
    pub fn plain_bytes(&self) -> f64 {
        self.inner.plain_bytes() as f64
    }

    /// Compressed bytes read so far.
    #[wasm_bindgen(getter, js_name = compressedBytes, skip_typescript)]
    pub fn compressed_bytes(&self) -> f64 {
        self.inner.compressed_bytes() as f64
    }
}
