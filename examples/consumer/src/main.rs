//! A binary that uses only some of its flags, and those only through gates: a binary
//! crate reports unused items even when they are `pub`, so nothing generated may be
//! left to warn here.

#![deny(warnings)]
#![warn(clippy::all, clippy::pedantic)]

flags_runtime::flags!("flags.toml");

#[flags_runtime::feature_gate(search_v2, fallback = greet_v1)]
fn greet(name: &str) -> String {
    format!("Hello, {name}!")
}

fn greet_v1(name: &str) -> String {
    format!("Hi {name}")
}

fn main() {
    println!("{}", greet("consumer"));
}
