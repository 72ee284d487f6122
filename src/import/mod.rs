//! Import-ready output: users of one database connection as Auth0's bulk-import JSON arrays, cut into files of at most 500,000 bytes.
//!
//! The record pipeline scans each user once against [`IMPORT_FIELDS`] (the properties Auth0's
//! import schema allows, plus what decides whether a user can be imported); this module turns
//! those captured values into one import object per user, decides which users cannot be
//! imported and why, and keeps the file boundaries. COMPATIBILITY.md ("For re-import") is the
//! contract: which properties, which users, how files are cut.

mod zip;

pub use self::zip::StoredZip;

use crate::error::{Error, Location, Result};
use crate::format::Value;
use crate::json::{canonical_string_content, decode_string, write_compact, write_json_string};
use crate::request::{Field, Format, Request};
use crate::scan::Kind;

/// Most bytes one import file holds. Auth0 says "500KB"; 500,000 is within that limit
/// whether a KB is 1,000 or 1,024 bytes.
pub const IMPORT_FILE_MAX_BYTES: usize = 500_000;

/// The provider of Auth0's database connections (`identities[0].provider`, and the `auth0|` prefix of their user ids).
const DATABASE_PROVIDER: &[u8] = b"auth0";

/// What an import file's bytes are around and between users: `[` LF, user, `,` LF, user, LF `]` LF.
const OPEN: &[u8] = b"[\n";
const SEPARATOR: &[u8] = b",\n";
const CLOSE: &[u8] = b"\n]\n";

/// How an import property's value must look (Auth0's import schema's type).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Type {
    Str,
    Bool,
    Object,
}

/// The properties an import file's users may hold, in the order they are written.
pub const IMPORT_PROPERTIES: [&str; 12] = [
    "user_id",
    "email",
    "email_verified",
    "username",
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "blocked",
    "app_metadata",
    "user_metadata",
];

/// Each property's schema type, in [`IMPORT_PROPERTIES`] order. `user_id` is written without
/// its provider prefix; `email` must also be an address the schema's `email` format takes.
const TYPES: [Type; 12] = [
    Type::Str,
    Type::Str,
    Type::Bool,
    Type::Str,
    Type::Str,
    Type::Str,
    Type::Str,
    Type::Str,
    Type::Str,
    Type::Bool,
    Type::Object,
    Type::Object,
];

/// Keys Auth0's import refuses inside `app_metadata` (its "App metadata" list).
pub const RESERVED_APP_METADATA_KEYS: [&str; 18] = [
    "__tenant",
    "_id",
    "blocked",
    "clientID",
    "created_at",
    "email_verified",
    "email",
    "globalClientID",
    "global_client_id",
    "identities",
    "lastIP",
    "lastLogin",
    "loginsCount",
    "metadata",
    "multifactor_last_modified",
    "multifactor",
    "updated_at",
    "user_id",
];

const PROVIDER: usize = IMPORT_PROPERTIES.len();
const CONNECTION: usize = PROVIDER + 1;
const RESERVED: usize = CONNECTION + 1;

/// The paths an import reads from each user, in the order the import encoder takes their values:
/// the properties, `identities[0].provider`, `identities[0].connection`, then
/// `app_metadata.<key>` for each reserved key. A host that reads users itself (`push_cells`)
/// reads these.
pub fn import_paths() -> Vec<String> {
    let mut paths: Vec<String> = IMPORT_PROPERTIES.iter().map(|name| name.to_string()).collect();
    paths.push("identities[0].provider".into());
    paths.push("identities[0].connection".into());
    paths.extend(RESERVED_APP_METADATA_KEYS.iter().map(|k| format!("app_metadata.{k}")));
    paths
}

/// The request an import export runs: Auth0's body as sent, checked against what an import
/// allows, with its fields replaced by [`import_paths`]. `gzip` is the host's option.
pub(crate) fn import_request(request: &Request, gzip: bool) -> Result<Request> {
    if request.fields_given {
        return Err(Error::request(
            "forImport writes the properties Auth0's import schema allows; it takes no fields. Leave fields out.",
        ));
    }
    if request.format != Format::Json {
        return Err(Error::request(
            "forImport writes JSON arrays (Auth0's import format); format must be \"json\" or left out, not \"csv\".",
        ));
    }
    if gzip {
        return Err(Error::request(
            "forImport files are plain JSON, as Auth0's import job takes them; gzip cannot be used with forImport.",
        ));
    }
    let fields = import_paths().iter().map(|p| Field::new(p, None)).collect::<Result<Vec<_>>>()?;
    Ok(Request { fields, fields_given: false, ..request.clone() })
}

