//! The term predicates of a query: exact values, `*` patterns, ranges, `_exists_`, on one JSON value.

use std::cmp::Ordering;

/// One value as the terms see it: strings decoded (and case-folded on normalized fields), as
/// UTF-8 bytes (the scanner has validated them; nothing here needs `str`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum TermTest<'a> {
    Str(&'a [u8]),
    Num(&'a [u8]),
    Bool(bool),
    Object { empty: bool },
}

/// What a term asks of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Term {
    /// `_exists_:path`: some non-null value (a non-empty object counts).
    Exists,
    /// `path:word` or `path:"phrase"`: the whole value equals it.
    Equals(Literal),
    /// `path:jo*n`: a string value matching the pattern; `parts` are the texts between `*`s.
    Pattern { parts: Vec<String>, anchored_start: bool, anchored_end: bool },
    /// `path:[a TO b}` and friends.
    Range { kind: RangeKind, low: Bound, high: Bound },
}

/// A term's text and the readings it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Literal {
    /// The text (already case-folded on normalized fields).
    pub text: String,
    /// When the text is a JSON number: it equals number values numerically.
    pub number: bool,
    /// `true` / `false`: it equals that boolean.
    pub boolean: Option<bool>,
    /// On a date field, when the text is a date: the span of instants it names.
    pub date: Option<Span>,
}

/// How a range compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeKind {
    /// Bounds are numbers: number values compare by value.
    Number,
    /// A date field and date bounds: string values that are dates compare as instants.
    Date,
    /// Anything else: string values compare by their UTF-8 bytes.
    Text,
}

/// One end of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bound {
    /// `*`.
    Open,
    Inclusive(BoundValue),
    Exclusive(BoundValue),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BoundValue {
    Number(String),
    Date(Span),
    Text(String),
}

/// Instants in nanoseconds since 1970-01-01T00:00:00Z, first and last of what a date names
/// (`2017-12` is every instant of December 2017).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub first: i128,
    pub last: i128,
}

impl Term {
    pub fn holds(&self, v: &TermTest<'_>) -> bool {
        match self {
            Term::Exists => !matches!(v, TermTest::Object { empty: true }),
            Term::Equals(lit) => match *v {
                TermTest::Str(s) => match lit.date {
                    Some(span) => match parse_date(s) {
                        Some(at) => span.first <= at.first && at.first <= span.last,
                        None => s == lit.text.as_bytes(),
                    },
                    None => s == lit.text.as_bytes(),
                },
                TermTest::Num(raw) => {
                    lit.number && compare_numbers(raw, lit.text.as_bytes()) == Ordering::Equal
                }
                TermTest::Bool(b) => lit.boolean == Some(b),
                TermTest::Object { .. } => false,
            },
            Term::Pattern { parts, anchored_start, anchored_end } => match *v {
                TermTest::Str(s) => wildcard_match(parts, *anchored_start, *anchored_end, s),
                _ => false,
            },
            Term::Range { kind, low, high } => {
                let within =
                    |cmp_low: &dyn Fn(&BoundValue) -> Option<Ordering>,
                     cmp_high: &dyn Fn(&BoundValue) -> Option<Ordering>| {
                        let low_ok = match low {
                            Bound::Open => true,
                            Bound::Inclusive(b) => cmp_low(b).is_some_and(|o| o != Ordering::Less),
                            Bound::Exclusive(b) => cmp_low(b) == Some(Ordering::Greater),
                        };
                        let high_ok = match high {
                            Bound::Open => true,
                            Bound::Inclusive(b) => cmp_high(b).is_some_and(|o| o != Ordering::Greater),
                            Bound::Exclusive(b) => cmp_high(b) == Some(Ordering::Less),
                        };
                        low_ok && high_ok
                    };
                match (kind, *v) {
                    (RangeKind::Number, TermTest::Num(raw)) => {
                        let cmp = |b: &BoundValue| match b {
                            BoundValue::Number(n) => Some(compare_numbers(raw, n.as_bytes())),
                            _ => None,
                        };
                        within(&cmp, &cmp)
                    }
                    (RangeKind::Date, TermTest::Str(s)) => {
                        let Some(at) = parse_date(s) else { return false };
                        // A date bound names a span: `>= 2017-12` starts at its first instant,
                        // `> 2017-11` and `<= 2017-12` go by its last, `< 2018` by its first.
                        let low_cmp = |b: &BoundValue| match b {
                            BoundValue::Date(span) => Some(match low {
                                Bound::Exclusive(_) => at.first.cmp(&span.last),
                                _ => at.first.cmp(&span.first),
                            }),
                            _ => None,
                        };
                        let high_cmp = |b: &BoundValue| match b {
                            BoundValue::Date(span) => Some(match high {
                                Bound::Inclusive(_) => at.first.cmp(&span.last),
                                _ => at.first.cmp(&span.first),
                            }),
                            _ => None,
                        };
                        within(&low_cmp, &high_cmp)
                    }
                    (RangeKind::Text, TermTest::Str(s)) => {
                        let cmp = |b: &BoundValue| match b {
                            BoundValue::Text(t) => Some(s.cmp(t.as_bytes())),
                            _ => None,
                        };
                        within(&cmp, &cmp)
                    }
                    _ => false,
                }
            }
        }
    }
}

