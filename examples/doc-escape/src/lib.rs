//! A library crate whose manifest text is hostile Markdown: indented lines, fenced
//! blocks, HTML, table syntax and newlines in an owner. The docs `flags!` generates
//! must render all of it as plain text, so `cargo test --doc -p doc-escape` finds no
//! doctest in them (each hostile block fails if it runs), and `cargo doc` writes no
//! raw HTML. (flags-codegen's `doc` tests parse the same kind of text with rustdoc's
//! Markdown parser and check that it yields nothing but text.)
//!
//! ```
//! // The one doctest of this crate: the flags are there and work.
//! assert!(!doc_escape::flags::hostile_text());
//! assert_eq!(doc_escape::flags::hostile_variants(), doc_escape::flags::HostileVariants::Plain);
//! ```

flags_runtime::flags!("flags.toml");
