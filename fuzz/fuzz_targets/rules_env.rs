//! Fuzz target `rules_env`: see `flags_fuzz::rules_env`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| flags_fuzz::rules_env(data));
