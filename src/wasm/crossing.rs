//! What crosses the door as structured values, typed with serde (serde-wasm-bindgen): options and
//! the request coming in, errors, stats and descriptions going out. The one place a core error
//! becomes a JS `Error`.

use js_sys::{Array, Object};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::{check_tenant, Error, InputForm, Options, Pull, Request};

/// The JS shape of an error: `code`, the message a person reads, and where.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ErrorFields<'a> {
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

pub(super) fn to_js_value<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).expect("plain data serializes")
}

/// A core error as a thrown JS `Error` carrying its fields.
pub(super) fn to_js(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    Object::assign(&err, &to_js_value(&ErrorFields::from(e)).unchecked_into());
    err.into()
}

/// A core pull of bytes (an Exporter's or a Gunzip's) as JS gets it: the bytes copied out of wasm
/// memory, or `None` when there are none; the `bool` says the stream has ended.
pub(super) fn pulled_bytes(
    pull: Result<Pull<&[u8]>, Error>,
) -> Result<(Option<js_sys::Uint8Array>, bool), JsValue> {
    match pull.map_err(|e| to_js(&e))? {
        Pull::Data(bytes) => Ok((Some(js_sys::Uint8Array::from(bytes)), false)),
        Pull::NeedInput => Ok((None, false)),
        Pull::Done => Ok((None, true)),
    }
}

/// A misuse of the JS API (a wrong argument type or option): a `TypeError` with `code`.
pub(super) fn argument_error(message: &str) -> JsValue {
    let err = js_sys::TypeError::new(message);
    let fields = Object::new();
    js_sys::Reflect::set(&fields, &"code".into(), &"invalid_argument".into()).expect("a fresh object");
    Object::assign(&err, &fields);
    err.into()
}

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
    manifest: Option<bool>,
    for_import: Option<bool>,
    first_line: Option<f64>,
    write_header: Option<bool>,
    gzip_segment: Option<bool>,
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
pub(crate) struct HostOptions {
    pub core: Options,
    pub tenant: String,
}

pub(super) fn size(value: Option<f64>, key: &str, default: usize) -> Result<usize, JsValue> {
    match value {
        None => Ok(default),
        Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Ok(n as usize),
        Some(_) => Err(argument_error(&format!("options.{key} must be a whole number of at least 1"))),
    }
}

/// `options.firstLine`: a whole number from 1 up to 2^53 - 1 (JS numbers are exact that far).
fn first_line(value: Option<f64>) -> Result<u64, JsValue> {
    match value {
        None => Ok(1),
        Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => Ok(n as u64),
        Some(_) => Err(argument_error("options.firstLine must be a whole number of at least 1")),
    }
}

/// The keys of [`JsOptions`], as JS spells them.
const OPTION_KEYS: [&str; 13] = [
    "tenant",
    "connection",
    "lenient",
    "chunkSize",
    "maxRecordBytes",
    "gzip",
    "input",
    "query",
    "manifest",
    "forImport",
    "firstLine",
    "writeHeader",
    "gzipSegment",
];

pub(super) fn read_options(options: &JsValue) -> Result<HostOptions, JsValue> {
    let js: JsOptions = options_object(options, "options", &OPTION_KEYS)?;
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
        manifest: js.manifest.unwrap_or(false),
        for_import: js.for_import.unwrap_or(false),
        // Shards and resumed exports: where the pushed NDJSON starts in the whole stream, and
        // whether this piece writes the CSV header (COMPATIBILITY.md, "Shards and resume").
        first_line: first_line(js.first_line)?,
        write_header: js.write_header.unwrap_or(true),
        gzip_segment: js.gzip_segment.unwrap_or(false),
    };
    Ok(HostOptions { core, tenant })
}

