//! Property-style check without extra dependencies: thousands of mutated inputs must produce
//! records or errors, never a panic or a hang.
mod common;

use sheet::{Limits, Reader};
use zip::CompressionMethod;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let sheet = r#"<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><v>1.5</v></c><c t="inlineStr"><is><r><t>x&amp;y</t></r><rPh><t>z</t></rPh></is></c></row><row><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c></row>"#;
    let merged = common::sheet_xml(sheet)
        .replace("</sheetData>", r#"</sheetData><mergeCells><mergeCell ref="A2:B3"/><mergeCell ref="C1:C9"/></mergeCells>"#);
    let mut parts = common::workbook_parts(&[("S", ""), ("T", sheet)], Some("<sst><si><t>a_x000D_</t></si><si/></sst>"));
    parts.iter_mut().find(|(n, _)| n == "xl/worksheets/sheet1.xml").expect("sheet").1 = merged;
    let refs: Vec<(&str, &str)> = parts.iter().map(|(n, b)| (n.as_str(), b.as_str())).collect();
    let (gbk, _, _) = encoding_rs::GBK.encode("姓名,班级\r\n\"李\"\"四\",一班\r\n");
    vec![
        common::zip_parts(&refs, CompressionMethod::Stored),
        common::zip_parts(&refs, CompressionMethod::Deflated),
        "学号\t姓名\n\"0012\"\t\"张\n三\"\n".as_bytes().to_vec(),
        b"\xEF\xBB\xBFa;b;c\r\n1;2;3\r\n".to_vec(),
        gbk.into_owned(),
        b"\xFF\xFEa\x00,\x00b\x00".to_vec(),
    ]
}

/// `in_place` keeps the length and offsets, so a zip still opens and the damage reaches the XML.
fn mutate(rng: &mut Rng, seed: &[u8], in_place: bool) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        match rng.below(if in_place { 2 } else { 6 }) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = rng.next() as u8;
            }
            1 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            2 => {
                let i = rng.below(data.len() + 1);
                data.insert(i, *b"<>\"&;,\n\r\t/=_x0".get(rng.below(16)).unwrap_or(&0));
            }
            3 if !data.is_empty() => {
                let i = rng.below(data.len());
                let len = rng.below(data.len() - i + 1);
                data.drain(i..i + len.min(64));
            }
            4 if !data.is_empty() => {
                data.truncate(rng.below(data.len()));
            }
            _ => {
                // Copy a slice elsewhere, as fuzzers splice.
                if data.len() > 2 {
                    let from = rng.below(data.len() - 1);
                    let len = rng.below((data.len() - from).min(128));
                    let chunk = data[from..from + len].to_vec();
                    let at = rng.below(data.len());
                    data.splice(at..at, chunk);
                }
            }
        }
    }
    data
}

#[test]
fn mutated_inputs_never_panic() {
    let seeds = seeds();
    let limits = Limits {
        max_inflated_bytes: 4 << 20,
        max_shared_strings_bytes: 1 << 20,
        max_columns: 50,
        max_cell_chars: 100,
        max_merged_ranges: 100,
        ..Limits::default()
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut records, mut errors, mut xlsx_opened) = (0usize, 0usize, 0usize);
    for i in 0..4000 {
        let input = match i % 10 {
            // Pure noise, sometimes dressed as a zip.
            0 => {
                let mut noise: Vec<u8> = (0..rng.below(600)).map(|_| rng.next() as u8).collect();
                if rng.below(2) == 0 {
                    noise.splice(0..0, *b"PK\x03\x04");
                }
                noise
            }
            _ => {
                let seed = &seeds[rng.below(seeds.len())];
                let in_place = seed.starts_with(b"PK") && rng.below(3) > 0;
                mutate(&mut rng, seed, in_place)
            }
        };
        let sheet = if rng.below(4) == 0 { Some("T") } else { None };
        match Reader::from_bytes(input, sheet, &limits) {
            Ok(reader) => {
                if reader.encoding() == "XLSX" {
                    xlsx_opened += 1;
                }
                for item in reader {
                    match item {
                        Ok(record) => {
                            assert!(record.cells.len() <= limits.max_columns);
                            assert!(record.cells.iter().all(|c| c.text.chars().count() <= limits.max_cell_chars));
                            records += 1;
                        }
                        Err(_) => errors += 1,
                    }
                }
            }
            Err(_) => errors += 1,
        }
    }
    // Every path was exercised, including mutated workbooks that still open.
    assert!(records > 1000 && errors > 100 && xlsx_opened > 150, "records {records}, errors {errors}, xlsx {xlsx_opened}");
}
