//! A key with too many dotted parts is reported on its own line, not at 1:1.

flags_runtime::flags!("manifest_fail_deep_dotted_key.toml");

fn main() {}
