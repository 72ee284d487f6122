//! The free functions of the package: file names, descriptions, the File of a download, the
//! Dashboard preset, Auth0's error envelope, the gzip check and the pieces that join gzip segments.

use js_sys::{Array, Object, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::crossing::{
    argument_error, description_value, options_object, read_options, read_request, to_js, to_js_value,
    JsStats,
};
use crate::{describe, file_name, Format};

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
    Ok(description_value(&described(request, options)?))
}

/// The finished download of an export as a `File`: `parts` (JS-owned chunks or Blobs) under the
/// name and MIME type `describeExport` gives for the same request and options.
#[wasm_bindgen(js_name = exportFile, skip_typescript)]
pub fn export_file(parts: &Array, request: JsValue, options: JsValue) -> Result<web_sys::File, JsValue> {
    file_of(parts, &described(request, options)?)
}

/// The manifest of an export a host ran in parts and joined (the CLI's threads, the page's
/// workers): `summary` holds the summed `stats`, the `skipped` records' codes in input order and
/// the times; `plain` and `gzip` are null until the host hashes the joined file.
#[wasm_bindgen(js_name = manifestOf, skip_typescript)]
pub fn manifest_of(request: JsValue, options: JsValue, summary: JsValue) -> Result<JsValue, JsValue> {
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Summary {
        #[serde(with = "JsStats")]
        stats: crate::Stats,
        #[serde(default)]
        skipped: Vec<String>,
        started_at: String,
        ended_at: String,
    }
    let request = read_request(&request)?;
    let options = read_options(&options)?;
    if summary.is_undefined() || summary.is_null() {
        return Err(argument_error("manifestOf needs a summary: { stats, skipped, startedAt, endedAt }"));
    }
    let summary: Summary =
        options_object(&summary, "summary", &["stats", "skipped", "startedAt", "endedAt"])?;
    let skipped = summary
        .skipped
        .iter()
        .map(|name| {
            crate::ErrorCode::from_name(name)
                .ok_or_else(|| argument_error(&format!("summary.skipped: {name:?} is not an error code")))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let m = crate::Manifest::of_parts(
        request,
        &options.core,
        &options.tenant,
        summary.stats,
        skipped,
        &summary.started_at,
        &summary.ended_at,
    )
    .map_err(|e| to_js(&e))?;
    Ok(to_js_value(&m.to_value()))
}

/// What an Exporter made with `request` and `options` would describe, without making one: the
/// request and options are checked as it checks them (a re-import's one zip included).
fn described(request: JsValue, options: JsValue) -> Result<crate::Description, JsValue> {
    let request = read_request(&request)?;
    let options = read_options(&options)?;
    let d = if options.core.for_import {
        crate::check_for_import(&request, &options.core)
            .and_then(|()| crate::describe_import(&options.tenant))
    } else {
        describe(&request, &options.tenant, options.core.gzip)
    };
    d.map_err(|e| to_js(&e))
}

/// A store-only zip of import files, written as they come: `add` gives each file's bytes in the
/// archive, `finish` the central directory. The page saves an import as one `<tenant>.import.zip`.
#[wasm_bindgen(js_name = ImportZip, skip_typescript)]
pub struct JsImportZip {
    inner: Option<crate::StoredZip>,
}

#[wasm_bindgen(js_class = ImportZip)]
impl JsImportZip {
    /// An empty archive.
    #[wasm_bindgen(constructor, skip_typescript)]
    pub fn new() -> JsImportZip {
        JsImportZip { inner: Some(crate::StoredZip::new()) }
    }

    /// The archive's bytes for the file `name` holding `data` (its header, then `data`).
    #[wasm_bindgen(skip_typescript)]
    pub fn add(&mut self, name: &str, data: &[u8]) -> Result<Uint8Array, JsValue> {
        let zip = self.inner.as_mut().ok_or_else(|| argument_error("this ImportZip is finished"))?;
        let mut out = Vec::with_capacity(data.len() + 64 + name.len());
        zip.add(name, data, &mut out).map_err(|e| to_js(&e))?;
        Ok(Uint8Array::from(&out[..]))
    }

    /// The archive's last bytes: the central directory and its end record.
    #[wasm_bindgen(skip_typescript)]
    pub fn finish(&mut self) -> Result<Uint8Array, JsValue> {
        let zip = self.inner.take().ok_or_else(|| argument_error("this ImportZip is finished"))?;
        let mut out = Vec::new();
        zip.finish(&mut out).map_err(|e| to_js(&e))?;
        Ok(Uint8Array::from(&out[..]))
    }
}

impl Default for JsImportZip {
    fn default() -> Self {
        JsImportZip::new()
    }
}

/// The platform's File of `parts`: the bytes stay where they are (a File only references its parts).
pub(super) fn file_of(parts: &Array, d: &crate::Description) -> Result<web_sys::File, JsValue> {
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

/// The form the core tells for input that starts with `prefix` (bytes or a string): "ndjson",
/// "json", or `undefined` while more is needed to tell (never when `complete`).
#[wasm_bindgen(js_name = detectInput, skip_typescript)]
pub fn detect_input(prefix: JsValue, complete: Option<bool>) -> Result<JsValue, JsValue> {
    let bytes = if let Some(s) = prefix.as_string() {
        s.into_bytes()
    } else if let Some(a) = prefix.dyn_ref::<Uint8Array>() {
        a.to_vec()
    } else {
        return Err(argument_error("detectInput needs a Uint8Array or a string"));
    };
    Ok(match crate::detect_input(&bytes, complete.unwrap_or(false)) {
        Some(crate::InputForm::Json) => "json".into(),
        Some(_) => "ndjson".into(),
        None => JsValue::UNDEFINED,
    })
}

/// True when bytes start with the gzip magic.
#[wasm_bindgen(js_name = isGzip, skip_typescript)]
pub fn is_gzip(bytes: &Uint8Array) -> bool {
    let mut head = [0u8; 2];
    let n = bytes.length().min(2);
    bytes.subarray(0, n).copy_to(&mut head[..n as usize]);
    crate::is_gzip(&head[..n as usize])
}

/// gzip's member header as the core writes it, for a host joining `gzipSegment` pieces into one
/// member: the header, the segments in order, then `gzipMemberEnd`.
#[wasm_bindgen(js_name = gzipHeader, skip_typescript)]
pub fn gzip_header() -> Vec<u8> {
    crate::GZIP_HEADER.to_vec()
}

/// The CRC-32 of A followed by B from `crc(A)`, `crc(B)` and B's length in bytes.
#[wasm_bindgen(js_name = crc32Combine, skip_typescript)]
pub fn crc32_combine(crc_a: u32, crc_b: u32, length_b: f64) -> Result<u32, JsValue> {
    Ok(crate::crc32_combine(crc_a, crc_b, byte_count(length_b, "length")?))
}

/// An empty final block and the trailer of a member of segments whose plain bytes have this
/// CRC-32 and length.
#[wasm_bindgen(js_name = gzipMemberEnd, skip_typescript)]
pub fn gzip_member_end(crc: u32, length: f64) -> Result<Vec<u8>, JsValue> {
    Ok(crate::gzip_member_end(crc, byte_count(length, "length")?).to_vec())
}

/// A byte count from JS: a whole number a JS number holds exactly.
fn byte_count(n: f64, name: &str) -> Result<u64, JsValue> {
    if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 {
        Ok(n as u64)
    } else {
        Err(argument_error(&format!("{name} must be a whole number of bytes")))
    }
}
