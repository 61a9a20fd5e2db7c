//! Zip bombs: ~500 KB files that inflate to ~500 MB must be refused with little memory. Kept in
//! their own test binary so the peak-RSS check measures only them.
mod common;

use flate2::{Compress, Compression, FlushCompress};
use sheet::{Limits, Reader, SheetError};

/// One fully flushed deflate segment refers to nothing before it, so repeating its bytes yields a
/// valid raw deflate stream that inflates to `unit` repeated: a 500 MB inflation for a 500 KB
/// input without the test ever holding or compressing 500 MB.
fn deflate_repeated(head: &[u8], unit: &[u8], copies: usize, tail: &[u8]) -> Vec<u8> {
    fn segment(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 1024);
        Compress::new(Compression::best(), false).compress_vec(data, &mut out, FlushCompress::Full).expect("deflate");
        out
    }
    let unit = segment(unit);
    let mut out = segment(head);
    for _ in 0..copies {
        out.extend_from_slice(&unit);
    }
    out.extend_from_slice(&segment(tail));
    // An empty final block (fixed Huffman, end-of-block only).
    out.extend_from_slice(&[0x03, 0x00]);
    out
}

struct Part {
    name: String,
    data: Vec<u8>,
    deflated: bool,
    declared_size: u32,
}

/// A zip container written by hand, so that declared sizes can lie. CRCs are left 0: nothing on
/// the read path checks them before the limits apply.
fn container(parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for part in parts {
        let offset = out.len() as u32;
        let method: u16 = if part.deflated { 8 } else { 0 };
        let name = part.name.as_bytes();
        let fields = |buf: &mut Vec<u8>| {
            buf.extend_from_slice(&20u16.to_le_bytes()); // version needed
            buf.extend_from_slice(&0u16.to_le_bytes()); // flags
            buf.extend_from_slice(&method.to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes()); // time
            buf.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
            buf.extend_from_slice(&0u32.to_le_bytes()); // crc
            buf.extend_from_slice(&(part.data.len() as u32).to_le_bytes());
            buf.extend_from_slice(&part.declared_size.to_le_bytes());
            buf.extend_from_slice(&(name.len() as u16).to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        fields(&mut out);
        out.extend_from_slice(name);
        out.extend_from_slice(&part.data);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        fields(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// An empty cell: tiny, valid inside a row, and repetitive enough for deflate's ~1000:1 best.
const CELL: &[u8] = b"<c/>";

/// A workbook whose `bomb_part` is `megabytes` KB deflating to that many MB; `honest` decides
/// whether the archive declares that size or claims the part is as small as its compressed data.
fn bomb(bomb_part: &str, honest: bool, megabytes: usize) -> Vec<u8> {
    let unit = CELL.repeat((1 << 20) / CELL.len());
    let (head, tail): (&[u8], &[u8]) = if bomb_part.contains("shared") {
        (b"<sst>", b"</sst>")
    } else {
        (
            br#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row>"#,
            b"</row></sheetData></worksheet>",
        )
    };
    let data = deflate_repeated(head, &unit, megabytes, tail);
    let inflated = head.len() + unit.len() * megabytes + tail.len();
    assert!(data.len() < megabytes * 1100, "bomb is {} bytes", data.len());

    let mut parts: Vec<Part> = common::workbook_parts(&[("S", "")], Some("<sst/>"))
        .into_iter()
        .filter(|(name, _)| name != bomb_part)
        .map(|(name, body)| Part { declared_size: body.len() as u32, data: body.into_bytes(), name, deflated: false })
        .collect();
    let declared_size = if honest { inflated as u32 } else { data.len() as u32 };
    parts.push(Part { name: bomb_part.to_string(), data, deflated: true, declared_size });
    container(&parts)
}

fn refusal(bytes: Vec<u8>) -> &'static str {
    match Reader::from_bytes(bytes, None, &Limits::default()).and_then(|r| r.collect::<Result<Vec<_>, _>>()) {
        Err(SheetError::TooLarge { limit }) => limit,
        other => panic!("expected TooLarge, got {:?}", other.map(|rows| rows.len())),
    }
}

#[test]
fn bombs_are_refused_with_bounded_memory() {
    // Declared sizes give an honest bomb away before a byte is inflated.
    assert_eq!(refusal(bomb("xl/worksheets/sheet1.xml", true, 500)), "max_ratio");
    // A lying archive is caught by counting what actually comes out: a 500 KB one after 50 MB.
    // Smaller ones here keep the unoptimised test build quick; the mechanism is the same.
    assert_eq!(refusal(bomb("xl/worksheets/sheet1.xml", false, 20)), "max_ratio");
    assert_eq!(refusal(bomb("xl/sharedStrings.xml", false, 20)), "max_ratio");
    // With no ratio cap, the total budget stops it.
    let limits = Limits { max_ratio: u64::MAX, max_inflated_bytes: 4 << 20, ..Limits::default() };
    let result = Reader::from_bytes(bomb("xl/worksheets/sheet1.xml", false, 20), None, &limits).and_then(|r| r.count_ok());
    assert!(matches!(result, Err(SheetError::TooLarge { limit: "max_inflated_bytes" })), "{result:?}");

    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let peak_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        assert!(peak_kb < 64 * 1024, "peak RSS {peak_kb} kB");
    }
}

trait CountOk {
    fn count_ok(self) -> Result<usize, SheetError>;
}

impl CountOk for Reader {
    fn count_ok(self) -> Result<usize, SheetError> {
        let mut n = 0;
        for record in self {
            record?;
            n += 1;
        }
        Ok(n)
    }
}
