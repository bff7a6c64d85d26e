//! flags-test
