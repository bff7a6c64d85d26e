//! flags-runtime
pub mod bucket;
