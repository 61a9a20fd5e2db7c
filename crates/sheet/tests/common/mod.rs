//! Builders for test inputs: hand-written XLSX packages and record collection.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{Cursor, Write};

use sheet::{Limits, Reader, Record};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

/// A zip of the given parts, each deflated (or stored, to let byte mutations reach the XML).
pub fn zip_parts(parts: &[(&str, &str)], method: CompressionMethod) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, body) in parts {
        zip.start_file(*name, SimpleFileOptions::default().compression_method(method)).expect("start part");
        zip.write_all(body.as_bytes()).expect("write part");
    }
    zip.finish().expect("finish zip").into_inner()
}

pub const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#;

pub const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

/// The parts of a workbook with the given (sheet name, sheetData inner XML) sheets; sheet i is
/// `xl/worksheets/sheet{i+1}.xml`, the first referenced by an absolute target to cover both forms.
pub fn workbook_parts(sheets: &[(&str, &str)], shared: Option<&str>) -> Vec<(String, String)> {
    let mut book = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#,
    );
    let mut rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    let mut parts =
        vec![("[Content_Types].xml".to_string(), CONTENT_TYPES.to_string()), ("_rels/.rels".into(), ROOT_RELS.into())];
    for (i, (name, data)) in sheets.iter().enumerate() {
        let n = i + 1;
        book.push_str(&format!(r#"<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>"#));
        let target = if i == 0 { format!("/xl/worksheets/sheet{n}.xml") } else { format!("worksheets/sheet{n}.xml") };
        rels.push_str(&format!(
            r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="{target}"/>"#
        ));
        parts.push((format!("xl/worksheets/sheet{n}.xml"), sheet_xml(data)));
    }
    if let Some(sst) = shared {
        rels.push_str(r#"<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"#);
        parts.push(("xl/sharedStrings.xml".into(), sst.to_string()));
    }
    book.push_str("</sheets></workbook>");
    rels.push_str("</Relationships>");
    parts.push(("xl/workbook.xml".into(), book));
    parts.push(("xl/_rels/workbook.xml.rels".into(), rels));
    parts
}

pub fn sheet_xml(data: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData>{data}</sheetData></worksheet>"#
    )
}

/// A one-sheet workbook whose sheet has the given `<mergeCell ref>`s after its data.
pub fn xlsx_merged(data: &str, merges: &[&str], method: CompressionMethod) -> Vec<u8> {
    let cells: String = merges.iter().map(|r| format!(r#"<mergeCell ref="{r}"/>"#)).collect();
    let xml = sheet_xml(data).replace("</sheetData>", &format!("</sheetData><mergeCells>{cells}</mergeCells>"));
    let mut parts = workbook_parts(&[("S", "")], None);
    if let Some(part) = parts.iter_mut().find(|(n, _)| n == "xl/worksheets/sheet1.xml") {
        part.1 = xml;
    }
    let refs: Vec<(&str, &str)> = parts.iter().map(|(n, b)| (n.as_str(), b.as_str())).collect();
    zip_parts(&refs, method)
}

pub fn xlsx(sheets: &[(&str, &str)], shared: Option<&str>) -> Vec<u8> {
    xlsx_with(sheets, shared, CompressionMethod::Deflated)
}

pub fn xlsx_with(sheets: &[(&str, &str)], shared: Option<&str>, method: CompressionMethod) -> Vec<u8> {
    let parts = workbook_parts(sheets, shared);
    let refs: Vec<(&str, &str)> = parts.iter().map(|(n, b)| (n.as_str(), b.as_str())).collect();
    zip_parts(&refs, method)
}

/// Every record as (row, texts).
pub fn texts(reader: Reader) -> Vec<(u32, Vec<String>)> {
    reader
        .map(|r| {
            let Record { row, cells } = r.expect("record");
            (row, cells.into_iter().map(|c| c.text).collect())
        })
        .collect()
}

pub fn read_bytes(bytes: &[u8]) -> Vec<(u32, Vec<String>)> {
    texts(Reader::from_bytes(bytes.to_vec(), None, &Limits::default()).expect("open"))
}

pub fn row(row: u32, cells: &[&str]) -> (u32, Vec<String>) {
    (row, cells.iter().map(|c| c.to_string()).collect())
}

/// A path under the system temp dir that no other test uses.
pub fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("sheet-test-{}-{name}", std::process::id()))
}
