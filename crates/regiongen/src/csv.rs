//! A minimal CSV writer: UTF-8 with a BOM, `\r\n` line ends, RFC 4180 quoting, one large buffer
//! flushed straight to the file.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

const FLUSH_AT: usize = 1 << 20;

pub(crate) struct Csv {
    file: File,
    buf: Vec<u8>,
    rows: u64,
}

impl Csv {
    pub(crate) fn create(path: &Path, header: &[&str]) -> io::Result<Csv> {
        let mut csv = Csv { file: File::create(path)?, buf: Vec::with_capacity(FLUSH_AT + 64 * 1024), rows: 0 };
        csv.buf.extend_from_slice("\u{feff}".as_bytes());
        for (i, h) in header.iter().enumerate() {
            if i > 0 {
                csv.comma();
            }
            csv.text(h);
        }
        csv.buf.extend_from_slice(b"\r\n");
        Ok(csv)
    }

    /// A text field, quoted when it holds a comma, a quote or a line break.
    pub(crate) fn text(&mut self, s: &str) {
        if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
            self.buf.push(b'"');
            for b in s.bytes() {
                if b == b'"' {
                    self.buf.push(b'"');
                }
                self.buf.push(b);
            }
            self.buf.push(b'"');
        } else {
            self.buf.extend_from_slice(s.as_bytes());
        }
    }

    /// Bytes known to need no quoting (digits, codes, names from the built-in pools).
    #[inline]
    pub(crate) fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// The buffer itself, for writers that compose a field from parts known to need no quoting.
    #[inline]
    pub(crate) fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    #[inline]
    pub(crate) fn comma(&mut self) {
        self.buf.push(b',');
    }

    #[inline]
    pub(crate) fn num(&mut self, n: u64) {
        push_num(&mut self.buf, n);
    }

    /// Ends a data row.
    #[inline]
    pub(crate) fn end(&mut self) -> io::Result<()> {
        self.buf.extend_from_slice(b"\r\n");
        self.rows += 1;
        if self.buf.len() >= FLUSH_AT {
            self.file.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered; returns the number of data rows.
    pub(crate) fn finish(mut self) -> io::Result<u64> {
        self.file.write_all(&self.buf)?;
        self.file.flush()?;
        Ok(self.rows)
    }
}

/// Appends the decimal digits of `n`.
#[inline]
pub(crate) fn push_num(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let dir = std::env::temp_dir().join(format!("regiongen-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        let mut csv = Csv::create(&path, &["a", "b"]).unwrap();
        csv.text("x,y");
        csv.comma();
        csv.text("say \"hi\"");
        csv.end().unwrap();
        csv.num(0);
        csv.comma();
        csv.num(1_234_567);
        csv.end().unwrap();
        assert_eq!(csv.finish().unwrap(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "\u{feff}a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n0,1234567\r\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
