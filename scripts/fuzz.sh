#!/usr/bin/env bash
# Runs one fuzz target for a while: scripts/fuzz.sh TARGET SECONDS [LIBFUZZER_OPTION...]
#
# Targets: manifest, rules_env, unleash, files, operators (fuzz/Cargo.toml).
# The committed seeds and reproducers in fuzz/seeds/TARGET are read but never
# written; what the fuzzer finds goes to fuzz/corpus/TARGET (not committed) and a
# crashing input to fuzz/artifacts/TARGET. Add a crash's input to fuzz/seeds/TARGET
# once fixed: `cargo test -p flags-tests --test fuzz_corpus` then replays it on stable.
#
# cargo-fuzz needs nightly compiler features; RUSTC_BOOTSTRAP=1 lets this stable
# toolchain provide them. cargo-fuzz is installed on first use. Extra arguments go to
# libFuzzer (e.g. -max_len=4096 keeps executions short; -jobs=N runs N at once).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET SECONDS [LIBFUZZER_OPTION...]   (targets: manifest rules_env unleash files operators)" >&2
    exit 2
fi
target=$1
seconds=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz (once)..." >&2
    cargo install cargo-fuzz --locked
fi

mkdir -p "$root/fuzz/corpus/$target"
cd "$root/fuzz"
export RUSTC_BOOTSTRAP=1
exec cargo fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$@"
