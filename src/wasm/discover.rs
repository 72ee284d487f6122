//! The JS `Discoverer` class: field discovery (the paths the first users hold) for a page that offers fields to pick.

use js_sys::Uint8Array;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::crossing::{argument_error, options_object, size, to_js, to_js_value, ErrorFields};
use crate::{DiscoverOptions, InputForm};

/// Reads the first users of an input and lists the paths they hold.
#[wasm_bindgen(js_name = Discoverer, skip_typescript)]
pub struct JsDiscoverer {
    inner: crate::Discoverer,
}

/// `new Discoverer(options)`: the limits, as JS spells them.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct JsDiscoverOptions {
    max_users: Option<f64>,
    max_paths: Option<f64>,
    max_index: Option<f64>,
    max_example_chars: Option<f64>,
    input: Option<String>,
}

/// The keys of [`JsDiscoverOptions`], as JS spells them.
const OPTION_KEYS: [&str; 5] = ["maxUsers", "maxPaths", "maxIndex", "maxExampleChars", "input"];

/// One path, as `result().paths` lists it.
#[derive(Serialize)]
struct JsPath<'a> {
    path: &'a str,
    present: u64,
    filled: u64,
    kinds: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    example: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsDiscovery<'a> {
    users: u64,
    users_read: u64,
    users_skipped: u64,
    complete: bool,
    truncated: bool,
    unnamed: u64,
    paths: Vec<JsPath<'a>>,
}

#[wasm_bindgen(js_class = Discoverer)]
impl JsDiscoverer {
    /// A discovery with `{ maxUsers, maxPaths, maxIndex, maxExampleChars, input }`.
    #[wasm_bindgen(constructor, skip_typescript)]
    pub fn new(options: JsValue) -> Result<JsDiscoverer, JsValue> {
        let js: JsDiscoverOptions = options_object(&options, "Discoverer options", &OPTION_KEYS)?;
        let d = DiscoverOptions::default();
        let input_form = match js.input.as_deref() {
            None | Some("auto") => InputForm::Auto,
            Some("ndjson") => InputForm::Ndjson,
            Some("json") => InputForm::Json,
            Some(other) => {
                return Err(argument_error(&format!(
                    "Discoverer: options.input must be \"auto\", \"ndjson\" or \"json\", not {other:?}"
                )))
            }
        };
        let max_index = match js.max_index {
            None => d.max_index,
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => n as u32,
            Some(_) => {
                return Err(argument_error(
                    "Discoverer: options.maxIndex must be a whole number of at least 0",
                ))
            }
        };
        let options = DiscoverOptions {
            max_users: size(js.max_users, "maxUsers", d.max_users as usize)? as u64,
            max_paths: size(js.max_paths, "maxPaths", d.max_paths)?,
            max_index,
            max_example_chars: size(js.max_example_chars, "maxExampleChars", d.max_example_chars)?,
            input_form,
        };
        Ok(JsDiscoverer { inner: crate::Discoverer::new(options) })
    }

    /// Pushes input bytes (or a string), split anywhere.
    #[wasm_bindgen(skip_typescript)]
    pub fn push(&mut self, chunk: JsValue) -> Result<(), JsValue> {
        let bytes = bytes_of(&chunk)?;
        self.inner.push(&bytes).map_err(|e| to_js(&e))
    }

    /// Pushes a JSON text: one user, an array, or a Management API page.
    #[wasm_bindgen(js_name = pushJson, skip_typescript)]
    pub fn push_json(&mut self, text: JsValue) -> Result<(), JsValue> {
        let bytes = bytes_of(&text)?;
        self.inner.push_json(&bytes).map_err(|e| to_js(&e))
    }

    /// Says no more input will come.
    #[wasm_bindgen(skip_typescript)]
    pub fn finish(&mut self) -> Result<(), JsValue> {
        self.inner.finish().map_err(|e| to_js(&e))
    }

    /// True once `maxUsers` records are read: the host may stop reading.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn full(&self) -> bool {
        self.inner.is_full()
    }

    /// What was found so far.
    #[wasm_bindgen(skip_typescript)]
    pub fn result(&self) -> JsValue {
        let d = self.inner.discovery();
        let paths = d
            .paths
            .iter()
            .map(|p| JsPath {
                path: &p.path,
                present: p.present,
                filled: p.filled,
                kinds: p.kind_names(),
                example: p.example.as_deref(),
            })
            .collect();
        to_js_value(&JsDiscovery {
            users: d.users,
            users_read: d.users_read,
            users_skipped: d.users_skipped,
            complete: d.complete,
            truncated: d.truncated,
            unnamed: d.unnamed,
            paths,
        })
    }

    /// The bad records skipped, as `Exporter.errors` lists them.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn errors(&self) -> JsValue {
        let fields: Vec<ErrorFields<'_>> = self.inner.skipped().iter().map(ErrorFields::from).collect();
        to_js_value(&fields)
    }
}

/// The UTF-8 bytes of a string, or a copy of a Uint8Array's.
fn bytes_of(chunk: &JsValue) -> Result<Vec<u8>, JsValue> {
    if let Some(s) = chunk.as_string() {
        Ok(s.into_bytes())
    } else if let Some(a) = chunk.dyn_ref::<Uint8Array>() {
        Ok(a.to_vec())
    } else {
        Err(argument_error("Discoverer: push a Uint8Array or a string"))
    }
}
