//! Auth0's export request body (`{connection_id?, format?, limit?, fields?}`) compiled into a plan.

use crate::error::{Error, ErrorCode, Result};
use crate::json::write_json_string;
use serde_json::Value;

/// The two output formats of Auth0's bulk export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// NDJSON: one compact JSON object per user (Auth0 calls it `json`).
    #[default]
    Json,
    /// CSV with every string OWASP-escaped.
    Csv,
}

impl Format {
    /// Auth0's spelling: `json` or `csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }

    /// The file extension, which equals Auth0's spelling.
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
}

/// One step of a field path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Enter an object member.
    Key(String),
    /// Enter an array element.
    Index(u32),
}

/// One exported field: where its value is and what its column is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The `name` of the request, verbatim.
    pub name: String,
    /// The `export_as` of the request, when given.
    pub export_as: Option<String>,
    /// `name` split into steps.
    pub path: Vec<Step>,
}

impl Field {
    /// The column name (CSV header cell, NDJSON key): `export_as` when given, else `name`.
    pub fn column(&self) -> &str {
        self.export_as.as_deref().unwrap_or(&self.name)
    }

    /// True when this is a top-level Auth0 date attribute, whose ISO strings CSV writes bare.
    pub fn is_date_attribute(&self) -> bool {
        matches!(self.path.as_slice(), [Step::Key(k)] if DATE_ATTRIBUTES.contains(&k.as_str()))
    }
}

/// The top-level attributes whose ISO-8601 strings CSV writes without escaping.
pub const DATE_ATTRIBUTES: [&str; 5] =
    ["created_at", "updated_at", "last_login", "last_password_reset", "multifactor_last_modified"];

/// The fields exported when the request has no `fields`, in Auth0's order.
pub const DEFAULT_FIELDS: [&str; 19] = [
    "user_id",
    "email",
    "email_verified",
    "username",
    "phone_number",
    "phone_verified",
    "name",
    "nickname",
    "given_name",
    "family_name",
    "picture",
    "created_at",
    "updated_at",
    "last_login",
    "last_ip",
    "logins_count",
    "blocked",
    "last_password_reset",
    "multifactor_last_modified",
];

/// The Dashboard's "Include default fields" preset (Auth0's Import/Export extension): `(name, export_as)`.
pub const DASHBOARD_PRESET: [(&str, &str); 11] = [
    ("user_id", "Id"),
    ("given_name", "Given Name"),
    ("family_name", "Family Name"),
    ("nickname", "Nickname"),
    ("name", "Name"),
    ("email", "Email"),
    ("email_verified", "Email Verified"),
    ("picture", "Picture"),
    ("identities[0].connection", "Connection"),
    ("created_at", "Created At"),
    ("updated_at", "Updated At"),
];

/// Most fields a CSV export may have (Auth0's documented limit).
pub const MAX_CSV_FIELDS: usize = 30;
/// Longest `name` / `export_as`, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A validated export request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `connection_id` as sent (`con_` + 16 letters/digits); the host maps it to a name.
    pub connection_id: Option<String>,
    /// The output format (`json` when omitted).
    pub format: Format,
    /// At most this many users are written.
    pub limit: Option<u64>,
    /// The fields in output order (the defaults when the request had none).
    pub fields: Vec<Field>,
    /// Whether `fields` was in the request (Auth0 echoes only what was sent).
    pub fields_given: bool,
}

impl Default for Request {
    fn default() -> Self {
        Request::from_value(&Value::Object(Default::default())).expect("the empty request is valid")
    }
}

