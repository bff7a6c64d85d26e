//! Workspace integration tests live in `tests/tests/`; compile-fail cases in `tests/ui/`.
