//! userexport: Auth0's *Bulk Export User Data* as a streaming, sans-I/O Rust core.
//!
//! Push users (NDJSON bytes split anywhere, JSON text, parsed values), pull export bytes in
//! bounded chunks, byte for byte what `decisions.md` (Auth0's behaviour, and our decisions
//! where Auth0 is silent) says. The wasm bindings live in one module, `wasm`, on wasm32 only.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod exporter;
pub mod format;
mod gzip;
mod json_out;
mod plan;
pub mod query;
mod request;
mod scan;
mod tenant;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::{Error, ErrorCode, Location, Result};
pub use exporter::{Exporter, Options, Pull, Stats, Status, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_RECORD_BYTES};
pub use json_out::write_json_string;
pub use query::{Query, QueryError};
pub use request::{
    parse_path, Field, Format, Request, Step, DASHBOARD_PRESET, DATE_ATTRIBUTES, DEFAULT_FIELDS,
    MAX_CSV_FIELDS, MAX_NAME_CHARS,
};
pub use scan::MAX_DEPTH;
pub use tenant::{check_tenant, file_name};
