//! Streaming XLSX reading: workbook metadata and shared strings are loaded up front (bounded by
//! the limits), the worksheet XML is parsed event by event straight from the inflating zip entry.

use std::borrow::Cow;
use std::io::{BufReader, Read, Take};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::xml::event_text;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use crate::zipped::{Inflated, Package, Source, from_io};
use crate::{Cell, Limits, Record, SheetError, is_blank, push_capped, trim_row};

type Xml<R> = quick_xml::Reader<BufReader<Inflated<R>>>;

fn xml<R: Read>(inflated: Inflated<R>) -> Xml<R> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::with_capacity(64 * 1024, inflated));
    // Matching end names keeps a stack of every open name: memory an attacker controls.
    xml.config_mut().check_end_names = false;
    xml
}

/// Reads the next event, arming the token-size guard first.
fn next_event<'b, R: Read>(xml: &mut Xml<R>, buf: &'b mut Vec<u8>, row: Option<u32>) -> Result<Event<'b>, SheetError> {
    xml.get_mut().get_mut().new_token();
    buf.clear();
    xml.read_event_into(buf).map_err(|e| match e {
        quick_xml::Error::Io(io) => from_io(&io, row),
        other => SheetError::Malformed { row, detail: format!("bad XML: {other}") },
    })
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok().map(Cow::into_owned))
}

/// An attribute's value as written, for the cell-level attributes where escapes cannot occur and
/// allocating per cell would show.
fn raw_attr<'a>(e: &'a BytesStart, name: &str) -> Option<Cow<'a, str>> {
    e.attributes().flatten().find(|a| a.key.local_name().as_ref() == name).map(|a| a.value)
}

