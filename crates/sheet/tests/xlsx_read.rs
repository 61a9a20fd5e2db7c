mod common;

use common::{read_bytes, row, texts, xlsx, xlsx_merged, zip_parts};
use sheet::{Cell, Format, Limits, Reader, SheetError, detect};
use zip::CompressionMethod;

fn open(bytes: Vec<u8>, sheet: Option<&str>) -> Reader {
    Reader::from_bytes(bytes, sheet, &Limits::default()).expect("open xlsx")
}

fn text(t: &str) -> Cell {
    Cell { text: t.into(), numeric: false }
}

fn number(t: &str) -> Cell {
    Cell { text: t.into(), numeric: true }
}

const SST: &str = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4"><si><t>姓名</t></si><si><r><rPr><b/></rPr><t xml:space="preserve">班 </t></r><r><t>级</t></r><rPh sb="0" eb="1"><t>ばん</t></rPh></si><si><t>a&amp;b_x000D_c</t></si><si/></sst>"#;

#[test]
fn detects_zip_magic() {
    assert_eq!(detect(b"PK\x03\x04rest"), Format::Xlsx);
    assert_eq!(detect(b"name,code"), Format::Csv);
    assert_eq!(detect(b""), Format::Csv);
}

#[test]
fn cell_types_and_numeric_flag() {
    let data = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>
<row r="2"><c r="A2"><v>1.2345678901234568E+17</v></c><c r="B2" t="n"><v>13800138000</v></c><c r="C2" t="inlineStr"><is><t>0012</t></is></c><c r="D2" t="str"><f>A1</f><v>公式</v></c><c r="E2" t="b"><v>1</v></c><c r="F2" t="e"><v>#N/A</v></c><c r="G2" s="3"><v>45292</v></c></row>"#;
    let mut reader = open(xlsx(&[("Sheet1", data)], Some(SST)), None);
    assert_eq!(reader.encoding(), "XLSX");
    assert_eq!(reader.sheet_name(), "Sheet1");
    let header = reader.next().expect("row 1").expect("ok");
    // Rich runs concatenated, phonetic run dropped, entity and _x000D_ decoded; empty <si/> is blank.
    assert_eq!(header.cells, vec![text("姓名"), text("班 级"), text("a&b\rc")]);
    let data = reader.next().expect("row 2").expect("ok");
    assert_eq!(
        data.cells,
        vec![
            number("1.2345678901234568E+17"),
            number("13800138000"),
            text("0012"),
            text("公式"),
            text("TRUE"),
            text("#N/A"),
            number("45292"),
        ]
    );
    assert!(reader.next().is_none());
    assert_eq!(reader.progress().0, reader.progress().1);
}

#[test]
fn header_not_on_row_one_gaps_and_trailing_empty_rows() {
    let data = r#"<row r="3"><c r="B3" t="inlineStr"><is><t>学号</t></is></c><c r="D3" t="inlineStr"><is><t>姓名</t></is></c></row>
<row r="4" spans="1:4"><c r="B4" t="inlineStr"><is><t>001</t></is></c><c r="C4" s="1"/><c r="D4" t="inlineStr"><is><t>张三</t></is></c><c r="E4" s="2"/></row>
<row r="5"><c r="A5" s="1"/></row><row r="6"/><row r="9"><c r="A9" t="inlineStr"><is><t> </t></is></c></row>"#;
    assert_eq!(
        read_bytes(&xlsx(&[("名单", data)], None)),
        vec![row(3, &["", "学号", "", "姓名"]), row(4, &["", "001", "", "张三"])]
    );
}

#[test]
fn missing_references_count_positions() {
    let data = r#"<row><c t="inlineStr"><is><t>a</t></is></c><c t="inlineStr"><is><t>b</t></is></c></row><row><c r="C2"><v>1</v></c><c><v>2</v></c></row><row r="7"><c><v>3</v></c></row><row><c><v>4</v></c></row>"#;
    assert_eq!(
        read_bytes(&xlsx(&[("S", data)], None)),
        vec![row(1, &["a", "b"]), row(2, &["", "", "1", "2"]), row(7, &["3"]), row(8, &["4"])]
    );
}

