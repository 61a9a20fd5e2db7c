#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Zip input belongs to the other target.
    if !data.starts_with(b"PK\x03\x04") {
        common::read_all(data, None);
    }
});
