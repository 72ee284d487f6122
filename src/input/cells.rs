//! Users a host has already read value by value (JS objects in the wasm build): one batch of
//! typed cells, so the core encodes them without parsing any JSON but the whole objects in them.

use crate::error::{Error, ErrorCode, Location, Result};
use crate::format::Value;
use crate::record::Records;
use crate::scan::{Kind, Scan};

/// What one cell of a [`CellBatch`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Cell {
    /// The field is absent for this user.
    Absent = 0,
    /// `null`.
    Null = 1,
    /// `false`.
    False = 2,
    /// `true`.
    True = 3,
    /// A string: its UTF-8 text, not escaped.
    Text = 4,
    /// A number: its JSON text (finite; as `JSON.stringify` writes it).
    Number = 5,
    /// Any JSON value as compact JSON text (whole objects and arrays); validated by the core.
    Json = 6,
    /// The whole user is bad: the next entry of [`CellBatch::bad`] says why. Its other cells are
    /// [`Cell::Absent`].
    Bad = 7,
}

impl Cell {
    /// The cell kind of a tag byte (`Cell as u8`); unknown tags are refused.
    pub fn from_tag(tag: u8) -> Option<Cell> {
        Some(match tag {
            0 => Cell::Absent,
            1 => Cell::Null,
            2 => Cell::False,
            3 => Cell::True,
            4 => Cell::Text,
            5 => Cell::Number,
            6 => Cell::Json,
            7 => Cell::Bad,
            _ => return None,
        })
    }

    /// Whether the cell has bytes in [`CellBatch::text`].
    pub fn has_text(self) -> bool {
        matches!(self, Cell::Text | Cell::Number | Cell::Json)
    }
}

/// Users read by the host: `width` cells per user, row after row, in field order (then, when the
/// export filters on a connection, one more cell: the user's `identities[0].connection`; then,
/// when it has a query, one cell per [`crate::Query::paths`] entry, in that order, holding what
/// the path reaches: its value, or every value it reaches through arrays as one JSON array,
/// [`Cell::Absent`] when it reaches none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellBatch {
    /// Cells per user.
    pub width: usize,
    /// One [`Cell`] tag per cell.
    pub tags: Vec<u8>,
    /// The byte length of each cell's text (0 for the cells without one), in `text`, or in
    /// `second_text` when [`CellBatch::SECOND`] is set.
    pub lens: Vec<u32>,
    /// The texts of the cells that have one (and no [`CellBatch::SECOND`] mark), back to back.
    pub text: Vec<u8>,
    /// The texts of the cells marked [`CellBatch::SECOND`], back to back: a host may keep
    /// some cells apart (the wasm door keeps the columns that have shown non-ASCII text apart,
    /// so the rest crosses as one-byte text) without copying them back into one order.
    pub second_text: Vec<u8>,
    /// Why each [`Cell::Bad`] user is bad, in order: its code and a message naming the field.
    pub bad: Vec<(ErrorCode, String)>,
}

impl CellBatch {
    /// The mark on a length in [`CellBatch::lens`] whose text is in `second_text`.
    pub const SECOND: u32 = 1 << 31;

    /// Users in the batch.
    pub fn users(&self) -> usize {
        self.tags.len().checked_div(self.width).unwrap_or(0)
    }

