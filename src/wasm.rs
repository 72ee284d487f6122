//! The wasm door: the JS `Exporter` class and helpers, and the one place core errors become JS `Error`s.
//!
//! Everything JS-specific lives here; the core never sees a `JsValue`. What crosses is typed with
//! serde (serde-wasm-bindgen): the request and options coming in, stats, errors and descriptions
//! going out. JS objects are read along the selected paths only, by the picker in `js/door.js`.

use js_sys::{Array, ArrayBuffer, Function, JsString, Object, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::{
    check_tenant, describe, file_name, CellBatch, Error, Format, InputForm, Options, Pull, Request, Step,
};

#[wasm_bindgen(module = "/js/door.js")]
extern "C" {
    fn make_picker(paths: &Array, query_paths: &Array, names: &Array) -> Function;
    /// The batch as cells: `[tags, lens (UTF-16 units), UTF-8 text, bad users, ascii]`.
    fn pick_batch(users: &JsValue, pick: &Function, width: u32) -> JsValue;
    fn well_formed(s: &JsString) -> bool;
    fn escape_lone_surrogates(s: &JsString) -> JsString;
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Auth0's body for POST /api/v2/jobs/users-exports. */
export interface ExportRequest {
  connection_id?: string;
  format?: "json" | "csv";
  limit?: number;
  fields?: { name: string; export_as?: string }[];
}
/** What a host sets beside Auth0's request body. An unknown key is a TypeError (`invalid_argument`). */
export interface ExportOptions {
  /** Names the output file (`<tenant>.csv`); 1–64 of a-z 0-9 - _. Default "export". */
  tenant?: string;
  /** Only users whose identities[0].connection equals this name. */
  connection?: string | null;
  /** Skip bad records and report them in `errors` instead of failing. Default false. */
  lenient?: boolean;
  /** Most bytes one pull() returns. Default 65536. */
  chunkSize?: number;
  /** Longest record accepted, in bytes. Default 32 MiB. */
  maxRecordBytes?: number;
  /** Pull the output gzipped (`fileName()` then ends in .gz): compressed inside wasm.
   *  Gunzipped, exactly the plain export. Default false. */
  gzip?: boolean;
  /** The form of the bytes given to `push()`: "auto" (default: JSON text when the first non-blank
   *  character is `[` or the whole input is one JSON value, else NDJSON), "ndjson" or "json". */
  input?: "auto" | "ndjson" | "json";
  /** Only users Auth0's user-search query (v3 syntax) matches, evaluated in the same pass; a bad
   *  query throws `invalid_query` (statusCode 400) naming the position, before any user is read. */
  query?: string;
}
export interface ExportStats {
  usersRead: number; usersWritten: number; usersSkipped: number; usersFiltered: number;
  /** Users the query matched (after the connection filter); every such user when there is no query. */
  usersMatched: number;
  bytesIn: number; bytesOut: number; lines: number;
}
/** An export as a host shows it (`describeExport`, `Exporter.describe()`). */
export interface ExportDescription {
  format: "json" | "csv";
  /** `<tenant>.csv`, `<tenant>.json`, with `.gz` when gzipped. */
  fileName: string;
  /** `text/csv;charset=utf-8`, `application/x-ndjson` or `application/gzip`. */
  mimeType: string;
  /** Column names in output order (CSV header cells, NDJSON keys). */
  columns: string[];
  gzip: boolean;
}
/** One field of a request: the Dashboard preset is a list of these. */
export interface ExportField { name: string; export_as?: string }
/** Auth0's error envelope, as its Management API answers. */
export interface Auth0ErrorEnvelope { statusCode: number; error: string; message: string; errorCode?: string }
/** The stable codes of userexport errors (`error.code`). */
export type ErrorCode =
  | "invalid_request" | "invalid_tenant" | "invalid_json" | "not_an_object" | "invalid_utf8"
  | "lone_surrogate" | "duplicate_key" | "too_deep" | "record_too_large" | "unsupported_value"
  | "invalid_state" | "invalid_argument" | "invalid_query";
/** A bad record: thrown as an Error in strict mode, listed in `errors` in lenient mode. */
export interface ExportErrorFields {
  code: ErrorCode;
  message: string;
  /** 1-based NDJSON line. */
  line?: number;
  /** 0-based index of the user (plus `firstIndex`) in one pushUsers / pushJson call. */
  index?: number;
  userId?: string;
  /** 400 for a bad request body. */
  statusCode?: number;
  /** "invalid_body" for a bad request body. */
  errorCode?: string;
}
export type ExportError = Error & ExportErrorFields;

/** Streaming export of users to Auth0's NDJSON or CSV bytes: push input, pull output. */
export class Exporter {
  /** A new export. Errors in `request` are thrown with `statusCode` 400 and `errorCode` "invalid_body". */
  constructor(request?: ExportRequest | string, options?: ExportOptions);
  /** Pushes one user object or an array of them. Only the selected paths are read. Errors give
   *  each user's index in `users` plus `firstIndex` (default 0). */
  pushUsers(users: object | object[], firstIndex?: number): void;
  /** Pushes a JSON text (string or UTF-8 bytes): one user, an array of users, or a Management API page. */
  pushJson(text: string | Uint8Array | ArrayBuffer): void;
  /** Pushes input bytes or strings split anywhere, in the form the `input` option names (by
   *  default the core tells NDJSON from JSON text). */
  push(chunk: string | Uint8Array | ArrayBuffer): void;
  /** Pushes NDJSON: bytes or string chunks split anywhere. */
  pushNdjson(chunk: string | Uint8Array | ArrayBuffer): void;
  /** Says no more input will come. */
  finish(): void;
  /** The next chunk of output, or `undefined` when more input is needed or the export is `done`. */
  pull(): Uint8Array | undefined;
  /** Copies the next output bytes into `target` and returns how many (0: more input needed, or done). */
  pullInto(target: Uint8Array): number;
  /** True once every byte of the export has been pulled. */
  readonly done: boolean;
  /** True once `limit` users are written: the caller may stop reading input. */
  readonly limitReached: boolean;
  /** The output format. */
  readonly format: "json" | "csv";
  /** The export's file name; `gzip` defaults to whether this export's output is gzipped. */
  fileName(gzip?: boolean): string;
  /** File name, MIME type and columns of this export. */
  describe(): ExportDescription;
  /** The finished download as a File named after the tenant with the export's MIME type, made of
   *  `parts` (the pulled chunks, or Blobs holding them): no copy of the whole export in wasm memory. */
  toFile(parts: BlobPart[]): File;
  /** Counts so far. */
  readonly stats: ExportStats;
  /** Every record skipped in lenient mode, in input order. */
  readonly errors: ExportErrorFields[];
  /** Frees the wasm memory of this export (also done by `using`). */
  free(): void;
  [Symbol.dispose](): void;
}

/** File name, MIME type and columns of an export, checked as the Exporter checks them. */
export function describeExport(request?: ExportRequest | string, options?: ExportOptions): ExportDescription;
/** The finished download as a File: `parts` under the name and MIME type `describeExport` gives. */
export function exportFile(parts: BlobPart[], request?: ExportRequest | string, options?: ExportOptions): File;
/** The export's file name: `fileName("acme", "csv", {gzip: true})` is `acme.csv.gz`. */
export function fileName(tenant: string, format: "json" | "csv", options?: { gzip?: boolean }): string;
/** The Dashboard's "Include default fields" preset, with its column names. */
export function dashboardPreset(): ExportField[];
/** Auth0's error envelope `{statusCode, error, message, errorCode?}`: for an error this package
 *  threw, or for a status, a message and an optional errorCode. */
export function errorEnvelope(error: ExportError | number, message?: string, errorCode?: string): Auth0ErrorEnvelope;
/** True when bytes start with the gzip magic (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean;
"#;

// ---- errors: the one place a core error becomes a JS value ---------------------------------

/// The JS shape of an error: `code`, the message a person reads, and where.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorFields<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
}

impl<'a> From<&'a Error> for ErrorFields<'a> {
    fn from(e: &'a Error) -> Self {
        ErrorFields {
            code: e.code().as_str(),
            message: e.to_string(),
            status_code: e.status_code(),
            error_code: e.auth0_error_code(),
            line: e.line(),
            index: e.index(),
            user_id: e.user_id(),
        }
    }
}

fn to_js_value<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).expect("plain data serializes")
}

/// A core error as a thrown JS `Error` carrying its fields.
fn to_js(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    Object::assign(&err, &to_js_value(&ErrorFields::from(e)).unchecked_into());
    err.into()
}

/// A misuse of the JS API (a wrong argument type or option): a `TypeError` with `code`.
fn argument_error(message: &str) -> JsValue {
    let err = js_sys::TypeError::new(message);
    let fields = Object::new();
    js_sys::Reflect::set(&fields, &"code".into(), &"invalid_argument".into()).expect("a fresh object");
    Object::assign(&err, &fields);
    err.into()
}

// ---- what comes in: options and request ----------------------------------------------------

/// The options object, read with serde (serde-wasm-bindgen reads a struct's fields by name, so
/// unknown keys are looked for separately: [`OPTION_KEYS`]).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct JsOptions {
    tenant: Option<String>,
    connection: Option<String>,
    lenient: Option<bool>,
    chunk_size: Option<f64>,
    max_record_bytes: Option<f64>,
    gzip: Option<bool>,
    input: Option<JsInput>,
    query: Option<String>,
}

/// `options.input`: the form of the bytes given to `push()`.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum JsInput {
    Auto,
    Ndjson,
    Json,
}

/// A host's options: the core's, plus the tenant that names the file.
struct HostOptions {
    core: Options,
    tenant: String,
}

fn size(value: Option<f64>, key: &str, default: usize) -> Result<usize, JsValue> {
    match value {
        None => Ok(default),
        Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Ok(n as usize),
        Some(_) => Err(argument_error(&format!("options.{key} must be a whole number of at least 1"))),
    }
}

/// The keys of [`JsOptions`], as JS spells them.
const OPTION_KEYS: [&str; 8] =
    ["tenant", "connection", "lenient", "chunkSize", "maxRecordBytes", "gzip", "input", "query"];

fn read_options(options: &JsValue) -> Result<HostOptions, JsValue> {
    let js: JsOptions = if options.is_undefined() || options.is_null() {
        JsOptions::default()
    } else {
        if !options.is_object() || options.is_function() {
            return Err(argument_error("options must be an object"));
        }
        // A misspelt option would otherwise be quietly ignored ({ gzpi: true } exports plain).
        let object: &Object = options.unchecked_ref();
        for key in Object::keys(object).iter().filter_map(|k| k.as_string()) {
            if !OPTION_KEYS.contains(&key.as_str()) {
                return Err(argument_error(&format!(
                    "options: unknown option {key:?}; the options are {}",
                    OPTION_KEYS.map(|k| format!("{k:?}")).join(", ")
                )));
            }
        }
        serde_path_to_error::deserialize(serde_wasm_bindgen::Deserializer::from(options.clone()))
            .map_err(|e| argument_error(&option_message(&e)))?
    };
    let tenant = js.tenant.unwrap_or_else(|| "export".to_string());
    check_tenant(&tenant).map_err(|e| to_js(&e))?;
    let defaults = Options::default();
    let core = Options {
        connection: js.connection,
        lenient: js.lenient.unwrap_or(false),
        gzip: js.gzip.unwrap_or(false),
        chunk_size: size(js.chunk_size, "chunkSize", defaults.chunk_size)?,
        max_record_bytes: size(js.max_record_bytes, "maxRecordBytes", defaults.max_record_bytes)?,
        input_form: match js.input {
            None | Some(JsInput::Auto) => InputForm::Auto,
            Some(JsInput::Ndjson) => InputForm::Ndjson,
            Some(JsInput::Json) => InputForm::Json,
        },
        query: js.query.as_deref().map(crate::Query::parse).transpose().map_err(|e| to_js(&e.into()))?,
    };
    Ok(HostOptions { core, tenant })
}

/// serde's words, in the shape of this API's other argument errors.
fn option_message(e: &serde_path_to_error::Error<serde_wasm_bindgen::Error>) -> String {
    let path = e.path().to_string();
    // serde-wasm-bindgen's errors are JS Errors; their text starts with "Error: ".
    let inner = e.inner().to_string();
    let inner = inner.strip_prefix("Error: ").unwrap_or(&inner);
    if path == "." || path.is_empty() {
        format!("options: {inner}")
    } else {
        format!("options.{path}: {inner}")
    }
}

/// Auth0's request body: JSON text, or an object read as `JSON.stringify` reads it (members that
/// are `undefined` are left out; everything else is checked by the core as the text would be).
fn read_request(request: &JsValue) -> Result<Request, JsValue> {
    if let Some(text) = request.as_string() {
        return Request::from_json(&text).map_err(|e| to_js(&e));
    }
    if request.is_undefined() || request.is_null() {
        return Request::from_json("{}").map_err(|e| to_js(&e));
    }
    let body = json_value(request)
        .map_err(|_| to_js(&Error::request("The request body cannot be written as JSON.")))?;
    Request::from_value(&body).map_err(|e| to_js(&e))
}

/// A JS value as the JSON `JSON.stringify` would give it, for the small request body: objects
/// lose their `undefined` members (serde would make them `null`), the rest is serde-wasm-bindgen's.
fn json_value(value: &JsValue) -> Result<serde_json::Value, serde_wasm_bindgen::Error> {
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        return array
            .iter()
            .map(|v| if v.is_undefined() { Ok(serde_json::Value::Null) } else { json_value(&v) })
            .collect::<Result<Vec<_>, _>>()
            .map(serde_json::Value::Array);
    }
    if value.is_object() && !value.is_function() {
        let mut map = serde_json::Map::new();
        for entry in Object::entries(value.unchecked_ref()).iter() {
            let entry: Array = entry.unchecked_into();
            let member = entry.get(1);
            if member.is_undefined() || member.is_function() || member.is_symbol() {
                continue;
            }
            let key = entry.get(0).as_string().unwrap_or_default();
            map.insert(key, json_value(&member)?);
        }
        return Ok(serde_json::Value::Object(map));
    }
    if value.is_bigint() || value.is_symbol() {
        // JSON.stringify throws on a BigInt; serde would quietly take it as an integer.
        return Err(serde_wasm_bindgen::Error::new("JSON cannot write a BigInt or a Symbol"));
    }
    serde_wasm_bindgen::from_value(value.clone())
}

// ---- what goes out -------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsStats {
    users_read: u64,
    users_written: u64,
    users_skipped: u64,
    users_filtered: u64,
    users_matched: u64,
    bytes_in: u64,
    bytes_out: u64,
    lines: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsDescription<'a> {
    format: &'a str,
    file_name: &'a str,
    mime_type: &'a str,
    columns: &'a [String],
    gzip: bool,
}

fn description(request: &Request, tenant: &str, gzip: bool) -> Result<JsValue, JsValue> {
    let d = describe(request, tenant, gzip).map_err(|e| to_js(&e))?;
    Ok(to_js_value(&JsDescription {
        format: d.format.as_str(),
        file_name: &d.file_name,
        mime_type: d.mime_type,
        columns: &d.columns,
        gzip: d.gzip,
    }))
}

// ---- the Exporter --------------------------------------------------------------------------

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
}

#[wasm_bindgen(js_class = Exporter)]
impl JsExporter {
    /// A new export of Auth0's request body (an object or its JSON text) with host options.
    #[wasm_bindgen(constructor, skip_typescript)]
    pub fn new(request: JsValue, options: JsValue) -> Result<JsExporter, JsValue> {
        let request = read_request(&request)?;
        let HostOptions { core, tenant } = read_options(&options)?;
        // The cells of a pushUsers batch, in the core's order (`Exporter::cell_width`): the fields,
        // the connection when filtering on it, then each path the query reads (through arrays).
        let paths = picker_paths(&request, core.connection.is_some());
        let names: Array = request.fields.iter().map(|f| JsValue::from_str(&f.name)).collect();
        if core.connection.is_some() {
            names.push(&JsValue::from_str("identities[0].connection"));
        }
        let query_paths = Array::new();
        for path in core.query.iter().flat_map(|q| q.paths()) {
            query_paths.push(&path.keys().iter().map(|k| JsValue::from_str(k)).collect::<Array>());
            names.push(&JsValue::from_str(&path.keys().join(".")));
        }
        let inner = crate::Exporter::new(request, core);
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
        let bytes: Uint8Array = picked.get(2).unchecked_into();
        let bad: Vec<BadUser> =
            serde_wasm_bindgen::from_value(picked.get(3)).map_err(|e| argument_error(&e.to_string()))?;
        let text = bytes.to_vec();
        let mut lens = lens.to_vec();
        if !picked.get(4).is_truthy() {
            utf16_lengths_to_utf8(&mut lens, &text);
        }
        let batch = CellBatch {
            width: width as usize,
            tags: tags.to_vec(),
            lens,
            text,
            bad: bad.into_iter().map(|b| (b.code(), b.message)).collect(),
        };
        self.inner.push_cells(batch, base).map_err(|e| to_js(&e))
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
        match self.inner.pull().map_err(|e| to_js(&e))? {
            Pull::Data(bytes) => Ok(Some(Uint8Array::from(bytes))),
            Pull::NeedInput => Ok(None),
            Pull::Done => {
                self.done = true;
                Ok(None)
            }
        }
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
                self.done = true;
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

    /// The output format: "json" (NDJSON) or "csv".
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn format(&self) -> String {
        self.inner.request().format.as_str().to_string()
    }

    /// The export's file name, with `.gz` when `gzip` (by default: when the output is gzipped).
    #[wasm_bindgen(js_name = fileName, skip_typescript)]
    pub fn file_name(&self, gzip: Option<bool>) -> String {
        file_name(&self.tenant, self.inner.request().format, gzip.unwrap_or(self.inner.is_gzipped()))
            .expect("tenant checked")
    }

    /// File name, MIME type and columns of this export.
    #[wasm_bindgen(skip_typescript)]
    pub fn describe(&self) -> Result<JsValue, JsValue> {
        description(self.inner.request(), &self.tenant, self.inner.is_gzipped())
    }

    /// The finished download as a `File` named after the tenant, made of JS-owned `parts`.
    #[wasm_bindgen(js_name = toFile, skip_typescript)]
    pub fn to_file(&self, parts: &Array) -> Result<web_sys::File, JsValue> {
        let gzip = self.inner.is_gzipped();
        let d = describe(self.inner.request(), &self.tenant, gzip).map_err(|e| to_js(&e))?;
        file_of(parts, &d)
    }

    /// Counts so far.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn stats(&self) -> JsValue {
        let s = self.inner.stats();
        to_js_value(&JsStats {
            users_read: s.users_read,
            users_written: s.users_written,
            users_skipped: s.users_skipped,
            users_filtered: s.users_filtered,
            users_matched: s.users_matched,
            bytes_in: s.bytes_in,
            bytes_out: s.bytes_out,
            lines: s.lines,
        })
    }

    /// Every record skipped in lenient mode, in input order.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn errors(&self) -> JsValue {
        let fields: Vec<ErrorFields<'_>> = self.inner.skipped().iter().map(ErrorFields::from).collect();
        to_js_value(&fields)
    }
}

/// Turns the UTF-16 lengths of the text cells into UTF-8 byte lengths, walking `text` once (only
/// for batches with non-ASCII text: for ASCII the two are the same).
fn utf16_lengths_to_utf8(lens: &mut [u32], text: &[u8]) {
    let mut at = 0usize;
    for len in lens.iter_mut().filter(|l| **l > 0) {
        let mut units = *len;
        let start = at;
        while units > 0 && at < text.len() {
            let b = text[at];
            let (bytes, n) = match b {
                0x00..=0x7f => (1, 1),
                0xc0..=0xdf => (2, 1),
                0xe0..=0xef => (3, 1),
                _ => (4, 2),
            };
            at += bytes;
            units = units.saturating_sub(n);
        }
        *len = (at - start) as u32;
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
        match self.code.as_str() {
            "not_an_object" => crate::ErrorCode::NotAnObject,
            "lone_surrogate" => crate::ErrorCode::LoneSurrogate,
            _ => crate::ErrorCode::UnsupportedValue,
        }
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

impl JsExporter {
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

// ---- free functions ------------------------------------------------------------------------

/// The export's file name. Throws `invalid_tenant` for a name that could climb out of a folder.
#[wasm_bindgen(js_name = fileName, skip_typescript)]
pub fn js_file_name(tenant: &str, format: &str, options: JsValue) -> Result<String, JsValue> {
    let format = match format {
        "json" => Format::Json,
        "csv" => Format::Csv,
        _ => return Err(argument_error("format must be \"json\" or \"csv\"")),
    };
    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct NameOptions {
        gzip: Option<bool>,
    }
    let options: NameOptions = if options.is_undefined() || options.is_null() {
        NameOptions::default()
    } else {
        serde_wasm_bindgen::from_value(options).map_err(|e| argument_error(&format!("options: {e}")))?
    };
    file_name(tenant, format, options.gzip.unwrap_or(false)).map_err(|e| to_js(&e))
}

/// File name, MIME type and columns of an export, checked as the Exporter checks them.
#[wasm_bindgen(js_name = describeExport, skip_typescript)]
pub fn describe_export(request: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let request = read_request(&request)?;
    let options = read_options(&options)?;
    description(&request, &options.tenant, options.core.gzip)
}

/// The finished download of an export as a `File`: `parts` (JS-owned chunks or Blobs) under the
/// name and MIME type `describeExport` gives for the same request and options.
#[wasm_bindgen(js_name = exportFile, skip_typescript)]
pub fn export_file(parts: &Array, request: JsValue, options: JsValue) -> Result<web_sys::File, JsValue> {
    let request = read_request(&request)?;
    let options = read_options(&options)?;
    let d = describe(&request, &options.tenant, options.core.gzip).map_err(|e| to_js(&e))?;
    file_of(parts, &d)
}

/// The platform's File of `parts`: the bytes stay where they are (a File only references its parts).
fn file_of(parts: &Array, d: &crate::Description) -> Result<web_sys::File, JsValue> {
    let bag = web_sys::FilePropertyBag::new();
    bag.set_type(d.mime_type);
    web_sys::File::new_with_blob_sequence_and_options(parts, &d.file_name, &bag)
}

/// The Dashboard's "Include default fields" preset.
#[wasm_bindgen(js_name = dashboardPreset, skip_typescript)]
pub fn dashboard_preset() -> JsValue {
    #[derive(Serialize)]
    struct PresetField {
        name: &'static str,
        export_as: &'static str,
    }
    let fields: Vec<PresetField> =
        crate::dashboard_preset().iter().map(|&(name, export_as)| PresetField { name, export_as }).collect();
    to_js_value(&fields)
}

/// Auth0's error envelope for an error this package threw (its `statusCode`, 400 when it has none
/// but is a request error) or for a status and message a host chose.
#[wasm_bindgen(js_name = errorEnvelope, skip_typescript)]
pub fn error_envelope(
    status_or_error: JsValue,
    message: Option<String>,
    error_code: Option<String>,
) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Envelope<'a> {
        status_code: u16,
        error: &'a str,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        error_code: Option<&'a str>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Thrown {
        message: String,
        status_code: Option<u16>,
        error_code: Option<String>,
    }
    let envelope = if let Some(status) = status_or_error.as_f64() {
        if !(100.0..=599.0).contains(&status) || status.fract() != 0.0 {
            return Err(argument_error("errorEnvelope: a status is a whole number from 100 to 599"));
        }
        let message = message
            .ok_or_else(|| argument_error("errorEnvelope(status, message): the message is missing"))?;
        crate::Auth0Error::new(status as u16, &message, error_code.as_deref())
    } else {
        // A thrown Error's own properties are not enumerable; read the three by name.
        let get =
            |key: &str| js_sys::Reflect::get(&status_or_error, &key.into()).unwrap_or(JsValue::UNDEFINED);
        let fields = Object::new();
        for key in ["message", "statusCode", "errorCode"] {
            js_sys::Reflect::set(&fields, &key.into(), &get(key)).expect("a fresh object");
        }
        let thrown: Thrown = serde_wasm_bindgen::from_value(fields.into())
            .map_err(|e| argument_error(&format!("errorEnvelope: not an error of this package ({e})")))?;
        crate::Auth0Error::new(
            thrown.status_code.unwrap_or(400),
            &thrown.message,
            thrown.error_code.as_deref(),
        )
    };
    Ok(to_js_value(&Envelope {
        status_code: envelope.status_code,
        error: envelope.error,
        message: &envelope.message,
        error_code: envelope.error_code.as_deref(),
    }))
}

/// True when bytes start with the gzip magic.
#[wasm_bindgen(js_name = isGzip, skip_typescript)]
pub fn is_gzip(bytes: &Uint8Array) -> bool {
    let mut head = [0u8; 2];
    let n = bytes.length().min(2);
    bytes.subarray(0, n).copy_to(&mut head[..n as usize]);
    crate::is_gzip(&head[..n as usize])
}
