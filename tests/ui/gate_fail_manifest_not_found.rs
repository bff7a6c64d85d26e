//! `flags!` is called through a macro of the user's, where the gate cannot see which
//! manifest it reads, and there is no `flags.toml`: the error says how to name it.

macro_rules! app_flags {
    () => {
        flags_runtime::flags!("gate_config/flags.toml");
    };
}

app_flags!();

#[flags_runtime::feature_gate(search_v2, fallback = rank_v1)]
fn rank(query: &str) -> usize {
    query.len() * 2
}

fn rank_v1(query: &str) -> usize {
    query.len()
}

fn main() {
    let _ = rank("abc");
}