    /// Checks the batch's shape once, so reading it later cannot go out of bounds, and, unless
    /// the text is `encoded` (a `TextEncoder`'s output, UTF-8 by construction), its UTF-8.
    pub(crate) fn check(&self, encoded: bool) -> Result<(), String> {
        if self.width == 0 || self.tags.len() % self.width != 0 || self.lens.len() != self.tags.len() {
            return Err("a cell batch needs width > 0 and one tag and one length per cell".into());
        }
        let (mut total, mut second) = (0usize, 0usize);
        let mut bad = 0;
        for (i, (&tag, &len)) in self.tags.iter().zip(&self.lens).enumerate() {
            let cell = Cell::from_tag(tag).ok_or_else(|| format!("cell {i} has the unknown tag {tag}"))?;
            if cell == Cell::Bad {
                if i % self.width != 0 {
                    return Err(format!("cell {i}: only a row's first cell may mark the user bad"));
                }
                bad += 1;
            }
            if !cell.has_text() && len != 0 {
                return Err(format!("cell {i} has no text but a length of {len}"));
            }
            if len & Self::SECOND == 0 {
                total += len as usize;
            } else {
                second += (len & !Self::SECOND) as usize;
            }
        }
        if total != self.text.len() || second != self.second_text.len() {
            return Err(format!(
                "the cells' lengths add up to {total} and {second} bytes, the texts have {} and {}",
                self.text.len(),
                self.second_text.len()
            ));
        }
        if bad != self.bad.len() {
            return Err(format!("{bad} bad users but {} reasons", self.bad.len()));
        }
        if !encoded && (!is_utf8(&self.text) || !is_utf8(&self.second_text)) {
            return Err("the cells' text is not UTF-8".into());
        }
        Ok(())
    }
}

/// Whether `text` is UTF-8: simdutf8, as for every input line (sixteen bytes a step in wasm;
/// std's check goes a `usize` at a time, four bytes in wasm32).
fn is_utf8(text: &[u8]) -> bool {
    simdutf8::basic::from_utf8(text).is_ok()
}

/// Reading a checked batch user by user.
#[derive(Debug, Default)]
pub(crate) struct CellCursor {
    /// The next user.
    pub user: usize,
    /// Where that user's first text starts, in `text` and in `second_text`.
    pub text_at: usize,
    pub second_at: usize,
    /// The next entry of `bad`.
    pub bad_at: usize,
}

/// Writes (or filters, or reports) the next user of a checked batch and moves past it.
pub(crate) fn next_user(
    batch: &CellBatch,
    cursor: &mut CellCursor,
    base: u64,
    records: &mut Records,
    out: &mut Vec<u8>,
) -> Result<()> {
    let w = batch.width;
    let row = cursor.user;
    let tags = &batch.tags[row * w..(row + 1) * w];
    let lens = &batch.lens[row * w..(row + 1) * w];
    let (mut at, mut second_at) = (cursor.text_at, cursor.second_at);
    cursor.user += 1;
    for &len in lens {
        if len & CellBatch::SECOND == 0 {
            cursor.text_at += len as usize;
        } else {
            cursor.second_at += (len & !CellBatch::SECOND) as usize;
        }
    }
    records.stats.users_read += 1;
    let loc = Location::Index(base + row as u64);
    if tags[0] == Cell::Bad as u8 {
        let (code, message) = batch.bad[cursor.bad_at].clone();
        cursor.bad_at += 1;
        return records.bad_record(Error::new(code, message).at(loc, None));
    }
    let mut values: Vec<Option<Value<'_>>> = Vec::with_capacity(w);
    let mut fault = None;
    for (i, (&tag, &len)) in tags.iter().zip(lens).enumerate() {
        let raw = if len & CellBatch::SECOND == 0 {
            at += len as usize;
            &batch.text[at - len as usize..at]
        } else {
            let len = (len & !CellBatch::SECOND) as usize;
            second_at += len;
            &batch.second_text[second_at - len..second_at]
        };
        let value = match Cell::from_tag(tag).expect("a checked batch") {
            Cell::Absent | Cell::Bad => None,
            // The encoders copy a literal's text, as they would from JSON.
            Cell::Null => Some(Value { kind: Kind::Null, raw: b"null" }),
            Cell::False => Some(Value { kind: Kind::False, raw: b"false" }),
            Cell::True => Some(Value { kind: Kind::True, raw: b"true" }),
            Cell::Text => Some(Value { kind: Kind::Text, raw }),
            Cell::Number => Some(Value { kind: Kind::Number, raw }),
            Cell::Json => match json_value(raw, records) {
                Ok(v) => Some(v),
                Err(e) => {
                    fault.get_or_insert((i, e));
                    None
                }
            },
        };
        values.push(value);
    }
    if let Some((i, e)) = fault {
        let name = records.cell_name(i);
        let user_id = records.user_id_field().and_then(|f| match values[f] {
            Some(Value { kind: Kind::Text | Kind::Number, raw }) => String::from_utf8(raw.to_vec()).ok(),
            _ => None,
        });
        let e = Error::new(e.code(), format!("the field {name:?}: {}", e.message()));
        return records.bad_record(e.at(loc, user_id));
    }
    let query_values = values.split_off(values.len() - records.query_paths());
    let connection = if records.filters_connection() { values.pop().flatten() } else { None };
    records.clear_query();
    for (path, value) in query_values.into_iter().enumerate() {
        if let Some(v) = value {
            records.observe_cell(path, v);
        }
    }
    let holds = records.query_holds();
    records.at = Some(loc);
    records.write_values(&values, connection, holds, out);
    Ok(())
}