impl Request {
    /// Parses and validates a request body given as JSON text.
    pub fn from_json(text: &str) -> Result<Request> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::request(format!("The request body is not valid JSON: {e}.")))?;
        Request::from_value(&value)
    }

    /// Validates a request body already parsed.
    pub fn from_value(body: &Value) -> Result<Request> {
        let obj = body.as_object().ok_or_else(|| {
            Error::request("The request body must be a JSON object such as {\"format\":\"csv\"}.")
        })?;
        for key in obj.keys() {
            if !matches!(key.as_str(), "connection_id" | "format" | "limit" | "fields") {
                return Err(Error::request(format!(
                    "Payload validation error: 'Additional properties not allowed: {key}'. \
                     The request may only hold connection_id, format, limit and fields."
                )));
            }
        }
        let format = match obj.get("format") {
            None => Format::Json,
            Some(Value::String(s)) if s == "json" => Format::Json,
            Some(Value::String(s)) if s == "csv" => Format::Csv,
            Some(other) => {
                return Err(Error::request(format!(
                    "Payload validation error: 'No enum match for: {other}' on property format \
                     (Format of the file. Must be `json` or `csv`.)."
                )))
            }
        };
        let limit = match obj.get("limit") {
            None => None,
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => Some(n),
                _ => {
                    return Err(Error::request(format!(
                        "Payload validation error: 'limit' must be an integer of at least 1, got {v}."
                    )))
                }
            },
        };
        let connection_id = match obj.get("connection_id") {
            None => None,
            Some(Value::String(s)) if is_connection_id(s) => Some(s.clone()),
            Some(other) => {
                return Err(Error::request(format!(
                    "Payload validation error: 'String does not match pattern ^con_[A-Za-z0-9]{{16}}$' \
                     on property connection_id (got {other})."
                )))
            }
        };
        let (fields, fields_given) = match obj.get("fields") {
            None => (default_fields(), false),
            Some(Value::Array(items)) => {
                (items.iter().enumerate().map(|(i, f)| parse_field(i, f)).collect::<Result<_>>()?, true)
            }
            Some(_) => {
                return Err(Error::request(
                    "Payload validation error: 'fields' must be an array of {\"name\":…,\"export_as\":…} objects.",
                ))
            }
        };
        let request = Request { connection_id, format, limit, fields, fields_given };
        request.check_fields()?;
        Ok(request)
    }

    /// Builds a request from parts (for hosts that take options rather than a body); validated like a body.
    pub fn new(format: Format, limit: Option<u64>, fields: Option<Vec<Field>>) -> Result<Request> {
        if limit == Some(0) {
            return Err(Error::request(
                "Payload validation error: 'limit' must be an integer of at least 1, got 0.",
            ));
        }
        let fields_given = fields.is_some();
        let fields = match fields {
            Some(f) => f,
            None => default_fields(),
        };
        let request = Request { connection_id: None, format, limit, fields, fields_given };
        request.check_fields()?;
        Ok(request)
    }

    fn check_fields(&self) -> Result<()> {
        if self.format == Format::Csv {
            if self.fields.len() > MAX_CSV_FIELDS {
                return Err(Error::request(format!(
                    "A CSV export may have at most {MAX_CSV_FIELDS} fields; this request has {}. \
                     Remove some fields or use format \"json\".",
                    self.fields.len()
                )));
            }
            if let Some(f) =
                self.fields.iter().find(|f| f.name == "app_metadata" || f.name == "user_metadata")
            {
                return Err(Error::request(format!(
                    "Field \"{}\" cannot be exported as a whole in CSV. List its leaves \
                     (for example \"{}.plan\") or use format \"json\".",
                    f.name, f.name
                )));
            }
        }
        for (i, a) in self.fields.iter().enumerate() {
            if let Some((j, _)) = self.fields[..i].iter().enumerate().find(|(_, b)| b.column() == a.column())
            {
                return Err(Error::request(format!(
                    "fields[{j}] and fields[{i}] both export as column \"{}\". \
                     Give one of them a different export_as.",
                    a.column()
                )));
            }
        }
        Ok(())
    }

    /// The column names in output order.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(Field::column)
    }
}

impl Field {
    /// A field from a path and an optional column name, validated as a request's `fields[i]`.
    pub fn new(name: &str, export_as: Option<&str>) -> Result<Field> {
        Field::checked(None, name, export_as)
    }

    fn checked(index: Option<usize>, name: &str, export_as: Option<&str>) -> Result<Field> {
        let at = match index {
            Some(i) => format!("fields[{i}]"),
            None => "field".to_string(),
        };
        let len = name.chars().count();
        if len == 0 || len > MAX_NAME_CHARS {
            return Err(Error::request(format!(
                "{at}.name must be 1 to {MAX_NAME_CHARS} characters long; it has {len}."
            )));
        }
        if let Some(e) = export_as {
            let len = e.chars().count();
            if len == 0 || len > MAX_NAME_CHARS {
                return Err(Error::request(format!(
                    "{at}.export_as must be 1 to {MAX_NAME_CHARS} characters long; it has {len}."
                )));
            }
        }
        let path = path_steps(name)
            .map_err(|why| Error::request(format!("{at}.name \"{name}\" is not a valid path: {why}.")))?;
        Ok(Field { name: name.to_string(), export_as: export_as.map(str::to_string), path })
    }
}

fn parse_field(index: usize, item: &Value) -> Result<Field> {
    let obj = item.as_object().ok_or_else(|| {
        Error::request(format!("fields[{index}] must be an object such as {{\"name\":\"email\"}}."))
    })?;
    if let Some(k) = obj.keys().find(|k| *k != "name" && *k != "export_as") {
        return Err(Error::request(format!(
            "Payload validation error: 'Additional properties not allowed: {k}' on fields[{index}]. \
             A field has only name and export_as."
        )));
    }
    let name = match obj.get("name") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(Error::request(format!("fields[{index}].name must be a string."))),
        None => return Err(Error::request(format!("fields[{index}] is missing its name."))),
    };
    let export_as = match obj.get("export_as") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(Error::request(format!("fields[{index}].export_as must be a string."))),
    };
    Field::checked(Some(index), name, export_as)
}

/// The fields of a request without `fields`.
fn default_fields() -> Vec<Field> {
    DEFAULT_FIELDS.iter().map(|n| Field::new(n, None).expect("the default paths are valid")).collect()
}