/// serde's words, in the shape of this API's other argument errors.
/// An options object read by serde: `undefined` / `null` give the defaults; anything but a plain
/// object, a key not in `known` (serde-wasm-bindgen reads a struct's fields by name, so a
/// misspelt key would be quietly ignored: `{ gzpi: true }` would export plain) and a value of
/// the wrong type are `TypeError`s whose message starts with `what` and names the key.
pub(super) fn options_object<T: DeserializeOwned + Default>(
    options: &JsValue,
    what: &str,
    known: &[&str],
) -> Result<T, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(T::default());
    }
    if !options.is_object() || options.is_function() {
        return Err(argument_error(&format!("{what} must be an object")));
    }
    let object: &Object = options.unchecked_ref();
    for key in Object::keys(object).iter().filter_map(|k| k.as_string()) {
        if !known.contains(&key.as_str()) {
            let names: Vec<String> = known.iter().map(|k| format!("{k:?}")).collect();
            return Err(argument_error(&format!(
                "{what}: unknown option {key:?}; the options are {}",
                names.join(", ")
            )));
        }
    }
    serde_path_to_error::deserialize(serde_wasm_bindgen::Deserializer::from(options.clone())).map_err(|e| {
        let path = e.path().to_string();
        // serde-wasm-bindgen's errors are JS Errors; their text starts with "Error: ".
        let inner = e.inner().to_string();
        let inner = inner.strip_prefix("Error: ").unwrap_or(&inner);
        if path == "." || path.is_empty() {
            argument_error(&format!("{what}: {inner}"))
        } else {
            argument_error(&format!("{what}.{path}: {inner}"))
        }
    })
}

/// Auth0's request body: JSON text, or an object read as `JSON.stringify` reads it (members that
/// are `undefined` are left out; everything else is checked by the core as the text would be).
pub(super) fn read_request(request: &JsValue) -> Result<Request, JsValue> {
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
pub(super) fn json_value(value: &JsValue) -> Result<serde_json::Value, serde_wasm_bindgen::Error> {
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

/// A user left out of the import files, as JS reads it (`reason` is the stable code).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsUnimportable<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    reason: &'a str,
    message: &'a str,
}

/// The users left out of an import, as an array of plain objects.
pub(super) fn unimportable_value(users: &[crate::Unimportable]) -> JsValue {
    let users: Vec<JsUnimportable<'_>> = users
        .iter()
        .map(|u| JsUnimportable {
            line: match u.location {
                Some(crate::Location::Line(n)) => Some(n),
                _ => None,
            },
            index: match u.location {
                Some(crate::Location::Index(n)) => Some(n),
                _ => None,
            },
            user_id: u.user_id.as_deref(),
            reason: u.reason.as_str(),
            message: &u.message,
        })
        .collect();
    to_js_value(&users)
}

/// The counts as they cross (`usersRead`, …), both ways: out as an Exporter's `stats`, in as a
/// host's summed ones (`manifestOf`, where `bytesOut`, not a manifest's, may be left out). A
/// mirror of the core's `Stats` for serde, which the core does not depend on.
#[derive(Serialize, Deserialize)]
#[serde(remote = "crate::Stats", rename_all = "camelCase")]
pub(super) struct JsStats {
    users_read: u64,
    users_written: u64,
    users_skipped: u64,
    users_filtered: u64,
    users_matched: u64,
    bytes_in: u64,
    #[serde(default)]
    bytes_out: u64,
    lines: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsDescription<'a> {
    format: &'a str,
    file_name: &'a str,
    mime_type: &'a str,
    columns: &'a [String],
    gzip: bool,
}

/// The counts as JS reads them (`usersRead`, …).
pub(super) fn stats_value(s: &crate::Stats) -> JsValue {
    #[derive(Serialize)]
    struct Out(#[serde(with = "JsStats")] crate::Stats);
    to_js_value(&Out(*s))
}

/// A core [`crate::Description`] as JS reads it.
pub(super) fn description_value(d: &crate::Description) -> JsValue {
    to_js_value(&JsDescription {
        format: d.format.as_str(),
        file_name: &d.file_name,
        mime_type: d.mime_type,
        columns: &d.columns,
        gzip: d.gzip,
    })
}
