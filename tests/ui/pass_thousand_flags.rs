//! A 1,000-flag manifest (written by ui.rs) expands and compiles.

flags_runtime::flags!("pass_thousand_flags.toml");

fn main() {
    assert_eq!(flags::META.len(), 1000);
    assert_eq!(flags::META[999].name, "flag_0999");
    assert!(!flags::flag_0000());
    assert_eq!(flags::flag_0001(), flags::Flag0001::Control);
    const STATIC: bool = flags::flag_0002();
    assert!(STATIC);
    assert_eq!(flags::FLAG_0997.meta().index, 997);
}
