//! What a host needs to know about an export before and around it: its file name, MIME type and
//! columns, the Dashboard's field preset, and whether bytes are gzipped. One source for every host.

use crate::error::Result;
use crate::request::{Format, Request, DASHBOARD_PRESET};
use crate::tenant::file_name;

/// The two bytes every gzip member starts with (RFC 1952).
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// True when `bytes` start like a gzip stream (a host then gunzips its input first).
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// The MIME type of an export's file: `text/csv;charset=utf-8`, `application/x-ndjson`, or
/// `application/gzip` for either when gzipped.
pub fn mime_type(format: Format, gzip: bool) -> &'static str {
    match (format, gzip) {
        (_, true) => "application/gzip",
        (Format::Csv, false) => "text/csv;charset=utf-8",
        (Format::Json, false) => "application/x-ndjson",
    }
}

/// An export as a host shows it: what the file will be called and hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// The output format.
    pub format: Format,
    /// `<tenant>.csv`, `<tenant>.json`, `+ .gz`.
    pub file_name: String,
    /// The file's MIME type ([`mime_type`]).
    pub mime_type: &'static str,
    /// The column names in output order (the CSV header cells, the NDJSON keys).
    pub columns: Vec<String>,
    /// Whether the output is gzipped.
    pub gzip: bool,
}

/// Describes the export of `request` for `tenant`, gzipped or not. Fails only for a bad tenant.
pub fn describe(request: &Request, tenant: &str, gzip: bool) -> Result<Description> {
    Ok(Description {
        format: request.format,
        file_name: file_name(tenant, request.format, gzip)?,
        mime_type: mime_type(request.format, gzip),
        columns: request.columns().map(str::to_string).collect(),
        gzip,
    })
}

/// Describes an export for re-import under `tenant`: its one download is `<tenant>.import.zip`
/// (`application/zip`: the import files and the list of users left out), its columns the
/// properties an import file's users may hold. Fails only for a bad tenant.
pub fn describe_import(tenant: &str) -> Result<Description> {
    Ok(Description {
        format: Format::Json,
        file_name: crate::import::import_zip_name(tenant)?,
        mime_type: "application/zip",
        columns: crate::import::IMPORT_PROPERTIES.iter().map(|p| p.to_string()).collect(),
        gzip: false,
    })
}

/// The Dashboard's "Include default fields" preset as `(name, export_as)` pairs, in its order.
pub fn dashboard_preset() -> &'static [(&'static str, &'static str)] {
    &DASHBOARD_PRESET
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_each_format_and_container() {
        let csv = Request::from_json(
            r#"{"format":"csv","fields":[{"name":"email","export_as":"E"},{"name":"name"}]}"#,
        )
        .unwrap();
        let d = describe(&csv, "acme", false).unwrap();
        assert_eq!(d.file_name, "acme.csv");
        assert_eq!(d.mime_type, "text/csv;charset=utf-8");
        assert_eq!(d.columns, ["E", "name"]);
        let d = describe(&csv, "acme", true).unwrap();
        assert_eq!((d.file_name.as_str(), d.mime_type), ("acme.csv.gz", "application/gzip"));
        let json = Request::from_json("{}").unwrap();
        let d = describe(&json, "a-b_1", false).unwrap();
        assert_eq!((d.file_name.as_str(), d.mime_type), ("a-b_1.json", "application/x-ndjson"));
        assert_eq!(d.columns.len(), 19);
        assert!(describe(&json, "../etc", false).is_err());
    }

    #[test]
    fn describes_an_import() {
        let d = describe_import("acme").unwrap();
        assert_eq!(
            (d.file_name.as_str(), d.mime_type, d.gzip),
            ("acme.import.zip", "application/zip", false)
        );
        assert_eq!(d.columns[0], "user_id");
        assert_eq!(d.columns.len(), crate::import::IMPORT_PROPERTIES.len());
        assert!(describe_import("../etc").is_err());
    }

    #[test]
    fn gzip_magic() {
        assert!(is_gzip(&[0x1f, 0x8b, 8]));
        assert!(is_gzip(&[0x1f, 0x8b]));
        assert!(!is_gzip(&[0x1f]));
        assert!(!is_gzip(b"{\"a\":1}"));
        assert!(!is_gzip(&[]));
    }
}
