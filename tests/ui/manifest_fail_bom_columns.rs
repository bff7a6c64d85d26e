//! With a UTF-8 byte-order mark, columns on line 1 are counted as an editor shows them.

flags_runtime::flags!("manifest_fail_bom_columns.toml");

fn main() {}
