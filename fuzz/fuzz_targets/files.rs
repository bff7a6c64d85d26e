//! Fuzz target `files`: see `flags_fuzz::files`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| flags_fuzz::files(data));
