//! Fuzz target `operators`: see `flags_fuzz::operators`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| flags_fuzz::operators(data));
