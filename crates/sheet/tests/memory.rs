//! Large reads and writes keep peak memory flat. Its own test binary, so that the process peak
//! (VmHWM) measures only this test.
mod common;

use std::io::{BufWriter, Write};

use sheet::{Limits, Reader, StreamingXlsx};

#[cfg(target_os = "linux")]
fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

#[test]
fn large_files_use_bounded_memory() {
    // A streamed export, read back.
    let rows = 60_000u32;
    let path = common::temp_path("big-export.xlsx");
    let mut out = StreamingXlsx::create(&path, "导出", &["学号", "姓名", "身份证号", "班级"]).expect("create");
    for i in 0..rows {
        let id = format!("{i:08}");
        out.row(&[&id, "王小明", "110101200001011234", "三年级（2）班"]).expect("row");
    }
    out.finish().expect("finish");
    let mut count = 0;
    for record in Reader::open(&path, None, &Limits::default()).expect("open") {
        record.expect("record");
        count += 1;
    }
    std::fs::remove_file(&path).ok();
    assert_eq!(count, rows as usize + 1);

    // A 30 MB GBK CSV.
    let path = common::temp_path("big.csv");
    let mut file = BufWriter::new(std::fs::File::create(&path).expect("create"));
    let (header, _, _) = encoding_rs::GBK.encode("学号,姓名,班级\r\n");
    file.write_all(&header).expect("write");
    let (line, _, _) = encoding_rs::GBK.encode("20240001,\"张三\r\n丰\",三年级（2）班\r\n");
    let lines = 30_000_000 / line.len();
    for _ in 0..lines {
        file.write_all(&line).expect("write");
    }
    file.flush().expect("flush");
    drop(file);
    let reader = Reader::open(&path, None, &Limits::default()).expect("open");
    assert_eq!(reader.encoding(), "GB18030");
    let mut last_row = 0;
    for record in reader {
        last_row = record.expect("record").row;
    }
    std::fs::remove_file(&path).ok();
    assert_eq!(last_row as usize, lines + 1);

    #[cfg(target_os = "linux")]
    assert!(peak_rss_mb() < 24, "peak RSS {} MB", peak_rss_mb());
}
