//! NDJSON (Auth0's `json` format): `{"column":value,…}` per user, present fields only, LF after each.

use super::{Encoder, Value};
use crate::json::{canonical_string_content, write_compact, write_json_string};
use crate::request::Request;
use crate::scan::Kind;

/// The NDJSON encoder; keys are escaped once, up front.
pub(crate) struct Ndjson {
    /// `"column":` for each field, ready to copy.
    keys: Vec<Vec<u8>>,
}

impl Ndjson {
    /// An encoder for the request's columns.
    pub(crate) fn new(request: &Request) -> Ndjson {
        let keys = request
            .columns()
            .map(|c| {
                let mut k = Vec::with_capacity(c.len() + 3);
                write_json_string(&mut k, c.as_bytes());
                k.push(b':');
                k
            })
            .collect();
        Ndjson { keys }
    }
}

impl Encoder for Ndjson {
    fn header(&self, _out: &mut Vec<u8>) {}

    fn record(&self, values: &[Option<Value<'_>>], out: &mut Vec<u8>, scratch: &mut Vec<u8>) {
        out.push(b'{');
        let mut first = true;
        for (key, value) in self.keys.iter().zip(values) {
            let Some(v) = value else { continue };
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(key);
            match v.kind {
                Kind::String { escaped } => {
                    out.push(b'"');
                    canonical_string_content(out, v.raw, escaped, scratch);
                    out.push(b'"');
                }
                Kind::Text => write_json_string(out, v.raw),
                Kind::Object | Kind::Array => write_compact(out, v.raw, scratch),
                Kind::Number | Kind::True | Kind::False | Kind::Null => out.extend_from_slice(v.raw),
            }
        }
        out.extend_from_slice(b"}\n");
    }
}
