//! Placeholder: the OpenFeature benchmark comes in the next commit.

fn main() {}
