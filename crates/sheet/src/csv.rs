//! Streaming CSV reading: encoding and delimiter sniffing, then a small RFC 4180 parser that is
//! lenient where Excel is and keeps memory bounded by `max_columns` × `max_cell_chars`.

use std::io::{self, Read};

use encoding_rs::{CoderResult, Decoder, Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE};

use crate::{Cell, Limits, Record, SheetError};

/// How much of the file decides the encoding and the delimiter, and the read chunk size.
const SNIFF: usize = 64 * 1024;

pub(crate) struct CsvReader {
    src: Decoded,
    encoding: &'static str,
    total: u64,
    parser: Parser,
    /// Excel row of the last record read; blank lines count, quoted newlines do not.
    row: u32,
    /// Physical line where the next record starts, for error messages.
    line: u64,
    done: bool,
}

impl CsvReader {
    pub(crate) fn new(mut input: Box<dyn Read + Send>, total: u64, limits: &Limits) -> Result<CsvReader, SheetError> {
        // Small inputs get small buffers (the fuzzer runs thousands a second).
        let mut raw = vec![0u8; SNIFF.min(usize::try_from(total).unwrap_or(SNIFF).max(1))];
        let (mut len, mut eof) = (0, false);
        while len < raw.len() {
            match input.read(&mut raw[len..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        let head = &raw[..len];
        let (encoding, bom, label) = sniff_encoding(head);
        let (text, _) = encoding.decode_without_bom_handling(&head[bom..]);
        let delimiter = sniff_delimiter(&text);
        // Room for the usual expansion (GBK 2 bytes to UTF-8 3); fill() loops when it is short.
        let out = vec![0u8; raw.len() * 2 + 16];
        let src = Decoded {
            input,
            decoder: encoding.new_decoder_without_bom_handling(),
            raw,
            raw_pos: bom,
            raw_len: len,
            raw_eof: eof,
            finished: false,
            out,
            out_pos: 0,
            out_len: 0,
            consumed: len as u64,
        };
        Ok(CsvReader { src, encoding: label, total, parser: Parser::new(delimiter, limits), row: 0, line: 1, done: false })
    }

    pub(crate) fn encoding(&self) -> &'static str {
        self.encoding
    }

    pub(crate) fn progress(&self) -> (u64, u64) {
        if self.done { (self.total, self.total) } else { (self.src.consumed.min(self.total), self.total) }
    }

    pub(crate) fn truncated_cells(&self) -> u64 {
        self.parser.truncated
    }

    pub(crate) fn next(&mut self) -> Option<Result<Record, SheetError>> {
        while !self.done {
            match self.read_record() {
                Ok(true) => {
                    let mut cells = std::mem::take(&mut self.parser.cells);
                    if crate::trim_row(&mut cells) {
                        return Some(Ok(Record { row: self.row, cells }));
                    }
                }
                Ok(false) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }

    /// Parses one record into `parser.cells`; false at end of input.
    fn read_record(&mut self) -> Result<bool, SheetError> {
        let start_line = self.line;
        self.parser.start_record();
        loop {
            let chunk = self.src.fill()?;
            if chunk.is_empty() {
                if self.parser.state == State::Quoted {
                    return Err(SheetError::Malformed {
                        row: Some(self.row.saturating_add(1)),
                        detail: format!("the record starting on line {start_line} has a quoted field that is never closed"),
                    });
                }
                if !self.parser.started {
                    return Ok(false);
                }
                self.parser.end_field();
                self.row = self.row.saturating_add(1);
                return Ok(true);
            }
            let (used, ended) = self.parser.feed(chunk, &mut self.line);
            self.src.consume(used);
            if ended {
                self.row = self.row.saturating_add(1);
                return Ok(true);
            }
        }
    }
}

/// Picks the encoding: a BOM wins; then UTF-8 if the head is valid UTF-8 (a char cut by the end of
/// the window still counts); otherwise GB18030, the superset of GBK that Chinese Excel writes.
fn sniff_encoding(head: &[u8]) -> (&'static Encoding, usize, &'static str) {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return (UTF_8, 3, "UTF-8 BOM");
    }
    if head.starts_with(b"\xFF\xFE") {
        return (UTF_16LE, 2, "UTF-16LE");
    }
    if head.starts_with(b"\xFE\xFF") {
        return (UTF_16BE, 2, "UTF-16BE");
    }
    match std::str::from_utf8(head) {
        Ok(_) => (UTF_8, 0, "UTF-8"),
        Err(e) if e.error_len().is_none() => (UTF_8, 0, "UTF-8"),
        Err(_) => (GB18030, 0, "GB18030"),
    }
}

/// The most frequent of comma, tab and semicolon outside quotes on the first line (ties and no
/// delimiter at all mean comma).
fn sniff_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\r' | b'\n' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b'\t' if !quoted => counts[1] += 1,
            b';' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    [b',', b'\t', b';'][best]
}

/// The input decoded to UTF-8 chunk by chunk, so memory does not grow with the file.
struct Decoded {
    input: Box<dyn Read + Send>,
    decoder: Decoder,
    raw: Vec<u8>,
    raw_pos: usize,
    raw_len: usize,
    raw_eof: bool,
    finished: bool,
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    consumed: u64,
}

impl Decoded {
    /// The next decoded bytes; empty at end of input.
    fn fill(&mut self) -> io::Result<&[u8]> {
        while self.out_pos == self.out_len && !self.finished {
            if self.raw_pos == self.raw_len && !self.raw_eof {
                let n = loop {
                    match self.input.read(&mut self.raw) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        other => break other?,
                    }
                };
                self.consumed += n as u64;
                self.raw_pos = 0;
                self.raw_len = n;
                self.raw_eof = n == 0;
            }
            let (result, read, written, _) =
                self.decoder.decode_to_utf8(&self.raw[self.raw_pos..self.raw_len], &mut self.out, self.raw_eof);
            self.raw_pos += read;
            self.out_pos = 0;
            self.out_len = written;
            // The decoder must not be called again once it has flushed with `last` set.
            self.finished = self.raw_eof && result == CoderResult::InputEmpty;
        }
        Ok(&self.out[self.out_pos..self.out_len])
    }

    fn consume(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out_len);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: either the first of "" or the closing one.
    QuoteInQuoted,
}

struct Parser {
    delimiter: u8,
    max_columns: usize,
    max_chars: usize,
    state: State,
    /// Any byte of the current record seen (an empty last line is no record).
    started: bool,
    /// The previous record ended on CR; a following LF belongs to it.
    skip_lf: bool,
    cells: Vec<Cell>,
    field: Vec<u8>,
    field_chars: usize,
    field_cut: bool,
    column: usize,
    truncated: u64,
}

impl Parser {
    fn new(delimiter: u8, limits: &Limits) -> Parser {
        Parser {
            delimiter,
            max_columns: limits.columns(),
            max_chars: limits.max_cell_chars,
            state: State::FieldStart,
            started: false,
            skip_lf: false,
            cells: Vec::new(),
            field: Vec::new(),
            field_chars: 0,
            field_cut: false,
            column: 0,
            truncated: 0,
        }
    }

