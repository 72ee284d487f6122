//! One validating walk over a JSON record that notes where the selected values are, building no tree.
//!
//! The walk checks everything a bad record can be (syntax, duplicate keys, lone surrogates,
//! depth) but copies nothing except object keys, which it must compare. Values are found as
//! byte ranges of the input; the encoders re-read only those ranges.

use crate::bytes::plain_run;
use crate::error::ErrorCode;
use crate::json::{decode_string, hex4};
use crate::plan::{fingerprint, fingerprint_bit, same_bytes, Plan, NONE};
use crate::query::{Hits, QueryValue, Scratch};

/// Deepest nesting accepted (objects and arrays together, the record itself being depth 1).
pub const MAX_DEPTH: usize = 128;

/// What a captured value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string; `escaped` when its text holds a backslash.
    String {
        escaped: bool,
    },
    Number,
    True,
    False,
    Null,
    Object,
    Array,
    /// A string as decoded UTF-8, not JSON-escaped: from a host's cells, never from the scanner.
    Text,
}

/// A value found in the record: its kind and byte range (a string's range excludes its quotes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Capture {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// A problem found in a record.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub code: ErrorCode,
    pub message: String,
    /// Byte offset in the scanned buffer.
    pub offset: usize,
    /// The buffer ended inside the value: more bytes could still make it valid (input-form
    /// detection waits for them rather than calling the value broken).
    pub truncated: bool,
}

impl Fault {
    fn truncated_if(mut self, truncated: bool) -> Fault {
        self.truncated = truncated;
        self
    }
}

/// The outcome of scanning one value.
pub(crate) enum Scan {
    /// The value is fine and ends at this offset.
    Ok(usize),
    /// The value is bad but its end was still found (so a JSON text can go on after it).
    Bad(Fault, usize),
    /// The value is bad and its end cannot be known.
    Broken(Fault),
}

#[derive(Clone, Copy)]
struct Frame {
    is_object: bool,
    /// Trie node for the children, or NONE.
    node: u32,
    /// Slot to capture this container into when it closes, or NONE.
    slot: u32,
    start: usize,
    /// Where this object's keys begin in `keys`.
    key_mark: u32,
    /// One bit per key fingerprint seen in this object: a key whose bit is clear cannot be a
    /// repeat, so most keys skip the comparison with every earlier key.
    key_bits: u64,
    /// Index of the current array element.
    index: u32,
    /// Trie node whose query paths this object is reported to when it closes, or NONE.
    query_node: u32,
}

/// An object key: a range of the record (no escapes) or of the scanner's arena (decoded).
#[derive(Clone, Copy)]
struct Key {
    start: usize,
    len: usize,
    in_arena: bool,
    fingerprint: u64,
}

impl Key {
    fn text<'a>(&self, buf: &'a [u8], arena: &'a [u8]) -> &'a [u8] {
        let from = if self.in_arena { arena } else { buf };
        &from[self.start..self.start + self.len]
    }
}

/// Reusable walker state, so a record costs no allocation once the buffers have grown.
#[derive(Default)]
pub(crate) struct Scanner {
    stack: Vec<Frame>,
    /// Keys of the open objects.
    keys: Vec<Key>,
    /// Decoded text of the keys that had escapes (the others are read from the record).
    arena: Vec<u8>,
    /// One entry per plan slot.
    pub captures: Vec<Option<Capture>>,
    /// The plan's query terms that some value of the record satisfied.
    pub hits: Hits,
    query_scratch: Scratch,
    fault: Option<Fault>,
}

#[inline(always)]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

#[inline(always)]
pub(crate) fn skip_ws(buf: &[u8], mut pos: usize) -> usize {
    // Compact JSON, the common case, has no whitespace at all: one compare and out.
    if buf.get(pos).is_some_and(|&b| b > b' ') {
        return pos;
    }
    while pos < buf.len() && is_ws(buf[pos]) {
        pos += 1;
    }
    pos
}

fn describe(buf: &[u8], pos: usize) -> String {
    match buf.get(pos) {
        None => "the record ends too early".to_string(),
        Some(&b) if b.is_ascii_graphic() => format!("unexpected '{}'", b as char),
        Some(&b) => format!("unexpected byte 0x{b:02x}"),
    }
}

fn fault(code: ErrorCode, message: String, offset: usize) -> Fault {
    Fault { code, message, offset, truncated: false }
}

