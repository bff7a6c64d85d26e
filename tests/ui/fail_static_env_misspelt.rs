//! A `FLAGS_STATIC_*` variable one letter off a static flag's name is not silently
//! ignored: it warns with a did-you-mean, and `deny(deprecated)` makes that an error.
//! The test runner sets `FLAGS_STATIC_UI_MISSPELT_STATC=on`.

#![deny(deprecated)]

flags_runtime::flags!("fail_static_env_misspelt.toml");

fn main() {
    let _ = flags::ui_misspelt_static();
}
