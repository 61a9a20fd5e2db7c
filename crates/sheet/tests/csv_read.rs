mod common;

use common::{read_bytes, row, temp_path, texts};
use sheet::{Limits, Reader, SheetError};

fn open(bytes: &[u8]) -> Reader {
    Reader::from_bytes(bytes.to_vec(), Some("ignored"), &Limits::default()).expect("open csv")
}

#[test]
fn utf8_with_row_numbers_and_no_numeric_cells() {
    let mut reader = open("姓名,学号,手机\n张三,0012,13800138000\n".as_bytes());
    assert_eq!(reader.encoding(), "UTF-8");
    assert_eq!(reader.sheet_name(), "");
    let header = reader.next().expect("header").expect("ok");
    assert_eq!(header.row, 1);
    let data = reader.next().expect("data").expect("ok");
    assert_eq!(data.row, 2);
    assert_eq!(data.cells[1].text, "0012");
    assert!(data.cells.iter().all(|c| !c.numeric));
    assert!(reader.next().is_none());
}

#[test]
fn utf8_bom_is_stripped() {
    let reader = open(b"\xEF\xBB\xBFname,code\r\nA,1\r\n");
    assert_eq!(reader.encoding(), "UTF-8 BOM");
    assert_eq!(texts(reader), vec![row(1, &["name", "code"]), row(2, &["A", "1"])]);
}

#[test]
fn gbk_bytes_decode_as_gb18030() {
    let (bytes, _, _) = encoding_rs::GBK.encode("姓名,班级\r\n李四,三年级（2）班\r\n");
    let reader = open(&bytes);
    assert_eq!(reader.encoding(), "GB18030");
    assert_eq!(texts(reader), vec![row(1, &["姓名", "班级"]), row(2, &["李四", "三年级（2）班"])]);
}

#[test]
fn utf16le_with_bom_as_excel_unicode_text() {
    let text = "姓名\t学号\r\n王五\t007\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let reader = open(&bytes);
    assert_eq!(reader.encoding(), "UTF-16LE");
    assert_eq!(texts(reader), vec![row(1, &["姓名", "学号"]), row(2, &["王五", "007"])]);
}

#[test]
fn tab_and_semicolon_delimiters() {
    assert_eq!(read_bytes(b"a\tb\tc,d\n1\t2,3\n"), vec![row(1, &["a", "b", "c,d"]), row(2, &["1", "2,3"])]);
    assert_eq!(read_bytes(b"a;b\n1;2\n"), vec![row(1, &["a", "b"]), row(2, &["1", "2"])]);
}

#[test]
fn quoted_fields_with_newlines_and_escaped_quotes() {
    let csv = "name,note\r\n\"Zhang, San\",\"line 1\r\nline \"\"2\"\"\"\r\nLi,plain\r\n";
    assert_eq!(
        read_bytes(csv.as_bytes()),
        vec![row(1, &["name", "note"]), row(2, &["Zhang, San", "line 1\r\nline \"2\""]), row(3, &["Li", "plain"])]
    );
}

#[test]
fn lenient_quotes_like_excel() {
    // A quote inside an unquoted field is literal; text after a closing quote is kept.
    assert_eq!(read_bytes(b"5\"3,\"ab\"cd\n"), vec![row(1, &["5\"3", "abcd"])]);
}

#[test]
fn blank_lines_count_as_rows_but_are_skipped() {
    let csv = b"h1,h2\n\nx,y\n,,\n  ,\nz\n\n\n";
    assert_eq!(read_bytes(csv), vec![row(1, &["h1", "h2"]), row(3, &["x", "y"]), row(6, &["z"])]);
}

#[test]
fn crlf_lf_and_lone_cr_all_end_lines() {
    assert_eq!(read_bytes(b"a\r\nb\nc\rd"), vec![row(1, &["a"]), row(2, &["b"]), row(3, &["c"]), row(4, &["d"])]);
}

#[test]
fn gaps_kept_and_trailing_empty_cells_trimmed() {
    assert_eq!(read_bytes(b"a,,c,,\n"), vec![row(1, &["a", "", "c"])]);
}

#[test]
fn unterminated_quote_is_an_error_with_the_row() {
    let mut reader = open(b"a,b\nc,\"never closed\nmore\n");
    assert!(reader.next().expect("first").is_ok());
    match reader.next() {
        Some(Err(SheetError::Malformed { row: Some(2), detail })) => assert!(detail.contains("line 2"), "{detail}"),
        other => panic!("expected Malformed at row 2, got {other:?}"),
    }
    assert!(reader.next().is_none());
}

