//! One manifest per call; nothing after the path but a trailing comma.

flags_runtime::flags!("fail_input_trailing_tokens.toml", "other.toml");

mod suffixed {
    flags_runtime::flags!("fail_input_trailing_tokens.toml"toml);
}

fn main() {}
