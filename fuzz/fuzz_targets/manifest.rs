//! Fuzz target `manifest`: see `flags_fuzz::manifest`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| flags_fuzz::manifest(data));
