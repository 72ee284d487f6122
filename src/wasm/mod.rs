//! The wasm door: the JS `Exporter` class and helpers, and the one place core errors become JS `Error`s.
//!
//! Everything JS-specific lives here; the core never sees a `JsValue`. What crosses is typed with
//! serde (serde-wasm-bindgen): the request and options coming in, stats, errors and descriptions
//! going out. JS objects are read along the selected paths only, by the picker in `js/door.js`.

use js_sys::{Array, Function, JsString};
use wasm_bindgen::prelude::*;

mod crossing;
mod discover;
mod exporter;
mod functions;
mod gunzip;
mod sha256;
mod types;

#[wasm_bindgen(module = "/js/door.js")]
extern "C" {
    fn make_picker(paths: &Array, query_paths: &Array, names: &Array) -> Function;
    /// The batch as cells: `[tags, lens (UTF-16 units), UTF-8 text, bad users, ascii]`.
    fn pick_batch(users: &JsValue, pick: &Function, width: u32) -> JsValue;
    fn well_formed(s: &JsString) -> bool;
    fn escape_lone_surrogates(s: &JsString) -> JsString;
}