/// A cell's JSON text, checked as a record's bytes would be (depth, lone surrogates, syntax).
fn json_value<'a>(raw: &'a [u8], records: &mut Records) -> Result<Value<'a>> {
    let kind = match records.scan_bare(raw) {
        Scan::Ok(end) if end == raw.len() => match raw[0] {
            b'{' => Kind::Object,
            b'[' => Kind::Array,
            b'"' => {
                let inner = &raw[1..raw.len() - 1];
                return Ok(Value { kind: Kind::String { escaped: inner.contains(&b'\\') }, raw: inner });
            }
            b'n' => Kind::Null,
            b't' => Kind::True,
            b'f' => Kind::False,
            _ => Kind::Number,
        },
        Scan::Ok(end) => {
            return Err(Error::new(
                ErrorCode::InvalidJson,
                format!("unexpected text after the value (byte {end})"),
            ))
        }
        Scan::Bad(f, _) | Scan::Broken(f) => return Err(Error::new(f.code, f.message)),
    };
    Ok(Value { kind, raw })
}

/// Turns the UTF-16 lengths of the text cells into UTF-8 byte lengths, walking `text` once: the
/// cells of `text`, or with `second` those marked [`CellBatch::SECOND`], of `second_text` (only
/// for batches with non-ASCII text: for ASCII the two are the same). The walk goes eight bytes a
/// step while the cell goes on past the word: a word's UTF-16 units are its bytes that start a
/// character (not `10xxxxxx`) plus one for each 4-byte lead (a surrogate pair); the cell's last
/// word is walked byte by byte.
// Only the wasm door hands over UTF-16 lengths; it lives here to be tested natively.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn utf16_lengths_to_utf8(lens: &mut [u32], text: &[u8], second: bool) {
    const HI: u64 = 0x8080_8080_8080_8080;
    let mark = if second { CellBatch::SECOND } else { 0 };
    let mut at = 0usize;
    for len in lens.iter_mut().filter(|l| **l & CellBatch::SECOND == mark && **l & !CellBatch::SECOND > 0) {
        let start = at;
        let mut units = (*len & !CellBatch::SECOND) as usize;
        while at + 8 <= text.len() {
            let w = u64::from_le_bytes(text[at..at + 8].try_into().expect("8 bytes"));
            let n = if w & HI == 0 {
                8
            } else {
                // `w << k` brings bit 7 - k of each byte to its bit 7.
                let continuation = w & !(w << 1) & HI;
                let four = w & (w << 1) & (w << 2) & (w << 3) & HI;
                8 - continuation.count_ones() as usize + four.count_ones() as usize
            };
            if n >= units {
                break;
            }
            units -= n;
            at += 8;
        }
        // A character's continuation bytes belong to the cell of its lead byte.
        while at < text.len() {
            let b = text[at];
            if b & 0xc0 != 0x80 {
                if units == 0 {
                    break;
                }
                units = units.saturating_sub(if b >= 0xf0 { 2 } else { 1 });
            }
            at += 1;
        }
        *len = (at - start) as u32 | mark;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(width: usize, tags: &[Cell], lens: &[u32], text: &str) -> CellBatch {
        CellBatch {
            width,
            tags: tags.iter().map(|&c| c as u8).collect(),
            lens: lens.to_vec(),
            text: text.as_bytes().to_vec(),
            second_text: Vec::new(),
            bad: Vec::new(),
        }
    }

    #[test]
    fn shape_checks() {
        assert!(batch(2, &[Cell::Text, Cell::Absent], &[1, 0], "a").check(false).is_ok());
        assert!(batch(2, &[Cell::Text], &[1], "a").check(false).is_err());
        assert!(batch(1, &[Cell::Text], &[2], "a").check(false).is_err());
        assert!(batch(1, &[Cell::Null], &[1], "a").check(false).is_err());
        assert!(batch(2, &[Cell::Absent, Cell::Bad], &[0, 0], "").check(false).is_err());
        assert!(batch(1, &[Cell::Bad], &[0], "").check(false).is_err());
        assert!(batch(1, &[Cell::Text], &[1], "\u{80}").check(false).is_err());
        let mut b = batch(1, &[Cell::Bad], &[0], "");
        b.bad.push((ErrorCode::UnsupportedValue, "x".into()));
        assert!(b.check(false).is_ok());
        assert_eq!(b.users(), 1);
    }

    #[test]
    fn utf8_checked_as_std_checks_it() {
        let pieces: [&[u8]; 12] = [
            b"abcdefgh",
            b"a",
            "é".as_bytes(),
            "😀".as_bytes(),
            b"\xff",
            b"\xc3",
            b"\x80",
            b"\xed\xa0\x80",
            "日本".as_bytes(),
            b"12345678",
            b"\xf0\x9f",
            b"",
        ];
        // Every sequence of three pieces, at every offset: boundaries fall inside and between words.
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for pad in 0..9 {
                        let text = [&b"x".repeat(pad)[..], a, b, c, a].concat();
                        assert_eq!(is_utf8(&text), std::str::from_utf8(&text).is_ok(), "{text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn utf16_lengths_become_utf8_lengths() {
        // Cells of every width, across and inside the eight-byte words, empty cells between.
        let cells = [
            "",
            "a",
            "abcdefgh",
            "abcdefghi",
            "é",
            "aé",
            "😀",
            "a😀b",
            "日本語のテキスト",
            "x",
            "",
            "1234567😀",
            "1234567é",
            "😀😀😀😀😀",
            "ascii only and long enough",
            "é",
            "ab\u{2028}cd",
        ];
        for skip in 0..cells.len() {
            let cells = &cells[skip..];
            let text: String = cells.concat();
            let mut lens: Vec<u32> = cells.iter().map(|c| c.encode_utf16().count() as u32).collect();
            utf16_lengths_to_utf8(&mut lens, text.as_bytes(), false);
            let want: Vec<u32> = cells.iter().map(|c| c.len() as u32).collect();
            assert_eq!(lens, want, "from cell {skip}");
            // The same cells marked second, every other one in `text` (left as they are).
            let first: String = cells.iter().step_by(2).copied().collect();
            let second: String = cells.iter().skip(1).step_by(2).copied().collect();
            let units = |c: &str| c.encode_utf16().count() as u32;
            let mut lens: Vec<u32> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| if i % 2 == 1 { units(c) | CellBatch::SECOND } else { units(c) })
                .collect();
            utf16_lengths_to_utf8(&mut lens, second.as_bytes(), true);
            utf16_lengths_to_utf8(&mut lens, first.as_bytes(), false);
            let want: Vec<u32> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| if i % 2 == 1 { c.len() as u32 | CellBatch::SECOND } else { c.len() as u32 })
                .collect();
            assert_eq!(lens, want, "two texts, from cell {skip}");
        }
    }
}