#[test]
fn merged_cells_are_filled_from_their_top_left() {
    let sheet = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>班级</t></is></c><c r="B1" t="inlineStr"><is><t>学生</t></is></c></row>
<row r="2"><c r="B2" t="inlineStr"><is><t>姓名</t></is></c><c r="C2" t="inlineStr"><is><t>学号</t></is></c></row>
<row r="3"><c r="A3" t="inlineStr"><is><t>一班</t></is></c><c r="B3" t="inlineStr"><is><t>张三</t></is></c><c r="C3"><v>1</v></c></row>
<row r="4"><c r="B4" t="inlineStr"><is><t>李四</t></is></c><c r="C4"><v>2</v></c></row>
<row r="5"><c r="B5" t="inlineStr"><is><t>王五</t></is></c><c r="C5"><v>3</v></c></row>
<row r="6"><c r="A6" t="inlineStr"><is><t>二班</t></is></c><c r="B6" t="inlineStr"><is><t>赵六</t></is></c></row>"#;
    let reader = open(xlsx_merged(sheet, &["A1:A2", "B1:C1", "A3:A5"], CompressionMethod::Deflated), None);
    let records = texts(reader);
    assert_eq!(
        records,
        vec![
            row(1, &["班级", "学生", "学生"]),
            row(2, &["班级", "姓名", "学号"]),
            row(3, &["一班", "张三", "1"]),
            row(4, &["一班", "李四", "2"]),
            row(5, &["一班", "王五", "3"]),
            row(6, &["二班", "赵六"]),
        ]
    );
}

#[test]
fn too_many_merged_ranges_are_refused() {
    let merges: Vec<String> = (1..=20).map(|i| format!("A{i}:B{i}")).collect();
    let refs: Vec<&str> = merges.iter().map(String::as_str).collect();
    let bytes = xlsx_merged("", &refs, CompressionMethod::Deflated);
    let limits = Limits { max_merged_ranges: 10, ..Limits::default() };
    let err = Reader::from_bytes(bytes, None, &limits).unwrap_err();
    assert!(matches!(err, SheetError::TooLarge { limit: "max_merged_ranges" }), "{err:?}");
}

#[test]
fn overlapping_merges_are_ignored() {
    // Excel refuses overlapping merges; here the later one is dropped, however many there are.
    let data = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="D1" t="inlineStr"><is><t>d</t></is></c></row><row r="2"><c r="B2" t="inlineStr"><is><t>b</t></is></c></row><row r="3"><c r="E3"><v>5</v></c></row>"#;
    let mut merges = vec!["A1:C2", "B2:D3"];
    merges.extend(std::iter::repeat_n("A1:XFD1048576", 5000));
    merges.push("D1:D1");
    let records = texts(open(xlsx_merged(data, &merges, CompressionMethod::Deflated), None));
    assert_eq!(records, vec![row(1, &["a", "a", "a", "d"]), row(2, &["a", "a", "a"]), row(3, &["", "", "", "", "5"])]);
}

