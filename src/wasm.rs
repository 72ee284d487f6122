//! The wasm door: the JS `Exporter` class, and the one place core errors become JS `Error`s.
//!
//! Everything JS-specific lives here; the core never sees a `JsValue`. JS objects are turned
//! into JSON text by the engine's own `JSON.stringify` (so `toJSON`, dropped `undefined`,
//! functions and symbols all behave as JS programmers expect), and the few values that
//! `JSON.stringify` would silently change (NaN, ±Infinity) or refuse with a generic error
//! (BigInt, cycles, throwing getters) become `unsupported_value` errors naming the user's index.

use js_sys::{Array, ArrayBuffer, JsString, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::{check_tenant, file_name, Error, Options, Pull, Request};

// JS helpers that must run as JS to be fast (a replacer called per value) or that only JS can
// do cheaply (well-formedness of a UTF-16 string).
#[wasm_bindgen(inline_js = r#"
class Unsupported { constructor(message) { this.message = message; } }
// The slow, exact pass: JSON.stringify's own walk (toJSON, getters, cycles) with a replacer that
// stops at the first value JSON cannot carry; names the user's index and the key.
function locate(batch) {
  let index = 0;
  try {
    JSON.stringify(batch, function (key, value) {
      if (this === batch) index = Number(key);
      const n = value instanceof Number ? Number(value) : value;
      if (typeof n === 'number' && !Number.isFinite(n)) {
        throw new Unsupported(`${n} at key ${JSON.stringify(key)}: JSON has no NaN or Infinity`);
      }
      if (typeof value === 'bigint') {
        throw new Unsupported(`a BigInt at key ${JSON.stringify(key)}: JSON numbers cannot carry it exactly; convert it to a string or a number first`);
      }
      return value;
    });
    return null;
  } catch (e) {
    if (e instanceof Unsupported) return { index, message: e.message };
    const text = String(e && e.message);
    if (e instanceof TypeError && /circular|cyclic/i.test(text)) {
      return { index, message: 'the user holds a cycle (an object that contains itself), which JSON cannot write' };
    }
    return { index, message: `reading the user threw: ${e}`, cause: e };
  }
}
// The fast check, for text that JSON.stringify wrote without throwing but with a `null` in it
// (which may have been a NaN or an Infinity): no cycles are possible here, so a plain walk will do.
function nonFinite(value, key) {
  if (value !== null && typeof value === 'object' && typeof value.toJSON === 'function') value = value.toJSON(key);
  if (typeof value === 'number') return !Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return false;
  if (value instanceof Number) return !Number.isFinite(Number(value));
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (nonFinite(value[i], String(i))) return true;
    return false;
  }
  for (const k in value) if (Object.hasOwn(value, k) && nonFinite(value[k], k)) return true;
  return false;
}
export function users_to_json(value) {
  const batch = Array.isArray(value) ? value : [value];
  let text;
  try {
    text = JSON.stringify(batch);
  } catch (e) {
    return locate(batch);
  }
  if (text.includes('null') && nonFinite(batch, '')) return locate(batch) ?? { index: 0, message: 'a NaN or Infinity: JSON has none' };
  return text;
}
export function one_to_json(value) {
  return users_to_json([value]);
}
export function well_formed(s) {
  return typeof s.isWellFormed === 'function' ? s.isWellFormed() : !/\p{Surrogate}/u.test(s);
}
export function escape_lone_surrogates(s) {
  return s.replace(/\p{Surrogate}/gu, (c) => '\\u' + c.charCodeAt(0).toString(16));
}
"#)]
extern "C" {
    fn users_to_json(value: &JsValue) -> JsValue;
    fn one_to_json(value: &JsValue) -> JsValue;
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
/** What a host sets beside Auth0's request body. */
export interface ExportOptions {
  /** Names the output file (`<tenant>.csv`); 1–64 of a-z 0-9 - _. Default "export". */
  tenant?: string;
  /** Only users whose identities[0].connection equals this name. */
  connection?: string;
  /** Skip bad records and report them in `errors` instead of failing. Default false. */
  lenient?: boolean;
  /** Most bytes one pull() returns. Default 65536. */
  chunkSize?: number;
  /** Longest record accepted, in bytes. Default 32 MiB. */
  maxRecordBytes?: number;
  /** Pull the output gzipped (`fileName(true)` names it): compressed inside wasm, so no
   *  CompressionStream and no garbage per chunk. Gunzipped, exactly the plain export. Default false. */
  gzip?: boolean;
}
export interface ExportStats {
  usersRead: number; usersWritten: number; usersSkipped: number; usersFiltered: number;
  bytesIn: number; bytesOut: number; lines: number;
}
/** The stable codes of userexport errors (`error.code`). */
export type ErrorCode =
  | "invalid_request" | "invalid_tenant" | "invalid_json" | "not_an_object" | "invalid_utf8"
  | "lone_surrogate" | "duplicate_key" | "too_deep" | "record_too_large" | "unsupported_value"
  | "invalid_state" | "invalid_argument";
/** A bad record: thrown as an Error in strict mode, listed in `errors` in lenient mode. */
export interface ExportErrorFields {
  code: ErrorCode;
  message: string;
  /** 1-based NDJSON line. */
  line?: number;
  /** 0-based index of the user in one pushUsers / pushJson call. */
  index?: number;
  userId?: string;
  /** 400 for a bad request body. */
  statusCode?: number;
  /** "invalid_body" for a bad request body. */
  errorCode?: string;
}
export type ExportError = Error & ExportErrorFields;
"#;

/// The one place a core error crosses to JS: `code`, the message a person reads, and where.
fn error_fields(target: &JsValue, e: &Error) {
    set(target, "code", &e.code().as_str().into());
    if let Some(status) = e.status_code() {
        set(target, "statusCode", &f64::from(status).into());
    }
    if let Some(code) = e.auth0_error_code() {
        set(target, "errorCode", &code.into());
    }
    if let Some(line) = e.line() {
        set(target, "line", &(line as f64).into());
    }
    if let Some(index) = e.index() {
        set(target, "index", &(index as f64).into());
    }
    if let Some(id) = e.user_id() {
        set(target, "userId", &id.into());
    }
}

fn to_js(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    error_fields(&err, e);
    err.into()
}

/// A misuse of the JS API (a wrong argument type or option): a `TypeError` with `code`.
fn argument_error(message: &str) -> JsValue {
    let err = js_sys::TypeError::new(message);
    set(&err, "code", &"invalid_argument".into());
    err.into()
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    Reflect::set(target, &key.into(), value).expect("setting a property of a fresh object");
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn size_option(options: &JsValue, key: &str, default: usize) -> Result<usize, JsValue> {
    let v = get(options, key);
    if v.is_undefined() {
        return Ok(default);
    }
    match v.as_f64() {
        Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => Ok(n as usize),
        _ => Err(argument_error(&format!("options.{key} must be a whole number of at least 1"))),
    }
}

/// Streaming export of users to Auth0's NDJSON or CSV bytes: push input, pull output.
#[wasm_bindgen(js_name = Exporter)]
pub struct JsExporter {
    inner: crate::Exporter,
    tenant: String,
    /// A high surrogate that ended a string chunk: its pair may start the next one.
    pending_high: Option<JsString>,
    scratch: Vec<u8>,
    done: bool,
}

#[wasm_bindgen(js_class = Exporter)]
impl JsExporter {
    /// A new export. `request` is Auth0's body (an object or its JSON text); errors in it are
    /// thrown with `statusCode` 400 and `errorCode` "invalid_body".
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ExportRequest | string")] request: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ExportOptions")] options: Option<Object>,
    ) -> Result<JsExporter, JsValue> {
        let text = if let Some(s) = request.as_string() {
            s
        } else if request.is_undefined() || request.is_null() {
            "{}".to_string()
        } else {
            match js_sys::JSON::stringify(&request) {
                Ok(s) => String::from(s),
                Err(_) => return Err(to_js(&Error::request("The request body cannot be written as JSON."))),
            }
        };
        let request = Request::from_json(&text).map_err(|e| to_js(&e))?;
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let mut core = Options::default();
        let mut tenant = "export".to_string();
        if !options.is_undefined() {
            let t = get(&options, "tenant");
            if !t.is_undefined() {
                tenant = t.as_string().ok_or_else(|| argument_error("options.tenant must be a string"))?;
                check_tenant(&tenant).map_err(|e| to_js(&e))?;
            }
            let c = get(&options, "connection");
            if !c.is_undefined() && !c.is_null() {
                core.connection =
                    Some(c.as_string().ok_or_else(|| argument_error("options.connection must be a string"))?);
            }
            let l = get(&options, "lenient");
            if !l.is_undefined() {
                core.lenient =
                    l.as_bool().ok_or_else(|| argument_error("options.lenient must be a boolean"))?;
            }
            let g = get(&options, "gzip");
            if !g.is_undefined() {
                core.gzip = g.as_bool().ok_or_else(|| argument_error("options.gzip must be a boolean"))?;
            }
            core.chunk_size = size_option(&options, "chunkSize", core.chunk_size)?;
            core.max_record_bytes = size_option(&options, "maxRecordBytes", core.max_record_bytes)?;
        }
        Ok(JsExporter {
            inner: crate::Exporter::new(request, core),
            tenant,
            pending_high: None,
            scratch: Vec::new(),
            done: false,
        })
    }

    /// Pushes one user object or an array of them, read as `JSON.stringify` reads them.
    /// Errors give each user's index in `users`, plus `firstIndex` (default 0) for a caller
    /// that pushes one long list in batches.
    #[wasm_bindgen(js_name = pushUsers)]
    pub fn push_users(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "object | object[]")] users: JsValue,
        #[wasm_bindgen(js_name = firstIndex)] first_index: Option<f64>,
    ) -> Result<(), JsValue> {
        let base = first_index.filter(|n| *n >= 0.0 && n.fract() == 0.0).unwrap_or(0.0) as u64;
        let text = users_to_json(&users);
        if let Some(text) = text.as_string() {
            return self.inner.push_json_from(text.as_bytes(), base).map_err(|e| to_js(&e));
        }
        // Something JSON cannot carry: push user by user so the bad ones land in order, at their index.
        let batch: Array = if Array::is_array(&users) { users.unchecked_into() } else { Array::of1(&users) };
        for (i, user) in batch.iter().enumerate() {
            let one = one_to_json(&user);
            let result = match one.as_string() {
                Some(text) => self.inner.push_json_from(text.as_bytes(), base + i as u64),
                None => {
                    let message = get(&one, "message").as_string().unwrap_or_default();
                    self.inner.push_unsupported(base + i as u64, message)
                }
            };
            result.map_err(|e| to_js(&e))?;
        }
        Ok(())
    }

    /// Pushes a JSON text (string or UTF-8 bytes): one user, an array of users, or a
    /// Management API page `{"users":[…],…}`.
    #[wasm_bindgen(js_name = pushJson)]
    pub fn push_json(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer")] text: JsValue,
    ) -> Result<(), JsValue> {
        let bytes = self.input_bytes(text, None)?;
        let r = self.inner.push_json(&bytes);
        self.scratch = bytes;
        r.map_err(|e| to_js(&e))
    }

    /// Pushes NDJSON: bytes or string chunks split anywhere (mid-line, mid-character).
    #[wasm_bindgen(js_name = pushNdjson)]
    pub fn push_ndjson(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer")] chunk: JsValue,
    ) -> Result<(), JsValue> {
        let mut pending = self.pending_high.take();
        let bytes = self.input_bytes(chunk, Some(&mut pending))?;
        self.pending_high = pending;
        let r = self.inner.push_ndjson(&bytes);
        self.scratch = bytes;
        r.map_err(|e| to_js(&e))
    }

    /// Says no more input will come.
    pub fn finish(&mut self) -> Result<(), JsValue> {
        if let Some(high) = self.pending_high.take() {
            // A string chunk ended in half a surrogate pair and no other half came.
            let text = String::from(escape_lone_surrogates(&high));
            self.inner.push_ndjson(text.as_bytes()).map_err(|e| to_js(&e))?;
        }
        self.inner.finish().map_err(|e| to_js(&e))
    }

    /// The next chunk of output (copied out of wasm memory), or `undefined` when more input
    /// is needed or the export is `done`.
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

    /// Copies the next output bytes into `target` (at most its length) and returns how many:
    /// the same stream as `pull()`, without a new array per chunk. 0 means more input is
    /// needed, or the export is `done`. A zero-length `target` is refused.
    #[wasm_bindgen(js_name = pullInto)]
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
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.done
    }

    /// True once `limit` users are written: the caller may stop reading input.
    #[wasm_bindgen(getter, js_name = limitReached)]
    pub fn limit_reached(&self) -> bool {
        self.inner.limit_reached()
    }

    /// The output format: "json" (NDJSON) or "csv".
    #[wasm_bindgen(getter, unchecked_return_type = "\"json\" | \"csv\"")]
    pub fn format(&self) -> String {
        self.inner.request().format.as_str().to_string()
    }

    /// The export's file name, `<tenant>.csv` or `<tenant>.json`, with `.gz` when `gzip` (by
    /// default: when this export's output is gzipped).
    #[wasm_bindgen(js_name = fileName)]
    pub fn file_name(&self, gzip: Option<bool>) -> String {
        file_name(&self.tenant, self.inner.request().format, gzip.unwrap_or(self.inner.is_gzipped()))
            .expect("tenant checked")
    }

    /// Counts so far.
    #[wasm_bindgen(getter, unchecked_return_type = "ExportStats")]
    pub fn stats(&self) -> JsValue {
        let s = self.inner.stats();
        let o: JsValue = Object::new().into();
        for (k, v) in [
            ("usersRead", s.users_read),
            ("usersWritten", s.users_written),
            ("usersSkipped", s.users_skipped),
            ("usersFiltered", s.users_filtered),
            ("bytesIn", s.bytes_in),
            ("bytesOut", s.bytes_out),
            ("lines", s.lines),
        ] {
            set(&o, k, &(v as f64).into());
        }
        o
    }

    /// Every record skipped in lenient mode, in input order: `{code, message, line | index, userId?}`.
    #[wasm_bindgen(getter, unchecked_return_type = "ExportErrorFields[]")]
    pub fn errors(&self) -> Array {
        self.inner
            .skipped()
            .iter()
            .map(|e| {
                let o: JsValue = Object::new().into();
                set(&o, "message", &e.to_string().into());
                error_fields(&o, e);
                o
            })
            .collect()
    }
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

/// The export's file name: `fileName("acme", "csv", {gzip: true})` is `acme.csv.gz`. Throws
/// `invalid_tenant` for a name that could climb out of a folder or break a header.
#[wasm_bindgen(js_name = fileName)]
pub fn js_file_name(
    tenant: &str,
    #[wasm_bindgen(unchecked_param_type = "\"json\" | \"csv\"")] format: &str,
    #[wasm_bindgen(unchecked_param_type = "{ gzip?: boolean }")] options: Option<Object>,
) -> Result<String, JsValue> {
    let format = match format {
        "json" => crate::Format::Json,
        "csv" => crate::Format::Csv,
        _ => return Err(argument_error("format must be \"json\" or \"csv\"")),
    };
    let gzip = options.map(|o| get(&o, "gzip").is_truthy()).unwrap_or(false);
    file_name(tenant, format, gzip).map_err(|e| to_js(&e))
}