/// `*`-pattern match: `parts` are the literal texts between stars, in order.
pub(crate) fn wildcard_match(parts: &[String], anchored_start: bool, anchored_end: bool, s: &[u8]) -> bool {
    let mut rest = s;
    let n = parts.len();
    for (i, part) in parts.iter().enumerate() {
        let p = part.as_bytes();
        let first = i == 0;
        let last = i + 1 == n;
        if first && anchored_start {
            if !rest.starts_with(p) {
                return false;
            }
            if last && anchored_end {
                return rest.len() == p.len();
            }
            rest = &rest[p.len()..];
        } else if last && anchored_end {
            // The last part must end the value; the earlier parts took the leftmost places,
            // so it only has to fit in what is left.
            return rest.ends_with(p);
        } else {
            match find(rest, p) {
                Some(at) => rest = &rest[at + p.len()..],
                None => return false,
            }
        }
    }
    true
}

/// The first place `needle` occurs in `hay`: candidates by their first byte, then compared
/// (a compare at every offset was a library call per byte of every value).
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else { return Some(0) };
    let last = hay.len().checked_sub(needle.len())?;
    let mut i = 0;
    while i <= last {
        i += hay[i..=last].iter().position(|&b| b == first)?;
        // Needles are a few bytes: a loop, not a library call per candidate.
        if hay[i + 1..i + needle.len()].iter().zip(rest).all(|(a, b)| a == b) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Writes the lower-case form of the UTF-8 text `s` (Unicode's full mapping) into a cleared
/// `out`; false if `s` is not UTF-8.
///
/// Folding runs on every value of a normalized field, so the common characters skip Unicode's
/// tables: ASCII, Latin-1, and the caseless CJK, kana and Hangul blocks (checked against the
/// tables in the tests). Without that, folding e-mail addresses was a third of a query's cost.
pub(crate) fn fold_into(s: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut i = 0;
    let mut buf = [0u8; 4];
    while i < s.len() {
        // A run of ASCII is copied and lower-cased as one slice, not byte by byte.
        let run = s[i..].iter().position(|&b| b >= 0x80).unwrap_or(s.len() - i);
        if run > 0 {
            let from = out.len();
            out.extend_from_slice(&s[i..i + run]);
            out[from..].make_ascii_lowercase();
            i += run;
            continue;
        }
        let Some((c, len)) = decode_utf8(&s[i..]) else { return false };
        match lower_fast(c) {
            Some(l) => out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes()),
            None => {
                for l in c.to_lowercase() {
                    out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        i += len;
    }
    true
}

/// The non-ASCII character at the start of `s` and its length in bytes, if `s` starts with
/// well-formed UTF-8 (no overlong form, no surrogate, nothing past U+10FFFF).
#[inline]
fn decode_utf8(s: &[u8]) -> Option<(char, usize)> {
    let cont = |i: usize| s.get(i).copied().filter(|b| b & 0xC0 == 0x80).map(|b| (b & 0x3F) as u32);
    let b0 = *s.first()? as u32;
    let (code, len) = match b0 {
        0xC2..=0xDF => ((b0 & 0x1F) << 6 | cont(1)?, 2),
        0xE0..=0xEF => {
            let b1 = cont(1)?;
            if (b0 == 0xE0 && b1 < 0x20) || (b0 == 0xED && b1 >= 0x20) {
                return None;
            }
            ((b0 & 0x0F) << 12 | b1 << 6 | cont(2)?, 3)
        }
        0xF0..=0xF4 => {
            let b1 = cont(1)?;
            if (b0 == 0xF0 && b1 < 0x10) || (b0 == 0xF4 && b1 >= 0x10) {
                return None;
            }
            ((b0 & 0x07) << 18 | b1 << 12 | cont(2)? << 6 | cont(3)?, 4)
        }
        _ => return None,
    };
    Some((char::from_u32(code)?, len))
}

/// The lower case of `c` where it is known without Unicode's tables: Latin-1, Latin
/// Extended-A and Extended Additional (their upper / lower pairs), and the caseless blocks
/// from Hebrew to Tibetan, CJK, kana and Hangul.
#[inline]
fn lower_fast(c: char) -> Option<char> {
    let u = c as u32;
    let next = || char::from_u32(u + 1);
    match u {
        0xC0..=0xD6 | 0xD8..=0xDE => char::from_u32(u + 0x20),
        0x80..=0xBF | 0xD7 | 0xDF..=0xFF | 0x590..=0xFFF | 0x3000..=0x9FFF | 0xAC00..=0xD7FF => Some(c),
        0x1E00..=0x1E95 | 0x1EA0..=0x1EFF => {
            if u % 2 == 0 {
                next()
            } else {
                Some(c)
            }
        }
        0x1E96..=0x1E9D | 0x1E9F => Some(c),
        0x130 => None,
        0x100..=0x137 | 0x14A..=0x177 => {
            if u % 2 == 0 {
                next()
            } else {
                Some(c)
            }
        }
        0x139..=0x148 | 0x179..=0x17E => {
            if u % 2 == 1 {
                next()
            } else {
                Some(c)
            }
        }
        0x178 => Some('\u{FF}'),
        0x138 | 0x149 | 0x17F => Some(c),
        _ => None,
    }
}

/// The lower-case form of `s`, as [`fold_into`] writes it.
pub(crate) fn fold(s: &str) -> String {
    let mut out = Vec::new();
    fold_into(s.as_bytes(), &mut out);
    String::from_utf8(out).expect("lower-case chars are UTF-8")
}

/// Whether folding can change what a term on `text` matches: it has a letter with case.
pub(crate) fn has_case(text: &str) -> bool {
    text.chars().any(|c| c.is_lowercase() || c.is_uppercase())
}

/// Decodes the text of a JSON string (between its quotes, escapes valid) into `out`.
/// A lone surrogate (which makes the record bad anyway) becomes U+FFFD.
pub(crate) fn decode_json_string(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    let hex = |at: usize| -> Option<u32> {
        let d = raw.get(at..at + 4)?;
        let mut v = 0;
        for &c in d {
            v = v * 16 + (c as char).to_digit(16)?;
        }
        Some(v)
    };
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&e) = raw.get(i + 1) else { break };
        i += 2;
        let c = match e {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = hex(i).unwrap_or(0xFFFD);
                i += 4;
                let code = if (0xD800..0xDC00).contains(&unit)
                    && raw.get(i) == Some(&b'\\')
                    && raw.get(i + 1) == Some(&b'u')
                {
                    match hex(i + 2) {
                        Some(low @ 0xDC00..=0xDFFF) => {
                            i += 6;
                            0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        }
                        _ => 0xFFFD,
                    }
                } else {
                    unit
                };
                char::from_u32(code).unwrap_or('\u{FFFD}')
            }
            other => other as char,
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

/// A JSON number's text split for exact comparison: sign, significant digits (no leading or
/// trailing zeros) and the power of ten of the first one.
struct Decimal<'a> {
    negative: bool,
    int: &'a [u8],
    frac: &'a [u8],
    /// Digits skipped at the start of `int ++ frac` (leading zeros).
    skip: usize,
    /// Digits kept (up to the last non-zero one).
    len: usize,
    /// The value is 0.d₁d₂… × 10^point.
    point: i64,
}

impl Decimal<'_> {
    fn digit(&self, i: usize) -> u8 {
        let j = self.skip + i;
        if j < self.int.len() {
            self.int[j]
        } else {
            self.frac[j - self.int.len()]
        }
    }
}

/// Whether `text` is a JSON number (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`).
pub(crate) fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |mut i: usize| {
        let from = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        (i, i - from)
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(i).0,
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        let (j, n) = digits(i + 1);
        if n == 0 {
            return false;
        }
        i = j;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let (j, n) = digits(i);
        if n == 0 {
            return false;
        }
        i = j;
    }
    i == b.len()
}

fn decimal(text: &[u8]) -> Decimal<'_> {
    let negative = text.first() == Some(&b'-');
    let body = if negative { &text[1..] } else { text };
    let mantissa_end = body.iter().position(|&c| c == b'e' || c == b'E').unwrap_or(body.len());
    let (mantissa, exp_text) = (&body[..mantissa_end], body.get(mantissa_end + 1..).unwrap_or(&[]));
    let (int, frac) = match mantissa.iter().position(|&c| c == b'.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, &[][..]),
    };
    // Saturating: 1e999999999999999999 compares as "very large", which is all it can mean.
    let mut exp: i64 = 0;
    let (exp_neg, exp_digits) = match exp_text.first() {
        Some(b'-') => (true, &exp_text[1..]),
        Some(b'+') => (false, &exp_text[1..]),
        _ => (false, exp_text),
    };
    for &d in exp_digits {
        exp = (exp * 10 + (d - b'0') as i64).min(1 << 40);
    }
    if exp_neg {
        exp = -exp;
    }
    let total = int.len() + frac.len();
    let at = |j: usize| if j < int.len() { int[j] } else { frac[j - int.len()] };
    let skip = (0..total).find(|&j| at(j) != b'0').unwrap_or(total);
    let end = (skip..total).rev().find(|&j| at(j) != b'0').map_or(skip, |j| j + 1);
    let point = int.len() as i64 - skip as i64 + exp;
    Decimal { negative, int, frac, skip, len: end - skip, point }
}

