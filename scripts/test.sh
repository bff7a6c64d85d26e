#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (a headless
# browser for the HTML report test), then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing ${need_apt[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "==> cargo test --workspace"
cargo test --workspace --all-targets --no-fail-fast
cargo test --workspace --doc --no-fail-fast
