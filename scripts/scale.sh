#!/usr/bin/env bash
# Measures how `flags!` scales with the number of flags: for each size, a crate with a
# generated manifest (mostly bool flags; every 10th a variant flag, every 5th a
# rollout, every 50th requiring the one before) is built from scratch (dev profile,
# dependencies already built, the crate itself cleaned), rebuilt after a one-word description edit, and built in
# release to time the first flag read (the registry's start-up: rules compiled,
# environment read), median of 5 runs.
#
#   scripts/scale.sh [SIZES...]      default: 1000 5000 10000
#
# Prints one Markdown table row per size; peak memory is the compiler's maximum
# resident set, from GNU time. Numbers, not assertions: run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 5000 10000)
work="$root/target/scale"
mkdir -p "$work"
export CARGO_TARGET_DIR="$work/target"

manifest() { # N DESCRIPTION-WORD
  local n=$1 word=$2
  for ((i = 0; i < n; i++)); do
    printf '[flags.flag_%05d]\ndescription = "Flag %d of the scale test, %s"\nowner = "team-%d"\nkind = "ops"\n' \
      "$i" "$i" "$word" "$((i % 17))"
    if ((i % 10 == 9)); then
      printf 'variants = ["alpha", "beta", "gamma"]\ndefault = "alpha"\n'
    fi
    if ((i % 50 == 49)); then
      printf 'requires = ["flag_%05d"]\n' "$((i - 1))"
    fi
    if ((i % 5 == 4)); then
      printf '[[flags.flag_%05d.strategies]]\ntype = "rollout"\npercent = %d\n' "$i" "$((i % 100))"
    fi
    printf '\n'
  done
}

crate() { # DIR
  local dir=$1
  mkdir -p "$dir/src"
  cat >"$dir/Cargo.toml" <<EOF
[package]
name = "scale-probe"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
flags-runtime = { path = "$root/flags-runtime" }

[workspace]
EOF
  cat >"$dir/src/main.rs" <<'EOF'
use flags_runtime::raw::IndexAccess;

flags_runtime::flags!("flags.toml");

fn main() {
    let start = std::time::Instant::now();
    flags::REGISTRY.init();
    let first = start.elapsed();
    let on = flags::META.iter().filter(|m| flags::REGISTRY.value(m.index) == flags_runtime::Value::Bool(true)).count();
    println!("{} {on}", first.as_nanos());
}
EOF
}

timed() { # CMD... -> prints "seconds max_rss_kb"
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null
  cat "$work/time"
}

printf '| flags | build (dev) | rebuild after a description edit | peak compiler memory | first read (release, median of 5) |\n'
printf '|---|---|---|---|---|\n'
for n in "${sizes[@]}"; do
  dir="$work/probe-$n"
  crate "$dir"
  manifest "$n" one >"$dir/flags.toml"
  # Dependencies first, so the timings are the probe crate's own.
  (cd "$dir" && cargo build -q 2>/dev/null || true)
  (cd "$dir" && cargo clean -q -p scale-probe)
  read -r build build_kb < <(cd "$dir" && timed cargo build -q)
  manifest "$n" two >"$dir/flags.toml"
  read -r rebuild rebuild_kb < <(cd "$dir" && timed cargo build -q)
  (cd "$dir" && cargo build -q --release)
  reads=()
  for _ in 1 2 3 4 5; do
    reads+=("$("$CARGO_TARGET_DIR/release/scale-probe" | cut -d' ' -f1)")
  done
  median=$(printf '%s\n' "${reads[@]}" | sort -n | sed -n 3p)
  peak=$((build_kb > rebuild_kb ? build_kb : rebuild_kb))
  awk -v n="$n" -v b="$build" -v r="$rebuild" -v kb="$peak" -v ns="$median" \
    'BEGIN { printf "| %d | %.1f s | %.1f s | %d MB | %.2f ms |\n", n, b, r, kb / 1024, ns / 1e6 }'
done
