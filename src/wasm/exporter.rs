//! The JS `Exporter` class: push input (bytes, strings, JS objects through the picker), pull output.

use js_sys::{Array, ArrayBuffer, Function, JsString, Uint8Array};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::crossing::{
    argument_error, description_value, read_options, read_request, to_js, to_js_value, ErrorFields,
    HostOptions,
};
use super::crossing::{pulled_bytes, stats_value, unimportable_value};
use super::functions::file_of;
use super::{escape_lone_surrogates, make_picker, pick_batch, well_formed};
use crate::input::cells::utf16_lengths_to_utf8;
use crate::{describe, file_name, import_file_name, unimportable_file_name, CellBatch, Pull, Request, Step};

/// Streaming export of users to Auth0's NDJSON or CSV bytes: push input, pull output.
#[wasm_bindgen(js_name = Exporter, skip_typescript)]
pub struct JsExporter {
    inner: crate::Exporter,
    tenant: String,
    /// pushUsers' picker for this request's paths (built on first use).
    picker: Option<Function>,
    /// The paths the picker walks: the fields' (and the connection's), then the query's keys.
    paths: Array,
    query_paths: Array,
    /// The field names, for messages about a picked value.
    names: Array,
    /// A high surrogate that ended a string chunk: its pair may start the next one.
    pending_high: Option<JsString>,
    /// String chunks came through `push` (not `pushNdjson`): where a pending half goes at the end.
    via_push: bool,
    scratch: Vec<u8>,
    done: bool,
    /// When this export was made and when its last byte was pulled, as ISO 8601 times: the
    /// door is the host that tells the core's manifest the time.
    started_at: String,
    ended_at: Option<String>,
}

#[wasm_bindgen(js_class = Exporter)]
impl JsExporter {
    /// A new export of Auth0's request body (an object or its JSON text) with host options.
    #[wasm_bindgen(constructor, skip_typescript)]
    pub fn new(request: JsValue, options: JsValue) -> Result<JsExporter, JsValue> {
        let request = read_request(&request)?;
        let HostOptions { core, tenant } = read_options(&options)?;
        let with_connection = core.connection.is_some();
        let query = core.query.clone();
        // An import export reads its own paths: the request it runs is the core's (`try_new`).
        let inner = crate::Exporter::try_new(request, core).map_err(|e| to_js(&e))?;
        let request = inner.request();
        // The cells of a pushUsers batch, in the core's order (`Exporter::cell_width`): the fields,
        // the connection when filtering on it, then each path the query reads (through arrays).
        let paths = picker_paths(request, with_connection);
        let names: Array = request.fields.iter().map(|f| JsValue::from_str(&f.name)).collect();
        if with_connection {
            names.push(&JsValue::from_str("identities[0].connection"));
        }
        let query_paths = Array::new();
        for path in query.iter().flat_map(|q| q.paths()) {
            query_paths.push(&path.keys().iter().map(|k| JsValue::from_str(k)).collect::<Array>());
            names.push(&JsValue::from_str(&path.keys().join(".")));
        }
        debug_assert_eq!(inner.cell_width() as u32, names.length());
        Ok(JsExporter {
            inner,
            tenant,
            picker: None,
            paths,
            query_paths,
            names,
            pending_high: None,
            via_push: false,
            scratch: Vec::new(),
            done: false,
            started_at: now(),
            ended_at: None,
        })
    }

    /// Pushes one user object or an array of them, reading only the selected paths.
    #[wasm_bindgen(js_name = pushUsers, skip_typescript)]
    pub fn push_users(&mut self, users: JsValue, first_index: Option<f64>) -> Result<(), JsValue> {
        let base = first_index.filter(|n| *n >= 0.0 && n.fract() == 0.0).unwrap_or(0.0) as u64;
        let width = self.names.length();
        let picker =
            self.picker.get_or_insert_with(|| make_picker(&self.paths, &self.query_paths, &self.names));
        let picked: Array = pick_batch(&users, picker, width).unchecked_into();
        let tags: Uint8Array = picked.get(0).unchecked_into();
        let lens: js_sys::Uint32Array = picked.get(1).unchecked_into();
        let text: Uint8Array = picked.get(2).unchecked_into();
        let second_text: Uint8Array = picked.get(3).unchecked_into();
        let bad: Vec<BadUser> =
            serde_wasm_bindgen::from_value(picked.get(4)).map_err(|e| argument_error(&e.to_string()))?;
        // The door counts UTF-16 units; where a text is not ASCII the core needs bytes.
        let (text, second_text, mut lens) = (text.to_vec(), second_text.to_vec(), lens.to_vec());
        if !picked.get(5).is_truthy() {
            utf16_lengths_to_utf8(&mut lens, &text, false);
        }
        if !second_text.is_empty() {
            utf16_lengths_to_utf8(&mut lens, &second_text, true);
        }
        let batch = CellBatch {
            width: width as usize,
            tags: tags.to_vec(),
            lens,
            text,
            second_text,
            bad: bad.into_iter().map(|b| (b.code(), b.message)).collect(),
        };
        self.inner.push_encoded_cells(batch, base).map_err(|e| to_js(&e))
    }

