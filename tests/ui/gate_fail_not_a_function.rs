//! The attribute routes a function with a body, nothing else.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(search_v2, fallback = Old, manifest = "gate_flags.toml")]
struct New;

#[feature_gate(search_v2, fallback = OLD, manifest = "gate_flags.toml")]
const NEW: u8 = 1;

#[feature_gate(search_v2, fallback = old, manifest = "gate_flags.toml")]
mod new {}

trait Rank {
    #[feature_gate(search_v2, fallback = rank_v1, manifest = "gate_flags.toml")]
    fn rank(&self) -> usize;
}

fn main() {}
