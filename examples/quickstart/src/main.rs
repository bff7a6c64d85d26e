//! The smallest use of flags: typed accessors from a manifest, a sticky 50% rollout,
//! an explanation of each decision, and an environment override
//! (`FLAGS_CHECKOUT_LAYOUT=compact cargo run -p quickstart`).

use flags_runtime::Context;

flags_runtime::flags!("flags.toml");

fn main() {
    for user in ["alice", "bob", "carol", "dave"] {
        let ctx = Context::with_key(user);
        let detail = flags::SEARCH_V2.explain(&ctx);
        println!("{user:>6}: search_v2 = {:<5} ({detail})", detail.value);
    }
    println!("checkout_layout = {}", flags::checkout_layout());
    // `new_greeting` is on for everyone: `cargo flags retire new_greeting --keep on`
    // keeps this branch and removes the flag.
    if flags::new_greeting() {
        println!("Welcome back!");
    } else {
        println!("Hello!");
    }
}
