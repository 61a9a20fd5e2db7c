//! Writing: small in-memory workbooks (templates, error reports), streamed large XLSX exports and
//! CSV that Excel on Chinese Windows opens correctly.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rust_xlsxwriter::{Color, Format, Note, XlsxError};

use crate::SheetError;

/// Excel's last row, 0-based.
const MAX_ROW: u32 = 1_048_575;

fn xlsx_error(e: XlsxError) -> SheetError {
    match e {
        XlsxError::IoError(io) => SheetError::Io(io),
        other => SheetError::Malformed { row: None, detail: other.to_string() },
    }
}

fn column(index: usize) -> Result<u16, SheetError> {
    u16::try_from(index)
        .ok()
        .filter(|&c| c < 16_384)
        .ok_or_else(|| SheetError::Malformed { row: None, detail: format!("column {} is beyond Excel's XFD", index + 1) })
}

/// One template column.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec<'a> {
    pub header: &'a str,
    /// Shown as a note (comment) on the header cell: what to enter, in which format.
    pub note: Option<&'a str>,
    /// Column width in Excel character units.
    pub width: f64,
}

/// A worksheet of a [`Workbook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetHandle(usize);

/// An in-memory workbook for templates and error reports (small).
pub struct Workbook {
    book: rust_xlsxwriter::Workbook,
    /// Next row to write, per sheet.
    next_rows: Vec<u32>,
    names: Vec<String>,
    text: Format,
    header: Format,
    marked: Format,
}

impl Default for Workbook {
    fn default() -> Workbook {
        Workbook::new()
    }
}

impl Workbook {
    pub fn new() -> Workbook {
        // "@" makes Excel keep what users type as text: no lost leading zeros, no 1.38E+10 phones.
        let text = Format::new().set_num_format("@");
        Workbook {
            book: rust_xlsxwriter::Workbook::new(),
            next_rows: Vec::new(),
            names: Vec::new(),
            header: text.clone().set_bold(),
            marked: text.clone().set_background_color(Color::RGB(0xFFC7CE)),
            text,
        }
    }

