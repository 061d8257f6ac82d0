#!/usr/bin/env bash
# Every test suite of wpf-bridge, from a fresh Debian 12 machine: installs the packages, checks
# formatting and lints, runs the Rust tests, checks the stubs, runs the PHPUnit suite against
# the built extension, and the end-to-end suite against a real WordPress on 127.0.0.1.
# Usage: scripts/test.sh [--no-e2e]
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()
run() {
  local name=$1
  shift
  echo
  echo "=== $name: $*"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

bash scripts/install-deps.sh || { echo "installing packages failed"; exit 1; }
export CARGO_TERM_COLOR=never

run "format" cargo fmt --all --check
run "clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings
run "build" cargo build --release --workspace --quiet
run "php lint" bash tests/php-plugin-lint.sh target/release/libwpf_bridge.so
run "rust tests" cargo test --workspace --quiet
run "stubs" bash scripts/stubs.sh --check
run "phpunit (extension)" bash scripts/test-php.sh
if [ "${1:-}" != "--no-e2e" ]; then
  run "end to end (WordPress)" bash scripts/test-e2e.sh
fi

echo
if [ "$failed" -gt 0 ]; then
  echo "failed suites: ${failures[*]}"
fi
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