fn syntax(buf: &[u8], pos: usize, expected: &str) -> Fault {
    fault(ErrorCode::InvalidJson, format!("{}, expected {expected} (byte {pos})", describe(buf, pos)), pos)
        .truncated_if(pos >= buf.len())
}

impl Scanner {
    /// Scans the value at `pos` of `buf` against `plan`, filling `captures`.
    pub fn scan(&mut self, plan: &Plan, buf: &[u8], pos: usize) -> Scan {
        self.captures.clear();
        self.captures.resize(plan.slot_count, None);
        self.stack.clear();
        self.keys.clear();
        self.arena.clear();
        self.fault = None;
        // The caller clears the hits per user: a user read from a host's cells has several
        // values scanned one after another.
        if let Some(q) = &plan.query {
            if self.hits.is_empty() {
                self.hits = q.new_hits();
            }
        }
        match self.walk(plan, buf, pos) {
            Ok(end) => match self.fault.take() {
                None => Scan::Ok(end),
                Some(f) => Scan::Bad(f, end),
            },
            Err(f) => Scan::Broken(f),
        }
    }

    /// Notes a problem that does not stop the walk; the first one is reported.
    fn soft(&mut self, f: Fault) {
        if self.fault.is_none() {
            self.fault = Some(f);
        }
    }