/// Decodes the `_xHHHH_` escapes Excel writes for control characters (and `_x005F_` for "_").
fn unescape_ooxml(text: String) -> String {
    if !text.contains("_x") {
        return text;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(ch) = text.get(i..).and_then(|rest| rest.chars().next()) {
        let escape = bytes.get(i..i + 7).filter(|b| b[0] == b'_' && b[1] == b'x' && b[6] == b'_');
        let decoded = escape
            .and_then(|b| std::str::from_utf8(&b[2..6]).ok())
            .filter(|hex| hex.bytes().all(|h| h.is_ascii_hexdigit()))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32);
        match decoded {
            Some(c) => {
                out.push(c);
                i += 7;
            }
            None => {
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    out
}

/// "AB12" → (column 27, row 12); either part may be missing ("AB", "12").
fn parse_ref(r: &str) -> (Option<u32>, Option<u32>) {
    let split = r.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(r.len());
    let (letters, digits) = r.split_at(split);
    let mut column: Option<u32> = None;
    // Excel stops at XFD (three letters); longer runs are garbage.
    if !letters.is_empty() && letters.len() <= 3 {
        column = Some(letters.bytes().fold(0u32, |acc, b| acc * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1));
    }
    let row = digits.parse::<u32>().ok().filter(|&r| r > 0);
    (column.map(|c| c - 1), row)
}

/// Visits every start or empty element of a part; the visitor may stop the pass with an error.
fn scan(
    pkg: &mut Package,
    index: usize,
    mut visit: impl FnMut(&str, &BytesStart) -> Result<(), SheetError>,
) -> Result<(), SheetError> {
    let mut xml = xml(pkg.read(index)?);
    let mut buf = Vec::new();
    loop {
        match next_event(&mut xml, &mut buf, None)? {
            Event::Start(e) | Event::Empty(e) => visit(e.local_name().as_ref(), &e)?,
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

struct Rel {
    id: String,
    kind: String,
    target: String,
}

/// Joins an OPC relationship target onto the directory of its source part.
fn resolve(base_dir: &str, target: &str) -> String {
    let target = target.replace('\\', "/");
    let joined = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => format!("{base_dir}{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for segment in joined.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

fn read_rels(pkg: &mut Package, path: &str, base_dir: &str) -> Result<Vec<Rel>, SheetError> {
    let Some(index) = pkg.find(path) else { return Ok(Vec::new()) };
    let mut rels = Vec::new();
    scan(pkg, index, |name, e| {
        if name != "Relationship" || attr(e, "TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("External")) {
            return Ok(());
        }
        if let (Some(id), Some(kind), Some(target)) = (attr(e, "Id"), attr(e, "Type"), attr(e, "Target")) {
            rels.push(Rel { id, kind, target: resolve(base_dir, &target) });
        }
        Ok(())
    })?;
    Ok(rels)
}

struct SheetMeta {
    name: String,
    /// The worksheet part, or why there is none to read.
    part: Result<String, &'static str>,
}

struct Book {
    sheets: Vec<SheetMeta>,
    shared_strings: String,
}

impl Book {
    fn load(pkg: &mut Package) -> Result<Book, SheetError> {
        let root = read_rels(pkg, "_rels/.rels", "")?;
        let workbook = root
            .iter()
            .find(|r| r.kind.ends_with("/officeDocument"))
            .map_or_else(|| "xl/workbook.xml".to_string(), |r| r.target.clone());
        let index = pkg.find(&workbook).ok_or_else(|| SheetError::NotXlsx(format!("no workbook part {workbook}")))?;
        let (dir, file) = workbook.rsplit_once('/').map_or(("", workbook.as_str()), |(d, f)| (d, f));
        let base_dir = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let rels = read_rels(pkg, &format!("{base_dir}_rels/{file}.rels"), &base_dir)?;

        let mut listed = Vec::new();
        scan(pkg, index, |name, e| {
            if name == "sheet"
                && let Some(sheet_name) = attr(e, "name")
            {
                // The relationship id is the prefixed r:id; a plain "id" attribute is not defined here.
                let rid = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref() == "id" && a.key.prefix().is_some())
                    .map(|a| a.value.into_owned());
                listed.push((sheet_name, rid));
            }
            Ok(())
        })?;
        let sheets = listed
            .into_iter()
            .map(|(name, rid)| {
                let rel = rid.and_then(|id| rels.iter().find(|r| r.id == id));
                let part = match rel {
                    None => Err("has no worksheet part"),
                    Some(r) if r.kind.ends_with("/worksheet") => Ok(r.target.clone()),
                    Some(_) => Err("is a chart or dialog sheet, not a worksheet"),
                };
                SheetMeta { name, part }
            })
            .collect();
        let shared_strings = rels
            .iter()
            .find(|r| r.kind.ends_with("/sharedStrings"))
            .map_or_else(|| format!("{base_dir}sharedStrings.xml"), |r| r.target.clone());
        Ok(Book { sheets, shared_strings })
    }

    fn pick(&self, wanted: Option<&str>) -> Result<&SheetMeta, SheetError> {
        let Some(wanted) = wanted else {
            return self.sheets.first().ok_or_else(|| SheetError::NotXlsx("the workbook lists no sheets".into()));
        };
        if let Some(sheet) = self.sheets.iter().find(|s| s.name == wanted) {
            return Ok(sheet);
        }
        let key = wanted.trim().to_lowercase();
        self.sheets.iter().find(|s| s.name.trim().to_lowercase() == key).ok_or_else(|| SheetError::SheetNotFound {
            wanted: wanted.to_string(),
            available: self.sheets.iter().map(|s| s.name.clone()).collect(),
        })
    }
}

pub(crate) fn sheet_names(src: Source, limits: &Limits) -> Result<Vec<String>, SheetError> {
    let mut pkg = Package::open(src, limits)?;
    Ok(Book::load(&mut pkg)?.sheets.into_iter().map(|s| s.name).collect())
}

struct Shared {
    text: Box<str>,
    cut: bool,
}

/// Loads the shared-string table: rich-text runs concatenated, phonetic runs (`rPh`) left out.
fn load_shared(pkg: &mut Package, index: usize, limits: &Limits) -> Result<Vec<Shared>, SheetError> {
    let mut xml = xml(pkg.read(index)?);
    let mut buf = Vec::new();
    let mut table = Vec::new();
    let mut text_bytes = 0u64;
    let (mut in_si, mut in_t, mut in_rph) = (false, false, false);
    let (mut text, mut chars, mut cut) = (String::new(), 0usize, false);
    let overhead = std::mem::size_of::<Shared>() as u64;
    loop {
        let event = next_event(&mut xml, &mut buf, None)?;
        let mut finished = false;
        match &event {
            Event::Start(e) => match e.local_name().as_ref() {
                "si" => {
                    in_si = true;
                    (chars, cut) = (0, false);
                    text.clear();
                }
                "t" => in_t = in_si && !in_rph,
                "rPh" => in_rph = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == "si" => {
                (chars, cut) = (0, false);
                text.clear();
                finished = true;
            }
            Event::End(e) => match e.local_name().as_ref() {
                "si" if in_si => {
                    in_si = false;
                    finished = true;
                }
                "t" => in_t = false,
                "rPh" => in_rph = false,
                _ => {}
            },
            Event::Eof => return Ok(table),
            other => {
                if in_t && let Some(piece) = event_text(other) {
                    cut |= !push_capped(&mut text, &mut chars, limits.max_cell_chars, &piece);
                }
            }
        }
        if finished {
            let value = unescape_ooxml(std::mem::take(&mut text));
            table.push(Shared { text: value.into_boxed_str(), cut });
            // The table's own growth counts too: a million empty strings are not free.
            text_bytes += table.last().map_or(0, |s| s.text.len() as u64);
            let held = text_bytes.saturating_add(table.capacity() as u64 * overhead);
            if held > limits.max_shared_strings_bytes {
                return Err(SheetError::TooLarge { limit: "max_shared_strings_bytes" });
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Range {
    top: u32,
    left: u32,
    bottom: u32,
    right: u32,
}

/// Fills every cell of a merged range with its top-left value, as a person reading the sheet
/// would: merged headers and merged class columns then read like ordinary cells.
struct Merges {
    /// Not yet reached, sorted so that the lowest `top` is last.
    pending: Vec<Range>,
    /// Ranges covering the current row, with the top-left value if its row had one.
    active: Vec<(Range, Option<Cell>)>,
    /// Per kept column, the bottom row of the active range covering it (0: none).
    occupied: Vec<u32>,
}

impl Merges {
    /// The first pass: `<mergeCells>` follows `<sheetData>`, so the whole part is scanned once.
    fn collect(pkg: &mut Package, index: usize, limits: &Limits) -> Result<Merges, SheetError> {
        let mut ranges = Vec::new();
        let mut seen = 0usize;
        scan(pkg, index, |name, e| {
            if name != "mergeCell" {
                return Ok(());
            }
            seen += 1;
            if seen > limits.max_merged_ranges {
                return Err(SheetError::TooLarge { limit: "max_merged_ranges" });
            }
            let Some((a, b)) = attr(e, "ref").and_then(|r| r.split_once(':').map(|(a, b)| (parse_ref(a), parse_ref(b)))) else {
                return Ok(());
            };
            if let ((Some(c1), Some(r1)), (Some(c2), Some(r2))) = (a, b) {
                let range = Range { top: r1.min(r2), left: c1.min(c2), bottom: r1.max(r2), right: c1.max(c2) };
                // Ranges starting beyond the kept columns can never show.
                if (range.left as usize) < limits.columns() {
                    ranges.push(range);
                }
            }
            Ok(())
        })?;
        // pop() then yields ranges top to bottom, ties in the order the file lists them.
        ranges.sort_by_key(|r| (r.top, r.left));
        ranges.reverse();
        Ok(Merges { pending: ranges, active: Vec::new(), occupied: vec![0; limits.columns()] })
    }

    fn apply(&mut self, row: u32, cells: &mut Vec<Cell>, max_columns: usize) {
        self.active.retain(|(r, _)| r.bottom >= row);
        while let Some(range) = self.pending.last().copied()
            && range.top <= row
        {
            self.pending.pop();
            let columns = range.left as usize..=(range.right as usize).min(max_columns.saturating_sub(1));
            // Excel never overlaps merges; dropping overlaps keeps the active ranges disjoint, so
            // filling a row costs at most `max_columns` however many ranges a file lists.
            if range.bottom < row || columns.clone().any(|c| self.occupied.get(c).is_some_and(|&bottom| bottom >= row)) {
                continue;
            }
            for c in columns {
                if let Some(slot) = self.occupied.get_mut(c) {
                    *slot = range.bottom;
                }
            }
            let value =
                if range.top == row { cells.get(range.left as usize).filter(|c| !is_blank(&c.text)).cloned() } else { None };
            self.active.push((range, value));
        }
        for (range, value) in &self.active {
            let Some(value) = value else { continue };
            let right = (range.right as usize).min(max_columns.saturating_sub(1));
            for column in range.left as usize..=right {
                if cells.len() <= column {
                    cells.resize(column + 1, Cell { text: String::new(), numeric: false });
                }
                cells[column] = value.clone();
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Shared,
    Bool,
    Text,
}

pub(crate) struct SheetReader {
    name: String,
    xml: Xml<Take<Source>>,
    buf: Vec<u8>,
    shared: Vec<Shared>,
    merges: Merges,
    max_columns: usize,
    max_chars: usize,
    consumed: Arc<AtomicU64>,
    total: u64,
    truncated: u64,
    done: bool,

    in_data: bool,
    in_row: bool,
    row: u32,
    cells: Vec<Cell>,
    next_column: u32,
    /// The open `<c>`: its column and type.
    cell: Option<(u32, Kind)>,
    in_inline: bool,
    in_phonetic: bool,
    capture: bool,
    value: String,
    value_chars: usize,
    value_cut: bool,
}

impl SheetReader {
    pub(crate) fn open(src: Source, wanted: Option<&str>, limits: &Limits) -> Result<SheetReader, SheetError> {
        let mut pkg = Package::open(src, limits)?;
        let book = Book::load(&mut pkg)?;
        let meta = book.pick(wanted)?;
        let name = meta.name.clone();
        let part = meta.part.as_ref().map_err(|why| SheetError::NotXlsx(format!("sheet {name:?} {why}")))?;
        let index = pkg.find(part).ok_or_else(|| SheetError::NotXlsx(format!("worksheet part {part} is missing")))?;
        let shared = match pkg.find(&book.shared_strings) {
            Some(i) => load_shared(&mut pkg, i, limits)?,
            None => Vec::new(),
        };
        // The merge pass re-reads the same bytes; the budget is for distinct data.
        let before = pkg.used();
        let merges = Merges::collect(&mut pkg, index, limits)?;
        pkg.set_used(before);
        let consumed = Arc::new(AtomicU64::new(0));
        let (stream, total) = pkg.into_stream(index, consumed.clone())?;
        Ok(SheetReader {
            name,
            xml: xml(stream),
            buf: Vec::new(),
            shared,
            merges,
            max_columns: limits.columns(),
            max_chars: limits.max_cell_chars,
            consumed,
            total,
            truncated: 0,
            done: false,
            in_data: false,
            in_row: false,
            row: 0,
            cells: Vec::new(),
            next_column: 0,
            cell: None,
            in_inline: false,
            in_phonetic: false,
            capture: false,
            value: String::new(),
            value_chars: 0,
            value_cut: false,
        })
    }

    pub(crate) fn sheet_name(&self) -> &str {
        &self.name
    }

    pub(crate) fn progress(&self) -> (u64, u64) {
        if self.done { (self.total, self.total) } else { (self.consumed.load(Ordering::Relaxed).min(self.total), self.total) }
    }

    pub(crate) fn truncated_cells(&self) -> u64 {
        self.truncated
    }

    pub(crate) fn next(&mut self) -> Option<Result<Record, SheetError>> {
        if self.done {
            return None;
        }
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.advance(&mut buf);
        self.buf = buf;
        match result {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    fn advance(&mut self, buf: &mut Vec<u8>) -> Result<Option<Record>, SheetError> {
        loop {
            let row = self.in_row.then_some(self.row);
            match next_event(&mut self.xml, buf, row)? {
                Event::Start(e) => match e.local_name().as_ref() {
                    "sheetData" => self.in_data = true,
                    "row" if self.in_data => self.start_row(&e),
                    "c" if self.in_row => self.start_cell(&e),
                    "v" if self.cell.is_some() => self.capture = true,
                    "is" if self.cell.is_some() => self.in_inline = true,
                    "t" if self.in_inline && !self.in_phonetic => self.capture = true,
                    "rPh" if self.in_inline => self.in_phonetic = true,
                    _ => {}
                },
                Event::Empty(e) => match e.local_name().as_ref() {
                    "sheetData" => return Ok(None),
                    "row" if self.in_data => {
                        self.start_row(&e);
                        self.in_row = false;
                    }
                    "c" if self.in_row => {
                        self.start_cell(&e);
                        self.finish_cell()?;
                    }
                    _ => {}
                },
                Event::End(e) => match e.local_name().as_ref() {
                    "sheetData" => return Ok(None),
                    "row" if self.in_row => {
                        if let Some(record) = self.finish_row() {
                            return Ok(Some(record));
                        }
                    }
                    "c" if self.cell.is_some() => self.finish_cell()?,
                    "v" | "t" => self.capture = false,
                    "is" => self.in_inline = false,
                    "rPh" => self.in_phonetic = false,
                    _ => {}
                },
                Event::Eof => {
                    return Err(SheetError::Malformed {
                        row: None,
                        detail: "the worksheet ends before </sheetData>; the file is truncated".into(),
                    });
                }
                other => {
                    if self.capture
                        && let Some(piece) = event_text(&other)
                    {
                        self.value_cut |= !push_capped(&mut self.value, &mut self.value_chars, self.max_chars, &piece);
                    }
                }
            }
        }
    }

    fn start_row(&mut self, e: &BytesStart) {
        let positional = self.row.saturating_add(1);
        self.row = raw_attr(e, "r").and_then(|r| r.trim().parse::<u32>().ok()).filter(|&r| r > 0).unwrap_or(positional);
        self.in_row = true;
        self.cells.clear();
        self.next_column = 0;
    }

    fn start_cell(&mut self, e: &BytesStart) {
        let (mut column, mut kind) = (None, Kind::Number);
        for a in e.attributes().flatten() {
            match a.key.local_name().as_ref() {
                "r" => column = parse_ref(a.value.trim()).0,
                "t" => {
                    kind = match &*a.value {
                        "n" => Kind::Number,
                        "s" => Kind::Shared,
                        "b" => Kind::Bool,
                        // inlineStr, str (formula result), e (error such as #N/A), d (ISO date).
                        _ => Kind::Text,
                    }
                }
                _ => {}
            }
        }
        let column = column.unwrap_or(self.next_column);
        self.next_column = column.saturating_add(1);
        self.cell = Some((column, kind));
        self.in_inline = false;
        self.in_phonetic = false;
        self.capture = false;
        self.value.clear();
        self.value_chars = 0;
        self.value_cut = false;
    }

    fn finish_cell(&mut self) -> Result<(), SheetError> {
        self.capture = false;
        let Some((column, kind)) = self.cell.take() else { return Ok(()) };
        let column = column as usize;
        if column >= self.max_columns || self.value.is_empty() {
            return Ok(());
        }
        let value = std::mem::take(&mut self.value);
        let mut cut = self.value_cut;
        let cell = match kind {
            Kind::Number => Cell { text: value, numeric: true },
            Kind::Shared => {
                let shared = value.trim().parse::<usize>().ok().and_then(|i| self.shared.get(i)).ok_or_else(|| {
                    SheetError::Malformed { row: Some(self.row), detail: format!("shared string index {value:?} out of range") }
                })?;
                cut = shared.cut;
                Cell { text: shared.text.to_string(), numeric: false }
            }
            Kind::Bool => {
                let text = match value.trim() {
                    "1" => "TRUE".to_string(),
                    "0" => "FALSE".to_string(),
                    _ => value,
                };
                Cell { text, numeric: false }
            }
            Kind::Text => Cell { text: unescape_ooxml(value), numeric: false },
        };
        if cut {
            self.truncated += 1;
        }
        if self.cells.len() <= column {
            self.cells.resize(column + 1, Cell { text: String::new(), numeric: false });
        }
        self.cells[column] = cell;
        Ok(())
    }

    fn finish_row(&mut self) -> Option<Record> {
        self.in_row = false;
        let mut cells = std::mem::take(&mut self.cells);
        if !trim_row(&mut cells) {
            return None;
        }
        self.merges.apply(self.row, &mut cells, self.max_columns);
        Some(Record { row: self.row, cells })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references() {
        assert_eq!(parse_ref("A1"), (Some(0), Some(1)));
        assert_eq!(parse_ref("AB12"), (Some(27), Some(12)));
        assert_eq!(parse_ref("XFD1048576"), (Some(16383), Some(1_048_576)));
        assert_eq!(parse_ref("ABCD1"), (None, Some(1)));
        assert_eq!(parse_ref("C"), (Some(2), None));
        assert_eq!(parse_ref("1"), (None, Some(1)));
        assert_eq!(parse_ref("A0"), (Some(0), None));
    }

    #[test]
    fn targets_resolve_against_the_source_part() {
        assert_eq!(resolve("xl/", "worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl/", "/xl/worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl/", "../xl/./worksheets\\s.xml"), "xl/worksheets/s.xml");
        assert_eq!(resolve("", "xl/workbook.xml"), "xl/workbook.xml");
    }

    #[test]
    fn ooxml_escapes() {
        assert_eq!(unescape_ooxml("a_x000D_b".into()), "a\rb");
        assert_eq!(unescape_ooxml("_x005F_x000D_".into()), "_x000D_");
        assert_eq!(unescape_ooxml("班级_x".into()), "班级_x");
        assert_eq!(unescape_ooxml("_xZZZZ_".into()), "_xZZZZ_");
    }
}
