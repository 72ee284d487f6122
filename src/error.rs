//! The one error type of the crate: request errors, bad records and misuse (a leaf: it imports nothing of the crate).
//!
//! Auth0's 400 envelope for request errors is written beside the request, in `request.rs`.

use std::fmt;

/// What went wrong, as a stable code a program can branch on.
///
/// The string form ([`ErrorCode::as_str`]) is what crosses to JS as `error.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The export request body broke a rule (Auth0 answers 400 `invalid_body`).
    InvalidRequest,
    /// The `query` option is not a valid user-search query (refused before any user is read).
    InvalidQuery,
    /// A tenant name that cannot be a file name.
    InvalidTenant,
    /// A record is not valid JSON.
    InvalidJson,
    /// A record is valid JSON but not an object.
    NotAnObject,
    /// A record is not valid UTF-8.
    InvalidUtf8,
    /// A `\uD800`–`\uDFFF` escape without its other half.
    LoneSurrogate,
    /// One object holds the same key twice.
    DuplicateKey,
    /// Nesting deeper than [`crate::MAX_DEPTH`].
    TooDeep,
    /// A record longer than the record-size cap.
    RecordTooLarge,
    /// A value JSON cannot carry (NaN, ±Infinity, BigInt, a cycle): only from JS objects.
    UnsupportedValue,
    /// A gzip input is not gzip, or is corrupt or truncated (the message names the compressed
    /// byte offset).
    InvalidGzip,
    /// The exporter was used out of order (a push after `finish`, mixed input kinds,
    /// any call after a strict-mode failure).
    InvalidState,
}

impl ErrorCode {
    /// The stable snake_case name of this code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::InvalidTenant => "invalid_tenant",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::NotAnObject => "not_an_object",
            ErrorCode::InvalidUtf8 => "invalid_utf8",
            ErrorCode::LoneSurrogate => "lone_surrogate",
            ErrorCode::DuplicateKey => "duplicate_key",
            ErrorCode::TooDeep => "too_deep",
            ErrorCode::RecordTooLarge => "record_too_large",
            ErrorCode::UnsupportedValue => "unsupported_value",
            ErrorCode::InvalidGzip => "invalid_gzip",
            ErrorCode::InvalidState => "invalid_state",
        }
    }

    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 13] = [
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidTenant,
        ErrorCode::InvalidJson,
        ErrorCode::NotAnObject,
        ErrorCode::InvalidUtf8,
        ErrorCode::LoneSurrogate,
        ErrorCode::DuplicateKey,
        ErrorCode::TooDeep,
        ErrorCode::RecordTooLarge,
        ErrorCode::UnsupportedValue,
        ErrorCode::InvalidGzip,
        ErrorCode::InvalidState,
    ];

    /// The code named `name` ([`ErrorCode::as_str`]'s text), if there is one.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// True for codes that describe one bad input record (as opposed to a bad request or misuse).
    pub fn is_record_error(self) -> bool {
        !matches!(
            self,
            ErrorCode::InvalidRequest
                | ErrorCode::InvalidQuery
                | ErrorCode::InvalidTenant
                | ErrorCode::InvalidGzip
                | ErrorCode::InvalidState
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a bad record was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// 1-based physical line of an NDJSON stream (blank lines and both line endings counted).
    Line(u64),
    /// 0-based position of the user in the array (or the single user, index 0) of one push.
    Index(u64),
    /// 1-based line and column (in characters) of a JSON text that is not one valid value.
    LineColumn(u64, u64),
}

/// The crate's error: a code, a message a person can act on, and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    location: Option<Location>,
    user_id: Option<String>,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error { code, message: message.into(), location: None, user_id: None }
    }

    pub(crate) fn request(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::InvalidRequest, message)
    }

    pub(crate) fn at(mut self, location: Location, user_id: Option<String>) -> Error {
        self.location = Some(location);
        self.user_id = user_id;
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message without the location prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The line or index of the bad record, when the error is about one.
    pub fn location(&self) -> Option<Location> {
        self.location
    }

    /// The 1-based line: of an NDJSON record, or of the place a JSON text stops being valid.
    pub fn line(&self) -> Option<u64> {
        match self.location {
            Some(Location::Line(n) | Location::LineColumn(n, _)) => Some(n),
            _ => None,
        }
    }

    /// The 1-based column (in characters) where a JSON text stops being valid.
    pub fn column(&self) -> Option<u64> {
        match self.location {
            Some(Location::LineColumn(_, c)) => Some(c),
            _ => None,
        }
    }

    /// The 0-based array index, when the error is about a JSON-text or JS-object record.
    pub fn index(&self) -> Option<u64> {
        match self.location {
            Some(Location::Index(n)) => Some(n),
            _ => None,
        }
    }

    /// The bad record's `user_id`, when it could be read.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(Location::Line(n)) => write!(f, "line {n}: ")?,
            Some(Location::Index(n)) => write!(f, "index {n}: ")?,
            Some(Location::LineColumn(l, c)) => write!(f, "line {l}, column {c}: ")?,
            None => {}
        }
        f.write_str(&self.message)?;
        if let Some(id) = &self.user_id {
            write!(f, " (user_id {id:?})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_is_listed_and_named_once() {
        // An exhaustive match: a new code does not compile until it is placed here, and in ALL.
        let listed = |c: ErrorCode| match c {
            ErrorCode::InvalidRequest
            | ErrorCode::InvalidQuery
            | ErrorCode::InvalidTenant
            | ErrorCode::InvalidJson
            | ErrorCode::NotAnObject
            | ErrorCode::InvalidUtf8
            | ErrorCode::LoneSurrogate
            | ErrorCode::DuplicateKey
            | ErrorCode::TooDeep
            | ErrorCode::RecordTooLarge
            | ErrorCode::UnsupportedValue
            | ErrorCode::InvalidGzip
            | ErrorCode::InvalidState => ErrorCode::ALL.contains(&c),
        };
        for c in ErrorCode::ALL {
            assert!(listed(c));
            assert_eq!(ErrorCode::from_name(c.as_str()), Some(c));
        }
        let names: std::collections::HashSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
