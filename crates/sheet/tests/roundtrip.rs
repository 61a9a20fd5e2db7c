//! Everything a writer produces must read back unchanged.
mod common;

use common::{row, temp_path, texts};
use sheet::{ColumnSpec, CsvWriter, Limits, Reader, SheetError, StreamingXlsx, Workbook};

const TRICKY: [&str; 6] = ["0012", "110101200001011234", "13800138000", "张三·阿卜杜拉", "a<b>&\"c\"", "两行\n文本"];

#[test]
fn workbook_round_trip_with_several_sheets() {
    let mut book = Workbook::new();
    let columns = [
        ColumnSpec { header: "学号", note: Some("8 位数字，保留前导 0"), width: 12.0 },
        ColumnSpec { header: "身份证号", note: None, width: 22.0 },
        ColumnSpec { header: "手机", note: Some("11 位"), width: 14.0 },
        ColumnSpec { header: "姓名", note: None, width: 10.0 },
        ColumnSpec { header: "备注", note: None, width: 20.0 },
        ColumnSpec { header: "地址", note: None, width: 20.0 },
    ];
    let students = book.sheet("学生", &columns).expect("sheet");
    let errors = book.sheet("错误", &[ColumnSpec { header: "行", note: None, width: 6.0 }]).expect("sheet");
    book.row(students, &TRICKY, &[]).expect("row");
    book.row(students, &["", "", "", "李四"], &[(0, "学号必填"), (6, "多余"), (0, "再说一次")]).expect("row");
    book.row(errors, &["3"], &[]).expect("row");
    assert!(matches!(book.sheet("学生", &columns), Err(SheetError::Malformed { .. })));
    let bytes = book.to_bytes().expect("to_bytes");

    let reader = Reader::from_bytes(bytes.clone(), Some("学生"), &Limits::default()).expect("open");
    let records: Vec<_> = reader.map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[0].cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
        ["学号", "身份证号", "手机", "姓名", "备注", "地址"]
    );
    assert_eq!(records[1].row, 2);
    assert_eq!(records[1].cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), TRICKY);
    assert!(records[1].cells.iter().all(|c| !c.numeric));
    assert_eq!(records[2].cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), ["", "", "", "李四"]);

    assert_eq!(
        texts(Reader::from_bytes(bytes.clone(), Some("错误"), &Limits::default()).expect("open")),
        vec![row(1, &["行"]), row(2, &["3"])]
    );
    let path = temp_path("book.xlsx");
    std::fs::write(&path, &bytes).expect("write");
    assert_eq!(sheet::sheet_names(&path, &Limits::default()).expect("names"), ["学生", "错误"]);
    std::fs::remove_file(&path).ok();
}

#[test]
fn streaming_xlsx_round_trip() {
    let path = temp_path("export.xlsx");
    let mut out = StreamingXlsx::create(&path, "导出", &["学号", "姓名", "手机", "班级"]).expect("create");
    for i in 0..5000u32 {
        let id = format!("{i:08}");
        out.row(&[&id, "王小明", "13800138000", if i % 2 == 0 { "一班" } else { "" }]).expect("row");
    }
    out.row(&TRICKY).expect("row");
    out.finish().expect("finish");

    let mut reader = Reader::open(&path, Some("导出"), &Limits::default()).expect("open");
    let header = reader.next().expect("header").expect("ok");
    assert_eq!(header.cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), ["学号", "姓名", "手机", "班级"]);
    let mut count = 0u32;
    let mut last = None;
    for record in reader.by_ref() {
        let record = record.expect("record");
        count += 1;
        assert_eq!(record.row, count + 1);
        assert!(record.cells.iter().all(|c| !c.numeric));
        if count == 1 {
            assert_eq!(record.cells[0].text, "00000000");
            assert_eq!(record.cells[3].text, "一班");
        }
        if count == 2 {
            assert_eq!(record.cells.len(), 3);
        }
        last = Some(record);
    }
    assert_eq!(count, 5001);
    let last = last.expect("rows");
    assert_eq!(last.cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), TRICKY);
    let (done, total) = reader.progress();
    assert_eq!(done, total);
    std::fs::remove_file(&path).ok();
}

#[test]
fn csv_writer_round_trip() {
    let mut out = CsvWriter::new(Vec::new(), &["学号", "姓名", "备注"]).expect("new");
    out.row(&TRICKY).expect("row");
    out.row(&["1", "", "a,b"]).expect("row");
    let bytes = out.finish().expect("finish");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF\xE5\xAD\xA6"));
    assert!(bytes.windows(2).filter(|w| w == b"\r\n").count() >= 3);
    assert!(String::from_utf8_lossy(&bytes).contains("\"a<b>&\"\"c\"\"\""));
    let reader = Reader::from_bytes(bytes, None, &Limits::default()).expect("open");
    assert_eq!(reader.encoding(), "UTF-8 BOM");
    assert_eq!(texts(reader), vec![row(1, &["学号", "姓名", "备注"]), row(2, &TRICKY), row(3, &["1", "", "a,b"])]);
}

#[test]
fn writers_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Workbook>();
    assert_send::<StreamingXlsx>();
    assert_send::<CsvWriter<std::fs::File>>();
}

/// Regenerates the fuzz seed corpus: `cargo test -p sheet --test roundtrip -- --ignored`.
#[test]
#[ignore = "writes files into fuzz/corpus"]
fn write_fuzz_seeds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let csv_dir = root.join("csv_reader");
    let xlsx_dir = root.join("xlsx_reader");
    std::fs::create_dir_all(&csv_dir).expect("mkdir");
    std::fs::create_dir_all(&xlsx_dir).expect("mkdir");

    let mut csv = CsvWriter::new(Vec::new(), &["学号", "姓名"]).expect("csv");
    csv.row(&["0012", "张\"三\"\n二行"]).expect("row");
    std::fs::write(csv_dir.join("utf8_bom.csv"), csv.finish().expect("finish")).expect("write");
    let (gbk, _, _) = encoding_rs::GBK.encode("姓名\t班级\r\n李四\t一班\r\n\r\n");
    std::fs::write(csv_dir.join("gbk_tab.csv"), gbk).expect("write");
    std::fs::write(csv_dir.join("quoted.csv"), "a;b\n\"x;\"\"y\";z\r\n\"open").expect("write");

    let mut book = Workbook::new();
    let s = book.sheet("S", &[ColumnSpec { header: "学号", note: Some("n"), width: 8.0 }]).expect("sheet");
    book.row(s, &["0012"], &[(0, "bad")]).expect("row");
    std::fs::write(xlsx_dir.join("workbook.xlsx"), book.to_bytes().expect("bytes")).expect("write");
    let merged = common::sheet_xml(r#"<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><v>1.5</v></c><c t="inlineStr"><is><r><t>x</t></r><rPh><t>y</t></rPh></is></c></row><row><c t="b"><v>1</v></c></row>"#)
        .replace("</sheetData>", r#"</sheetData><mergeCells><mergeCell ref="A2:A3"/></mergeCells>"#);
    let mut parts = common::workbook_parts(&[("S", "")], Some("<sst><si><t>a_x000D_</t></si></sst>"));
    parts.iter_mut().find(|(n, _)| n == "xl/worksheets/sheet1.xml").expect("sheet").1 = merged;
    let refs: Vec<(&str, &str)> = parts.iter().map(|(n, b)| (n.as_str(), b.as_str())).collect();
    // Stored, so that the fuzzer's byte mutations reach the XML.
    std::fs::write(xlsx_dir.join("stored_merged.xlsx"), common::zip_parts(&refs, zip::CompressionMethod::Stored)).expect("write");
}
