//! The path must be a string literal.

flags_runtime::flags!(flags_toml);

mod numbers {
    flags_runtime::flags!(42);
}

mod bytes {
    flags_runtime::flags!(b"flags.toml");
}

fn main() {}
