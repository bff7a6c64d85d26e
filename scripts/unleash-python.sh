#!/usr/bin/env bash
# Unleash's official Python SDK (UnleashClient from PyPI) in a virtual environment of
# its own, the referee of flags-unleash's agreement test (tests/server_edits.rs).
# Installs once into the cache, then prints the `export TEST_UNLEASH_PYTHON=...` line.
#
#   eval "$(scripts/unleash-python.sh)"
#
# Environment (defaults): TEST_CACHE_DIR (~/.cache/flags), TEST_UNLEASH_PYTHON_VERSION
# (6.9.1, the UnleashClient release the test was written against).
set -euo pipefail

version="${TEST_UNLEASH_PYTHON_VERSION:-6.9.1}"
cache="${TEST_CACHE_DIR:-$HOME/.cache/flags}"
venv="$cache/python-unleash/$version"
log() { echo "unleash-python.sh: $*" >&2; }

if ! "$venv/bin/python" -c "import UnleashClient" 2>/dev/null; then
  if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
    [ "$(id -u)" = 0 ] || { log "python3-venv is missing: run as root, or apt-get install python3-venv"; exit 1; }
    log "installing python3-venv from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  log "installing UnleashClient $version into $venv (once)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "UnleashClient==$version" >&2
fi
echo "export TEST_UNLEASH_PYTHON=$venv/bin/python"
