#!/usr/bin/env bash
# Writes stubs/wpf_bridge.stubs.php: the functions as `cargo php stubs` describes them, then
# the exception classes (registered by hand, so cargo-php does not see them) read back by
# reflection from the built extension. `--check` compares instead of writing, for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-php >/dev/null || cargo install cargo-php --version 0.2.2 --locked
out=stubs/wpf_bridge.stubs.php
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# cargo-php reads the description from a debug build of the extension.
cargo php stubs --stdout >"$tmp.functions"
cargo build --quiet
{
  cat "$tmp.functions"
  echo
  php -n -d "extension=$PWD/target/debug/libwpf_bridge.so" scripts/exception-stubs.php
} >"$tmp"
rm -f "$tmp.functions"

if [ "${1:-}" = "--check" ]; then
  if ! diff -u "$out" "$tmp"; then
    echo "stubs/wpf_bridge.stubs.php is stale: run scripts/stubs.sh and commit the result." >&2
    exit 1
  fi
  echo "stubs are up to date"
else
  mkdir -p stubs
  cp "$tmp" "$out"
  echo "wrote $out"
fi