    /// Pushes a JSON text (string or UTF-8 bytes): one user, an array of users, or a Management API page.
    #[wasm_bindgen(js_name = pushJson, skip_typescript)]
    pub fn push_json(&mut self, text: JsValue) -> Result<(), JsValue> {
        let bytes = self.input_bytes(text, None)?;
        let r = self.inner.push_json(&bytes);
        self.scratch = bytes;
        r.map_err(|e| to_js(&e))
    }

    /// Pushes input in the form `options.input` names (by default the one the core tells).
    #[wasm_bindgen(skip_typescript)]
    pub fn push(&mut self, chunk: JsValue) -> Result<(), JsValue> {
        self.via_push = true;
        let mut pending = self.pending_high.take();
        let bytes = self.input_bytes(chunk, Some(&mut pending))?;
        self.pending_high = pending;
        let r = self.inner.push_bytes(&bytes);
        self.scratch = bytes;
        r.map_err(|e| to_js(&e))
    }

    /// Pushes NDJSON: bytes or string chunks split anywhere (mid-line, mid-character).
    #[wasm_bindgen(js_name = pushNdjson, skip_typescript)]
    pub fn push_ndjson(&mut self, chunk: JsValue) -> Result<(), JsValue> {
        let mut pending = self.pending_high.take();
        let bytes = self.input_bytes(chunk, Some(&mut pending))?;
        self.pending_high = pending;
        let r = self.inner.push_ndjson(&bytes);
        self.scratch = bytes;
        r.map_err(|e| to_js(&e))
    }

    /// Says no more input will come.
    #[wasm_bindgen(skip_typescript)]
    pub fn finish(&mut self) -> Result<(), JsValue> {
        if let Some(high) = self.pending_high.take() {
            // A string chunk ended in half a surrogate pair and no other half came.
            let text = String::from(escape_lone_surrogates(&high));
            let r = if self.via_push {
                self.inner.push_bytes(text.as_bytes())
            } else {
                self.inner.push_ndjson(text.as_bytes())
            };
            r.map_err(|e| to_js(&e))?;
        }
        self.inner.finish().map_err(|e| to_js(&e))
    }

    /// The next chunk of output (copied out of wasm memory), or `undefined`.
    #[wasm_bindgen(skip_typescript)]
    pub fn pull(&mut self) -> Result<Option<Uint8Array>, JsValue> {
        let (bytes, ended) = pulled_bytes(self.inner.pull())?;
        if ended {
            self.mark_done();
        }
        Ok(bytes)
    }

    /// Copies the next output bytes into `target` (at most its length) and returns how many.
    #[wasm_bindgen(js_name = pullInto, skip_typescript)]
    pub fn pull_into(&mut self, target: &Uint8Array) -> Result<u32, JsValue> {
        let room = target.length() as usize;
        if room == 0 {
            return Err(argument_error("pullInto needs a target of at least one byte"));
        }
        match self.inner.pull_at_most(room).map_err(|e| to_js(&e))? {
            Pull::Data(bytes) => {
                target.subarray(0, bytes.len() as u32).copy_from(bytes);
                Ok(bytes.len() as u32)
            }
            Pull::NeedInput => Ok(0),
            Pull::Done => {
                self.mark_done();
                Ok(0)
            }
        }
    }

