//! Tabular file I/O for roster imports and exports.
//!
//! Reading streams CSV (UTF-8, UTF-16 with BOM, GBK/GB18030) and XLSX one record at a time under
//! [`Limits`], so a 1 GB upload or a zip bomb costs bounded memory. Writing produces small
//! in-memory workbooks (templates, error reports), large streamed XLSX exports and Excel-friendly
//! CSV. The crate knows nothing of the domain and carries no translations.

mod csv;
mod write;
mod xlsx;
pub mod xml;
mod zipped;

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

pub use write::{ColumnSpec, CsvWriter, SheetHandle, StreamingXlsx, Workbook};

/// The container format of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

/// Sniffs the format from the first bytes: the zip magic means XLSX, anything else is read as CSV.
/// ([`Reader::open`] also refuses a file named `.xlsx` that is not a zip, rather than reading it
/// as CSV.)
pub fn detect(head: &[u8]) -> Format {
    if head.starts_with(b"PK\x03\x04") { Format::Xlsx } else { Format::Csv }
}

/// Resource caps applied while reading; exceeding one is [`SheetError::TooLarge`] unless noted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Total bytes inflated from all zip entries read.
    pub max_inflated_bytes: u64,
    /// Inflated / compressed bytes of one zip entry.
    pub max_ratio: u64,
    /// Shared-string text (plus per-string overhead) held in memory.
    pub max_shared_strings_bytes: u64,
    /// Cells beyond this many columns are ignored.
    pub max_columns: usize,
    /// Longer cell values are truncated; see [`Reader::truncated_cells`].
    pub max_cell_chars: usize,
    /// Merged ranges collected from a worksheet.
    pub max_merged_ranges: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_inflated_bytes: 1 << 30,
            max_ratio: 100,
            max_shared_strings_bytes: 64 << 20,
            max_columns: 200,
            max_cell_chars: 4096,
            max_merged_ranges: 100_000,
        }
    }
}

impl Limits {
    /// `max_columns`, but never past Excel's 16,384 columns: no real sheet has more, and a
    /// caller's "unlimited" must not let one crafted row allocate without bound.
    fn columns(&self) -> usize {
        self.max_columns.min(16_384)
    }
}

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The value as written in the file; XLSX numbers keep their raw XML text ("13800138000").
    pub text: String,
    /// The XLSX cell was stored as a number; CSV cells never are.
    pub numeric: bool,
}

/// One non-empty row.
#[derive(Debug, Clone)]
pub struct Record {
    /// 1-based row number as a spreadsheet shows it (a CSV's header line is row 1).
    pub row: u32,
    /// `cells[i]` is column i (A = 0); gaps are empty cells, trailing empty cells are trimmed.
    pub cells: Vec<Cell>,
}

/// Why reading or writing failed.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("not a readable XLSX workbook: {0}")]
    NotXlsx(String),
    #[error("worksheet {wanted:?} not found (available: {})", available.join(", "))]
    SheetNotFound { wanted: String, available: Vec<String> },
    #[error("file refused: it exceeds the {limit} limit")]
    TooLarge { limit: &'static str },
    #[error("{}{detail}", row.map(|r| format!("row {r}: ")).unwrap_or_default())]
    Malformed { row: Option<u32>, detail: String },
}

/// Streams the records of one CSV file or one XLSX worksheet.
///
/// After an `Err` item the iterator is finished.
pub struct Reader {
    inner: Inner,
}

// Boxed: the readers are large and a Reader is moved into a background task.
enum Inner {
    Csv(Box<csv::CsvReader>),
    Xlsx(Box<xlsx::SheetReader>),
}

impl Reader {
    /// Opens a file. For XLSX, `sheet` picks a worksheet by name (exact, then trimmed and
    /// case-insensitive); `None` is the first sheet in workbook order. CSV ignores `sheet`.
    pub fn open(path: &Path, sheet: Option<&str>, limits: &Limits) -> Result<Reader, SheetError> {
        let (file, format) = open_sniffed(path)?;
        let total = file.metadata()?.len();
        let inner = match format {
            Format::Csv => Inner::Csv(Box::new(csv::CsvReader::new(Box::new(file), total, limits)?)),
            Format::Xlsx => Inner::Xlsx(Box::new(xlsx::SheetReader::open(Box::new(BufReader::new(file)), sheet, limits)?)),
        };
        Ok(Reader { inner })
    }