/// Checks that an export with `options` can be made for import (what [`crate::Exporter::try_new`]
/// refuses): no `fields`, no CSV, no gzip, no manifest.
pub fn check_for_import(request: &Request, options: &crate::Options) -> Result<()> {
    import_request(request, options.gzip)?;
    if options.manifest {
        return Err(Error::request(
            "forImport writes several files, and the manifest proves one export file; leave manifest out with forImport.",
        ));
    }
    Ok(())
}

/// The name of a host's single download of an import: `<tenant>.import.zip`.
pub fn import_zip_name(tenant: &str) -> Result<String> {
    crate::tenant::check_tenant(tenant)?;
    Ok(format!("{tenant}.import.zip"))
}

/// Why a user cannot be imported, as a stable code a program can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The user's primary identity is not a database connection's (social, enterprise, passwordless).
    NotDatabase,
    /// Neither `identities[0].provider` nor a provider prefix in `user_id` says where the user signs in.
    UnknownProvider,
    /// No `email`: Auth0's import schema requires one.
    NoEmail,
    /// The `email` is not an address the schema's `email` format takes.
    InvalidEmail,
    /// A property has a type the schema does not allow (a string where a boolean goes, …).
    WrongType,
    /// `app_metadata` holds a key Auth0's import refuses.
    ReservedKey,
    /// The user's database connection is not the one the files hold (one import job, one connection).
    OtherConnection,
    /// The user's import object alone makes a file longer than [`IMPORT_FILE_MAX_BYTES`].
    TooLarge,
}

impl Reason {
    /// The stable snake_case name of this reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NotDatabase => "not_database_connection",
            Reason::UnknownProvider => "unknown_provider",
            Reason::NoEmail => "no_email",
            Reason::InvalidEmail => "invalid_email",
            Reason::WrongType => "wrong_type",
            Reason::ReservedKey => "reserved_app_metadata_key",
            Reason::OtherConnection => "other_connection",
            Reason::TooLarge => "too_large",
        }
    }
}

/// A user left out of the import files, with where it was in the input and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unimportable {
    /// The line (NDJSON) or index (JSON text, JS objects) of the user.
    pub location: Option<Location>,
    /// The user's `user_id` as exported (with its prefix), when it has one.
    pub user_id: Option<String>,
    /// Why, as a code.
    pub reason: Reason,
    /// Why, in words a person can act on.
    pub message: String,
}

/// One finished import file: its 1-based number, its length in bytes, and how many users it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportFile {
    /// 1-based: file 1 is `<tenant>.import.001.json`.
    pub number: u32,
    /// Its length in bytes (at most [`IMPORT_FILE_MAX_BYTES`]).
    pub bytes: u64,
    /// Users in it.
    pub users: u64,
}

/// The name of import file `number` (1-based): `<tenant>.import.001.json`, three digits at least.
pub fn import_file_name(tenant: &str, number: u32) -> Result<String> {
    crate::tenant::check_tenant(tenant)?;
    Ok(format!("{tenant}.import.{number:03}.json"))
}

/// The import encoder: one user's values in, an import object (or a reason) out, files cut as they fill.
pub(crate) struct Importer {
    max_file_bytes: usize,
    /// Bytes of the open file so far (none open: 0).
    open_bytes: usize,
    open_users: u64,
    /// Files closed so far, and where the open one starts in the output.
    pub files: Vec<ImportFile>,
    /// The database connection the files hold: the first one met.
    connection: Option<Vec<u8>>,
    user: Vec<u8>,
    text: Vec<u8>,
    pub unimportable: Vec<Unimportable>,
    /// Users left out so far, those already taken by the host included.
    pub left_out: u64,
    /// Entries of the list already given by [`Importer::take_json`], and whether its `[` was.
    taken: u64,
    list_started: bool,
}

impl Importer {
    pub fn new(max_file_bytes: usize) -> Importer {
        Importer {
            max_file_bytes,
            open_bytes: 0,
            open_users: 0,
            files: Vec::new(),
            connection: None,
            user: Vec::new(),
            text: Vec::new(),
            unimportable: Vec::new(),
            left_out: 0,
            taken: 0,
            list_started: false,
        }
    }

