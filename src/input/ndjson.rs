//! NDJSON line splitting: bytes pushed in chunks that end anywhere, lines out, with the record cap.
//!
//! Input is kept until a pull needs it, and a line longer than the cap is kept only up to the
//! cap, so memory is one pushed chunk plus one line whatever the stream holds.

use std::collections::VecDeque;

use super::{first_bad_utf8, BOM};
use crate::bytes::find_byte;
use crate::error::{Error, ErrorCode, Location, Result};
use crate::record::{too_large, Records};
use crate::scan::skip_ws;

/// The NDJSON stream read so far.
#[derive(Default)]
pub(crate) struct Lines {
    buf: Vec<u8>,
    /// Start of the unread part of `buf`.
    pos: usize,
    /// Where the search for the next `\n` resumes (no `\n` in `pos..scan_from`).
    scan_from: usize,
    /// Physical lines completed so far.
    line: u64,
    /// The stream start (and its BOM) has been dealt with.
    started: bool,
    /// Start of the unfinished last line in `buf`.
    tail_start: usize,
    /// The unfinished last line broke the record cap: drop pushed bytes until its `\n`.
    discarding: bool,
    /// That line's error is already reported (a strict export fails without waiting for its end).
    overlong_reported: bool,
    /// Bytes drained from the front of `buf` so far: `buf[i]` is byte `drained + i` of what
    /// was kept, which is the input less the dropped parts of over-long lines.
    drained: u64,
    /// Dropped parts of over-long lines not yet read past: (kept bytes before them, length).
    gaps: VecDeque<(u64, u64)>,
    /// Dropped bytes already read past.
    gaps_passed: u64,
}

impl Lines {
    /// A stream whose first byte starts physical line `first_line` (1: the start of a stream,
    /// where a BOM may stand; above 1: a shard starting at a line boundary, where it may not).
    pub fn starting_at(first_line: u64) -> Lines {
        let first_line = first_line.max(1);
        Lines { line: first_line - 1, started: first_line > 1, ..Lines::default() }
    }

    /// Takes a chunk; it may end anywhere (inside a line, a UTF-8 sequence, a CRLF).
    pub fn push(&mut self, chunk: &[u8], max_record_bytes: usize) {
        let mut chunk = chunk;
        if self.discarding {
            // Only the end of the over-long line matters; keep nothing else of it.
            let Some(i) = find_byte(chunk, b'\n') else {
                self.dropped(chunk.len());
                return;
            };
            self.dropped(i);
            self.discarding = false;
            chunk = &chunk[i..];
        }
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            self.tail_start = self.buf.len() + i + 1;
        }
        self.buf.extend_from_slice(chunk);
        // A line past the cap is kept only up to cap + 2 bytes: enough to fail it even after a
        // trailing CR is stripped, never more. Before the stream has started, the first line
        // may still begin with the BOM, which is skipped later and must not use up the budget
        // (else the kept prefix could fit the cap and be parsed as a record).
        let head = &self.buf[..self.buf.len().min(BOM.len())];
        let bom = if !self.started && self.tail_start == 0 && BOM.starts_with(head) { BOM.len() } else { 0 };
        let keep = max_record_bytes.saturating_add(2 + bom);
        if self.buf.len() - self.tail_start >= keep {
            let len = self.buf.len();
            self.buf.truncate(self.tail_start.saturating_add(keep));
            self.dropped(len - self.buf.len());
            self.discarding = true;
        }
    }

    /// Notes `n` input bytes dropped right after what `buf` holds now.
    fn dropped(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let at = self.drained + self.buf.len() as u64;
        match self.gaps.back_mut() {
            Some((last, len)) if *last == at => *len += n as u64,
            _ => self.gaps.push_back((at, n as u64)),
        }
    }

    /// Input bytes up to the end of the last line read (its `\n` included), counting the
    /// dropped parts of over-long lines.
    pub fn consumed(&self) -> u64 {
        let here = self.drained + self.pos as u64;
        let gaps: u64 = self.gaps.iter().filter(|(at, _)| *at <= here).map(|(_, len)| len).sum();
        here + self.gaps_passed + gaps
    }

    /// Unread bytes held.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Every byte pushed so far has been read.
    pub fn exhausted(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// Hands lines to `records` until `want` bytes wait in `out`, the input runs out, or the
    /// limit is reached. With `finished`, a last line without `\n` is a line too.
    pub fn fill(
        &mut self,
        records: &mut Records,
        out: &mut Vec<u8>,
        want: usize,
        finished: bool,
    ) -> Result<()> {
        while out.len() < want && !records.limit_reached {
            if !self.started {
                let head = &self.buf[self.pos..];
                if head.len() < BOM.len() && BOM.starts_with(head) && !finished {
                    return Ok(()); // might still become a BOM
                }
                if head.starts_with(BOM) {
                    self.pos += BOM.len();
                }
                self.started = true;
                self.scan_from = self.pos;
            }
            match find_byte(&self.buf[self.scan_from..], b'\n') {
                Some(i) => {
                    let nl = self.scan_from + i;
                    self.line += 1;
                    records.stats.lines = self.line;
                    let start = self.pos;
                    self.pos = nl + 1;
                    self.scan_from = self.pos;
                    if !std::mem::take(&mut self.overlong_reported) {
                        line(records, out, &self.buf[start..nl], self.line)?;
                    }
                }
                None => {
                    if self.discarding && !self.overlong_reported {
                        self.overlong_reported = true;
                        let e = too_large(records.max_record_bytes).at(Location::Line(self.line + 1), None);
                        records.stats.users_read += 1;
                        records.bad_record(e)?;
                    }
                    if finished && self.pos < self.buf.len() {
                        self.line += 1;
                        records.stats.lines = self.line;
                        let start = self.pos;
                        self.pos = self.buf.len();
                        if !std::mem::take(&mut self.overlong_reported) {
                            line(records, out, &self.buf[start..], self.line)?;
                        }
                    }
                    // Keep only the unfinished line.
                    self.buf.drain(..self.pos);
                    self.drained += self.pos as u64;
                    while let Some(&(at, len)) = self.gaps.front() {
                        if at > self.drained {
                            break;
                        }
                        self.gaps_passed += len;
                        self.gaps.pop_front();
                    }
                    self.tail_start -= self.pos.min(self.tail_start);
                    self.pos = 0;
                    self.scan_from = self.buf.len();
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// One physical line (without its `\n`), numbered `number`.
fn line(records: &mut Records, out: &mut Vec<u8>, line: &[u8], number: u64) -> Result<()> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let loc = Location::Line(number);
    // The cap first, blank lines included: a streamed line is measured before its
    // content is seen, so any other order would make the outcome depend on chunking.
    if line.len() > records.max_record_bytes {
        records.stats.users_read += 1;
        return records.bad_record(too_large(records.max_record_bytes).at(loc, None));
    }
    let start = skip_ws(line, 0);
    if start == line.len() {
        return Ok(()); // blank lines are skipped (and still counted)
    }
    if line.starts_with(BOM) {
        records.stats.users_read += 1;
        let e = Error::new(
            ErrorCode::InvalidJson,
            "a byte order mark (U+FEFF) starts this line; it is only allowed at the start of the stream",
        );
        return records.bad_record(e.at(loc, None));
    }
    let bad_utf8 = first_bad_utf8(line, 0);
    records.at = Some(loc);
    match records.record(line, start, bad_utf8, true, out) {
        Ok(_) => Ok(()),
        Err(bad) => records.bad_record(bad.error.at(loc, bad.user_id)),
    }
}