    /// True once every byte of the export has been pulled.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn done(&self) -> bool {
        self.done
    }

    /// True once `limit` users are written: the caller may stop reading input.
    #[wasm_bindgen(getter, js_name = limitReached, skip_typescript)]
    pub fn limit_reached(&self) -> bool {
        self.inner.limit_reached()
    }

    /// A checkpoint: the NDJSON bytes pushed that lie before the end of the last record read
    /// (see the core's `Exporter::consumed_bytes` for when it is a point to resume from).
    #[wasm_bindgen(getter, js_name = consumedBytes, skip_typescript)]
    pub fn consumed_bytes(&self) -> f64 {
        self.inner.consumed_bytes() as f64
    }

    /// With `{ gzip: true, gzipSegment: true }`, once `done`: `{ crc32, bytes }` of the plain
    /// output in the segment (for the host's gzip trailer); otherwise `undefined`.
    #[wasm_bindgen(getter, js_name = gzipSegment, skip_typescript)]
    pub fn gzip_segment(&self) -> JsValue {
        match self.inner.gzip_segment() {
            Some((crc32, bytes)) => to_js_value(&serde_json::json!({ "crc32": crc32, "bytes": bytes })),
            None => JsValue::UNDEFINED,
        }
    }

    /// The output format: "json" (NDJSON) or "csv".
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn format(&self) -> String {
        self.inner.request().format.as_str().to_string()
    }

    /// The export's file name, with `.gz` when `gzip` (by default: when the output is gzipped);
    /// `<tenant>.import.zip` for re-import.
    #[wasm_bindgen(js_name = fileName, skip_typescript)]
    pub fn file_name(&self, gzip: Option<bool>) -> String {
        if self.inner.is_for_import() {
            return crate::import_zip_name(&self.tenant).expect("tenant checked");
        }
        file_name(&self.tenant, self.inner.request().format, gzip.unwrap_or(self.inner.is_gzipped()))
            .expect("tenant checked")
    }

    /// File name, MIME type and columns of this export (of its one zip, for re-import).
    #[wasm_bindgen(skip_typescript)]
    pub fn describe(&self) -> Result<JsValue, JsValue> {
        Ok(description_value(&self.description()?))
    }

    /// The finished download as a `File` named after the tenant, made of JS-owned `parts`.
    #[wasm_bindgen(js_name = toFile, skip_typescript)]
    pub fn to_file(&self, parts: &Array) -> Result<web_sys::File, JsValue> {
        file_of(parts, &self.description()?)
    }

    /// Counts so far.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn stats(&self) -> JsValue {
        stats_value(&self.inner.stats())
    }

    /// The manifest of the finished export (request, options, counts, sha256s, times); an
    /// `invalid_state` error before the export is `done`, or when it was made without
    /// `{ manifest: true }`.
    #[wasm_bindgen(skip_typescript)]
    pub fn manifest(&self) -> Result<JsValue, JsValue> {
        let (Some(ended_at), true) = (&self.ended_at, self.done) else {
            let e = crate::Error::new(
                crate::ErrorCode::InvalidState,
                "manifest() is ready once the export is done (pull until `done`)",
            );
            return Err(to_js(&e));
        };
        let manifest =
            self.inner.manifest(&self.tenant, &self.started_at, ended_at).map_err(|e| to_js(&e))?;
        let Some(manifest) = manifest else {
            let e = crate::Error::new(
                crate::ErrorCode::InvalidState,
                "manifest() needs the Exporter created with { manifest: true }: the sha256s are taken as the bytes are pulled",
            );
            return Err(to_js(&e));
        };
        Ok(to_js_value(&manifest.to_value()))
    }

    /// The next chunk of a `forImport` export: `{ file, fileName, bytes, endsFile }`, the bytes of
    /// one import file (never two), or `undefined` when more input is needed or the export is `done`.
    #[wasm_bindgen(js_name = pullImport, skip_typescript)]
    pub fn pull_import(&mut self) -> Result<JsValue, JsValue> {
        if !self.inner.is_for_import() {
            let e = crate::Error::new(
                crate::ErrorCode::InvalidState,
                "pullImport() needs the Exporter created with { forImport: true }",
            );
            return Err(to_js(&e));
        }
        let chunk = match self.inner.pull_import().map_err(|e| to_js(&e))? {
            Pull::Data(c) => c,
            Pull::NeedInput => return Ok(JsValue::UNDEFINED),
            Pull::Done => {
                self.mark_done();
                return Ok(JsValue::UNDEFINED);
            }
        };
        let out = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&out, &k.into(), v).expect("a fresh object");
        set("file", &JsValue::from_f64(f64::from(chunk.file)));
        set(
            "fileName",
            &JsValue::from_str(&import_file_name(&self.tenant, chunk.file).expect("tenant checked")),
        );
        set("bytes", &Uint8Array::from(chunk.bytes).into());
        set("endsFile", &JsValue::from_bool(chunk.ends_file));
        Ok(out.into())
    }

    /// The import files finished so far: `{ file, fileName, bytes, users }` each.
    #[wasm_bindgen(getter, js_name = importFiles, skip_typescript)]
    pub fn import_files(&self) -> JsValue {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct JsImportFile {
            file: u32,
            file_name: String,
            bytes: u64,
            users: u64,
        }
        let files: Vec<JsImportFile> = self
            .inner
            .import_files()
            .iter()
            .map(|f| JsImportFile {
                file: f.number,
                file_name: import_file_name(&self.tenant, f.number).expect("tenant checked"),
                bytes: f.bytes,
                users: f.users,
            })
            .collect();
        to_js_value(&files)
    }

    /// The users left out of the import files so far, in input order, with where and why.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn unimportable(&self) -> JsValue {
        unimportable_value(self.inner.unimportable())
    }

    /// How many users were left out of the import files so far (those taken included).
    #[wasm_bindgen(getter, js_name = unimportableCount, skip_typescript)]
    pub fn unimportable_count(&self) -> f64 {
        self.inner.unimportable_count() as f64
    }

    /// The bytes of `<tenant>.import.unimportable.json` for the users left out since the last
    /// call, which leave wasm memory; with `end` (after the last pull) the list's close too.
    #[wasm_bindgen(js_name = takeUnimportableJson, skip_typescript)]
    pub fn take_unimportable_json(&mut self, end: Option<bool>) -> Uint8Array {
        Uint8Array::from(&self.inner.take_unimportable_json(end.unwrap_or(false))[..])
    }

    /// The list of users left out as the file every host writes: its name and JSON bytes.
    #[wasm_bindgen(js_name = unimportableFile, skip_typescript)]
    pub fn unimportable_file(&self) -> Result<web_sys::File, JsValue> {
        let bytes = crate::unimportable_json(self.inner.unimportable());
        let parts = Array::of1(&Uint8Array::from(&bytes[..]));
        let bag = web_sys::FilePropertyBag::new();
        bag.set_type("application/json");
        let name = unimportable_file_name(&self.tenant).map_err(|e| to_js(&e))?;
        web_sys::File::new_with_blob_sequence_and_options(&parts, &name, &bag)
    }

    /// Every record skipped in lenient mode, in input order.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn errors(&self) -> JsValue {
        let fields: Vec<ErrorFields<'_>> = self.inner.skipped().iter().map(ErrorFields::from).collect();
        to_js_value(&fields)
    }
}

