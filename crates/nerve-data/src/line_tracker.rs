//! [`LineTracker`]: the physical line of every record and the quotes that the `csv` crate
//! forgives.
//!
//! The `csv` crate counts `\n` bytes up to the end of the *previous* record, so a record after
//! a CRLF line, after blank lines, or in a file with bare-CR line endings is given the wrong
//! line; and it reads an unclosed quote as a field that runs to the end of the file. Both are
//! fixed by watching the bytes as the parser pulls them: this reader notes where each line
//! break is (`\n`, `\r\n` or a lone `\r`) and follows RFC 4180's quoting (a quote opens a field
//! only at its start; `""` inside is a quote; the closing quote must end the field).

use std::collections::VecDeque;
use std::io::Read;

/// What is wrong with the text, found while reading: quoting, NUL bytes, damaged UTF-16.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QuoteProblem {
    /// A NUL byte on `line` (binary data in a text file).
    Nul {
        /// Its line.
        line: u64,
    },
    /// UTF-16 text that did not decode (an unpaired surrogate) on `line`.
    Malformed {
        /// Its line.
        line: u64,
    },
    /// The file ended inside a quoted field opened on `line`.
    Unclosed {
        /// The line the quoted field opened on.
        line: u64,
    },
    /// Text followed the closing quote of a field opened on `opened` (on line `line`).
    TextAfterQuote {
        /// The line the quoted field opened on.
        opened: u64,
        /// The line of the closing quote.
        line: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: `""` (a literal quote) or the closing quote.
    QuoteInQuoted,
    /// After a closing quote: only spaces may follow before the delimiter or line end.
    AfterQuote,
}

/// A reader that passes bytes through unchanged while noting line breaks and quoting.
#[derive(Debug)]
pub(crate) struct LineTracker<R> {
    inner: R,
    delimiter: u8,
    /// Bytes seen so far.
    offset: u64,
    /// Line breaks not yet passed by a query: (first byte, length).
    breaks: VecDeque<(u64, u8)>,
    /// Line breaks passed by queries.
    lines_before: u64,
    /// Where the last query's record started (queries move forward only).
    cursor: u64,
    /// The last byte seen was a `\r` at this offset (its line break is noted once the next byte
    /// shows whether a `\n` follows).
    pending_cr: Option<u64>,
    state: State,
    /// The line of the quote that opened the current quoted field.
    quote_line: u64,
    /// Physical lines seen so far (1-based line of the current byte).
    line: u64,
    problem: Option<QuoteProblem>,
    at_eof: bool,
    /// The text was transcoded from UTF-16, so a U+FFFD marks a sequence that did not decode.
    transcoded: bool,
}

impl<R: Read> LineTracker<R> {
    pub(crate) fn new(inner: R, delimiter: u8, transcoded: bool) -> Self {
        Self {
            inner,
            delimiter,
            offset: 0,
            breaks: VecDeque::new(),
            lines_before: 0,
            cursor: 0,
            pending_cr: None,
            state: State::FieldStart,
            quote_line: 0,
            line: 1,
            problem: None,
            at_eof: false,
            transcoded,
        }
    }

    fn note_problem(&mut self, problem: QuoteProblem) {
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
    }

    /// The 1-based physical line of a record that the `csv` crate says starts at byte `start`
    /// (which may be just after a `\r`, or before blank lines that the parser skips). Queries
    /// must come in record order.
    pub(crate) fn line_of_record(&mut self, start: u64) -> u64 {
        let start = start.max(self.cursor);
        // Every line break that starts before the record ends a line above it.
        let mut cursor = start;
        while let Some(&(at, len)) = self.breaks.front() {
            if at < start {
                cursor = cursor.max(at + u64::from(len));
            } else if at == cursor {
                // A break right where the record starts: the record is on the next line
                // (blank lines the parser skipped, or the `\n` of a CRLF).
                cursor = at + u64::from(len);
            } else {
                break;
            }
            self.breaks.pop_front();
            self.lines_before += 1;
        }
        self.cursor = cursor;
        // A `\r` that is the last byte seen ends the line above a record after it, whether or
        // not a `\n` follows; it is noted (and counted for good) once the next byte is seen.
        let pending = self.pending_cr.is_some_and(|at| at < start);
        self.lines_before + 1 + u64::from(pending)
    }

    /// The quoting problem found so far. An unclosed quote is known only once the whole file
    /// has been read.
    pub(crate) fn problem(&self) -> Option<&QuoteProblem> {
        self.problem.as_ref()
    }

    fn note_break(&mut self, at: u64, len: u8) {
        self.breaks.push_back((at, len));
        self.line += 1;
    }