#[test]
fn limits_cap_columns_and_cell_length() {
    let limits = Limits { max_columns: 2, max_cell_chars: 3, ..Limits::default() };
    let mut reader = Reader::from_bytes("一二三四五,ab,ignored\nx,y\n".as_bytes().to_vec(), None, &limits).expect("open");
    let first = reader.next().expect("row").expect("ok");
    assert_eq!(first.cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), ["一二三", "ab"]);
    assert_eq!(reader.truncated_cells(), 1);
    assert!(reader.next().expect("row").is_ok());
    assert_eq!(reader.truncated_cells(), 1);
}

/// `prefix`, then lines of `unit`, one of them padded with ASCII so that the 64 KiB sniff window
/// ends right after the first byte of a multibyte char (every unit starts with one).
fn split_at_window(prefix: &[u8], unit: &[u8], lines: usize) -> Vec<u8> {
    const WINDOW: usize = 64 * 1024;
    let mut bytes = prefix.to_vec();
    while bytes.len() + 2 * unit.len() < WINDOW {
        bytes.extend_from_slice(unit);
    }
    bytes.extend(std::iter::repeat_n(b'x', WINDOW - 1 - bytes.len()));
    for _ in 0..lines {
        bytes.extend_from_slice(unit);
    }
    bytes
}

#[test]
fn gbk_file_larger_than_the_sniff_window() {
    let (prefix, _, _) = encoding_rs::GBK.encode("姓名,班级\n");
    let (unit, _, _) = encoding_rs::GBK.encode("张三丰,一班\n");
    let bytes = split_at_window(&prefix, &unit, 20_000);
    assert_eq!(bytes[64 * 1024 - 1], unit[0]);
    let expected_records = bytes.iter().filter(|&&b| b == b'\n').count();
    let mut reader = open(&bytes);
    assert_eq!(reader.encoding(), "GB18030");
    let mut count = 0;
    for record in reader.by_ref() {
        let record = record.expect("record");
        count += 1;
        if record.row > 1 {
            assert!(record.cells[0].text.ends_with("张三丰"), "row {}: {:?}", record.row, record.cells);
            assert_eq!(record.cells[1].text, "一班");
        }
    }
    assert_eq!(count, expected_records);
    assert_eq!(reader.progress(), (bytes.len() as u64, bytes.len() as u64));
}

#[test]
fn utf8_file_with_a_char_cut_by_the_sniff_window() {
    let unit = "张三丰,一班\n".as_bytes();
    let bytes = split_at_window("姓名,班级\n".as_bytes(), unit, 10_000);
    assert!(std::str::from_utf8(&bytes[..64 * 1024]).is_err());
    let reader = open(&bytes);
    assert_eq!(reader.encoding(), "UTF-8");
    let records = texts(reader);
    assert!(records.iter().skip(1).all(|(_, cells)| cells[0].ends_with("张三丰") && cells[1] == "一班"));
}

#[test]
fn open_reads_a_file_and_reports_progress() {
    let path = temp_path("roster.csv");
    let body = "学号,姓名\n".to_string() + &"20240001,张三\n".repeat(10_000);
    std::fs::write(&path, &body).expect("write");
    let mut reader = Reader::open(&path, None, &Limits::default()).expect("open");
    let total = body.len() as u64;
    let mut last = reader.progress();
    assert_eq!(last.1, total);
    let mut rows = 0;
    while let Some(record) = reader.next() {
        record.expect("record");
        rows += 1;
        let now = reader.progress();
        assert!(now.0 >= last.0 && now.0 <= total);
        last = now;
    }
    assert_eq!(rows, 10_001);
    assert_eq!(reader.progress(), (total, total));
    assert!(sheet::sheet_names(&path, &Limits::default()).expect("names").is_empty());
    std::fs::remove_file(&path).ok();
}

#[test]
fn binary_formats_are_refused_not_read_as_csv() {
    let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
    assert!(matches!(Reader::from_bytes(ole.to_vec(), None, &Limits::default()), Err(SheetError::NotXlsx(_))));
    let path = temp_path("not-really.xlsx");
    std::fs::write(&path, "a,b\n").expect("write");
    assert!(matches!(Reader::open(&path, None, &Limits::default()), Err(SheetError::NotXlsx(_))));
    std::fs::remove_file(&path).ok();
}

#[test]
fn empty_input_has_no_records() {
    assert!(read_bytes(b"").is_empty());
    assert!(read_bytes(b"\n\r\n").is_empty());
}
