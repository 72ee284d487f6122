//! The export file is named after the tenant: `<tenant>.csv`, `<tenant>.json`, `+ .gz`.

use crate::error::{Error, ErrorCode, Result};
use crate::request::Format;

/// Checks a tenant name: 1–64 characters of `a-z`, `0-9`, `-`, `_`.
pub fn check_tenant(tenant: &str) -> Result<()> {
    let ok = (1..=64).contains(&tenant.len())
        && tenant.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InvalidTenant,
            format!(
                "tenant {tenant:?} is not a valid tenant name: use 1 to 64 characters of a-z, 0-9, '-' and '_'"
            ),
        ))
    }
}

/// The export's file name: `acme.csv`, `acme.json`, or with `gzip` `acme.csv.gz`, `acme.json.gz`.
pub fn file_name(tenant: &str, format: Format, gzip: bool) -> Result<String> {
    check_tenant(tenant)?;
    Ok(format!("{tenant}.{}{}", format.extension(), if gzip { ".gz" } else { "" }))
}
