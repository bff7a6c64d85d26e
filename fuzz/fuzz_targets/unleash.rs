//! Fuzz target `unleash`: see `flags_fuzz::unleash`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| flags_fuzz::unleash(data));
