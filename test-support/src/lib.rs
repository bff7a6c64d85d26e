//! What the workspace's integration tests share, so that each exists once:
//!
//! - [`alloc`]: a counting global allocator, for the "evaluation never allocates" tests;
//! - [`wait`]: waiting for a condition with a generous deadline (scaled by
//!   `TEST_TIME_SCALE`), never for a fixed time;
//! - [`service`]: tests that need an external service (an Unleash server, the Unleash
//!   client specification, a headless browser) skip when it is absent, unless
//!   `TEST_REQUIRE_SERVICES=1` (set by `scripts/test.sh`) makes them mandatory;
//! - [`fixtures`]: small manifests several crates' tests build on;
//! - [`keys`]: realistic rotating targeting keys (UUIDs, e-mails) for benchmarks;
//! - [`scratch`]: temporary directories removed when dropped;
//! - [`prometheus`]: a real Prometheus on loopback and fake instances for it to scrape;
//! - [`unleash`]: the real Unleash server's Admin API (toggles, strategies, switches).
//!
//! A dev-dependency only: nothing here is part of a published crate.

pub mod alloc;
pub mod fixtures;
pub mod keys;
pub mod prometheus;
pub mod scratch;
pub mod service;
pub mod unleash;
pub mod wait;
