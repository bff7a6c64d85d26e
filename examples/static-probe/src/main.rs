//! Prints one marker per static flag that is on. Each marker string exists in the
//! optimised binary only if its branch survived compilation.

flags_runtime::flags!("flags.toml");

fn main() {
    if flags::LEGACY_MODE {
        println!("STATIC-PROBE-LEGACY-7f3a");
    }
    if flags::FAST_PATH {
        println!("STATIC-PROBE-FAST-19c2");
    }
}
