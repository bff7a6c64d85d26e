//! flags-test

pub mod cover;
pub mod runner;