/// Compares two JSON number texts by value, exactly (no rounding to binary64).
pub(crate) fn compare_numbers(a: &[u8], b: &[u8]) -> Ordering {
    // Counts and most metadata numbers are plain non-negative integers, and JSON spells those
    // without leading zeros: the longer is the larger, and equal lengths compare as text.
    if a.iter().all(u8::is_ascii_digit) && b.iter().all(u8::is_ascii_digit) {
        return a.len().cmp(&b.len()).then_with(|| a.cmp(b));
    }
    let (x, y) = (decimal(a), decimal(b));
    let sign = |d: &Decimal<'_>| {
        if d.len == 0 {
            0
        } else if d.negative {
            -1
        } else {
            1
        }
    };
    let (sx, sy) = (sign(&x), sign(&y));
    if sx != sy || sx == 0 {
        return sx.cmp(&sy);
    }
    let magnitude = x.point.cmp(&y.point).then_with(|| {
        for i in 0..x.len.min(y.len) {
            match x.digit(i).cmp(&y.digit(i)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        x.len.cmp(&y.len)
    });
    if sx < 0 {
        magnitude.reverse()
    } else {
        magnitude
    }
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Reads an ISO 8601 date or timestamp, `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, then optionally
/// `THH:MM`, `:SS`, `.fraction` (1–9 digits) and `Z` or `±HH:MM`. The span runs from the first
/// to the last nanosecond the text names (a whole year for `2016`, one instant for a full stamp).
pub(crate) fn parse_date(b: &[u8]) -> Option<Span> {
    let num = |at: usize, n: usize| -> Option<i64> {
        let d = b.get(at..at + n)?;
        d.iter().all(u8::is_ascii_digit).then(|| d.iter().fold(0i64, |v, &c| v * 10 + (c - b'0') as i64))
    };
    let year = num(0, 4)?;
    let mut i = 4;
    let (mut month, mut day) = (1, 1);
    let (mut hour, mut minute, mut second, mut nanos) = (0i64, 0i64, 0i64, 0i128);
    // The size of the unit the text stops at, in nanoseconds (0 = a year or a month, by calendar).
    let mut unit: Option<i128> = None;
    let mut precision = 0; // 0 year, 1 month, 2 day, 3+ time
    if b.get(i) == Some(&b'-') {
        month = num(i + 1, 2).filter(|m| (1..=12).contains(m))?;
        i += 3;
        precision = 1;
        if b.get(i) == Some(&b'-') {
            day = num(i + 1, 2).filter(|&d| d >= 1 && d <= days_in_month(year, month))?;
            i += 3;
            precision = 2;
            unit = Some(86_400 * NANOS_PER_SECOND);
            if b.get(i) == Some(&b'T') {
                hour = num(i + 1, 2).filter(|h| *h < 24)?;
                if b.get(i + 3) != Some(&b':') {
                    return None;
                }
                minute = num(i + 4, 2).filter(|m| *m < 60)?;
                i += 6;
                unit = Some(60 * NANOS_PER_SECOND);
                if b.get(i) == Some(&b':') {
                    second = num(i + 1, 2).filter(|s| *s < 60)?;
                    i += 3;
                    unit = Some(NANOS_PER_SECOND);
                    if b.get(i) == Some(&b'.') {
                        let from = i + 1;
                        let mut j = from;
                        while j < b.len() && b[j].is_ascii_digit() {
                            j += 1;
                        }
                        let n = j - from;
                        if n == 0 || n > 9 {
                            return None;
                        }
                        let digits = num(from, n)? as i128;
                        nanos = digits * 10i128.pow(9 - n as u32);
                        unit = Some(10i128.pow(9 - n as u32));
                        i = j;
                    }
                }
                match b.get(i) {
                    Some(b'Z') => i += 1,
                    Some(&sign @ (b'+' | b'-')) => {
                        let oh = num(i + 1, 2).filter(|h| *h < 24)?;
                        if b.get(i + 3) != Some(&b':') {
                            return None;
                        }
                        let om = num(i + 4, 2).filter(|m| *m < 60)?;
                        let offset = (oh * 60 + om) * if sign == b'+' { 1 } else { -1 };
                        minute -= offset;
                        i += 6;
                    }
                    _ => {}
                }
            }
        }
    }
    if i != b.len() {
        return None;
    }
    let days = days_from_civil(year, month, day) as i128;
    let first = ((days * 86_400 + hour as i128 * 3600 + minute as i128 * 60 + second as i128)
        * NANOS_PER_SECOND)
        + nanos;
    let span_len = match (precision, unit) {
        (0, _) => {
            (days_from_civil(year + 1, 1, 1) - days_from_civil(year, 1, 1)) as i128
                * 86_400
                * NANOS_PER_SECOND
        }
        (1, _) => days_in_month(year, month) as i128 * 86_400 * NANOS_PER_SECOND,
        (_, Some(u)) => u,
        _ => unreachable!("a day or finer always sets its unit"),
    };
    Some(Span { first, last: first + span_len - 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_exactly() {
        let lt = |a: &str, b: &str| {
            assert_eq!(compare_numbers(a.as_bytes(), b.as_bytes()), Ordering::Less, "{a} < {b}");
            assert_eq!(compare_numbers(b.as_bytes(), a.as_bytes()), Ordering::Greater, "{b} > {a}");
        };
        let eq = |a: &str, b: &str| {
            assert_eq!(compare_numbers(a.as_bytes(), b.as_bytes()), Ordering::Equal, "{a} = {b}")
        };
        eq("100", "1e2");
        eq("100", "100.000");
        eq("0", "-0");
        eq("0.0", "0e5");
        eq("12.5", "1.25E1");
        eq("0.001", "1e-3");
        lt("99", "100");
        lt("-100", "-99");
        lt("-1", "0");
        lt("0", "0.0000001");
        lt("9007199254740992", "9007199254740993");
        lt("1.5", "1.55");
        lt("-1.55", "-1.5");
        lt("1e308", "1e999999999999999999999");
    }

    #[test]
    fn dates_name_spans() {
        let s = |t: &str| parse_date(t.as_bytes()).unwrap_or_else(|| panic!("{t}"));
        let at = |t: &str| s(t).first;
        assert_eq!(at("1970-01-01T00:00:00.000Z"), 0);
        assert_eq!(at("1970-01-01T00:00:01Z"), NANOS_PER_SECOND);
        assert_eq!(s("2016").first, at("2016-01-01T00:00:00Z"));
        assert_eq!(s("2016").last, at("2017-01-01T00:00:00Z") - 1);
        assert_eq!(s("2016-02").last, at("2016-03-01T00:00:00Z") - 1);
        assert_eq!(s("2017-12-31").last, at("2018-01-01T00:00:00Z") - 1);
        assert_eq!(s("2017-12-31T10:00").last, at("2017-12-31T10:01:00Z") - 1);
        assert_eq!(at("2017-12-31T10:00:00+02:00"), at("2017-12-31T08:00:00Z"));
        assert_eq!(s("2017-12-31T10:00:00.5Z").last, at("2017-12-31T10:00:00.6Z") - 1);
        for bad in
            ["", "17", "2017-13", "2017-02-29", "2017-1-01", "2017-01-01T25:00", "2017-01-01 10:00", "x2017"]
        {
            assert_eq!(parse_date(bad.as_bytes()), None, "{bad}");
        }
        assert!(parse_date(b"2016-02-29").is_some());
    }

    #[test]
    fn patterns_match_like_globs() {
        let parts = |p: &str| p.split('*').filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>();
        let m = |p: &str, s: &str| {
            wildcard_match(&parts(p), !p.starts_with('*'), !p.ends_with('*'), s.as_bytes())
        };
        assert!(m("john*", "johnny"));
        assert!(m("john*", "john"));
        assert!(!m("john*", "ajohn"));
        assert!(m("*john*", "ajohnb"));
        assert!(m("jane*smith", "jane smith"));
        assert!(m("jane*smith", "janesmith"));
        assert!(!m("jane*smith", "jane smithe"));
        assert!(m("*usa", "jusa"));
        assert!(!m("*usa", "usab"));
        assert!(m("a*a", "aa"));
        assert!(!m("a*a", "a"));
        assert!(m("ab*ab*ab", "abababab"));
        assert!(m("*é*", "café"));
    }

    #[test]
    fn fast_folding_agrees_with_unicode() {
        for code in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(code) else { continue };
            if let Some(l) = lower_fast(c) {
                assert_eq!(c.to_lowercase().collect::<String>(), l.to_string(), "U+{code:04X}");
            }
            let mut out = Vec::new();
            assert!(fold_into(c.to_string().as_bytes(), &mut out));
            assert_eq!(String::from_utf8(out).unwrap(), c.to_lowercase().collect::<String>(), "U+{code:04X}");
        }
        let mut out = Vec::new();
        for bad in [
            &b"a\xffb"[..],
            b"\xc3",
            b"\xc0\x80",
            b"\xe0\x80\x80",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            b"\xc3a",
        ] {
            assert!(!fold_into(bad, &mut out), "{bad:?}");
            assert!(std::str::from_utf8(bad).is_err());
        }
    }

    #[test]
    fn find_finds_the_first_place() {
        for (hay, needle, at) in [
            ("abcabc", "ca", Some(2)),
            ("aab", "ab", Some(1)),
            ("ab", "abc", None),
            ("", "", Some(0)),
            ("x", "x", Some(0)),
            ("xyz", "z", Some(2)),
            ("xyz", "q", None),
        ] {
            assert_eq!(find(hay.as_bytes(), needle.as_bytes()), at, "{hay} {needle}");
        }
    }

    #[test]
    fn strings_decode() {
        let d = |raw: &str| {
            let mut out = Vec::new();
            decode_json_string(raw.as_bytes(), &mut out);
            String::from_utf8(out).expect("utf-8")
        };
        assert_eq!(d(r#"a\"b\\c\/\n\u00e9\ud83d\ude00"#), "a\"b\\c/\né😀");
        assert_eq!(d(r"\ud83d"), "\u{FFFD}");
    }
}
