//! Mutual exclusion, a chain of 100 `requires` and a diamond compile, and no flag ever
//! evaluates to an error.

use flags_runtime::raw::IndexAccess;
use flags_runtime::{Context, Reason};

flags_runtime::flags!("manifest_pass_dependencies.toml");

fn main() {
    let ctx = Context::new();
    for meta in flags::META {
        let detail = flags::REGISTRY.explain(meta.index, &ctx);
        assert_ne!(detail.reason, Reason::Error, "{}", meta.name);
    }
    // Both designs are on by their own rules, so each excludes the other.
    assert!(!flags::design_a());
    assert!(!flags::design_b());
    assert_eq!(
        flags::DESIGN_A.explain(&ctx).reason,
        Reason::PrerequisiteFailed { flag: 1 }
    );
    // The chain's last link excludes `design_a`, which is on by its own rules.
    assert!(!flags::c0());
    assert!(flags::top());
}
