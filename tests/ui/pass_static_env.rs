//! Static flags take their value from FLAGS_STATIC_<NAME> at build time (set by ui.rs).

flags_runtime::flags!("pass_static_env.toml");

const FROM_ENV: bool = flags::ui_static_from_env();
const LAYOUT: flags::UiLayoutFromEnv = flags::ui_layout_from_env();

fn main() {
    assert!(FROM_ENV);
    assert_eq!(LAYOUT, flags::UiLayoutFromEnv::Wide);
    assert!(flags::UI_STATIC_DEFAULT);
    // The metadata keeps the manifest default.
    assert_eq!(flags::META[0].default, flags_runtime::Value::Bool(false));
}
