#!/usr/bin/env bash
# Installs playwright-core (npm; the browser driver alone, no browser download) into a
# cache folder outside the repository, once, and prints
#   export TEST_PLAYWRIGHT_DIR=<dir whose node_modules holds playwright-core>
# for `eval "$(scripts/playwright.sh)"`. flags-admin's dashboard test drives Debian's
# /usr/bin/chromium with it.
#
# Environment: TEST_CACHE_DIR (default ~/.cache/flags), TEST_PLAYWRIGHT_VERSION (1.65.1).
# Needs: npm (the npm registry). Idempotent: a second run only prints the export.
set -euo pipefail

version="${TEST_PLAYWRIGHT_VERSION:-1.65.1}"
cache="${TEST_CACHE_DIR:-$HOME/.cache/flags}"
root="$cache/playwright-core"
dest="$root/$version"

if [ ! -f "$dest/node_modules/playwright-core/package.json" ]; then
  command -v npm >/dev/null || { echo "playwright.sh: npm is needed (Node.js)" >&2; exit 1; }
  mkdir -p "$root"
  tmp="$(mktemp -d "$root/.tmp.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "playwright.sh: installing playwright-core@$version" >&2
  # playwright-core downloads no browser on install (only the `playwright` package's
  # install step would); the skip variable makes sure of it on a closed network.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$tmp" "playwright-core@$version" \
    --no-audit --no-fund --loglevel=error >&2
  [ -f "$tmp/node_modules/playwright-core/package.json" ] ||
    { echo "playwright.sh: npm installed no playwright-core" >&2; exit 1; }
  rm -rf "$dest"
  # Rename last, so an interrupted run leaves no half-installed folder behind.
  mv "$tmp" "$dest"
  trap - EXIT
fi

echo "export TEST_PLAYWRIGHT_DIR=$dest"
