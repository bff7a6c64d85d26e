//! flags-macros