    fn walk(&mut self, plan: &Plan, buf: &[u8], mut pos: usize) -> Result<usize, Fault> {
        // `cand` is the trie node of the value about to be read (NONE when nothing needs it).
        // A query-cell plan reads any value from its root; a record's plan only an object.
        let mut cand: u32 =
            if buf.get(pos) == Some(&b'{') || !plan.nodes[0].query_paths.is_empty() { 0 } else { NONE };
        'value: loop {
            let start = pos;
            let Some(&b) = buf.get(pos) else {
                return Err(syntax(buf, pos, "a value"));
            };
            let node = if cand == NONE { None } else { Some(&plan.nodes[cand as usize]) };
            let kind = match b {
                b'{' | b'[' => {
                    if self.stack.len() >= MAX_DEPTH {
                        let end = skip_deep(buf, pos)?;
                        self.soft(fault(
                            ErrorCode::TooDeep,
                            format!("nesting deeper than {MAX_DEPTH} levels (byte {pos})"),
                            pos,
                        ));
                        pos = end;
                        None
                    } else {
                        let is_object = b == b'{';
                        let (child_node, slot, query_node) = match node {
                            Some(n) => (
                                if n.has_children() { cand } else { NONE },
                                n.slot,
                                if is_object && !n.query_paths.is_empty() { cand } else { NONE },
                            ),
                            None => (NONE, NONE, NONE),
                        };
                        self.stack.push(Frame {
                            is_object,
                            node: child_node,
                            slot,
                            start,
                            key_mark: self.keys.len() as u32,
                            key_bits: 0,
                            index: 0,
                            query_node,
                        });
                        pos = skip_ws(buf, pos + 1);
                        let close = if is_object { b'}' } else { b']' };
                        if buf.get(pos) == Some(&close) {
                            pos += 1;
                            self.close(plan, pos);
                            None
                        } else if is_object {
                            pos = self.member(plan, buf, pos, &mut cand)?;
                            continue 'value;
                        } else {
                            cand = match node {
                                Some(n) if child_node != NONE => n.index_child(0),
                                _ => NONE,
                            };
                            continue 'value;
                        }
                    }
                }
                b'"' => {
                    let (end, escaped) = self.string(buf, pos)?;
                    pos = end;
                    Some(Kind::String { escaped })
                }
                b't' => {
                    pos = literal(buf, pos, b"true")?;
                    Some(Kind::True)
                }
                b'f' => {
                    pos = literal(buf, pos, b"false")?;
                    Some(Kind::False)
                }
                b'n' => {
                    pos = literal(buf, pos, b"null")?;
                    Some(Kind::Null)
                }
                b'-' | b'0'..=b'9' => {
                    pos = number(buf, pos)?;
                    Some(Kind::Number)
                }
                _ => return Err(syntax(buf, pos, "a value")),
            };
            if let (Some(kind), Some(n)) = (kind, node) {
                if n.slot != NONE {
                    let capture = match kind {
                        Kind::String { .. } => Capture { kind, start: start + 1, end: pos - 1 },
                        _ => Capture { kind, start, end: pos },
                    };
                    self.captures[n.slot as usize] = Some(capture);
                }
                if !n.query_paths.is_empty() {
                    let value = match kind {
                        Kind::String { escaped } => {
                            QueryValue::Str { raw: &buf[start + 1..pos - 1], escaped }
                        }
                        Kind::Number => QueryValue::Num(&buf[start..pos]),
                        Kind::True => QueryValue::Bool(true),
                        Kind::False => QueryValue::Bool(false),
                        _ => QueryValue::Null,
                    };
                    self.observe(plan, &n.query_paths, value);
                }
            }
            // A value is done: close containers or move to the next member / element.
            loop {
                let Some(top) = self.stack.last_mut() else {
                    return Ok(pos);
                };
                pos = skip_ws(buf, pos);
                match (buf.get(pos), top.is_object) {
                    (Some(b','), true) => {
                        pos = skip_ws(buf, pos + 1);
                        pos = self.member(plan, buf, pos, &mut cand)?;
                        continue 'value;
                    }
                    (Some(b','), false) => {
                        top.index += 1;
                        let (node, index) = (top.node, top.index);
                        cand = if node == NONE { NONE } else { plan.nodes[node as usize].index_child(index) };
                        pos = skip_ws(buf, pos + 1);
                        continue 'value;
                    }
                    (Some(b'}'), true) | (Some(b']'), false) => {
                        pos += 1;
                        self.close(plan, pos);
                    }
                    (_, true) => return Err(syntax(buf, pos, "',' or '}'")),
                    (_, false) => return Err(syntax(buf, pos, "',' or ']'")),
                }
            }
        }
    }

    /// Reports a value met at the query paths `paths` to the plan's query.
    fn observe(&mut self, plan: &Plan, paths: &[u32], value: QueryValue<'_>) {
        let q = plan.query.as_ref().expect("query paths come from a query");
        q.observe_at(paths, value, &mut self.hits, &mut self.query_scratch);
    }

    /// Pops the innermost container, which ended just before `end`, capturing it if wanted.
    fn close(&mut self, plan: &Plan, end: usize) {
        let frame = self.stack.pop().expect("a container is open");
        if frame.query_node != NONE {
            let empty = self.keys.len() == frame.key_mark as usize;
            self.observe(
                plan,
                &plan.nodes[frame.query_node as usize].query_paths,
                QueryValue::Object { empty },
            );
        }
        if frame.is_object {
            let mark = frame.key_mark as usize;
            if let Some(first) = self.keys[mark..].iter().find(|k| k.in_arena) {
                self.arena.truncate(first.start);
            }
            self.keys.truncate(mark);
        }
        if frame.slot != NONE {
            let kind = if frame.is_object { Kind::Object } else { Kind::Array };
            self.captures[frame.slot as usize] = Some(Capture { kind, start: frame.start, end });
        }
    }

    /// Reads `"key" :` at `pos` inside the innermost object; sets `cand` to the key's trie node.
    fn member(&mut self, plan: &Plan, buf: &[u8], pos: usize, cand: &mut u32) -> Result<usize, Fault> {
        if buf.get(pos) != Some(&b'"') {
            return Err(syntax(buf, pos, "a key in double quotes"));
        }
        let (end, escaped) = self.string(buf, pos)?;
        let key = if escaped {
            let start = self.arena.len();
            decode_string(&buf[pos + 1..end - 1], &mut self.arena);
            Key { start, len: self.arena.len() - start, in_arena: true, fingerprint: 0 }
        } else {
            Key { start: pos + 1, len: end - 1 - (pos + 1), in_arena: false, fingerprint: 0 }
        };
        let text = key.text(buf, &self.arena);
        let key = Key { fingerprint: fingerprint(text), ..key };
        let top = self.stack.last_mut().expect("inside an object");
        let bit = fingerprint_bit(key.fingerprint);
        let maybe_repeated = top.key_bits & bit != 0;
        top.key_bits |= bit;
        let (mark, node) = (top.key_mark as usize, top.node);
        if maybe_repeated
            && self.keys[mark..]
                .iter()
                .any(|k| k.fingerprint == key.fingerprint && same_bytes(k.text(buf, &self.arena), text))
        {
            let shown = String::from_utf8_lossy(text).into_owned();
            self.soft(fault(
                ErrorCode::DuplicateKey,
                format!("key {shown:?} appears twice in one object (byte {pos})"),
                pos,
            ));
        }
        let text = key.text(buf, &self.arena);
        *cand = if node == NONE { NONE } else { plan.nodes[node as usize].key_child(text, key.fingerprint) };
        self.keys.push(key);
        let pos = skip_ws(buf, end);
        if buf.get(pos) != Some(&b':') {
            return Err(syntax(buf, pos, "':'"));
        }
        Ok(skip_ws(buf, pos + 1))
    }

    /// Scans the string whose opening quote is at `pos`; returns the offset after the closing
    /// quote and whether it holds escapes. Lone surrogates are noted, not fatal.
    ///
    /// Inlined, and only the common case (plain text up to the closing quote) is here: called
    /// about 70 times per user, a full call cost as much as the scanning itself.
    #[inline(always)]
    fn string(&mut self, buf: &[u8], pos: usize) -> Result<(usize, bool), Fault> {
        let i = plain_run(buf, pos + 1);
        if buf.get(i) == Some(&b'"') {
            return Ok((i + 1, false));
        }
        self.string_rest(buf, pos, i, false)
    }

    /// The rest of a string from `i`, a byte that is not plain text: escapes, controls, the end.
    #[inline(never)]
    fn string_rest(
        &mut self,
        buf: &[u8],
        pos: usize,
        mut i: usize,
        mut escaped: bool,
    ) -> Result<(usize, bool), Fault> {
        loop {
            let Some(&b) = buf.get(i) else {
                return Err(fault(
                    ErrorCode::InvalidJson,
                    format!("unterminated string (starting at byte {pos})"),
                    pos,
                )
                .truncated_if(true));
            };
            match b {
                b'"' => return Ok((i + 1, escaped)),
                b'\\' => {
                    escaped = true;
                    i = self.escape(buf, i)?;
                }
                0..=0x1f => {
                    return Err(fault(
                        ErrorCode::InvalidJson,
                        format!("control character 0x{b:02x} inside a string must be escaped (byte {i})"),
                        i,
                    ))
                }
                _ => i += 1,
            }
            i = plain_run(buf, i);
        }
    }

    /// Checks the escape at `i` (a backslash); returns the offset after it.
    fn escape(&mut self, buf: &[u8], i: usize) -> Result<usize, Fault> {
        match buf.get(i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
            Some(b'u') => {
                let unit = hex4(buf, i + 2).ok_or_else(|| {
                    let rest = &buf[(i + 2).min(buf.len())..];
                    fault(
                        ErrorCode::InvalidJson,
                        format!("\\u must be followed by 4 hex digits (byte {i})"),
                        i,
                    )
                    .truncated_if(rest.len() < 4 && rest.iter().all(u8::is_ascii_hexdigit))
                })?;
                match unit {
                    0xD800..=0xDBFF => {
                        let low = if buf.get(i + 6) == Some(&b'\\') && buf.get(i + 7) == Some(&b'u') {
                            hex4(buf, i + 8)
                        } else {
                            None
                        };
                        match low {
                            Some(0xDC00..=0xDFFF) => Ok(i + 12),
                            _ => {
                                self.soft(fault(
                                    ErrorCode::LoneSurrogate,
                                    format!("lone surrogate \\u{unit:04x} without its low half (byte {i})"),
                                    i,
                                ));
                                Ok(i + 6)
                            }
                        }
                    }
                    0xDC00..=0xDFFF => {
                        self.soft(fault(
                            ErrorCode::LoneSurrogate,
                            format!("lone surrogate \\u{unit:04x} without its high half (byte {i})"),
                            i,
                        ));
                        Ok(i + 6)
                    }
                    _ => Ok(i + 6),
                }
            }
            _ => Err(fault(ErrorCode::InvalidJson, format!("invalid escape in a string (byte {i})"), i)
                .truncated_if(i + 1 >= buf.len())),
        }
    }
}