    fn start_record(&mut self) {
        self.state = State::FieldStart;
        self.started = false;
        self.cells.clear();
        self.column = 0;
    }

    /// Consumes bytes of `chunk` up to the end of the current record; returns the bytes used
    /// and whether the record ended.
    fn feed(&mut self, chunk: &[u8], line: &mut u64) -> (usize, bool) {
        for (i, &b) in chunk.iter().enumerate() {
            if std::mem::take(&mut self.skip_lf) && b == b'\n' {
                continue;
            }
            self.started = true;
            let newline = b == b'\n' || b == b'\r';
            match self.state {
                State::Quoted => {
                    if b == b'"' {
                        self.state = State::QuoteInQuoted;
                    } else {
                        if b == b'\n' {
                            *line += 1;
                        }
                        self.push(b);
                    }
                }
                State::QuoteInQuoted if b == b'"' => {
                    self.push(b);
                    self.state = State::Quoted;
                }
                State::FieldStart if b == b'"' => self.state = State::Quoted,
                _ if b == self.delimiter => {
                    self.end_field();
                    self.state = State::FieldStart;
                }
                _ if newline => {
                    self.skip_lf = b == b'\r';
                    *line += 1;
                    self.end_field();
                    return (i + 1, true);
                }
                // Text after a closing quote is kept, as Excel does with `"ab"cd`.
                _ => {
                    self.push(b);
                    self.state = State::Unquoted;
                }
            }
        }
        (chunk.len(), false)
    }

    fn push(&mut self, b: u8) {
        if self.column >= self.max_columns {
            return;
        }
        // Count chars at their first byte; a cut never splits a char, so the field stays UTF-8.
        if b & 0xC0 != 0x80 {
            self.field_chars += 1;
        }
        if self.field_chars <= self.max_chars {
            self.field.push(b);
        } else {
            self.field_cut = true;
        }
    }

    fn end_field(&mut self) {
        if self.column < self.max_columns {
            let bytes = std::mem::take(&mut self.field);
            let text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            self.cells.push(Cell { text, numeric: false });
            if self.field_cut {
                self.truncated += 1;
            }
        }
        self.field.clear();
        self.field_chars = 0;
        self.field_cut = false;
        self.column += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_ignores_quoted_separators() {
        assert_eq!(sniff_delimiter("\"a,b,c\"\tx\ty\n1,2,3,4"), b'\t');
        assert_eq!(sniff_delimiter("a;b;c"), b';');
        assert_eq!(sniff_delimiter("name"), b',');
        assert_eq!(sniff_delimiter("a,b\tc"), b',');
    }

    #[test]
    fn encoding_tolerates_a_char_cut_by_the_window() {
        let mut head = "姓名".repeat(3).into_bytes();
        head.pop();
        assert_eq!(sniff_encoding(&head).2, "UTF-8");
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,班级");
        assert_eq!(sniff_encoding(&gbk).2, "GB18030");
        assert_eq!(sniff_encoding(b"\xEF\xBB\xBFa").1, 3);
    }
}