    /// Writes one user (its values in [`import_paths`] order) to `out` and returns true, or
    /// notes why it cannot be imported and returns false.
    pub fn record(
        &mut self,
        values: &[Option<Value<'_>>],
        at: Option<Location>,
        scratch: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> bool {
        match self.encode(values, scratch) {
            Ok(()) => {}
            Err((reason, message)) => {
                self.reject(values, at, reason, message);
                return false;
            }
        }
        let len = self.user.len();
        if OPEN.len() + len + CLOSE.len() > self.max_file_bytes {
            let max = self.max_file_bytes;
            let size = OPEN.len() + len + CLOSE.len();
            let message =
                format!("its import file alone would be {size} bytes; Auth0 takes files of at most {max}");
            self.reject(values, at, Reason::TooLarge, message);
            return false;
        }
        if self.open_users > 0 && self.open_bytes + SEPARATOR.len() + len + CLOSE.len() > self.max_file_bytes
        {
            self.close(out);
        }
        if self.open_users == 0 {
            out.extend_from_slice(OPEN);
            self.open_bytes = OPEN.len();
        } else {
            out.extend_from_slice(SEPARATOR);
            self.open_bytes += SEPARATOR.len();
        }
        out.extend_from_slice(&self.user);
        self.open_bytes += len;
        self.open_users += 1;
        true
    }

    /// The list file's bytes for the users left out since the last call, which are dropped from
    /// memory: its opening `[` on the first call, and with `end` its close. The calls' bytes,
    /// one after the other, are [`unimportable_json`] of every user left out.
    pub fn take_json(&mut self, end: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.list_started {
            out.push(b'[');
            self.list_started = true;
        }
        for u in self.unimportable.drain(..) {
            out.extend_from_slice(if self.taken == 0 { b"\n" } else { b",\n" });
            write_entry(&u, &mut out);
            self.taken += 1;
        }
        if end {
            out.extend_from_slice(if self.taken == 0 { b"]\n" } else { b"\n]\n" });
        }
        out
    }

    /// Closes the open file, if there is one (at the end of the export).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.open_users > 0 {
            self.close(out);
        }
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(CLOSE);
        self.files.push(ImportFile {
            number: self.files.len() as u32 + 1,
            bytes: (self.open_bytes + CLOSE.len()) as u64,
            users: self.open_users,
        });
        self.open_bytes = 0;
        self.open_users = 0;
    }

