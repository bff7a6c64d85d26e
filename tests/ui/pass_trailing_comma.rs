//! A trailing comma after the manifest path is accepted, as in any macro call.

flags_runtime::flags!("pass_trailing_comma.toml",);

fn main() {
    assert!(!flags::ui_trailing_comma());
}
