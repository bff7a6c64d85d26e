#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (a headless
# browser for the HTML report and admin dashboard tests, playwright-core to drive it;
# Prometheus, which the fleet metrics test starts on loopback; Unleash's client
# specification, a real Unleash server with PostgreSQL, on loopback, and Unleash's
# Python SDK as the referee for the Unleash source), then runs every test.
#
# A plain `cargo test` skips the tests whose service is absent and says so; here every
# service is provided and TEST_REQUIRE_SERVICES=1 turns any such skip into a failure.
# TEST_TIME_SCALE (default 1) multiplies the tests' deadlines on a slow machine.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/prometheus ] || need_apt+=(prometheus)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing ${need_apt[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# Started by the test itself, on loopback, with a scratch storage directory.
export TEST_PROMETHEUS=/usr/bin/prometheus

echo "==> playwright-core (npm) for the admin dashboard's browser test"
eval "$(scripts/playwright.sh)"

echo "==> Unleash client specification (npm) and server (npm + PostgreSQL, loopback)"
eval "$(scripts/unleash-spec.sh)"
eval "$(scripts/unleash-server.sh start)"
trap 'scripts/unleash-server.sh stop >/dev/null 2>&1 || true' EXIT
echo "==> Unleash's Python SDK (PyPI, in a virtual environment)"
eval "$(scripts/unleash-python.sh)"

export TEST_REQUIRE_SERVICES=1

# `cargo flags retire` is measured on its whole corpus (every flag retired each way),
# not the subset a plain `cargo test` runs; its figures are printed at the end.
export RETIRE_CORPUS=full

echo "==> cargo test --workspace"
cargo test --workspace --all-targets --no-fail-fast
cargo test --workspace --doc --no-fail-fast
if [ -f target/tmp/retire-corpus.txt ]; then
  echo "==> cargo flags retire, its corpus measured"
  cat target/tmp/retire-corpus.txt; echo
fi
