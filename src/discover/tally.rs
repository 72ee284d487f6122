//! The tally of field discovery: the paths one validated user holds, counted into a bounded list.
//!
//! It walks a user's bytes after the scanner has accepted them (no syntax error, no repeated
//! key, valid UTF-8), as `json::write_compact` does, so it checks nothing itself.

use std::collections::HashMap;

use crate::json::{decode_string, write_compact};
use crate::scan::skip_ws;

/// Longest path listed, in bytes; a longer one sets [`crate::Discovery::truncated`].
pub const MAX_PATH_BYTES: usize = 256;

/// The JSON types a value at a path had, as bits.
pub mod kind {
    /// A string.
    pub const STRING: u8 = 1;
    /// A number.
    pub const NUMBER: u8 = 2;
    /// `true` or `false`.
    pub const BOOLEAN: u8 = 4;
    /// `null`.
    pub const NULL: u8 = 8;
    /// An object.
    pub const OBJECT: u8 = 16;
    /// An array.
    pub const ARRAY: u8 = 32;
    /// Each bit and its name, in this order.
    pub const NAMES: [(u8, &str); 6] = [
        (STRING, "string"),
        (NUMBER, "number"),
        (BOOLEAN, "boolean"),
        (NULL, "null"),
        (OBJECT, "object"),
        (ARRAY, "array"),
    ];
}

/// One path and what the users held there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathInfo {
    /// The path as a field names it: `user_metadata.plan`, `identities[0].connection`.
    pub path: String,
    /// Users that have a value there (`null` included).
    pub present: u64,
    /// Users whose value there is filled: not `null`, `""`, `{}` or `[]`.
    pub filled: u64,
    /// The types met there ([`kind`] bits).
    pub kinds: u8,
    /// The first filled value, as compact JSON (a string in its quotes), cut to the example length.
    pub example: Option<String>,
}

impl PathInfo {
    /// The names of the types met there, in [`kind::NAMES`] order.
    pub fn kind_names(&self) -> Vec<&'static str> {
        kind::NAMES.iter().filter(|(bit, _)| self.kinds & bit != 0).map(|&(_, name)| name).collect()
    }
}

/// The tally the record pipeline feeds with each good user's bytes.
pub(crate) struct PathCounts {
    /// The limits of `DiscoverOptions`: paths kept, array elements listed, example length.
    max_paths: usize,
    max_index: u32,
    max_example_chars: usize,
    /// Path → its place in `paths`.
    places: HashMap<String, usize>,
    pub paths: Vec<PathInfo>,
    /// The path of the value being walked.
    path: String,
    scratch: Vec<u8>,
    pub users: u64,
    pub truncated: bool,
    pub unnamed: u64,
}

impl PathCounts {
    pub(crate) fn new(max_paths: usize, max_index: u32, max_example_chars: usize) -> PathCounts {
        PathCounts {
            max_paths,
            max_index,
            max_example_chars,
            places: HashMap::new(),
            paths: Vec::new(),
            path: String::new(),
            scratch: Vec::new(),
            users: 0,
            truncated: false,
            unnamed: 0,
        }
    }

    /// Tallies one user: a JSON object the scanner validated (no syntax error, no repeated
    /// key, valid UTF-8), from its `{` to its `}`.
    pub fn see(&mut self, user: &[u8]) {
        self.users += 1;
        self.path.clear();
        self.walk(user, 0, false, true);
    }