fn is_connection_id(s: &str) -> bool {
    s.len() == 20 && s.starts_with("con_") && s[4..].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Splits a field name such as `a.b[0][1].c` into steps.
///
/// A name that is not a path is an [`ErrorCode::InvalidRequest`] whose message says what is wrong.
pub fn parse_path(name: &str) -> Result<Vec<Step>> {
    path_steps(name).map_err(|why| Error::request(format!("\"{name}\" is not a valid path: {why}.")))
}

/// [`parse_path`] with the bare reason, which a request error wraps with the field's position.
fn path_steps(name: &str) -> std::result::Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for (n, segment) in name.split('.').enumerate() {
        let key_end = segment.find('[').unwrap_or(segment.len());
        let key = &segment[..key_end];
        if key.is_empty() {
            return Err(if segment.is_empty() {
                format!("segment {} is empty (two dots, or a dot at an end)", n + 1)
            } else {
                format!("segment {} \"{segment}\" starts with an index but has no key", n + 1)
            });
        }
        if key.contains(']') {
            return Err(format!("\"]\" without \"[\" in \"{segment}\""));
        }
        steps.push(Step::Key(key.to_string()));
        let mut rest = &segment[key_end..];
        while !rest.is_empty() {
            let close = rest.find(']').ok_or_else(|| format!("unclosed \"[\" in \"{segment}\""))?;
            let digits = &rest[1..close];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("index \"[{digits}]\" in \"{segment}\" is not a whole number"));
            }
            let index: u32 =
                digits.parse().map_err(|_| format!("index \"[{digits}]\" in \"{segment}\" is too large"))?;
            steps.push(Step::Index(index));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(format!("unexpected \"{rest}\" after an index in \"{segment}\""));
            }
        }
    }
    Ok(steps)
}

/// Auth0's answer to a bad request body or query: the status, the `errorCode` and the JSON envelope.
impl Error {
    /// Auth0's HTTP status for this error: 400 for a bad request body or query, else none.
    pub fn status_code(&self) -> Option<u16> {
        self.auth0_error_code().map(|_| 400)
    }

    /// Auth0's `errorCode` for this error: `invalid_body` for a bad request body,
    /// `invalid_query_string` for a bad query (what Auth0's user search answers), else none.
    pub fn auth0_error_code(&self) -> Option<&'static str> {
        match self.code() {
            ErrorCode::InvalidRequest => Some("invalid_body"),
            ErrorCode::InvalidQuery => Some("invalid_query_string"),
            _ => None,
        }
    }

    /// Auth0's error envelope, `{"statusCode":400,"error":"Bad Request","message":…,"errorCode":"invalid_body"}`,
    /// for request and query errors.
    pub fn auth0_envelope(&self) -> Option<String> {
        let status = self.status_code()?;
        Some(Auth0Error::new(status, self.message(), self.auth0_error_code()).to_json())
    }
}

/// An error as Auth0's Management API answers it: `{statusCode, error, message, errorCode?}`,
/// `error` being the status's reason phrase. Every host writes its errors with this one shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth0Error {
    /// The HTTP status.
    pub status_code: u16,
    /// The status's reason phrase (`Bad Request`, `Too Many Requests`, …).
    pub error: &'static str,
    /// What a person reads.
    pub message: String,
    /// Auth0's machine-readable code (`invalid_body`, …), when there is one.
    pub error_code: Option<String>,
}

impl Auth0Error {
    /// The envelope for `status` (its reason phrase looked up), `message` and `error_code`.
    pub fn new(status: u16, message: &str, error_code: Option<&str>) -> Auth0Error {
        Auth0Error {
            status_code: status,
            error: reason_phrase(status),
            message: message.to_string(),
            error_code: error_code.map(str::to_string),
        }
    }

    /// The envelope as Auth0 writes it: compact JSON, members in this order.
    pub fn to_json(&self) -> String {
        let mut out = format!("{{\"statusCode\":{},\"error\":", self.status_code).into_bytes();
        write_json_string(&mut out, self.error.as_bytes());
        out.extend_from_slice(b",\"message\":");
        write_json_string(&mut out, self.message.as_bytes());
        if let Some(code) = &self.error_code {
            out.extend_from_slice(b",\"errorCode\":");
            write_json_string(&mut out, code.as_bytes());
        }
        out.push(b'}');
        String::from_utf8(out).expect("escaped UTF-8 stays UTF-8")
    }
}

/// The reason phrase Auth0's API gives with a status (hapi/Boom's words).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[cfg(test)]
mod envelope_tests {
    use super::*;

    #[test]
    fn envelopes_as_auth0_writes_them() {
        let e = Auth0Error::new(429, "Global limit has been reached", None);
        assert_eq!(
            e.to_json(),
            r#"{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached"}"#
        );
        let e = Auth0Error::new(400, "a \"q\"\n", Some("invalid_body"));
        assert_eq!(
            e.to_json(),
            r#"{"statusCode":400,"error":"Bad Request","message":"a \"q\"\n","errorCode":"invalid_body"}"#
        );
        let body = Request::from_json(r#"{"format":"xml"}"#).unwrap_err().auth0_envelope().unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!((v["statusCode"].as_u64(), v["errorCode"].as_str()), (Some(400), Some("invalid_body")));
        assert!(Request::from_json("{}").is_ok());
    }
}
