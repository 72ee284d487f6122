//! Output formats as small pluggable pieces: each turns a record's selected values into bytes.

mod csv;
mod ndjson;

pub(crate) use self::csv::Csv;
pub(crate) use self::ndjson::Ndjson;

use crate::request::{Format, Request};
use crate::scan::Kind;

/// One selected value of a record, as found in the input (a string without its quotes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Value<'a> {
    pub(crate) kind: Kind,
    pub(crate) raw: &'a [u8],
}

/// An output format: a header written once, then one whole record per user.
///
/// `record` gets the values in field order (`None` for absent) and must append the record
/// whole; the caller truncates on error, so a record is never half written.
pub(crate) trait Encoder: Send {
    /// Appends the bytes before the first record (the CSV header line; nothing for NDJSON).
    fn header(&self, out: &mut Vec<u8>);
    /// Appends one record.
    fn record(&self, values: &[Option<Value<'_>>], out: &mut Vec<u8>, scratch: &mut Vec<u8>);
}

/// The encoder for a request's format.
pub(crate) fn encoder_for(request: &Request) -> Box<dyn Encoder> {
    match request.format {
        Format::Json => Box::new(Ndjson::new(request)),
        Format::Csv => Box::new(Csv::new(request)),
    }
}