    /// Like [`Reader::open`] over bytes already in memory (tests, fuzzing, small uploads).
    pub fn from_bytes(bytes: Vec<u8>, sheet: Option<&str>, limits: &Limits) -> Result<Reader, SheetError> {
        let inner = match sniff(&bytes, None)? {
            Format::Csv => {
                let total = bytes.len() as u64;
                Inner::Csv(Box::new(csv::CsvReader::new(Box::new(Cursor::new(bytes)), total, limits)?))
            }
            Format::Xlsx => Inner::Xlsx(Box::new(xlsx::SheetReader::open(Box::new(Cursor::new(bytes)), sheet, limits)?)),
        };
        Ok(Reader { inner })
    }

    /// The worksheet being read; "" for CSV.
    pub fn sheet_name(&self) -> &str {
        match &self.inner {
            Inner::Csv(_) => "",
            Inner::Xlsx(x) => x.sheet_name(),
        }
    }

    /// "UTF-8", "UTF-8 BOM", "UTF-16LE", "UTF-16BE" or "GB18030" for CSV; "XLSX" for workbooks.
    pub fn encoding(&self) -> &'static str {
        match &self.inner {
            Inner::Csv(c) => c.encoding(),
            Inner::Xlsx(_) => "XLSX",
        }
    }

    /// (consumed, total) bytes for a progress bar: of the file for CSV, of the worksheet's
    /// compressed zip entry for XLSX. Monotonic; equal once the iterator is finished.
    pub fn progress(&self) -> (u64, u64) {
        match &self.inner {
            Inner::Csv(c) => c.progress(),
            Inner::Xlsx(x) => x.progress(),
        }
    }

    /// How many cells so far were cut to [`Limits::max_cell_chars`]; compare before and after
    /// `next()` to tell whether that record lost text.
    pub fn truncated_cells(&self) -> u64 {
        match &self.inner {
            Inner::Csv(c) => c.truncated_cells(),
            Inner::Xlsx(x) => x.truncated_cells(),
        }
    }
}

impl Iterator for Reader {
    type Item = Result<Record, SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Csv(c) => c.next(),
            Inner::Xlsx(x) => x.next(),
        }
    }
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("encoding", &self.encoding()).field("sheet", &self.sheet_name()).finish()
    }
}

/// Worksheet names of an XLSX file in workbook order; empty for CSV.
pub fn sheet_names(path: &Path, limits: &Limits) -> Result<Vec<String>, SheetError> {
    let (file, format) = open_sniffed(path)?;
    match format {
        Format::Csv => Ok(Vec::new()),
        Format::Xlsx => xlsx::sheet_names(Box::new(BufReader::new(file)), limits),
    }
}

/// Opens `path` (rewound) and tells its format.
fn open_sniffed(path: &Path) -> Result<(File, Format), SheetError> {
    let mut file = File::open(path)?;
    let mut head = [0u8; 8];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let format = sniff(&head[..n], Some(path))?;
    file.seek(SeekFrom::Start(0))?;
    Ok((file, format))
}

/// [`detect`] plus refusals that would otherwise surface as pages of binary "CSV" rows.
fn sniff(head: &[u8], path: Option<&Path>) -> Result<Format, SheetError> {
    // Legacy .xls and password-protected .xlsx are both OLE2 compound files.
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(SheetError::NotXlsx("legacy .xls or password-protected workbook; save it as an unprotected .xlsx".into()));
    }
    let format = detect(head);
    let named_xlsx = path
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xlsm"));
    if format == Format::Csv && named_xlsx {
        return Err(SheetError::NotXlsx("the file is named .xlsx but is not a zip archive".into()));
    }
    Ok(format)
}

/// Whether a value counts as empty for trimming and for skipping rows.
fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// Trims trailing blank cells; false when nothing is left.
fn trim_row(cells: &mut Vec<Cell>) -> bool {
    while cells.last().is_some_and(|c| is_blank(&c.text)) {
        cells.pop();
    }
    !cells.is_empty()
}

/// Appends `text` to `out` while keeping at most `max` chars; returns false if anything was cut.
/// `count` carries the chars already in `out` so appends can be piecewise.
fn push_capped(out: &mut String, count: &mut usize, max: usize, text: &str) -> bool {
    // A byte length within the room is a char count within it too.
    if *count + text.len() <= max {
        out.push_str(text);
        *count += text.chars().count();
        return true;
    }
    for ch in text.chars() {
        if *count >= max {
            return false;
        }
        out.push(ch);
        *count += 1;
    }
    true
}