    fn scan(&mut self, bytes: &[u8]) {
        if self.transcoded
            && let Some(at) = memchr::memmem::find(bytes, "\u{FFFD}".as_bytes())
        {
            let line = self.line + memchr::memchr_iter(b'\n', &bytes[..at]).count() as u64;
            self.note_problem(QuoteProblem::Malformed { line });
        }
        // Fast path, the common case of unquoted LF text: outside quotes, with no quote and no
        // CR in sight, only the line feeds matter, and the state after the chunk follows from
        // its last byte.
        if self.pending_cr.is_none()
            && matches!(self.state, State::FieldStart | State::Unquoted)
            && memchr::memchr2(b'"', b'\r', bytes).is_none()
        {
            if let Some(at) = memchr::memchr(0, bytes) {
                let line = self.line + memchr::memchr_iter(b'\n', &bytes[..at]).count() as u64;
                self.note_problem(QuoteProblem::Nul { line });
            }
            for i in memchr::memchr_iter(b'\n', bytes) {
                self.note_break(self.offset + i as u64, 1);
            }
            if let Some(&last) = bytes.last() {
                self.state = if last == b'\n' || last == self.delimiter {
                    State::FieldStart
                } else {
                    State::Unquoted
                };
            }
            self.offset += bytes.len() as u64;
            return;
        }
        for (i, &byte) in bytes.iter().enumerate() {
            let at = self.offset + i as u64;
            if let Some(cr) = self.pending_cr.take() {
                if byte == b'\n' {
                    self.note_break(cr, 2);
                    continue;
                }
                self.note_break(cr, 1);
            }
            let newline = match byte {
                0 => {
                    let line = self.line;
                    self.note_problem(QuoteProblem::Nul { line });
                    false
                }
                b'\n' => {
                    self.note_break(at, 1);
                    true
                }
                b'\r' => {
                    self.pending_cr = Some(at);
                    true
                }
                _ => false,
            };
            self.state = match (self.state, byte) {
                (State::FieldStart, b'"') => {
                    self.quote_line = self.line;
                    State::Quoted
                }
                (State::Quoted, b'"') => State::QuoteInQuoted,
                (State::Quoted, _) => State::Quoted,
                (State::QuoteInQuoted, b'"') => State::Quoted,
                (State::QuoteInQuoted | State::AfterQuote, b' ' | b'\t')
                    if byte != self.delimiter =>
                {
                    State::AfterQuote
                }
                (_, b) if b == self.delimiter => State::FieldStart,
                (_, _) if newline => State::FieldStart,
                (State::QuoteInQuoted | State::AfterQuote, _) => {
                    if self.problem.is_none() {
                        self.problem = Some(QuoteProblem::TextAfterQuote {
                            opened: self.quote_line,
                            line: self.line,
                        });
                    }
                    State::Unquoted
                }
                (State::FieldStart | State::Unquoted, _) => State::Unquoted,
            };
        }
        self.offset += bytes.len() as u64;
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if !buf.is_empty() && !self.at_eof {
                self.at_eof = true;
                if let Some(cr) = self.pending_cr.take() {
                    self.note_break(cr, 1);
                }
                if self.state == State::Quoted && self.problem.is_none() {
                    self.problem = Some(QuoteProblem::Unclosed {
                        line: self.quote_line,
                    });
                }
            }
        } else {
            self.scan(&buf[..n]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of each record as the tracker gives it, reading `text` with the `csv` crate.
    fn record_lines(text: &str) -> (Vec<u64>, Option<QuoteProblem>) {
        let tracker = LineTracker::new(text.as_bytes(), b',', false);
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(tracker);
        let mut record = csv::ByteRecord::new();
        let mut lines = Vec::new();
        while csv.read_byte_record(&mut record).expect("readable") {
            let start = record.position().map_or(0, |p| p.byte());
            lines.push(csv.get_mut().line_of_record(start));
        }
        (lines, csv.get_ref().problem().cloned())
    }

    #[test]
    fn lines_for_every_line_ending() {
        assert_eq!(record_lines("a\n1\n2\n").0, [1, 2, 3]);
        assert_eq!(record_lines("a\r\n1\r\n2\r\n").0, [1, 2, 3]);
        assert_eq!(record_lines("a\r1\r2\r").0, [1, 2, 3]);
        assert_eq!(record_lines("a\r1\r2").0, [1, 2, 3]);
        assert_eq!(record_lines("a\n\n\n1\r\n\r\n2\n").0, [1, 4, 6]);
        // A quoted field over three lines: the next record is on line 5.
        assert_eq!(
            record_lines("a,b\r\n\"x\r\ny\r\nz\",1\r\n2,3\r\n").0,
            [1, 2, 5]
        );
    }

    #[test]
    fn unclosed_and_misplaced_quotes() {
        let text = "a,b,kind\n2.5,5.6,short\n2.1,5.0,\"short\n6.2,0.6,long\n1.9,5.2,short\n";
        assert_eq!(
            record_lines(text).1,
            Some(QuoteProblem::Unclosed { line: 3 })
        );
        let text = "a,b,kind\n2.1,5.0,\"short\n6.2,0.6,\"long\"\n1.9,5.2,short\n";
        assert_eq!(
            record_lines(text).1,
            Some(QuoteProblem::TextAfterQuote { opened: 2, line: 3 })
        );
        // Quotes inside an unquoted field, doubled quotes, spaces after a closing quote: fine.
        for text in [
            "a,b\n5'10\",x\n",
            "a\n\"say \"\"hi\"\"\"\n",
            "a,b\n\"x\" ,y\n",
            "a\n\"multi\nline\"\n",
        ] {
            assert_eq!(record_lines(text).1, None, "{text:?}");
        }
    }
}