    /// Walks the value at `pos`, noting it and what it holds when `note` (the record itself,
    /// `root`, has no path: its members start one); returns its end.
    fn walk(&mut self, buf: &[u8], pos: usize, note: bool, root: bool) -> usize {
        let (bit, end, filled) = match buf[pos] {
            b'{' => {
                let mut i = skip_ws(buf, pos + 1);
                let filled = buf[i] != b'}';
                while buf[i] != b'}' {
                    let key_end = string_end(buf, i);
                    let mark = self.path.len();
                    let named = (note || root) && self.enter_key(&buf[i + 1..key_end - 1]);
                    i = skip_ws(buf, skip_ws(buf, key_end) + 1); // past the ':'
                    i = skip_ws(buf, self.walk(buf, i, named, false));
                    self.path.truncate(mark);
                    if buf[i] == b',' {
                        i = skip_ws(buf, i + 1);
                    }
                }
                (kind::OBJECT, i + 1, filled)
            }
            b'[' => {
                let mut i = skip_ws(buf, pos + 1);
                let filled = buf[i] != b']';
                let mut index = 0u32;
                while buf[i] != b']' {
                    let mark = self.path.len();
                    let named = note && index < self.max_index && self.enter_index(index);
                    i = skip_ws(buf, self.walk(buf, i, named, false));
                    self.path.truncate(mark);
                    index = index.saturating_add(1);
                    if buf[i] == b',' {
                        i = skip_ws(buf, i + 1);
                    }
                }
                (kind::ARRAY, i + 1, filled)
            }
            b'"' => {
                let end = string_end(buf, pos);
                (kind::STRING, end, end > pos + 2)
            }
            b't' => (kind::BOOLEAN, pos + 4, true),
            b'f' => (kind::BOOLEAN, pos + 5, true),
            b'n' => (kind::NULL, pos + 4, false),
            _ => {
                let mut i = pos + 1;
                while i < buf.len() && matches!(buf[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                    i += 1;
                }
                (kind::NUMBER, i, true)
            }
        };
        if note {
            self.note(bit, filled, &buf[pos..end]);
        }
        end
    }

    /// Appends `.key` (the raw text between a key's quotes) to the path; false when no field
    /// path can name it or the path grows too long.
    fn enter_key(&mut self, raw: &[u8]) -> bool {
        self.scratch.clear();
        decode_string(raw, &mut self.scratch);
        let Ok(key) = std::str::from_utf8(&self.scratch) else {
            self.unnamed += 1;
            return false;
        };
        if key.is_empty() || key.contains(['.', '[', ']']) {
            self.unnamed += 1;
            return false;
        }
        if self.path.len() + 1 + key.len() > MAX_PATH_BYTES {
            self.truncated = true;
            return false;
        }
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(key);
        true
    }

    /// Appends `[index]` to the path; false when the path grows too long.
    fn enter_index(&mut self, index: u32) -> bool {
        let step = format!("[{index}]");
        if self.path.len() + step.len() > MAX_PATH_BYTES {
            self.truncated = true;
            return false;
        }
        self.path.push_str(&step);
        true
    }

    /// Counts the value `raw` (of type `bit`) at the current path.
    fn note(&mut self, bit: u8, filled: bool, raw: &[u8]) {
        let place = match self.places.get(&self.path) {
            Some(&place) => place,
            None if self.paths.len() >= self.max_paths => {
                self.truncated = true;
                return;
            }
            None => {
                self.places.insert(self.path.clone(), self.paths.len());
                self.paths.push(PathInfo {
                    path: self.path.clone(),
                    present: 0,
                    filled: 0,
                    kinds: 0,
                    example: None,
                });
                self.paths.len() - 1
            }
        };
        let max_chars = self.max_example_chars;
        let info = &mut self.paths[place];
        info.present += 1;
        info.kinds |= bit;
        if filled {
            info.filled += 1;
            if info.example.is_none() {
                info.example = Some(example(raw, max_chars, &mut self.scratch));
            }
        }
    }
}

/// The offset just past the closing quote of the validated string opening at `pos`.
fn string_end(buf: &[u8], pos: usize) -> usize {
    let mut j = pos + 1;
    while buf[j] != b'"' {
        j += if buf[j] == b'\\' { 2 } else { 1 };
    }
    j + 1
}

/// `raw` as compact JSON, cut to `max_chars` characters with `…` when longer.
fn example(raw: &[u8], max_chars: usize, scratch: &mut Vec<u8>) -> String {
    let mut out = Vec::new();
    write_compact(&mut out, raw, scratch);
    let text = String::from_utf8(out).expect("compact JSON of validated UTF-8 is UTF-8");
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
