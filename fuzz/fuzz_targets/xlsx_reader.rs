#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Anything else is read as CSV, which the other target covers.
    if data.starts_with(b"PK\x03\x04") {
        common::read_all(data, None);
        // Sheet selection by name walks the workbook part differently.
        common::read_all(data, Some(" t "));
    }
});