    /// Adds a worksheet with a bold, frozen header row; each column's note becomes a note on its
    /// header cell. Every column is formatted as text so Excel does not mangle codes and phone
    /// numbers typed into the template.
    pub fn sheet(&mut self, name: &str, columns: &[ColumnSpec]) -> Result<SheetHandle, SheetError> {
        // Excel compares sheet names case-insensitively; catch a clash here, not at save time.
        if self.names.iter().any(|n| n.to_lowercase() == name.to_lowercase()) {
            return Err(SheetError::Malformed { row: None, detail: format!("duplicate sheet name {name:?}") });
        }
        let sheet = self.book.add_worksheet();
        sheet.set_name(name).map_err(xlsx_error)?;
        for (i, spec) in columns.iter().enumerate() {
            let col = column(i)?;
            sheet.set_column_width(col, spec.width).map_err(xlsx_error)?;
            sheet.set_column_format(col, &self.text).map_err(xlsx_error)?;
            sheet.write_string_with_format(0, col, spec.header, &self.header).map_err(xlsx_error)?;
            if let Some(note) = spec.note {
                sheet.insert_note(0, col, &Note::new(note).add_author_prefix(false)).map_err(xlsx_error)?;
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        self.names.push(name.to_string());
        self.next_rows.push(1);
        Ok(SheetHandle(self.next_rows.len() - 1))
    }

    /// Appends a row. Each `(column, text)` of `marks` gets a pink fill and a note with the text.
    pub fn row(&mut self, sheet: SheetHandle, cells: &[&str], marks: &[(usize, &str)]) -> Result<(), SheetError> {
        let row = *self
            .next_rows
            .get(sheet.0)
            .ok_or_else(|| SheetError::Malformed { row: None, detail: "unknown sheet handle".into() })?;
        if row > MAX_ROW {
            return Err(SheetError::Malformed { row: Some(row + 1), detail: "beyond Excel's last row".into() });
        }
        let ws = self.book.worksheet_from_index(sheet.0).map_err(xlsx_error)?;
        let width = cells.len().max(marks.iter().map(|m| m.0 + 1).max().unwrap_or(0));
        for i in 0..width {
            let col = column(i)?;
            let value = cells.get(i).copied().unwrap_or("");
            let notes: Vec<&str> = marks.iter().filter(|m| m.0 == i).map(|m| m.1).collect();
            if notes.is_empty() {
                if !value.is_empty() {
                    ws.write_string_with_format(row, col, value, &self.text).map_err(xlsx_error)?;
                }
                continue;
            }
            if value.is_empty() {
                ws.write_blank(row, col, &self.marked).map_err(xlsx_error)?;
            } else {
                ws.write_string_with_format(row, col, value, &self.marked).map_err(xlsx_error)?;
            }
            ws.insert_note(row, col, &Note::new(notes.join("\n")).add_author_prefix(false)).map_err(xlsx_error)?;
        }
        self.next_rows[sheet.0] = row + 1;
        Ok(())
    }

    pub fn to_bytes(mut self) -> Result<Vec<u8>, SheetError> {
        self.book.save_to_buffer().map_err(xlsx_error)
    }
}

/// Writes one large sheet with bounded memory (exports of up to 1,048,575 data rows): a bold,
/// frozen header row, then every cell as a text string.
pub struct StreamingXlsx {
    book: rust_xlsxwriter::Workbook,
    file: File,
    next_row: u32,
}

impl StreamingXlsx {
    pub fn create(path: &Path, sheet_name: &str, headers: &[&str]) -> Result<StreamingXlsx, SheetError> {
        // Create the file now so a bad path fails before the export does any work.
        let file = File::create(path)?;
        let mut book = rust_xlsxwriter::Workbook::new();
        // Rows are spilled to a temporary file; keep it next to the output, not in a /tmp that
        // may be memory-backed.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            book.set_tempdir(dir).map_err(xlsx_error)?;
        }
        // A million wide rows can pass the 4 GiB of a plain zip entry; Excel reads ZIP64.
        book.use_zip_large_file(true);
        let bold = Format::new().set_bold();
        let sheet = book.add_worksheet_with_constant_memory().map_err(xlsx_error)?;
        sheet.set_name(sheet_name).map_err(xlsx_error)?;
        for (i, header) in headers.iter().enumerate() {
            sheet.write_string_with_format(0, column(i)?, *header, &bold).map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        Ok(StreamingXlsx { book, file, next_row: 1 })
    }

    pub fn row(&mut self, cells: &[&str]) -> Result<(), SheetError> {
        let row = self.next_row;
        if row > MAX_ROW {
            return Err(SheetError::Malformed { row: Some(row + 1), detail: "beyond Excel's last row".into() });
        }
        let sheet = self.book.worksheet_from_index(0).map_err(xlsx_error)?;
        for (i, value) in cells.iter().enumerate() {
            if !value.is_empty() {
                sheet.write_string(row, column(i)?, *value).map_err(xlsx_error)?;
            }
        }
        self.next_row = row + 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<(), SheetError> {
        let mut out = BufWriter::new(self.file);
        self.book.save_to_writer(&mut out).map_err(xlsx_error)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(())
    }
}

/// CSV for Excel: UTF-8 with a BOM (so Excel on Chinese Windows does not assume GBK), CRLF line
/// ends, fields quoted only when they need it.
pub struct CsvWriter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(w: W, headers: &[&str]) -> Result<CsvWriter<W>, SheetError> {
        let mut writer = CsvWriter { out: BufWriter::new(w) };
        writer.out.write_all("\u{FEFF}".as_bytes())?;
        writer.row(headers)?;
        Ok(writer)
    }

    pub fn row(&mut self, cells: &[&str]) -> Result<(), SheetError> {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            if cell.contains([',', '"', '\r', '\n']) {
                self.out.write_all(b"\"")?;
                self.out.write_all(cell.replace('"', "\"\"").as_bytes())?;
                self.out.write_all(b"\"")?;
            } else {
                self.out.write_all(cell.as_bytes())?;
            }
        }
        self.out.write_all(b"\r\n")?;
        Ok(())
    }

    /// Flushes and hands back the writer.
    pub fn finish(self) -> Result<W, SheetError> {
        self.out.into_inner().map_err(|e| SheetError::Io(e.into_error()))
    }
}
