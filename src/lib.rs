//! userexport: Auth0's *Bulk Export User Data* as a streaming, sans-I/O Rust core.
//!
//! Push users (NDJSON bytes split anywhere, JSON text, parsed values), pull export bytes in
//! bounded chunks, byte for byte what `COMPATIBILITY.md` (Auth0's behaviour, and our decisions
//! where Auth0 is silent) says. The wasm bindings live in one module, `wasm`, on wasm32 only.
//!
//! # Layers
//!
//! Each module imports only from the layers above it, so there is no import cycle and each
//! file reads with only what it names:
//!
//! 1. `error` (the crate's error) and `json` (JSON text: decode, escape, compact copies):
//!    leaves, importing nothing of the crate; `query` (Auth0's user-search query: parser,
//!    terms, evaluation over term bits), importing only `error`.
//! 2. `request` (the request body, and Auth0's error envelope beside it), `tenant`, then
//!    `describe` (what an export will be called and hold, for hosts that ask first).
//! 3. `plan` (the request's and the query's paths as a trie, with the key fingerprint the
//!    trie and the scanner share), then `scan` (one validating walk of a record against the
//!    plan, reporting values at query paths to the query), then `discover::tally` (the paths
//!    a scanned user holds, for field discovery).
//! 4. `format` (the encoders) and `import` (Auth0's bulk-import files, cut at 500,000 bytes),
//!    then `record` (one record: scan, filter, encode, count).
//! 5. `input` (telling NDJSON from JSON text), `input::ndjson`, `input::cells` (users a host
//!    read value by value), then `input::json_text` (where the records are, queued in push
//!    order); `output` (buffering and gzip, knowing nothing of records).
//!    `output::digest` hashes the bytes as they leave.
//! 6. `manifest` (what a finished export asked and gave, and its sha256s), then `exporter`,
//!    the thin public front, then `discover` (field discovery: users read through an
//!    `Exporter`'s readers into the tally), and `wasm`, the JS door, on top.
// `missing_docs` and `unsafe_code` are set for every target in Cargo.toml's `[lints]`.

mod bytes;
mod describe;
mod discover;
mod error;
mod exporter;
mod format;
mod import;
mod input;
mod json;
mod manifest;
mod output;
mod plan;
pub mod query;
mod record;
mod request;
mod scan;
mod tenant;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use describe::{
    dashboard_preset, describe, describe_import, is_gzip, mime_type, Description, GZIP_MAGIC,
};
pub use discover::{kind, DiscoverOptions, Discoverer, Discovery, PathInfo, MAX_PATH_BYTES};
pub use error::{Error, ErrorCode, Location, Result};
pub use exporter::{Exporter, ImportChunk, Options, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_RECORD_BYTES};
pub use import::{
    check_for_import, import_file_name, import_paths, import_zip_name, is_schema_email,
    unimportable_file_name, unimportable_json, ImportFile, Reason, StoredZip, Unimportable,
    IMPORT_FILE_MAX_BYTES, IMPORT_PROPERTIES, RESERVED_APP_METADATA_KEYS,
};
pub use input::cells::{Cell, CellBatch};
pub use input::gunzip::{Gunzip, DEFAULT_GUNZIP_CHUNK};
pub use input::{detect_input, InputForm};
#[cfg(feature = "bench-internals")]
pub use json::write_json_string;
pub use manifest::{Manifest, TOOL_VERSION};
pub use output::{crc32_combine, gzip_member_end, Digest, Digests, Pull, GZIP_HEADER};
pub use plan::connection_path;
pub use query::{Query, QueryError};
pub use record::Stats;
pub use request::{
    parse_path, reason_phrase, Auth0Error, Field, Format, Request, Step, DASHBOARD_PRESET, DATE_ATTRIBUTES,
    DEFAULT_FIELDS, MAX_CSV_FIELDS, MAX_NAME_CHARS,
};
pub use scan::MAX_DEPTH;
pub use tenant::{check_tenant, file_name};
