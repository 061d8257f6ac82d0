#!/usr/bin/env bash
# Every test suite of wpf-bridge, from a fresh Debian 12 machine: installs the packages, checks
# formatting and lints, runs the Rust tests, checks the stubs, runs the PHPUnit suite against
# the built extension, the end-to-end suite against a real WordPress on 127.0.0.1 (Debian 12's
# 6.1, Debian 13's 6.8, and a 6.8 multisite network), and the Rust and PHPUnit suites again
# against Debian 13's PHP 8.4 in a chroot. Each suite's time is printed.
# Usage: scripts/test.sh [--no-e2e] [--no-php84]
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()
run() {
  local name=$1 start=$SECONDS
  shift
  echo
  echo "=== $name: $*"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: passed in $((SECONDS - start)) s"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== $name: FAILED in $((SECONDS - start)) s"
  fi
}
e2e=1 php84=1
for arg in "$@"; do
  case "$arg" in
    --no-e2e) e2e=0 ;;
    --no-php84) php84=0 ;;
    *) echo "usage: scripts/test.sh [--no-e2e] [--no-php84]" >&2; exit 2 ;;
  esac
done

bash scripts/install-deps.sh || { echo "installing packages failed"; exit 1; }
export CARGO_TERM_COLOR=never

run "format" cargo fmt --all --check
run "clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings
run "build" cargo build --release --workspace --quiet
run "php lint" bash tests/php-plugin-lint.sh target/release/libwpf_bridge.so
run "rust tests" cargo test --workspace --quiet
run "stubs" bash scripts/stubs.sh --check
run "phpunit (extension)" bash scripts/test-php.sh
if [ "$e2e" = 1 ]; then
  run "end to end (WordPress 6.1)" bash scripts/test-e2e.sh
  run "end to end (WordPress 6.8)" env WPF_E2E_WP=6.8 bash scripts/test-e2e.sh
  run "end to end (WordPress 6.8 multisite)" env WPF_E2E_WP=6.8 WPF_E2E_MULTISITE=1 bash scripts/test-e2e.sh
fi
if [ "$php84" = 1 ]; then
  run "PHP 8.4 (Debian 13 chroot)" bash scripts/test-php84.sh
fi

echo
if [ "$failed" -gt 0 ]; then
  echo "failed suites: ${failures[*]}"
fi
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