fn literal(buf: &[u8], pos: usize, word: &[u8]) -> Result<usize, Fault> {
    if buf.get(pos..pos + word.len()) == Some(word) {
        Ok(pos + word.len())
    } else {
        let cut = buf.len() < pos + word.len() && word.starts_with(&buf[pos..]);
        Err(syntax(buf, pos, "a value").truncated_if(cut))
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; the text is kept as it is, never converted.
fn number(buf: &[u8], pos: usize) -> Result<usize, Fault> {
    let digits = |mut i: usize| {
        let from = i;
        while i < buf.len() && buf[i].is_ascii_digit() {
            i += 1;
        }
        (i, i - from)
    };
    let bad = |at: usize| syntax(buf, at, "a digit of a number");
    let mut i = pos;
    if buf[i] == b'-' {
        i += 1;
    }
    match buf.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(i).0,
        _ => return Err(bad(i)),
    }
    if buf.get(i) == Some(&b'.') {
        let (j, n) = digits(i + 1);
        if n == 0 {
            return Err(bad(j));
        }
        i = j;
    }
    if matches!(buf.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(buf.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let (j, n) = digits(i);
        if n == 0 {
            return Err(bad(j));
        }
        i = j;
    }
    Ok(i)
}

/// The first fault in a record nested past the limit is the nesting, whatever breaks later.
fn too_deep(pos: usize) -> Fault {
    fault(ErrorCode::TooDeep, format!("nesting deeper than {MAX_DEPTH} levels (byte {pos})"), pos)
}

/// Finds the end of a container nested past [`MAX_DEPTH`] without a frame per level:
/// one bit per level says object or array, so even 100 000 levels cost 12 KB.
/// It checks bracket matching and strings only; the record is rejected anyway.
fn skip_deep(buf: &[u8], pos: usize) -> Result<usize, Fault> {
    let mut bits: Vec<u64> = Vec::new();
    let mut depth = 0usize;
    let mut i = pos;
    while i < buf.len() {
        match buf[i] {
            open @ (b'{' | b'[') => {
                if depth % 64 == 0 {
                    bits.push(0);
                }
                let word = &mut bits[depth / 64];
                if open == b'{' {
                    *word |= 1 << (depth % 64);
                } else {
                    *word &= !(1 << (depth % 64));
                }
                depth += 1;
            }
            close @ (b'}' | b']') => {
                if depth == 0 {
                    return Err(too_deep(pos));
                }
                depth -= 1;
                let is_object = bits[depth / 64] >> (depth % 64) & 1 == 1;
                if is_object != (close == b'}') {
                    return Err(too_deep(pos));
                }
                if depth % 64 == 0 {
                    bits.pop();
                }
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            b'"' => {
                i += 1;
                while i < buf.len() && buf[i] != b'"' {
                    i += if buf[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(fault(
        ErrorCode::TooDeep,
        format!("nesting deeper than {MAX_DEPTH} levels, and the record ends before it closes"),
        pos,
    )
    .truncated_if(true))
}

#[cfg(test)]
mod tests {
    use super::{Scan, Scanner};
    use crate::error::ErrorCode;
    use crate::plan::Plan;

    fn duplicate(record: &str) -> bool {
        let plan = Plan::empty();
        match Scanner::default().scan(&plan, record.as_bytes(), 0) {
            Scan::Ok(_) => false,
            Scan::Bad(f, _) => f.code == ErrorCode::DuplicateKey,
            Scan::Broken(f) => panic!("{record}: {}", f.message),
        }
    }

    #[test]
    fn duplicate_keys_survive_the_fingerprint_shortcut() {
        // 200 distinct keys fill every bit of the per-object filter: still no false repeat.
        let many: Vec<String> = (0..200).map(|i| format!("\"key{i}\":{i}")).collect();
        assert!(!duplicate(&format!("{{{}}}", many.join(","))));
        assert!(duplicate(&format!("{{{},\"key7\":0}}", many.join(","))));
        // Same first and last eight bytes and length, so the same fingerprint: compared in full.
        assert!(!duplicate(r#"{"abcdefgh_X_12345678":1,"abcdefgh_Y_12345678":2}"#));
        assert!(duplicate(r#"{"abcdefgh_X_12345678":1,"abcdefgh_X_12345678":2}"#));
        // A key spelled with escapes repeats its plain spelling, in either order.
        assert!(duplicate(r#"{"a":1,"\u0061":2}"#));
        assert!(duplicate(r#"{"\u0061b":1,"ab":2}"#));
        // Keys of sibling and nested objects are separate; a closed object's keys are forgotten.
        assert!(!duplicate(r#"{"a":{"a":{"\u0061":1}},"b":{"a":2},"c":[{"a":1},{"a":2}]}"#));
        assert!(duplicate(r#"{"a":{"x":1},"b":{"\u0078":1,"x":2}}"#));
        assert!(!duplicate(r#"{"a":{"\u0078":1},"b":{"x":1},"\u0078":3}"#));
    }
}