/// A user the picker could not write: its reason, as `js/door.js` gives it.
#[derive(Deserialize)]
struct BadUser {
    code: String,
    message: String,
}

impl BadUser {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::from_name(&self.code).unwrap_or(crate::ErrorCode::UnsupportedValue)
    }
}

/// The paths the picker walks, as `Exporter::push_picked` numbers them: each field's steps as JS
/// keys (strings) and indexes (numbers), then `identities[0].connection` when filtering on it.
fn picker_paths(request: &Request, with_connection: bool) -> Array {
    let steps = |path: &[Step]| -> Array {
        path.iter()
            .map(|step| match step {
                Step::Key(k) => JsValue::from_str(k),
                Step::Index(i) => JsValue::from_f64(f64::from(*i)),
            })
            .collect()
    };
    let paths: Array = request.fields.iter().map(|f| steps(&f.path)).collect();
    if with_connection {
        paths.push(&steps(&crate::connection_path()));
    }
    paths
}

/// The current time as an ISO 8601 string (`2026-01-02T03:04:05.678Z`).
fn now() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}

impl JsExporter {
    /// What this export is called and holds (for re-import: its one zip).
    fn description(&self) -> Result<crate::Description, JsValue> {
        let d = if self.inner.is_for_import() {
            crate::describe_import(&self.tenant)
        } else {
            describe(self.inner.request(), &self.tenant, self.inner.is_gzipped())
        };
        d.map_err(|e| to_js(&e))
    }

    /// Marks every byte pulled, the first time: the manifest's end time.
    fn mark_done(&mut self) {
        if !self.done {
            self.done = true;
            self.ended_at = Some(now());
        }
    }

    /// The UTF-8 bytes of a string / Uint8Array / ArrayBuffer argument, in a reused buffer.
    /// A lone surrogate in a string becomes its `\uXXXX` escape, which the core rejects as
    /// `lone_surrogate` at the right line (wasm-bindgen would quietly write U+FFFD instead).
    fn input_bytes(
        &mut self,
        input: JsValue,
        pending: Option<&mut Option<JsString>>,
    ) -> Result<Vec<u8>, JsValue> {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        if let Some(s) = input.dyn_ref::<JsString>() {
            let mut s = s.clone();
            if let Some(pending) = pending {
                if let Some(high) = pending.take() {
                    s = high.concat(&s);
                }
                let len = s.length();
                if len > 0 && (0xD800..0xDC00).contains(&(s.char_code_at(len - 1) as u32)) {
                    *pending = Some(s.slice(len - 1, len));
                    s = s.slice(0, len - 1);
                }
            }
            if !well_formed(&s) {
                s = escape_lone_surrogates(&s);
            }
            buf.extend_from_slice(String::from(s).as_bytes());
            return Ok(buf);
        }
        if let Some(high) = pending.and_then(Option::take) {
            buf.extend_from_slice(String::from(escape_lone_surrogates(&high)).as_bytes());
        }
        let array = if let Some(a) = input.dyn_ref::<Uint8Array>() {
            a.clone()
        } else if let Some(b) = input.dyn_ref::<ArrayBuffer>() {
            Uint8Array::new(b)
        } else {
            self.scratch = buf;
            return Err(argument_error("input must be a string, a Uint8Array or an ArrayBuffer"));
        };
        let start = buf.len();
        buf.resize(start + array.length() as usize, 0);
        array.copy_to(&mut buf[start..]);
        Ok(buf)
    }
}