#[test]
fn sheets_are_picked_by_name() {
    let bytes = xlsx(
        &[
            ("说明", r#"<row r="1"><c r="A1" t="inlineStr"><is><t>read me</t></is></c></row>"#),
            ("Students", r#"<row r="1"><c r="A1" t="inlineStr"><is><t>roster</t></is></c></row>"#),
        ],
        None,
    );
    assert_eq!(texts(open(bytes.clone(), None)), vec![row(1, &["read me"])]);
    let exact = open(bytes.clone(), Some("Students"));
    assert_eq!(exact.sheet_name(), "Students");
    assert_eq!(texts(exact), vec![row(1, &["roster"])]);
    assert_eq!(texts(open(bytes.clone(), Some("  students "))), vec![row(1, &["roster"])]);
    match Reader::from_bytes(bytes, Some("成绩"), &Limits::default()) {
        Err(SheetError::SheetNotFound { wanted, available }) => {
            assert_eq!(wanted, "成绩");
            assert_eq!(available, ["说明", "Students"]);
        }
        other => panic!("expected SheetNotFound, got {other:?}"),
    }
}

#[test]
fn sheet_names_in_workbook_order() {
    let path = common::temp_path("names.xlsx");
    std::fs::write(&path, xlsx(&[("B", ""), ("A", ""), ("C", "")], None)).expect("write");
    assert_eq!(sheet::sheet_names(&path, &Limits::default()).expect("names"), ["B", "A", "C"]);
    let reader = Reader::open(&path, Some("C"), &Limits::default()).expect("open");
    assert!(texts(reader).is_empty());
    std::fs::remove_file(&path).ok();
}

#[test]
fn cell_text_is_truncated_and_counted() {
    let data = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>一二三四五</t></is></c><c r="B1" t="s"><v>0</v></c><c r="C1"><v>12</v></c></row>"#;
    let sst = r#"<sst><si><t>abcdef</t></si></sst>"#;
    let limits = Limits { max_cell_chars: 3, max_columns: 2, ..Limits::default() };
    let mut reader = Reader::from_bytes(xlsx(&[("S", data)], Some(sst)), None, &limits).expect("open");
    let record = reader.next().expect("row").expect("ok");
    assert_eq!(record.cells, vec![text("一二三"), text("abc")]);
    assert_eq!(reader.truncated_cells(), 2);
}

#[test]
fn shared_strings_budget_is_enforced() {
    let sst = format!("<sst>{}</sst>", "<si><t>0123456789</t></si>".repeat(1000));
    let limits = Limits { max_shared_strings_bytes: 4096, ..Limits::default() };
    let err = Reader::from_bytes(xlsx(&[("S", "")], Some(&sst)), None, &limits).unwrap_err();
    assert!(matches!(err, SheetError::TooLarge { limit: "max_shared_strings_bytes" }), "{err:?}");
}

#[test]
fn bad_shared_string_index_is_malformed() {
    let data = r#"<row r="4"><c r="A4" t="s"><v>7</v></c></row>"#;
    let mut reader = open(xlsx(&[("S", data)], Some("<sst><si><t>x</t></si></sst>")), None);
    assert!(matches!(reader.next(), Some(Err(SheetError::Malformed { row: Some(4), .. }))));
    assert!(reader.next().is_none());
}

#[test]
fn broken_xml_and_truncated_sheets_are_errors() {
    // The merge pass reads the whole sheet first, so broken XML fails the open.
    let bad = xlsx(&[("S", r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2" t="s"#)], None);
    let err = Reader::from_bytes(bad, None, &Limits::default()).unwrap_err();
    assert!(matches!(err, SheetError::Malformed { .. }), "{err:?}");

    let parts = common::workbook_parts(&[("S", "")], None);
    let refs: Vec<(&str, &str)> = parts
        .iter()
        .map(|(n, b)| {
            let body = if n.contains("sheet1") { r#"<worksheet><sheetData><row r="1"><c><v>1</v></c></row>"# } else { b };
            (n.as_str(), body)
        })
        .collect();
    let mut truncated = open(zip_parts(&refs, CompressionMethod::Deflated), None);
    assert!(truncated.next().expect("row 1").is_ok());
    assert!(matches!(truncated.next(), Some(Err(SheetError::Malformed { .. }))));
}

#[test]
fn garbage_and_truncated_zips_are_errors_not_panics() {
    let good = xlsx(&[("S", r#"<row r="1"><c r="A1"><v>1</v></c></row>"#)], Some(SST));
    for cut in [4, 30, good.len() / 2, good.len() - 10, good.len() - 1] {
        let result = Reader::from_bytes(good[..cut].to_vec(), None, &Limits::default());
        assert!(matches!(result, Err(SheetError::NotXlsx(_))), "cut at {cut}: {result:?}");
    }
    let mut garbage = b"PK\x03\x04".to_vec();
    garbage.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    assert!(matches!(Reader::from_bytes(garbage, None, &Limits::default()), Err(SheetError::NotXlsx(_))));
    // A zip that is not a workbook (a .docx, say).
    let docx = zip_parts(&[("word/document.xml", "<w:document/>")], CompressionMethod::Deflated);
    assert!(matches!(Reader::from_bytes(docx, None, &Limits::default()), Err(SheetError::NotXlsx(_))));
}

#[test]
fn reader_moves_into_background_tasks() {
    fn assert_send_static<T: Send + 'static>() {}
    assert_send_static::<Reader>();
    assert_send_static::<SheetError>();
}
