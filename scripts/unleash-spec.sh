#!/usr/bin/env bash
# Installs Unleash's client specification (npm package @unleash/client-specification)
# into a cache folder outside the repository, once, and prints
#   export TEST_UNLEASH_SPEC=<dir with index.json>
# for `eval "$(scripts/unleash-spec.sh)"`. flags-unleash's tests/spec.rs reads it.
# Its files are not copied into the repository.
#
# Environment: TEST_CACHE_DIR (default ~/.cache/flags), TEST_UNLEASH_SPEC_VERSION (6.1.0).
# Needs: npm (the npm registry), tar. Idempotent: a second run only prints the export.
set -euo pipefail

version="${TEST_UNLEASH_SPEC_VERSION:-6.1.0}"
cache="${TEST_CACHE_DIR:-$HOME/.cache/flags}"
root="$cache/unleash-spec"
dest="$root/$version"

if [ ! -f "$dest/package/specifications/index.json" ]; then
  command -v npm >/dev/null || { echo "unleash-spec.sh: npm is needed (Node.js)" >&2; exit 1; }
  mkdir -p "$root"
  tmp="$(mktemp -d "$root/.tmp.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "unleash-spec.sh: fetching @unleash/client-specification@$version" >&2
  (cd "$tmp" && npm pack --silent "@unleash/client-specification@$version" >/dev/null)
  tarball="$(ls "$tmp"/*.tgz)"
  tar -xzf "$tarball" -C "$tmp"
  [ -f "$tmp/package/specifications/index.json" ] ||
    { echo "unleash-spec.sh: the package has no specifications/index.json" >&2; exit 1; }
  rm -rf "$dest"
  mkdir -p "$dest"
  # Rename last, so an interrupted run leaves no half-unpacked folder behind.
  mv "$tmp/package" "$dest/package"
fi

echo "export TEST_UNLEASH_SPEC=$dest/package/specifications"
