//! A misspelt flag does not compile.

flags_runtime::flags!("fail_misspelt_accessor.toml");

fn main() {
    if flags::serch_v2() {
        println!("on");
    }
}