    fn reject(
        &mut self,
        values: &[Option<Value<'_>>],
        at: Option<Location>,
        reason: Reason,
        message: String,
    ) {
        let user_id = values[0].and_then(|v| match v.kind {
            Kind::String { .. } | Kind::Text => Some(String::from_utf8_lossy(&self.decoded(v)).into_owned()),
            Kind::Number => Some(String::from_utf8_lossy(v.raw).into_owned()),
            _ => None,
        });
        self.unimportable.push(Unimportable { location: at, user_id, reason, message });
        self.left_out += 1;
    }

    /// A string value's decoded UTF-8.
    fn decoded(&self, v: Value<'_>) -> Vec<u8> {
        match v.kind {
            Kind::String { escaped: true } => {
                let mut text = Vec::new();
                decode_string(v.raw, &mut text);
                text
            }
            _ => v.raw.to_vec(),
        }
    }

    /// Builds the user's import object in `self.user`, or says why there is none.
    fn encode(
        &mut self,
        values: &[Option<Value<'_>>],
        scratch: &mut Vec<u8>,
    ) -> std::result::Result<(), (Reason, String)> {
        let present = |i: usize| values[i].filter(|v| v.kind != Kind::Null);
        // Where the user signs in: the primary identity's provider, else the user_id's prefix.
        let user_id = match present(0) {
            Some(v) if is_string(v) => Some(self.decoded(v)),
            Some(_) => return Err((Reason::WrongType, "user_id is not a string".into())),
            None => None,
        };
        let provider = match present(PROVIDER) {
            Some(v) if is_string(v) => Some(self.decoded(v)),
            _ => user_id.as_ref().and_then(|id| id.iter().position(|&b| b == b'|').map(|i| id[..i].to_vec())),
        };
        match provider.as_deref() {
            Some(DATABASE_PROVIDER) => {}
            Some(other) => {
                let other = String::from_utf8_lossy(other);
                return Err((
                    Reason::NotDatabase,
                    format!("a {other} user (not a database connection): Auth0 imports only database-connection users"),
                ));
            }
            None => {
                return Err((
                    Reason::UnknownProvider,
                    "neither identities[0].provider nor a provider prefix in user_id says which connection the user is in".into(),
                ))
            }
        }
        if let Some(c) = present(CONNECTION).filter(|&v| is_string(v)) {
            let c = self.decoded(c);
            match &self.connection {
                None => self.connection = Some(c),
                Some(first) if *first != c => {
                    return Err((
                        Reason::OtherConnection,
                        format!(
                            "in the database connection {:?}, but these files hold {:?} (the first met); export it alone with the connection option",
                            String::from_utf8_lossy(&c),
                            String::from_utf8_lossy(first)
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        for (k, key) in RESERVED_APP_METADATA_KEYS.iter().enumerate() {
            if values[RESERVED + k].is_some() {
                return Err((
                    Reason::ReservedKey,
                    format!("app_metadata holds {key:?}, a key Auth0's import refuses"),
                ));
            }
        }
        match present(1) {
            None => return Err((Reason::NoEmail, "no email: Auth0's import schema requires one".into())),
            Some(v) if is_string(v) => {
                if !is_schema_email(&self.decoded(v)) {
                    return Err((
                        Reason::InvalidEmail,
                        "the email is not an address Auth0's import schema accepts".into(),
                    ));
                }
            }
            Some(_) => {}
        }
        self.user.clear();
        self.user.push(b'{');
        for (i, (&name, &ty)) in IMPORT_PROPERTIES.iter().zip(&TYPES).enumerate() {
            let Some(v) = present(i) else { continue };
            let fits = match ty {
                Type::Str => is_string(v),
                Type::Bool => matches!(v.kind, Kind::True | Kind::False),
                Type::Object => v.kind == Kind::Object,
            };
            if !fits {
                let want = match ty {
                    Type::Str => "a string",
                    Type::Bool => "a boolean",
                    Type::Object => "an object",
                };
                return Err((
                    Reason::WrongType,
                    format!("{name} is not {want}, as Auth0's import schema requires"),
                ));
            }
            if self.user.len() > 1 {
                self.user.push(b',');
            }
            write_json_string(&mut self.user, name.as_bytes());
            self.user.push(b':');
            if i == 0 {
                let id = user_id.as_deref().expect("a present user_id string");
                let bare = id.iter().position(|&b| b == b'|').map_or(id, |p| &id[p + 1..]);
                if bare.is_empty() {
                    return Err((Reason::WrongType, "user_id has nothing after its provider prefix".into()));
                }
                write_json_string(&mut self.user, bare);
                continue;
            }
            match v.kind {
                Kind::String { escaped } => {
                    self.user.push(b'"');
                    canonical_string_content(&mut self.user, v.raw, escaped, scratch);
                    self.user.push(b'"');
                }
                Kind::Text => {
                    self.text.clear();
                    self.text.extend_from_slice(v.raw);
                    write_json_string(&mut self.user, &self.text);
                }
                Kind::Object => write_compact(&mut self.user, v.raw, scratch),
                _ => self.user.extend_from_slice(v.raw),
            }
        }
        self.user.push(b'}');
        Ok(())
    }
}

fn is_string(v: Value<'_>) -> bool {
    matches!(v.kind, Kind::String { .. } | Kind::Text)
}

/// Whether an address passes the JSON Schema `email` format in both of ajv-formats' readings
/// ("fast" and "full"), so a file the core writes validates whichever a checker uses: a
/// dot-atom local part (atoms of ASCII letters, digits and ``!#$%&'*+/=?^_`{|}~-``), `@`, then
/// two or more dot-separated labels of letters, digits and inner hyphens, each 1–63 characters.
pub fn is_schema_email(email: &[u8]) -> bool {
    let Some(at) = email.iter().position(|&b| b == b'@') else { return false };
    let (local, domain) = (&email[..at], &email[at + 1..]);
    let local_ok = local.split(|&b| b == b'.').all(|atom| {
        !atom.is_empty()
            && atom.iter().all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b))
    });
    local_ok
        && domain.split(|&b| b == b'.').count() >= 2
        && domain.split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
                && label[0] != b'-'
                && label[label.len() - 1] != b'-'
        })
}

/// The name of the list of users left out: `<tenant>.import.unimportable.json`.
pub fn unimportable_file_name(tenant: &str) -> Result<String> {
    crate::tenant::check_tenant(tenant)?;
    Ok(format!("{tenant}.import.unimportable.json"))
}

/// The list of users left out as the file every host writes: a JSON array, one user a line,
/// each `{"line"|"index", "user_id"?, "reason", "message"}` (an empty list is `[]`).
pub fn unimportable_json(users: &[Unimportable]) -> Vec<u8> {
    let mut out = b"[".to_vec();
    for (i, u) in users.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        write_entry(u, &mut out);
    }
    out.extend_from_slice(if users.is_empty() { b"]\n" } else { b"\n]\n" });
    out
}

/// One user of the list: `{"line"|"index", "user_id"?, "reason", "message"}`, written by hand
/// (a map per user cost a quarter of an import's time when most users are social).
fn write_entry(u: &Unimportable, out: &mut Vec<u8>) {
    out.push(b'{');
    match u.location {
        Some(Location::Line(n)) => out.extend_from_slice(format!("\"line\":{n},").as_bytes()),
        Some(Location::Index(n)) => out.extend_from_slice(format!("\"index\":{n},").as_bytes()),
        _ => {}
    }
    if let Some(id) = &u.user_id {
        out.extend_from_slice(b"\"user_id\":");
        write_json_string(out, id.as_bytes());
        out.push(b',');
    }
    out.extend_from_slice(b"\"reason\":\"");
    out.extend_from_slice(u.reason.as_str().as_bytes());
    out.extend_from_slice(b"\",\"message\":");
    write_json_string(out, u.message.as_bytes());
    out.push(b'}');
}
