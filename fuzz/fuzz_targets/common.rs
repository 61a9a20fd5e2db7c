// Shared by both targets: small limits so a run spends its time on parsing, not on big inputs,
// and the invariants every record must keep.
use sheet::{Limits, Reader};

pub const LIMITS: Limits = Limits {
    max_inflated_bytes: 8 << 20,
    max_ratio: 100,
    max_shared_strings_bytes: 1 << 20,
    max_columns: 64,
    max_cell_chars: 256,
    max_merged_ranges: 1000,
};

pub fn read_all(data: &[u8], sheet: Option<&str>) {
    let Ok(mut reader) = Reader::from_bytes(data.to_vec(), sheet, &LIMITS) else { return };
    let mut seen = reader.progress();
    while let Some(item) = reader.next() {
        let progress = reader.progress();
        assert!(progress.0 >= seen.0 && progress.0 <= progress.1, "progress went {seen:?} -> {progress:?}");
        seen = progress;
        let Ok(record) = item else { continue };
        assert!(record.row > 0);
        assert!(!record.cells.is_empty() && record.cells.len() <= LIMITS.max_columns);
        assert!(record.cells.iter().all(|c| c.text.chars().count() <= LIMITS.max_cell_chars));
        assert!(!record.cells.last().is_some_and(|c| c.text.trim().is_empty()), "trailing blank cell");
    }
    let (done, total) = reader.progress();
    assert_eq!(done, total, "progress must end at the total");
}
