//! The export manifest: what was asked, what came out, and the sha256 that proves the file.
//!
//! Built by [`crate::Exporter::manifest`] once every byte is pulled. The core has no clock:
//! the host passes the start and end times as text, and they are written as given.

use serde_json::{json, Map, Value};

use crate::output::{Digest, Digests};
use crate::record::Stats;
use crate::request::Request;
use crate::{file_name, ErrorCode, Options, Result};

/// The version written in every manifest: the package's.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A finished export's record: its request and options, counts, digests and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The export's file name (`<tenant>.csv`, with `.gz` when gzipped).
    pub file_name: String,
    /// The request, with its effective fields (the defaults when it named none).
    pub request: Request,
    /// [`crate::Options::query`]'s text.
    pub query: Option<String>,
    /// [`crate::Options::connection`].
    pub connection: Option<String>,
    /// [`crate::Options::lenient`].
    pub lenient: bool,
    /// [`crate::Options::gzip`].
    pub gzip: bool,
    /// The final counts.
    pub stats: Stats,
    /// Skipped records per reason, in the order each reason first occurred.
    pub skipped_reasons: Vec<(ErrorCode, u64)>,
    /// The sha256 and length of the plain bytes, and of the gzip bytes when gzipped; `None`
    /// for [`Manifest::of_parts`] until the host has hashed the joined file (written as null).
    pub digests: Option<Digests>,
    /// When the export started, as the host wrote it (an ISO 8601 time, say).
    pub started_at: String,
    /// When the export ended, as the host wrote it.
    pub ended_at: String,
}

impl Manifest {
    /// The manifest of an export a host ran in parts (shards, workers) and joined: its request
    /// and options, the counts it summed and the codes of the records skipped, in input order;
    /// no digests (`plain` and `gzip` null) until the host has hashed the joined file.
    pub fn of_parts(
        request: Request,
        options: &Options,
        tenant: &str,
        stats: Stats,
        skipped: impl IntoIterator<Item = ErrorCode>,
        started_at: &str,
        ended_at: &str,
    ) -> Result<Manifest> {
        Ok(Manifest {
            file_name: file_name(tenant, request.format, options.gzip)?,
            request,
            query: options.query.as_ref().map(|q| q.text().to_string()),
            connection: options.connection.clone(),
            lenient: options.lenient,
            gzip: options.gzip,
            stats,
            skipped_reasons: count_codes(skipped),
            digests: None,
            started_at: started_at.to_string(),
            ended_at: ended_at.to_string(),
        })
    }

    /// The manifest as the JSON object a `<tenant>.manifest.json` holds (camelCase keys, in a
    /// fixed order).
    pub fn to_value(&self) -> Value {
        let fields: Vec<Value> = self
            .request
            .fields
            .iter()
            .map(|f| match &f.export_as {
                Some(export_as) => json!({ "name": f.name, "export_as": export_as }),
                None => json!({ "name": f.name }),
            })
            .collect();
        let mut request = Map::new();
        if let Some(id) = &self.request.connection_id {
            request.insert("connection_id".into(), json!(id));
        }
        request.insert("format".into(), json!(self.request.format.as_str()));
        if let Some(limit) = self.request.limit {
            request.insert("limit".into(), json!(limit));
        }
        request.insert("fields".into(), Value::Array(fields));
        let reasons: Map<String, Value> =
            self.skipped_reasons.iter().map(|(code, n)| (code.as_str().to_string(), json!(n))).collect();
        let s = &self.stats;
        json!({
            "tool": "userexport",
            "version": TOOL_VERSION,
            "file": self.file_name,
            "request": request,
            "options": {
                "query": self.query,
                "connection": self.connection,
                "lenient": self.lenient,
                "gzip": self.gzip,
            },
            "counts": {
                "read": s.users_read,
                "matched": s.users_matched,
                "written": s.users_written,
                "filtered": s.users_filtered,
                "skipped": s.users_skipped,
                "skippedReasons": reasons,
            },
            "input": { "bytes": s.bytes_in, "lines": s.lines },
            "plain": self.digests.as_ref().map(|d| digest_value(&d.plain)),
            "gzip": self.digests.as_ref().and_then(|d| d.gzip.as_ref()).map(digest_value),
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
        })
    }

    /// [`Manifest::to_value`] as pretty-printed JSON text, with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.to_value()).expect("a Value always serializes");
        text.push('\n');
        text
    }
}

fn digest_value(d: &Digest) -> Value {
    json!({ "sha256": d.sha256_hex(), "bytes": d.bytes })
}

/// Counts `skipped` per error code, in the order each code first occurs.
pub(crate) fn reasons(skipped: &[crate::Error]) -> Vec<(ErrorCode, u64)> {
    count_codes(skipped.iter().map(crate::Error::code))
}

fn count_codes(codes: impl IntoIterator<Item = ErrorCode>) -> Vec<(ErrorCode, u64)> {
    let mut counts: Vec<(ErrorCode, u64)> = Vec::new();
    for code in codes {
        match counts.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += 1,
            None => counts.push((code, 1)),
        }
    }
    counts
}
